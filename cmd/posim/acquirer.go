package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/faults"
	"github.com/posim/posim/recording"
	"github.com/posim/posim/scenarios"
	"github.com/posim/posim/store"
	"github.com/posim/posim/wire"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type acquirerFlags struct {
	listen, profile, cards, logFormat string
	logLevel                          string
	journalMax, retain, gcPercent     int
	duplicate, reversalUnknown        string
	reversalRepeat, reversalDeclined  string
	unsigned                          string
	arqcFailure, fallback             string
	maxAmount, dailyAmount            string
	dailyCount, velocityCount         int
	velocityWindow                    time.Duration
	pinTries, maxFrame                int
	noMagic, noAutoRegister, verbose  bool
	dump                              bool
	scenario, control                 string
	controlToken                      string
	controlHosts                      []string
	record, replay, replayFallback    string
	data, dataSync, export            string
	maxConns, maxSubscribers          int
	tls                               serverTLS
	idleTimeout                       time.Duration
	replayMatch                       []string
	recordClear                       bool
	tpdu, header, mismatch, tmk, mac  string
	headerMatch, macKey, transportKey string
	specFlags
	speed float64
	seed  int64
}

func newAcquirerCmd() *cobra.Command {
	var f acquirerFlags
	cmd := &cobra.Command{
		Use:   "acquirer",
		Short: "Run a simulated acquiring host",
		Long: `Run a simulated acquiring host that answers ISO 8583 requests from POS terminals.

It books sales, holds, voids, refunds and reversals in a ledger of test cards
(see the README for the built-in aliases, or --cards for your own), applies risk
rules and reconciles settlement batches. Every message in and out is logged on
stderr as one structured line with masked PAN. Stop it with Ctrl-C.`,
		Example: `  posim acquirer --listen 127.0.0.1:8583
  posim acquirer --cards my-cards.yaml --duplicate 94 --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAcquirer(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8583", "address to listen on")
	fl.StringVar(&f.profile, "profile", wire.Default.Name(), dialects())
	fl.StringVar(&f.cards, "cards", "", "YAML file of extra cards, merchants and terminals")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fl.StringVar(&f.duplicate, "duplicate", acquirer.DuplicateReplay, "answer to a retransmitted request: replay, 94 or 19")
	fl.StringVar(&f.reversalUnknown, "reversal-unknown", "00", "answer to a reversal of an unknown original: 00 or 25")
	fl.StringVar(&f.reversalRepeat, "reversal-repeat", "00", "answer to a repeated reversal: 00 or 22")
	fl.StringVar(&f.reversalDeclined, "reversal-declined", "00", "answer to a reversal of a declined original: 00 or 12")
	fl.StringVar(&f.arqcFailure, "arqc-failure", "05", "answer to a chip card whose ARQC does not verify: a decline code")
	fl.StringVar(&f.fallback, "fallback", "approve", "answer to a chip card swiped (DE22 80x): approve or a decline code")
	fl.StringVar(&f.unsigned, "unsigned", "77", "cup: answer to a request from a terminal that has not signed on: 77, A0 or 99 (nothing is booked)")
	fl.StringVar(&f.maxAmount, "max-amount", "", "per-transaction limit, e.g. 5000.00 (61 above it)")
	fl.StringVar(&f.dailyAmount, "daily-amount", "", "per-card daily amount limit (61 above it)")
	fl.IntVar(&f.dailyCount, "daily-count", 0, "per-card daily count limit (65 above it); 0 disables")
	fl.IntVar(&f.velocityCount, "velocity-count", 0, "approved sales of one card at one merchant allowed within --velocity-window (59 above it); 0 disables")
	fl.DurationVar(&f.velocityWindow, "velocity-window", 10*time.Minute, "velocity window")
	fl.IntVar(&f.pinTries, "pin-tries", 3, "wrong PINs before 75")
	fl.IntVar(&f.maxFrame, "max-frame", wire.DefaultMaxFrame, "largest frame accepted; a larger length header closes the connection")
	fl.BoolVar(&f.noMagic, "no-magic-amounts", false, "turn off the magic amounts 9999.NN → response code NN")
	fl.BoolVar(&f.noAutoRegister, "no-auto-register", false, "decline terminals (97) and merchants (03) not in --cards")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "debug logging (same as --log-level debug)")
	fl.BoolVar(&f.dump, "dump", false, "print every message received and sent field by field on stderr (card data masked)")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info (a line per message), warn or error (for load runs)")
	fl.IntVar(&f.journalMax, "journal-max", 100_000, "journal entries kept (about 3 a transaction), the oldest dropped; 0 keeps all")
	fl.IntVar(&f.gcPercent, "gc-percent", 200, "garbage collector target (Go's GOGC; the GOGC variable wins): the ledger is a large live heap, and 200 spends memory to save CPU under load")
	fl.IntVar(&f.retain, "retain", 100_000, "ledger records (and postings) kept, the oldest forgotten, about 0.45 KB each; 0 keeps all")
	fl.StringVar(&f.tpdu, "tpdu", "6000030000", "cup: TPDU expected (its NIIs in either order), hex")
	fl.StringVar(&f.header, "header", "603100310730", "cup: application header expected, hex")
	fl.StringVar(&f.mismatch, "mismatch", wire.MismatchDiscard, "cup: what to do with another TPDU or header: discard (silently), reject (with a log line) or accept")
	fl.StringVar(&f.transportKey, "transport-key", "", "cup: transport key (hex) under which a master key download (0800 60.3 350) sends the terminal master key; none: such downloads are refused 40")
	fl.StringVar(&f.macKey, "mac-key", wire.MACKeySingle, "cup: the MAC key a sign-on with key set 003 or 004 delivers: single (8 bytes and 8 zero bytes, single-DES check value, as most hosts send) or double; a terminals: entry's mac_key wins")
	fl.StringVar(&f.headerMatch, "header-match", wire.HeaderMatchVersion, "cup: how a frame's header must match --header: version (all but the software sub-version, as field hosts) or exact")
	fl.StringVar(&f.tmk, "tmk", wire.TestTMK, "cup: terminal master key (hex) working keys are encrypted under")
	fl.StringVar(&f.mac, "mac", wire.MACCUP, "cup: MAC algorithm, cup or x9.19")
	f.specFlags.add(fl)
	fl.StringVar(&f.control, "control", "", "serve the control API (journal, ledger, scenario, reset, events, metrics) on this address, e.g. 127.0.0.1:8584")
	addControlGuardFlags(fl, &f.controlToken, &f.controlHosts)
	fl.StringVar(&f.scenario, "scenario", "", "run a scenario's setup and fault rules (catalogue name or file) for your own POS")
	f.tls.add(fl)
	fl.IntVar(&f.maxConns, "max-conns", 10_000, "open connections allowed; one more is closed at once (0: no bound)")
	fl.DurationVar(&f.idleTimeout, "idle-timeout", 10*time.Minute, "close a connection that completes no frame for this long, a silent or slowloris one (0: never)")
	fl.IntVar(&f.maxSubscribers, "max-subscribers", acquirer.DefaultMaxSubscribers, "control API: /events subscribers allowed at once (0: no bound)")
	fl.StringVar(&f.data, "data", "", "keep the books (ledger, journal, back office, sequences) in this directory and continue from them on the next start")
	fl.StringVar(&f.dataSync, "data-sync", store.SyncNormal, "with --data: normal (survives a killed process) or full (also a power cut, slower)")
	fl.StringVar(&f.export, "export", "", "with --data: write the books as JSON to this file (- for stdout) and exit")
	fl.StringVar(&f.record, "record", "", "write every message received and sent to this file as JSON lines, card data masked")
	fl.BoolVar(&f.recordClear, "record-clear", false, "with --record: keep PANs, track data and PIN blocks in the clear (test cards only!)")
	fl.StringVar(&f.replay, "replay", "", "answer like a recorded host (a posim proxy or acquirer --record file); rules still apply on top")
	fl.StringSliceVar(&f.replayMatch, "replay-match", recording.DefaultKeys, "with --replay: what a request must share with a recorded one: "+strings.Join(recording.AllKeys, ", "))
	fl.StringVar(&f.replayFallback, "replay-fallback", recording.FallbackAcquirer, "with --replay: a request no recorded one matches is decided by the acquirer, or answered with this response code")
	fl.Float64Var(&f.speed, "speed", 1, "with --scenario: divide the fault durations by this")
	fl.Int64Var(&f.seed, "seed", 0, "with --scenario: override the scenario's seed")
	return cmd
}

func (f acquirerFlags) policies() (acquirer.Policies, error) {
	p := acquirer.DefaultPolicies()
	p.Duplicate, p.ReversalUnknown = f.duplicate, f.reversalUnknown
	p.ReversalRepeat, p.ReversalDeclined = f.reversalRepeat, f.reversalDeclined
	p.Unsigned = f.unsigned
	p.ARQCFailure, p.Fallback = f.arqcFailure, f.fallback
	p.DailyCount, p.VelocityCount, p.VelocityWindow = f.dailyCount, f.velocityCount, f.velocityWindow
	p.PINTries, p.MagicAmounts, p.AutoRegister = f.pinTries, !f.noMagic, !f.noAutoRegister
	p.MACKey, p.TransportKey = f.macKey, f.transportKey
	for _, a := range []struct {
		flag, v string
		dst     *int64
	}{{"--max-amount", f.maxAmount, &p.MaxAmount}, {"--daily-amount", f.dailyAmount, &p.DailyAmount}} {
		if a.v == "" {
			continue
		}
		v, err := wire.ParseAmount(a.v)
		if err != nil {
			return p, fmt.Errorf("%s: %w", a.flag, err)
		}
		*a.dst = v
	}
	return p, p.Validate()
}

// acquirerConfig is what posim acquirer's flags ask for, checked and read.
type acquirerConfig struct {
	acquirerFlags
	log     *slog.Logger
	profile wire.Profile
	framer  wire.Framer
	book    *cards.Book
	pol     acquirer.Policies
	tlsCfg  *tls.Config
}

// config checks the flags and reads what they name: the dialect, the
// cards, the policies, the framing and the TLS settings.
func (f acquirerFlags) config(cmd *cobra.Command) (acquirerConfig, error) {
	c := acquirerConfig{acquirerFlags: f}
	if f.verbose {
		c.logLevel = "debug"
	}
	var err error
	if c.log, err = newLevelLogger(cmd.ErrOrStderr(), c.logFormat, c.logLevel); err != nil {
		return c, err
	}
	if err := f.checkNumbers(); err != nil {
		return c, err
	}
	if f.export == "" {
		if err := checkAddr("--listen", f.listen); err != nil {
			return c, err
		}
	}
	if f.control != "" {
		if err := checkAddr("--control", f.control); err != nil {
			return c, err
		}
	}
	if c.profile, err = loadProfile(f.profile); err != nil {
		return c, err
	}
	if c.book, err = loadCards(f.cards); err != nil {
		return c, err
	}
	if c.pol, err = f.policies(); err != nil {
		return c, invalid(err)
	}
	if c.framer, err = f.framer(c.profile); err != nil {
		return c, err
	}
	if f.spec != "" {
		tp, hd := "", ""
		if cmd.Flags().Changed("tpdu") || cmd.Flags().Changed("header") {
			tp, hd = f.tpdu, f.header
		}
		if c.profile, err = f.customProfile(tp, hd); err != nil {
			return c, err
		}
		c.framer = c.profile.Framer()
	}
	if f.export != "" && f.data == "" {
		return c, usageErr("--export needs --data DIR, the books to export")
	}
	if f.scenario != "" && f.data != "" {
		return c, usageErr("--data keeps the books of posim acquirer without --scenario; a scenario's host starts from its setup")
	}
	c.tlsCfg, err = f.tls.config()
	return c, err
}

// checkNumbers checks the flags that are counts, sizes and durations.
func (f acquirerFlags) checkNumbers() error {
	if f.journalMax < 0 || f.retain < 0 || f.maxConns < 0 || f.idleTimeout < 0 || f.maxSubscribers < 0 {
		return invalid(fmt.Errorf("--journal-max, --retain, --max-conns, --idle-timeout and --max-subscribers must not be negative"))
	}
	if f.gcPercent < 1 {
		return invalid(fmt.Errorf("--gc-percent %d: want a positive percentage", f.gcPercent))
	}
	if f.maxFrame < 16 || f.maxFrame > 0xFFFF {
		return invalid(fmt.Errorf("--max-frame %d: want 16 to 65535", f.maxFrame))
	}
	return nil
}

func runAcquirer(cmd *cobra.Command, f acquirerFlags) error {
	c, err := f.config(cmd)
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(c.gcPercent))
	}
	extra, closeRecord, err := c.recordReplay(cmd, c.profile, c.framer)
	if err != nil {
		return err
	}
	defer closeRecord()
	if c.scenario != "" {
		s, err := loadScenario(c.scenario)
		if err != nil {
			return invalid(err)
		}
		o, err := c.hostOptions(cmd, c.profile, c.log)
		if err != nil {
			return err
		}
		o.Acquirer = append(o.Acquirer, extra...)
		o.Acquirer = append(o.Acquirer, acquirer.WithLimits(c.maxConns, c.idleTimeout))
		if c.tlsCfg != nil {
			o.Acquirer = append(o.Acquirer, acquirer.WithTLS(c.tlsCfg))
		}
		return runScenarioHost(cmd, c.acquirerFlags, s, o)
	}
	return c.serve(cmd, extra)
}

// serve runs posim's acquirer without a scenario: its books in memory or
// in --data, until the command's context ends.
func (c acquirerConfig) serve(cmd *cobra.Command, extra []acquirer.Option) error {
	journal := acquirer.NewRingJournal(c.journalMax)
	opts := []acquirer.Option{
		acquirer.WithTLS(c.tlsCfg),
		acquirer.WithProfile(c.profile),
		acquirer.WithFramer(c.framer),
		acquirer.WithKeys(c.tmk, c.mac),
		acquirer.WithCards(c.book),
		acquirer.WithPolicies(c.pol),
		acquirer.WithLogger(c.log),
		acquirer.WithJournal(journal),
		acquirer.WithRetention(c.retain, c.retain),
		acquirer.WithLimits(c.maxConns, c.idleTimeout),
		// connection churn cannot push transactions out of the journal
		acquirer.WithConnectionLog(acquirer.NewRingJournal(10_000)),
	}
	if c.dump {
		opts = append(opts, acquirer.WithDump(cmd.ErrOrStderr()))
	}
	a, err := acquirer.New(append(opts, extra...)...)
	if err != nil {
		return invalid(err)
	}
	kept := "books in memory: lost when posim stops (--data DIR keeps them)"
	if c.data != "" {
		st, n, err := openData(c.data, c.dataSync, a, journal, dataSetup{Profile: c.profile.Name(), TMK: c.tmk, MAC: c.mac, Retain: c.retain, Cards: c.book}, c.pol)
		if err != nil {
			a.Close()
			return err
		}
		defer st.Close()
		if c.export != "" {
			a.Close()
			return exportBooks(cmd.OutOrStdout(), c.export, a)
		}
		kept = fmt.Sprintf("books kept in %s (%d changes replayed, sync %s)", c.data, n, c.dataSync)
	}
	if err := a.Listen(c.listen); err != nil {
		a.Close()
		return runtimeErr(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "posim acquirer listening on %s (profile %s, %d test cards); %s; Ctrl-C stops it\n",
		a.Addr(), c.profile.Name(), len(c.book.Cards), kept)
	stop, err := serveControl(cmd, c.acquirerFlags, a, c.log)
	if err != nil {
		a.Close()
		return err
	}
	<-cmd.Context().Done()
	c.log.Info("shutting down")
	err = a.Close() // ends the event streams first
	stop()
	return err
}

// recordReplay returns the options of --record and --replay, and what
// closes the recording.
func (f acquirerFlags) recordReplay(cmd *cobra.Command, profile wire.Profile, framer wire.Framer) ([]acquirer.Option, func(), error) {
	var opts []acquirer.Option
	closeRecord := func() {}
	if f.recordClear && f.record == "" {
		return nil, nil, usageErr("--record-clear needs --record FILE")
	}
	if f.replay != "" {
		entries, err := recording.Load(f.replay)
		if err != nil {
			return nil, nil, invalid(fmt.Errorf("--replay: %w", err))
		}
		r, err := recording.NewReplayer(entries, profile, framer, f.replayMatch, f.replayFallback)
		if err != nil {
			return nil, nil, invalid(fmt.Errorf("--replay: %w", err))
		}
		opts = append(opts, acquirer.WithReplay(r))
		fmt.Fprintf(cmd.OutOrStdout(), "replaying %d recorded requests from %s (matched by %s; otherwise %s)\n",
			r.Len(), f.replay, strings.Join(f.replayMatch, ", "), f.replayFallback)
	}
	if f.record != "" {
		if f.recordClear {
			fmt.Fprintln(cmd.ErrOrStderr(), "WARNING: --record-clear writes card numbers, track data and PIN blocks in the clear to "+f.record+": test cards only, and never commit or share the file")
		}
		w, err := recording.Create(f.record, profile, framer, f.recordClear)
		if err != nil {
			return nil, nil, runtimeErr(err)
		}
		opts = append(opts, acquirer.WithRecord(w))
		closeRecord = func() { _ = w.Close() }
		fmt.Fprintf(cmd.OutOrStdout(), "recording to %s\n", f.record)
	}
	return opts, closeRecord, nil
}

// hostOptions are the options of a scenario's host from the flags: the
// scenario's own framing, cards and policies stand unless a flag was given.
func (f acquirerFlags) hostOptions(cmd *cobra.Command, profile wire.Profile, log *slog.Logger) (scenarios.HostOptions, error) {
	if err := checkSpeed(f.speed); err != nil {
		return scenarios.HostOptions{}, err
	}
	o := scenarios.HostOptions{Speed: f.speed, Profile: profile.Name(), Logger: log, JournalMax: f.journalMax,
		Retain: f.retain, MaxFrame: f.maxFrame,
		Acquirer: []acquirer.Option{acquirer.WithKeys(f.tmk, f.mac)}}
	changed := cmd.Flags().Changed
	if changed("tpdu") {
		o.TPDU = f.tpdu
	}
	if changed("header") {
		o.Header = f.header
	}
	if changed("mismatch") {
		o.Mismatch = f.mismatch
	}
	if changed("header-match") {
		o.HeaderMatch = f.headerMatch
	}
	if f.spec != "" {
		o.Dialect, o.Framer = profile, profile.Framer()
	}
	if changed("seed") {
		o.Seed = &f.seed
	}
	return o, nil
}

// runScenarioHost serves a scenario's setup and rules until interrupted.
func runScenarioHost(cmd *cobra.Command, f acquirerFlags, s *scenarios.Scenario, o scenarios.HostOptions) error {
	h, err := scenarios.StartHost(s, f.listen, o)
	if err != nil {
		return runtimeErr(err)
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "posim acquirer listening on %s with scenario %s: %s\n", h.Addr(), s.Name, s.Title.EN)
	if s.Story.EN != "" {
		fmt.Fprintf(out, "\n%s\n\n", s.Story.EN)
	}
	for _, r := range s.Rules {
		var do []string
		for _, a := range r.Do {
			do = append(do, a.String())
		}
		fmt.Fprintf(out, "rule %s: %s\n", r.ID, strings.Join(do, ", "))
	}
	fmt.Fprintln(out, "Ctrl-C stops it")
	stop, err := serveControl(cmd, f, h.Acquirer(), o.Logger)
	if err != nil {
		h.Close()
		return err
	}
	<-cmd.Context().Done()
	o.Logger.Info("shutting down")
	err = h.Close()
	stop()
	return err
}

// loadScenario reads a scenario file, or else a catalogue scenario by name.
func loadScenario(nameOrFile string) (*scenarios.Scenario, error) {
	if _, err := os.Stat(nameOrFile); err == nil {
		return scenarios.LoadFile(nameOrFile)
	}
	if strings.ContainsAny(nameOrFile, "/.") {
		return nil, fmt.Errorf("--scenario %s: no such file", nameOrFile)
	}
	return scenarios.FromCatalog(nameOrFile)
}

// serveControl starts the control API when --control is set; stop shuts it down.
func serveControl(cmd *cobra.Command, f acquirerFlags, a *acquirer.Acquirer, log *slog.Logger) (stop func(), err error) {
	if f.control == "" {
		return func() {}, nil
	}
	// what the loaded rules schedule ends with the control API
	timers := &faults.Timers{}
	o := scenarios.HostOptions{Speed: f.speed, Logger: log, Timers: timers}
	ctl, err := acquirer.NewControl(a, scenarios.ControlLoader(a, o))
	if err != nil {
		return nil, runtimeErr(err)
	}
	ctl.Hub().SetMax(f.maxSubscribers)
	ctl.SetRuleFactory(scenarios.ControlRules(a, o))
	tlsCfg, err := f.tls.config()
	if err != nil {
		return nil, err
	}
	stopHTTP, addr, err := serveGuarded(ctl, f.control, f.controlToken, f.controlHosts, tlsCfg)
	if err != nil {
		return nil, err
	}
	stop = func() { stopHTTP(); timers.Stop() }
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "control API on %s://%s (GET /journal /ledger /events /rules /verify /metrics /openapi.json, POST /rules, PUT /scenario, POST /reset)\n", scheme, addr)
	return stop, nil
}

// addControlGuardFlags adds the flags that lock a control API down.
func addControlGuardFlags(fl *pflag.FlagSet, token *string, hosts *[]string) {
	fl.StringVar(token, "control-token", os.Getenv("POSIM_CONTROL_TOKEN"), "a secret every control API request must carry (Authorization: Bearer TOKEN); required off loopback; default $POSIM_CONTROL_TOKEN")
	fl.StringSliceVar(hosts, "control-host", nil, "a DNS name the control API is reached by (the Host header must be an IP, localhost or one of these)")
}

// serveGuarded serves h on addr behind acquirer.Guard until stop, and
// returns the address it listens on.
// With tlsCfg it serves HTTPS (the ISO link's certificate; client
// certificates are not asked for: the token guards the API).
func serveGuarded(h http.Handler, addr, token string, hosts []string, tlsCfg *tls.Config) (stop func(), bound string, err error) {
	if err := acquirer.CheckControlAddr(addr, token); err != nil {
		return nil, "", invalid(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", runtimeErr(fmt.Errorf("control API: %w", err))
	}
	g := acquirer.Guard(h, acquirer.GuardConfig{Addr: ln.Addr().String(), Token: token, Hosts: hosts})
	if tlsCfg != nil {
		cfg := tlsCfg.Clone()
		cfg.ClientAuth, cfg.ClientCAs = tls.NoClientCert, nil
		ln = tls.NewListener(ln, cfg)
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, ln.Addr().String(), nil
}

// framer returns the acquirer's framing for the profile and flags.
func (f acquirerFlags) framer(p wire.Profile) (wire.Framer, error) {
	base := wire.Binary2{MaxFrame: f.maxFrame}
	if !p.Capabilities().TPDU {
		return base, nil
	}
	tf, err := wire.NewTPDUFramer(base, f.tpdu, f.header, f.mismatch)
	if err == nil {
		err = tf.SetHeaderMatch(f.headerMatch)
	}
	if err != nil {
		return nil, invalid(fmt.Errorf("--tpdu, --header, --mismatch, --header-match: %w", err))
	}
	return tf, nil
}
