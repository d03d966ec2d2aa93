package certs_test

import (
	"crypto/tls"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/posim/posim/certs"
	"github.com/stretchr/testify/require"
)

func TestMake_MutualTLSHandshake(t *testing.T) {
	dir := t.TempDir()
	set, err := certs.Make([]string{"posim.test"}, time.Hour)
	require.NoError(t, err)
	require.NoError(t, set.Write(dir))
	f := func(name string) string { return filepath.Join(dir, name) }
	srv, err := certs.ServerConfig(f(certs.ServerFile), f(certs.ServerKeyFile), f(certs.CAFile))
	require.NoError(t, err)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srv)
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	echo := func(cfg *tls.Config) error {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		buf := make([]byte, 4)
		_, err = io.ReadFull(c, buf)
		return err
	}
	good, err := certs.ClientConfig(f(certs.CAFile), f(certs.ClientFile), f(certs.ClientKeyFile))
	require.NoError(t, err)
	require.NoError(t, echo(good))
	noCert, err := certs.ClientConfig(f(certs.CAFile), "", "")
	require.NoError(t, err)
	require.Error(t, echo(noCert), "no client certificate")

	_, err = certs.ClientConfig(f(certs.CAFile), f(certs.ClientFile), "")
	require.ErrorContains(t, err, "needs both")
	_, err = certs.ServerConfig("", "", "")
	require.ErrorContains(t, err, "--tls-cert")
	_, err = certs.ClientConfig(f(certs.ServerKeyFile), "", "")
	require.ErrorContains(t, err, "no PEM certificate")
}
