package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/faults"
	"github.com/posim/posim/proxy"
	"github.com/posim/posim/recording"
	"github.com/posim/posim/scenarios"
	"github.com/posim/posim/wire"
	"github.com/spf13/cobra"
)

type proxyFlags struct {
	listen, upstream, profile   string
	scenario, control           string
	controlToken                string
	controlHosts                []string
	tls                         serverTLS
	upstreamTLS                 clientTLS
	record                      string
	recordClear, dump, verbose  bool
	logFormat, logLevel         string
	hostTimeout, connectTimeout time.Duration
	speed                       float64
	seed                        int64
	journalMax                  int
	specFlags
}

func newProxyCmd() *cobra.Command {
	var f proxyFlags
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Stand between a real POS and a real host, with fault rules",
		Long: `Stand between a real POS and a real host: point the POS at --listen, and each of its
connections gets its own connection to --upstream. Every message is decoded in both
directions with the dialect, journalled, logged (card data masked) and, with --dump, printed
field by field.

A scenario's rules (--scenario) act on the traffic in the same language as posim acquirer's:
before process on the request on its way to the host (discard, delay, mutate, duplicate
to: host, close at: on_receive), after process on the host's answer (no_response: lost
after the host booked it, delay past the terminal's timeout, duplicate, mutate, truncate,
close). The rest of the scenario (setup, steps) is not used. Requests no rule fires on, and
frames the proxy cannot decode, pass through byte for byte; TPDUs and headers are never
touched.

--record writes every message as a JSON line (card data masked) for posim acquirer --replay
and posim replay.`,
		Example: `  posim proxy --listen 127.0.0.1:9583 --upstream 10.0.0.5:8583 --profile cup
  posim proxy --upstream 127.0.0.1:8583 --scenario lose-third-approval.yaml --control 127.0.0.1:9584
  posim proxy --upstream 127.0.0.1:8583 --record traffic.jsonl --dump`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runProxy(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:9583", "address the POS connects to")
	fl.StringVar(&f.upstream, "upstream", "", "the host's address, host:port (required)")
	fl.StringVar(&f.profile, "profile", wire.Default.Name(), dialects())
	f.specFlags.add(fl)
	fl.StringVar(&f.scenario, "scenario", "", "apply a scenario's fault rules (catalogue name or file)")
	fl.Float64Var(&f.speed, "speed", 1, "with --scenario: divide the fault durations by this")
	fl.Int64Var(&f.seed, "seed", 0, "with --scenario: override the scenario's seed")
	fl.StringVar(&f.control, "control", "", "serve the live ladder page, journal, events, rule counters and metrics on this address, e.g. 127.0.0.1:9584")
	addControlGuardFlags(fl, &f.controlToken, &f.controlHosts)
	f.tls.add(fl)
	fl.BoolVar(&f.upstreamTLS.on, "upstream-tls", false, "connect to the host over TLS")
	fl.StringVar(&f.upstreamTLS.ca, "upstream-ca", "", "with --upstream-tls: trust this CA (PEM)")
	fl.StringVar(&f.upstreamTLS.cert, "upstream-cert", "", "with --upstream-tls: present this client certificate (PEM)")
	fl.StringVar(&f.upstreamTLS.key, "upstream-key", "", "with --upstream-cert: its private key (PEM)")
	fl.StringVar(&f.record, "record", "", "write every message to this file as JSON lines, card data masked")
	fl.BoolVar(&f.recordClear, "record-clear", false, "with --record: keep PANs, track data and PIN blocks in the clear (test cards only!)")
	fl.BoolVar(&f.dump, "dump", false, "print every message field by field on stderr (card data masked)")
	fl.DurationVar(&f.hostTimeout, "host-timeout", 60*time.Second, "how long a rule's process waits for the host's answer")
	fl.DurationVar(&f.connectTimeout, "connect-timeout", 10*time.Second, "how long connecting to the host may take")
	fl.IntVar(&f.journalMax, "journal-max", 100_000, "journal entries kept, the oldest dropped; 0 keeps all")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info (a line per message), warn or error")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "debug logging (same as --log-level debug)")
	return cmd
}

// proxyConfig is what posim proxy's flags ask for, checked and read.
type proxyConfig struct {
	proxyFlags
	log              *slog.Logger
	profile          wire.Profile
	framer           wire.Framer
	listenTLS, upTLS *tls.Config
}

// config checks the flags and reads the dialect and the TLS settings.
func (f proxyFlags) config(cmd *cobra.Command) (proxyConfig, error) {
	c := proxyConfig{proxyFlags: f}
	if f.verbose {
		c.logLevel = "debug"
	}
	var err error
	if c.log, err = newLevelLogger(cmd.ErrOrStderr(), c.logFormat, c.logLevel); err != nil {
		return c, err
	}
	if f.upstream == "" {
		return c, usageErr("proxy needs --upstream HOST:PORT, the host to relay to")
	}
	for _, a := range [][2]string{{"--upstream", f.upstream}, {"--listen", f.listen}} {
		if err := checkAddr(a[0], a[1]); err != nil {
			return c, err
		}
	}
	if f.hostTimeout <= 0 || f.connectTimeout <= 0 || f.speed <= 0 || f.journalMax < 0 {
		return c, invalid(fmt.Errorf("--host-timeout, --connect-timeout and --speed must be positive, --journal-max not negative"))
	}
	if f.recordClear && f.record == "" {
		return c, usageErr("--record-clear needs --record FILE")
	}
	if c.profile, err = loadProfile(f.profile); err != nil {
		return c, err
	}
	if f.spec != "" {
		if c.profile, err = f.customProfile("", ""); err != nil {
			return c, err
		}
	}
	c.framer = c.profile.Framer()
	if c.listenTLS, err = f.tls.config(); err != nil {
		return c, err
	}
	c.upTLS, err = f.upstreamTLS.config()
	return c, err
}

// rules compiles the scenario's fault rules for the proxy (nil without
// --scenario); what they schedule goes on timers.
func (c proxyConfig) rules(journal acquirer.Journal, timers *faults.Timers) (*scenarios.Scenario, *faults.Faults, error) {
	if c.scenario == "" {
		return nil, nil, nil
	}
	s, err := loadScenario(c.scenario)
	if err != nil {
		return nil, nil, invalid(err)
	}
	custom := wire.IsCustom(c.profile)
	if !s.Supports(c.profile.Name()) && !custom {
		return nil, nil, invalid(fmt.Errorf("scenario %s does not support profile %s", s.Name, c.profile.Name()))
	}
	start := time.Now()
	env := faults.Env{Profile: c.profile.Name(), Seed: c.seed, Speed: c.speed, Journal: journal, Now: time.Now, Logger: c.log,
		Elapsed: func() time.Duration { return time.Duration(float64(time.Since(start)) * c.speed) },
		After:   timers.After}
	if custom {
		env.Profile = "" // a --spec file's rules run whatever their profiles say
	}
	rules, err := scenarios.ProxyRules(s, env)
	if err != nil {
		return nil, nil, invalid(err)
	}
	return s, rules, nil
}

func runProxy(cmd *cobra.Command, f proxyFlags) error {
	c, err := f.config(cmd)
	if err != nil {
		return err
	}
	journal := acquirer.NewRingJournal(c.journalMax)
	var timers faults.Timers // what the rules schedule ends with the proxy
	defer timers.Stop()
	s, rules, err := c.rules(journal, &timers)
	if err != nil {
		return err
	}
	cfg := proxy.Config{TLS: c.listenTLS, UpstreamTLS: c.upTLS, Upstream: c.upstream, Profile: c.profile, Framer: c.framer, Rules: rules,
		Journal: journal, Logger: c.log, HostTimeout: c.hostTimeout, DialTimeout: c.connectTimeout}
	if c.dump {
		cfg.Dump = cmd.ErrOrStderr()
	}
	if c.record != "" {
		if c.recordClear {
			fmt.Fprintln(cmd.ErrOrStderr(), "WARNING: --record-clear writes card numbers, track data and PIN blocks in the clear to "+c.record+": test cards only, and never commit or share the file")
		}
		w, err := recording.Create(c.record, c.profile, c.framer, c.recordClear)
		if err != nil {
			return runtimeErr(err)
		}
		defer w.Close()
		cfg.Record = w
	}
	px, err := proxy.New(cfg)
	if err != nil {
		return invalid(err)
	}
	if err := px.Listen(c.listen); err != nil {
		return runtimeErr(err)
	}
	c.banner(cmd.OutOrStdout(), px.Addr(), s)
	stop := func() {}
	if c.control != "" {
		ctl, err := proxy.NewControl(px, rules)
		if err != nil {
			px.Close()
			return runtimeErr(err)
		}
		var addr string
		if stop, addr, err = serveGuarded(ctl, c.control, c.controlToken, c.controlHosts, c.listenTLS); err != nil {
			px.Close()
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "live ladder on http://%s/ (GET /journal /events /rules /metrics)\n", addr)
	}
	<-cmd.Context().Done()
	c.log.Info("shutting down")
	err = px.Close()
	stop()
	return err
}

// banner says where the proxy listens, what it relays to and with which
// rules.
func (c proxyConfig) banner(out io.Writer, addr string, s *scenarios.Scenario) {
	fmt.Fprintf(out, "posim proxy listening on %s, relaying to %s (profile %s); Ctrl-C stops it\n", addr, c.upstream, c.profile.Name())
	if s != nil {
		fmt.Fprintf(out, "scenario %s: %s\n", s.Name, s.Title.EN)
		for _, r := range s.Rules {
			var do []string
			for _, a := range r.Do {
				do = append(do, a.String())
			}
			fmt.Fprintf(out, "rule %s: %s\n", r.ID, strings.Join(do, ", "))
		}
	}
	if c.record != "" {
		fmt.Fprintf(out, "recording to %s\n", c.record)
	}
}
