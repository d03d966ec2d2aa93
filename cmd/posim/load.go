package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/load"
	"github.com/posim/posim/scenarios"
	"github.com/posim/posim/wire"
	"github.com/prometheus/common/expfmt"
	"github.com/spf13/cobra"
)

type loadFlags struct {
	target, profile, jsonPath, mix, scenario, control string
	baselineTarget, pan, declinePAN, mid, tidPrefix   string
	reports                                           []string
	terminals, rounds                                 int
	duration, warmup, timeout                         time.Duration
	rate                                              float64
	baseline, idle                                    bool
	seed                                              int64
	tls                                               clientTLS
}

func newLoadCmd() *cobra.Command {
	var f loadFlags
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Push traffic from a fleet of emulated terminals and measure throughput and latency",
		Long: `Push traffic from a fleet of emulated terminals (one connection, TID and STAN space
each) at an acquirer: posim's own, started in this process, or --target HOST:PORT.
Closed loop by default, or a total --rate; a --mix of sales, voids, refunds and
declines. A terminal whose answer does not come within --timeout reverses the request
(sales and voids) and repeats the reversal until it is answered, as a real one must.
Latencies come from HDR histograms.

--baseline runs the same load against a bare iso8583-connection server that answers
00 without ledger, journal, rules or events, in rounds alternating with the acquirer's
(after a --warmup of each), and prints the ratio. posim bench measures the acquirer, that
server and a raw echo in processes of their own, with their CPU per transaction.

The fleet is lean (requests encoded once and patched, answers read without a full
decode), so that it measures the host; it prints its own CPU per response. Under cup its
terminals sign on and MAC their requests.

--scenario runs the in-process acquirer with a scenario's fault rules. After the run
drains, the report reconciles them: each dropped answer must have timed out at a
terminal and been reversed, no approval whose answer was dropped may stay approved in
the ledger, and each rule with a probability must have fired within four standard
deviations of its expectation. A failed check exits 4.

--idle connects the terminals and holds them, silent, for --duration: with --control
(the acquirer's control API) it reads the host's resident memory and connection count.`,
		Example: `  posim load --terminals 64 --duration 10s --baseline --json out.json
  posim load --target 127.0.0.1:8583 --baseline-target 127.0.0.1:8590 --terminals 64 --duration 10s
  posim load --terminals 1000 --duration 30s --rate 5000 --target 127.0.0.1:8583
  posim load --scenario examples/load-drop-approvals.yaml --timeout 1s --report html:load.html
  posim load --idle --terminals 10000 --duration 20s --target 127.0.0.1:8583 --control http://127.0.0.1:8584`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLoad(cmd, f) },
	}
	fl := cmd.Flags()
	f.tls.add(fl)
	fl.StringVar(&f.target, "target", "", "acquirer to load, HOST:PORT (default: posim's acquirer in this process)")
	fl.StringVar(&f.profile, "profile", wire.Default.Name(), dialects())
	fl.IntVar(&f.terminals, "terminals", 64, "emulated terminals")
	fl.DurationVar(&f.duration, "duration", 10*time.Second, "measured time (each of acquirer and baseline)")
	fl.DurationVar(&f.warmup, "warmup", time.Second, "unmeasured traffic before measuring")
	fl.IntVar(&f.rounds, "rounds", 0, "with --baseline: alternating rounds (default: one per second of --duration, at most 20)")
	fl.Float64Var(&f.rate, "rate", 0, "total requests per second (0: closed loop)")
	fl.StringVar(&f.mix, "mix", "sale=100", "operation weights: sale, void, refund, decline (e.g. sale=70,void=10,refund=10,decline=10)")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Second, "a terminal's response timeout; an unanswered sale or void is reversed")
	fl.Int64Var(&f.seed, "seed", 1, "seed of the operation mix")
	fl.StringVar(&f.pan, "pan", "6200000000009998", "card of sales, voids and refunds (the default is the built-in card unlimited)")
	fl.StringVar(&f.declinePAN, "decline-pan", "6200000000000104", "card of declines (the default is the built-in card insufficient-funds)")
	fl.StringVar(&f.mid, "mid", "LOAD00000000001", "merchant ID (DE42) of every terminal")
	fl.StringVar(&f.tidPrefix, "tid-prefix", "L", "terminal IDs (DE41) are this prefix and a number: L0000001, L0000002 ...")
	fl.BoolVar(&f.baseline, "baseline", false, "also measure a bare iso8583-connection server and print the ratio")
	fl.StringVar(&f.baselineTarget, "baseline-target", "", "with --baseline: a bare server in another process (posim baseline), HOST:PORT")
	fl.StringVar(&f.scenario, "scenario", "", "fault rules for the in-process acquirer (catalogue name or file); the run is reconciled")
	fl.BoolVar(&f.idle, "idle", false, "connect the terminals and hold them silent for --duration")
	fl.StringVar(&f.control, "control", "", "the acquirer's control API URL, to read its memory and connections after the run")
	fl.StringVar(&f.jsonPath, "json", "", "write the report as JSON to this file")
	fl.StringArrayVar(&f.reports, "report", nil, "html:PATH writes throughput and latency charts as one self-contained page")
	return cmd
}

// loadConfig is what posim load's flags ask for, checked.
type loadConfig struct {
	loadFlags
	mix      load.Mix
	htmlPath string
	profile  wire.Profile
	tlsCfg   *tls.Config
}

// config checks the flags and reads what they name.
func (f loadFlags) config() (loadConfig, error) {
	c := loadConfig{loadFlags: f}
	if f.terminals < 1 || f.terminals > 100000 {
		return c, invalid(errors.New("--terminals: want 1 to 100000"))
	}
	if f.duration <= 0 || f.rate < 0 || f.warmup < 0 || f.timeout <= 0 || f.rounds < 0 {
		return c, invalid(errors.New("--duration and --timeout must be positive; --rate, --warmup and --rounds not negative"))
	}
	c.baseline = f.baseline || f.baselineTarget != ""
	if f.scenario != "" && f.target != "" {
		return c, invalid(errors.New("--scenario runs the rules in this process's acquirer: leave out --target (for your own host use posim acquirer --scenario)"))
	}
	var err error
	if c.mix, err = load.ParseMix(f.mix); err != nil {
		return c, invalid(fmt.Errorf("--mix: %w", err))
	}
	for _, r := range f.reports {
		kind, path, ok := strings.Cut(r, ":")
		if !ok || kind != "html" || path == "" {
			return c, invalid(fmt.Errorf("--report %q: want html:PATH", r))
		}
		c.htmlPath = path
	}
	if c.profile, err = loadProfile(f.profile); err != nil {
		return c, err
	}
	if f.target != "" {
		if err := checkAddr("--target", f.target); err != nil {
			return c, err
		}
	}
	if n := len(f.tidPrefix); n > 7 || f.terminals > int(math.Pow10(8-n))-1 {
		return c, invalid(fmt.Errorf("--tid-prefix %q: the prefix and %d terminal numbers must fit DE41's 8 characters", f.tidPrefix, f.terminals))
	}
	for _, p := range []struct{ flag, pan string }{{"--pan", f.pan}, {"--decline-pan", f.declinePAN}} {
		if !wire.LuhnValid(p.pan) || len(p.pan) < 12 || len(p.pan) > 19 {
			return c, invalid(fmt.Errorf("%s %s: want 12 to 19 digits that pass the Luhn check", p.flag, wire.MaskPAN(p.pan)))
		}
	}
	if c.tlsCfg, err = f.tls.config(); err != nil {
		return c, err
	}
	if c.tlsCfg != nil && f.target == "" {
		return c, usageErr("--tls needs --target: the acquirer posim load starts itself speaks plain TCP")
	}
	if c.tlsCfg != nil && c.baseline {
		return c, usageErr("--tls and --baseline: the bare baseline server speaks plain TCP, so the ratio would compare unlike links")
	}
	return c, nil
}

// options are the fleet's options against target.
func (c loadConfig) options(target string, out io.Writer) load.Options {
	return load.Options{TLS: c.tlsCfg, Target: target, Terminals: c.terminals, Rate: c.rate, Profile: c.profile, Mix: c.mix,
		Timeout: c.timeout, Seed: c.seed, PAN: c.pan, DeclinePAN: c.declinePAN, MID: c.mid, TIDPrefix: c.tidPrefix,
		Progress: func(p load.Progress) {
			if isTerminal(out) {
				fmt.Fprintf(out, "\r\x1b[K%5.1fs  %d responses  %d errors", p.Elapsed.Seconds(), p.Responses, p.Errors)
			}
		}}
}

// loadHost is the acquirer a load runs against when it starts its own:
// with a scenario's rules (host) or bare.
type loadHost struct {
	target string
	host   *scenarios.Host
	engine *acquirer.Engine
	close  func()
}

// startHost starts the in-process acquirer, unless the load has a target.
func (c loadConfig) startHost(rep *load.Report) (loadHost, error) {
	if c.target != "" {
		return loadHost{target: c.target, close: func() {}}, nil
	}
	if c.scenario != "" {
		s, err := loadScenario(c.scenario)
		if err != nil {
			return loadHost{}, invalid(err)
		}
		host, err := scenarios.StartHost(s, "127.0.0.1:0", scenarios.HostOptions{Profile: c.profile.Name(), JournalMax: 100_000, Retain: loadRetain})
		if err != nil {
			return loadHost{}, runtimeErr(err)
		}
		rep.Faults = &load.FaultCheck{Scenario: s.Name}
		return loadHost{target: host.Addr(), host: host, engine: host.Engine(), close: func() { host.Close() }}, nil
	}
	a, err := acquirer.New(acquirer.WithRetention(loadRetain, loadRetain), acquirer.WithProfile(c.profile),
		acquirer.WithJournal(acquirer.NewRingJournal(100_000)))
	if err != nil {
		return loadHost{}, err
	}
	if err := a.Listen("127.0.0.1:0"); err != nil {
		return loadHost{}, runtimeErr(err)
	}
	return loadHost{target: a.Addr(), engine: a.Engine(), close: func() { a.Close() }}, nil
}

func runLoad(cmd *cobra.Command, f loadFlags) error {
	c, err := f.config()
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	rep := &load.Report{Command: "posim " + strings.Join(os.Args[1:], " "), Started: time.Now().UTC()}
	h, err := c.startHost(rep)
	if err != nil {
		return err
	}
	defer h.close()
	o := c.options(h.target, out)
	fmt.Fprintf(out, "posim load: %d terminals for %s against %s (mix %s)\n", c.terminals, c.duration, h.target, c.mix)
	fleet, err := load.Dial(o)
	if err != nil {
		return runtimeErr(err)
	}
	defer fleet.Close()
	ctx := cmd.Context()
	switch {
	case c.idle:
		start := time.Now()
		select {
		case <-time.After(c.duration):
		case <-ctx.Done():
		}
		rep.Idle = &load.Idle{Terminals: c.terminals, Connected: c.terminals, HeldFor: time.Since(start).Seconds()}
		fmt.Fprintf(out, "held %d idle connections for %.1fs\n", c.terminals, rep.Idle.HeldFor)
	case c.baseline:
		err = c.compare(ctx, o, fleet, rep, out)
	default:
		err = c.measure(ctx, fleet, rep, out)
	}
	if err != nil {
		return err
	}
	return c.finish(rep, h, fleet, out)
}

// compare runs the fleet against the acquirer and a bare baseline server
// in alternating rounds and prints the ratio.
func (c loadConfig) compare(ctx context.Context, o load.Options, fleet *load.Fleet, rep *load.Report, out io.Writer) error {
	bo := o
	bo.Target, bo.SkipSignOn = c.baselineTarget, true
	if bo.Target == "" {
		b, err := load.StartBaseline("127.0.0.1:0", c.profile)
		if err != nil {
			return runtimeErr(err)
		}
		defer b.Close()
		bo.Target = b.Addr()
	}
	bfleet, err := load.Dial(bo)
	if err != nil {
		return runtimeErr(err)
	}
	defer bfleet.Close()
	rounds := c.rounds
	if rounds == 0 {
		rounds = min(max(int(c.duration/time.Second), 1), 20)
	}
	rep.Acquirer, rep.Baseline, err = load.Compare(ctx, fleet, bfleet, c.duration, c.warmup, rounds)
	if err != nil {
		return runtimeErr(err)
	}
	printLoad(out, "acquirer", rep.Acquirer)
	printLoad(out, "baseline", rep.Baseline)
	if rep.Baseline.Throughput > 0 {
		rep.Ratio = rep.Acquirer.Throughput / rep.Baseline.Throughput
	}
	fmt.Fprintf(out, "ratio acquirer/baseline: %.2f (%d alternating rounds after a %s warm-up)\n", rep.Ratio, rounds, c.warmup)
	return nil
}

// measure runs the fleet after a warm-up and prints its figures and the
// CPU a response cost (the host's too when --control reads it).
func (c loadConfig) measure(ctx context.Context, fleet *load.Fleet, rep *load.Report, out io.Writer) error {
	if c.warmup > 0 {
		if _, err := fleet.Run(ctx, c.warmup); err != nil {
			return runtimeErr(err)
		}
	}
	var host0 *load.HostStats
	if c.control != "" && c.target != "" {
		host0, _ = scrapeHost(c.control)
	}
	cpu0 := selfCPU()
	var err error
	if rep.Acquirer, err = fleet.Run(ctx, c.duration); err != nil {
		return runtimeErr(err)
	}
	cpu := selfCPU() - cpu0
	printLoad(out, "acquirer", rep.Acquirer)
	n := rep.Acquirer.Responses
	if n == 0 || cpu <= 0 {
		return nil
	}
	rep.ClientCPU, rep.InProcess = float64(cpu.Microseconds())/float64(n), c.target == ""
	who := "the fleet"
	if rep.InProcess {
		who = "the fleet and the acquirer, both in this process (posim bench measures them apart)"
	}
	fmt.Fprintf(out, "cpu: %.1f µs a response in this process: %s", rep.ClientCPU, who)
	if host0 != nil {
		if h, err := scrapeHost(c.control); err == nil && h.CPUSeconds > host0.CPUSeconds {
			rep.HostCPU = (h.CPUSeconds - host0.CPUSeconds) * 1e6 / float64(n)
			fmt.Fprintf(out, "; host %.1f µs a response (its process_cpu_seconds_total)", rep.HostCPU)
		}
	}
	fmt.Fprintln(out)
	return nil
}

// finish reconciles a scenario's faults, reads the host's figures and
// writes the reports; a failed fault check exits 4.
func (c loadConfig) finish(rep *load.Report, h loadHost, fleet *load.Fleet, out io.Writer) error {
	if rep.Faults != nil && rep.Acquirer != nil {
		reconcile(rep.Faults, h.host, h.engine, fleet)
		verdict := "OK"
		if !rep.Faults.OK {
			verdict = "FAILED"
		}
		fmt.Fprintf(out, "faults %s: %s\n", verdict, rep.Faults.Summary)
		for _, r := range rep.Faults.Rules {
			fmt.Fprintf(out, "  rule %s (%s): matched %d, fired %d", r.ID, strings.Join(r.Actions, ", "), r.Matched, r.Fired)
			if r.Probability != nil {
				fmt.Fprintf(out, ", expected %.1f (%.0f..%.0f)", r.Expected, r.Low, r.High)
			}
			fmt.Fprintln(out)
		}
	}
	if c.control != "" {
		hs, err := scrapeHost(c.control)
		if err != nil {
			return runtimeErr(fmt.Errorf("--control: %w", err))
		}
		rep.Host = hs
		fmt.Fprintf(out, "host: %.0f MiB resident, %.0f connections, %.0f goroutines\n", hs.RSSMiB, hs.Connections, hs.Goroutines)
	}
	if c.jsonPath != "" {
		data, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(c.jsonPath, append(data, '\n'), 0o644); err != nil {
			return runtimeErr(err)
		}
	}
	if c.htmlPath != "" {
		if err := writeFileWith(c.htmlPath, func(w io.Writer) error { return load.WriteHTML(w, rep) }); err != nil {
			return runtimeErr(err)
		}
		fmt.Fprintf(out, "report: %s\n", c.htmlPath)
	}
	if rep.Faults != nil && !rep.Faults.OK {
		return &exitError{code: exitExpected, err: errors.New("load: fault check failed: " + rep.Faults.Summary)}
	}
	return nil
}

// reconcile fills the fault check once the run has drained: the rules'
// counts, the terminals' timeouts and reversals, and the ledger's view of
// every request a terminal reversed.
func reconcile(c *load.FaultCheck, h *scenarios.Host, e *acquirer.Engine, fleet *load.Fleet) {
	for _, st := range h.Faults.Stats() {
		rc := load.RuleCount{ID: st.ID, Actions: st.Actions, Drops: st.Drops, Matched: st.Matched, Fired: st.Fired, Probability: st.Probability}
		rc.Bounds()
		if st.Drops {
			c.Dropped += int64(st.Fired)
		}
		c.Rules = append(c.Rules, rc)
	}
	rev, reversed := fleet.Reversals()
	c.Timeouts, c.Lost, c.Acknowledged, c.Failed = rev.Timeouts, rev.Lost, rev.Acknowledged, rev.Failed
	c.Unreversed = []load.Ref{}
	for _, ref := range reversed {
		c.Checked++
		recs := e.Find(ref.TID, ref.MTI, ref.STAN)
		if len(recs) == 0 {
			c.NotBooked++
		}
		for _, rec := range recs {
			if rec.Status == acquirer.StatusApproved || rec.Status == acquirer.StatusCompleted {
				c.Unreversed = append(c.Unreversed, ref)
			}
		}
	}
	c.Judge()
}

// scrapeHost reads the acquirer's resident memory, connections and
// goroutines from its control API's Prometheus metrics.
func scrapeHost(base string) (*load.HostStats, error) {
	url := strings.TrimSuffix(base, "/") + "/metrics"
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var p expfmt.TextParser
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", url, err)
	}
	value := func(name string) float64 {
		mf := families[name]
		if mf == nil || len(mf.Metric) == 0 {
			return 0
		}
		m := mf.Metric[0]
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Counter != nil:
			return m.Counter.GetValue()
		}
		return 0
	}
	if families["process_resident_memory_bytes"] == nil {
		return nil, fmt.Errorf("%s has no process_resident_memory_bytes: is it posim's control API?", url)
	}
	return &load.HostStats{RSSMiB: value("process_resident_memory_bytes") / (1 << 20), Connections: value("posim_connections"),
		Goroutines: value("go_goroutines"), CPUSeconds: value("process_cpu_seconds_total")}, nil
}

func printLoad(w io.Writer, name string, r *load.Result) {
	if isTerminal(w) {
		fmt.Fprint(w, "\r\x1b[K")
	}
	fmt.Fprintf(w, "%-9s %9.0f/s  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms  responses %d  codes [%s]  errors [%s]\n",
		name, r.Throughput, r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.P999, r.Latency.Max, r.Responses,
		load.FormatCounts(r.Codes), load.FormatCounts(r.Errors))
	if rv := r.Reversals; rv.Timeouts+rv.Lost > 0 {
		fmt.Fprintf(w, "%-9s timeouts %d, connections lost %d, reversals sent %d, acknowledged %d, failed %d\n", "",
			rv.Timeouts, rv.Lost, rv.Sent, rv.Acknowledged, rv.Failed)
	}
}

// loadRetain bounds the in-process acquirer's ledger during a load run: the
// newest records are enough to match reversals, and memory stays flat.
const loadRetain = 200_000

func newBaselineCmd() *cobra.Command {
	var listen, profileName string
	var echo bool
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "Serve a bare iso8583-connection server to measure posim against",
		Long: `Serve a bare moov-io/iso8583-connection server that answers every request 00, with no
ledger, journal, rules or events: what the codec and the connection cost by themselves.
posim load --baseline-target compares an acquirer in another process with it.

--echo serves a raw framed echo instead: each frame answered by itself, its MTI turned
into the response's, nothing else read: the floor under any host (posim bench uses both).`,
		Example: `  posim baseline --listen 127.0.0.1:8590`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			profile, err := loadProfile(profileName)
			if err != nil {
				return err
			}
			if echo {
				e, err := load.StartEcho(listen, profile)
				if err != nil {
					return runtimeErr(err)
				}
				defer e.Close()
				fmt.Fprintf(cmd.OutOrStdout(), "posim baseline (echo) listening on %s (profile %s); Ctrl-C stops it\n", e.Addr(), profile.Name())
				<-cmd.Context().Done()
				return nil
			}
			b, err := load.StartBaseline(listen, profile)
			if err != nil {
				return runtimeErr(err)
			}
			defer b.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "posim baseline listening on %s (profile %s); Ctrl-C stops it\n", b.Addr(), profile.Name())
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8590", "address to listen on")
	cmd.Flags().StringVar(&profileName, "profile", wire.Default.Name(), dialects())
	cmd.Flags().BoolVar(&echo, "echo", false, "serve a raw framed echo instead of the moov server")
	return cmd
}
