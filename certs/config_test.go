package certs_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/posim/posim/certs"
	"github.com/stretchr/testify/require"
)

// files writes a fresh set to a temporary directory and names its files.
func files(t *testing.T, hosts ...string) func(string) string {
	t.Helper()
	dir := t.TempDir()
	set, err := certs.Make(hosts, time.Hour)
	require.NoError(t, err)
	require.NoError(t, set.Write(dir))
	return func(name string) string { return filepath.Join(dir, name) }
}

// tlsServer echoes four bytes on each TLS connection, one at a time, and
// reports each server-side handshake result.
type tlsServer struct {
	addr    string
	results chan error
}

func serveTLS(t *testing.T, cfg *tls.Config) *tlsServer {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	s := &tlsServer{addr: ln.Addr().String(), results: make(chan error, 16)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			err = c.(*tls.Conn).Handshake()
			if err == nil {
				buf := make([]byte, 4)
				if _, err = io.ReadFull(c, buf); err == nil {
					_, err = c.Write(buf)
				}
			}
			c.Close()
			select {
			case s.results <- err:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return s
}

// echo dials the server with cfg, sends four bytes and reads them back.
func (s *tlsServer) echo(cfg *tls.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		return err
	}
	_, err = io.ReadFull(c, make([]byte, 4))
	return err
}

// serverResult waits for the server's view of the last connection.
func (s *tlsServer) serverResult(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.results:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the server never finished a handshake")
		return nil
	}
}

func TestServerConfig_MutualTLS(t *testing.T) {
	f := files(t)
	srv, err := certs.ServerConfig(f(certs.ServerFile), f(certs.ServerKeyFile), f(certs.CAFile))
	require.NoError(t, err)
	require.Equal(t, tls.RequireAndVerifyClientCert, srv.ClientAuth)
	s := serveTLS(t, srv)

	t.Run("admits a client with a certificate the CA signed", func(t *testing.T) {
		cli, err := certs.ClientConfig(f(certs.CAFile), f(certs.ClientFile), f(certs.ClientKeyFile))
		require.NoError(t, err)
		require.NoError(t, s.echo(cli))
		require.NoError(t, s.serverResult(t))
	})
	t.Run("refuses a client without a certificate", func(t *testing.T) {
		cli, err := certs.ClientConfig(f(certs.CAFile), "", "")
		require.NoError(t, err)
		require.Error(t, s.echo(cli))
		require.ErrorContains(t, s.serverResult(t), "certificate")
	})
	t.Run("refuses a client whose certificate another CA signed", func(t *testing.T) {
		other := files(t)
		cli, err := certs.ClientConfig(f(certs.CAFile), other(certs.ClientFile), other(certs.ClientKeyFile))
		require.NoError(t, err)
		require.Error(t, s.echo(cli))
		var unknown x509.UnknownAuthorityError
		require.ErrorAs(t, s.serverResult(t), &unknown)
	})
	t.Run("refuses a client that offers only TLS 1.1", func(t *testing.T) {
		cli, err := certs.ClientConfig(f(certs.CAFile), f(certs.ClientFile), f(certs.ClientKeyFile))
		require.NoError(t, err)
		cli.MinVersion, cli.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
		require.Error(t, s.echo(cli))
		require.ErrorContains(t, s.serverResult(t), "unsupported versions")
	})
}

func TestServerConfig_WithoutClientCA(t *testing.T) {
	f := files(t, "posim.test")
	srv, err := certs.ServerConfig(f(certs.ServerFile), f(certs.ServerKeyFile), "")
	require.NoError(t, err)
	require.Equal(t, tls.NoClientCert, srv.ClientAuth)
	s := serveTLS(t, srv)
	cli, err := certs.ClientConfig(f(certs.CAFile), "", "")
	require.NoError(t, err)
	require.NoError(t, s.echo(cli), "no client certificate asked for")
	require.NoError(t, s.serverResult(t))

	t.Run("the client checks the server's name", func(t *testing.T) {
		named := cli.Clone()
		named.ServerName = "posim.test"
		require.NoError(t, s.echo(named), "a host given to Make")
		require.NoError(t, s.serverResult(t))
		named.ServerName = "elsewhere.test"
		err := s.echo(named)
		var host x509.HostnameError
		require.ErrorAs(t, err, &host)
		_ = s.serverResult(t)
	})
	t.Run("a client trusting only the system's CAs refuses the throwaway server", func(t *testing.T) {
		system, err := certs.ClientConfig("", "", "")
		require.NoError(t, err)
		require.Nil(t, system.RootCAs)
		err = s.echo(system)
		var unknown x509.UnknownAuthorityError
		require.ErrorAs(t, err, &unknown)
		_ = s.serverResult(t)
	})
}

func TestConfigs_RefuseBadFiles(t *testing.T) {
	f := files(t)
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		name string
		err  func() error
		msg  string
	}{
		{"a server without its key", func() error { _, err := certs.ServerConfig(f(certs.ServerFile), "", ""); return err }, "--tls-key"},
		{"a server key that is not the certificate's", func() error {
			_, err := certs.ServerConfig(f(certs.ServerFile), f(certs.ClientKeyFile), "")
			return err
		}, "TLS certificate: tls: private key does not match public key"},
		{"a missing client CA", func() error {
			_, err := certs.ServerConfig(f(certs.ServerFile), f(certs.ServerKeyFile), missing)
			return err
		}, "TLS client CA: open " + missing},
		{"a client CA file without a certificate", func() error {
			_, err := certs.ServerConfig(f(certs.ServerFile), f(certs.ServerKeyFile), notPEM)
			return err
		}, "TLS client CA: " + notPEM + " holds no PEM certificate"},
		{"a missing CA for the client", func() error { _, err := certs.ClientConfig(missing, "", ""); return err }, "TLS CA: open"},
		{"a client key without its certificate", func() error {
			_, err := certs.ClientConfig(f(certs.CAFile), "", f(certs.ClientKeyFile))
			return err
		}, "needs both --tls-cert and --tls-key"},
		{"a client certificate that does not load", func() error {
			_, err := certs.ClientConfig(f(certs.CAFile), notPEM, f(certs.ClientKeyFile))
			return err
		}, "TLS client certificate:"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			require.ErrorContains(t, tc.err(), tc.msg)
		})
	}
	_, err := certs.ClientConfig(missing, "", "")
	require.True(t, errors.Is(err, os.ErrNotExist), "the cause is kept: %v", err)
}

// The certificates Make writes verify against its CA for their purpose
// and names only.
func TestMake_Certificates(t *testing.T) {
	set, err := certs.Make([]string{"posim.test", "10.1.2.3"}, time.Hour)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(set.CA))
	server, client := parse(t, set.Server), parse(t, set.Client)
	ca := parse(t, set.CA)
	require.True(t, ca.IsCA)

	verify := func(c *x509.Certificate, name string, usage x509.ExtKeyUsage) error {
		_, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: name, KeyUsages: []x509.ExtKeyUsage{usage}})
		return err
	}
	for _, name := range []string{"127.0.0.1", "::1", "localhost", "posim.test", "10.1.2.3"} {
		require.NoError(t, verify(server, name, x509.ExtKeyUsageServerAuth), name)
	}
	require.Error(t, verify(server, "elsewhere.test", x509.ExtKeyUsageServerAuth))
	require.Error(t, verify(server, "", x509.ExtKeyUsageClientAuth), "the server's certificate is not a client's")
	require.NoError(t, verify(client, "", x509.ExtKeyUsageClientAuth))
	require.Error(t, verify(client, "", x509.ExtKeyUsageServerAuth), "the client's certificate is not a server's")

	require.WithinDuration(t, time.Now().Add(time.Hour), server.NotAfter, time.Minute)
	require.True(t, server.NotBefore.Before(time.Now()), "valid at once, whatever the clocks")
	_, err = tls.X509KeyPair(set.Server, set.ServerKey)
	require.NoError(t, err, "the key is the certificate's")
	_, err = tls.X509KeyPair(set.Client, set.ClientKey)
	require.NoError(t, err)

	other, err := certs.Make(nil, time.Hour)
	require.NoError(t, err)
	require.NotEqual(t, set.CA, other.CA, "every set has its own CA")
	require.Error(t, verify(parse(t, other.Server), "127.0.0.1", x509.ExtKeyUsageServerAuth))
}

func TestSet_Write(t *testing.T) {
	set, err := certs.Make(nil, time.Hour)
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "a", "b")
	require.NoError(t, set.Write(dir), "the directory is made")
	for name, want := range map[string]struct {
		data []byte
		mode os.FileMode
	}{
		certs.CAFile:        {set.CA, 0o644},
		certs.ServerFile:    {set.Server, 0o644},
		certs.ServerKeyFile: {set.ServerKey, 0o600},
		certs.ClientFile:    {set.Client, 0o644},
		certs.ClientKeyFile: {set.ClientKey, 0o600},
	} {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, want.data, data, name)
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, want.mode, st.Mode().Perm(), name)
	}
}

func parse(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(data)
	require.NotNil(t, b)
	c, err := x509.ParseCertificate(b.Bytes)
	require.NoError(t, err)
	return c
}
