package main

import (
	"crypto/tls"
	"fmt"
	"time"

	"github.com/posim/posim/certs"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// serverTLS are the flags of a TLS server (the acquirer's and the
// proxy's ISO listener).
type serverTLS struct{ cert, key, clientCA string }

func (s *serverTLS) add(fl *pflag.FlagSet) {
	fl.StringVar(&s.cert, "tls-cert", "", "serve the ISO link over TLS with this certificate (PEM; posim certs makes throwaway ones)")
	fl.StringVar(&s.key, "tls-key", "", "with --tls-cert: its private key (PEM)")
	fl.StringVar(&s.clientCA, "tls-client-ca", "", "with --tls-cert: require client certificates signed by this CA (mTLS)")
}

// config is the server's TLS configuration, nil without --tls-cert.
func (s serverTLS) config() (*tls.Config, error) {
	if s.cert == "" && s.key == "" {
		if s.clientCA != "" {
			return nil, invalid(fmt.Errorf("--tls-client-ca needs --tls-cert and --tls-key"))
		}
		return nil, nil
	}
	cfg, err := certs.ServerConfig(s.cert, s.key, s.clientCA)
	if err != nil {
		return nil, invalid(err)
	}
	return cfg, nil
}

// clientTLS are the flags of a TLS client (the terminal, posim load).
type clientTLS struct {
	on            bool
	ca, cert, key string
}

func (c *clientTLS) add(fl *pflag.FlagSet) {
	fl.BoolVar(&c.on, "tls", false, "connect over TLS")
	fl.StringVar(&c.ca, "tls-ca", "", "with --tls: trust this CA (PEM) instead of the system's")
	fl.StringVar(&c.cert, "tls-cert", "", "with --tls: present this client certificate (PEM), for mTLS")
	fl.StringVar(&c.key, "tls-key", "", "with --tls-cert: its private key (PEM)")
}

// config is the client's TLS configuration, nil without --tls.
func (c clientTLS) config() (*tls.Config, error) {
	if !c.on {
		if c.ca != "" || c.cert != "" || c.key != "" {
			return nil, invalid(fmt.Errorf("--tls-ca, --tls-cert and --tls-key need --tls"))
		}
		return nil, nil
	}
	cfg, err := certs.ClientConfig(c.ca, c.cert, c.key)
	if err != nil {
		return nil, invalid(err)
	}
	return cfg, nil
}

func newCertsCmd() *cobra.Command {
	var hosts []string
	var validFor time.Duration
	cmd := &cobra.Command{
		Use:   "certs DIR",
		Short: "Write a throwaway CA, server and client certificate for TLS tests and demos",
		Long: `Write a throwaway certificate authority and a server and a client certificate it signed
to DIR: ca.pem, server.pem, server-key.pem, client.pem, client-key.pem. The server
certificate names 127.0.0.1, ::1, localhost and every --host. For tests and demos only:
the keys are written in the clear.`,
		Example: `  posim certs ./tls
  posim acquirer --tls-cert tls/server.pem --tls-key tls/server-key.pem --tls-client-ca tls/ca.pem
  posim terminal sale --amount 1.00 --tls --tls-ca tls/ca.pem --tls-cert tls/client.pem --tls-key tls/client-key.pem`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if validFor <= 0 {
				return invalid(fmt.Errorf("--valid-for %s: must be positive", validFor))
			}
			set, err := certs.Make(hosts, validFor)
			if err != nil {
				return runtimeErr(err)
			}
			if err := set.Write(args[0]); err != nil {
				return runtimeErr(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s, %s, %s, %s, %s to %s (throwaway: tests and demos only)\n",
				certs.CAFile, certs.ServerFile, certs.ServerKeyFile, certs.ClientFile, certs.ClientKeyFile, args[0])
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&hosts, "host", nil, "another name or address the server certificate names")
	cmd.Flags().DurationVar(&validFor, "valid-for", 30*24*time.Hour, "how long the certificates are valid")
	return cmd
}
