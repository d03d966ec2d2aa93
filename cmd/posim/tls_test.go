package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A sale over mTLS is approved; a terminal without a client certificate
// is refused at the handshake, and one that does not trust the host's CA
// refuses the host.
func TestCLI_MutualTLS(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := posim(t, "certs", dir)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "throwaway")
	f := func(name string) string { return filepath.Join(dir, name) }
	acq := deadAddr(t)
	serve(t, acq, "acquirer", "--listen", acq, "--log-level", "warn",
		"--tls-cert", f("server.pem"), "--tls-key", f("server-key.pem"), "--tls-client-ca", f("ca.pem"))

	code, out, errOut = posim(t, "terminal", "sale", "--host", acq, "--amount", "9.99", "--json", "--state", t.TempDir(),
		"--tls", "--tls-ca", f("ca.pem"), "--tls-cert", f("client.pem"), "--tls-key", f("client-key.pem"))
	require.Equal(t, 0, code, out+errOut)
	require.Equal(t, "approved", decode(t, out).Outcome)

	code, out, _ = posim(t, "terminal", "sale", "--host", acq, "--amount", "9.99", "--json", "--state", t.TempDir(),
		"--tls", "--tls-ca", f("ca.pem"))
	require.Equal(t, 3, code, out)
	require.Equal(t, "refused", decode(t, out).Outcome, "no client certificate: refused at the handshake")

	other := t.TempDir()
	code, _, _ = posim(t, "certs", other)
	require.Equal(t, 0, code)
	code, out, _ = posim(t, "terminal", "sale", "--host", acq, "--amount", "9.99", "--json", "--state", t.TempDir(),
		"--tls", "--tls-ca", filepath.Join(other, "ca.pem"), "--tls-cert", f("client.pem"), "--tls-key", f("client-key.pem"))
	require.Equal(t, 3, code, out)
	require.Equal(t, "refused", decode(t, out).Outcome, "a host signed by another CA is not trusted")

	code, _, errOut = posim(t, "acquirer", "--listen", deadAddr(t), "--tls-client-ca", f("ca.pem"))
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--tls-client-ca needs --tls-cert")
}

// The proxy terminates TLS from the POS and speaks TLS to the host.
func TestCLI_ProxyOverTLS(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := posim(t, "certs", dir)
	require.Equal(t, 0, code, errOut)
	f := func(name string) string { return filepath.Join(dir, name) }
	acq, px := deadAddr(t), deadAddr(t)
	serve(t, acq, "acquirer", "--listen", acq, "--log-level", "warn",
		"--tls-cert", f("server.pem"), "--tls-key", f("server-key.pem"), "--tls-client-ca", f("ca.pem"))
	serve(t, px, "proxy", "--listen", px, "--upstream", acq, "--log-level", "warn",
		"--tls-cert", f("server.pem"), "--tls-key", f("server-key.pem"),
		"--upstream-tls", "--upstream-ca", f("ca.pem"), "--upstream-cert", f("client.pem"), "--upstream-key", f("client-key.pem"))
	code, out, errOut := posim(t, "terminal", "sale", "--host", px, "--amount", "3.00", "--json", "--state", t.TempDir(),
		"--tls", "--tls-ca", f("ca.pem"))
	require.Equal(t, 0, code, out+errOut)
	require.Equal(t, "approved", decode(t, out).Outcome)
}

func TestCLI_LoadOverTLS(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := posim(t, "certs", dir)
	require.Equal(t, 0, code, errOut)
	f := func(name string) string { return filepath.Join(dir, name) }
	acq := deadAddr(t)
	serve(t, acq, "acquirer", "--listen", acq, "--log-level", "error",
		"--tls-cert", f("server.pem"), "--tls-key", f("server-key.pem"), "--tls-client-ca", f("ca.pem"))
	code, out, errOut := posim(t, "load", "--target", acq, "--terminals", "2", "--duration", "1s", "--warmup", "0s",
		"--tls", "--tls-ca", f("ca.pem"), "--tls-cert", f("client.pem"), "--tls-key", f("client-key.pem"))
	require.Equal(t, 0, code, out+errOut)
	require.Contains(t, out, "codes [00:")
	require.Contains(t, out, "errors [none]")
}
