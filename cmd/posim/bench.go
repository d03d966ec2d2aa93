package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/posim/posim/load"
	"github.com/posim/posim/wire"
	"github.com/spf13/cobra"
)

type benchFlags struct {
	profile, jsonPath, mix string
	terminals, rounds      int
	retain                 int
	duration, warmup       time.Duration
	limits                 bool
}

// benchEnv is added to the environment of the servers posim bench starts
// (tests: the test binary stands in for posim).
var benchEnv []string

func newBenchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure posim's acquirer against a bare moov server and a raw framed echo, each in its own process",
		Long: `Measure what the acquirer costs, against two references on the same machine: the bare
moov-io/iso8583-connection server (posim baseline: codec and connection, no ledger) and a
raw framed echo (posim baseline --echo: frames read and written, nothing decoded). Each
runs in a process of its own, started by posim bench; the lean load client drives them in
alternating rounds (acquirer, moov, echo, then echo, moov, acquirer ...) after a warm-up,
so that all three see the same machine and its drift.

For each server it prints the throughput, the p99 latency, the server's CPU per
transaction (read from /proc) and the client's own; then the ratios acquirer/moov and
acquirer/echo. CPU per transaction is the fairer figure on a machine the client shares:
throughput also measures how much of the machine the client left.`,
		Example: `  posim bench
  posim bench --profile cup --terminals 64 --duration 20s --json bench.json
  posim bench --limits            # the acquirer with every risk limit on (never reached)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.profile, "profile", wire.Default.Name(), dialects())
	fl.IntVar(&f.terminals, "terminals", 32, "emulated terminals (one connection each)")
	fl.DurationVar(&f.duration, "duration", 10*time.Second, "measured time of each server, split into --rounds")
	fl.IntVar(&f.rounds, "rounds", 5, "alternating rounds")
	fl.DurationVar(&f.warmup, "warmup", time.Second, "unmeasured traffic to each server first")
	fl.StringVar(&f.mix, "mix", "sale=100", "operation weights: sale, void, refund, decline")
	fl.IntVar(&f.retain, "retain", 100_000, "the acquirer's --retain")
	fl.BoolVar(&f.limits, "limits", false, "the acquirer with every risk limit on: daily amount, daily count and velocity (never reached)")
	fl.StringVar(&f.jsonPath, "json", "", "write the figures as JSON to this file")
	return cmd
}

// BenchServer is one server's figures.
type BenchServer struct {
	Name       string  `json:"name"`
	Command    string  `json:"command"`
	Throughput float64 `json:"throughput_per_s"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	Responses  int64   `json:"responses"`
	Errors     int64   `json:"errors"`
	// ServerCPU and ClientCPU are microseconds of CPU per response (0:
	// not measured, off Linux).
	ServerCPU float64 `json:"server_cpu_us"`
	ClientCPU float64 `json:"client_cpu_us"`
}

// BenchReport is what posim bench measured.
type BenchReport struct {
	Profile   string        `json:"profile"`
	Terminals int           `json:"terminals"`
	Rounds    int           `json:"rounds"`
	Servers   []BenchServer `json:"servers"`
	// Ratios of the acquirer's figures to the others'.
	CPUvsMoov        float64 `json:"server_cpu_acquirer_over_moov"`
	ThroughputVsMoov float64 `json:"throughput_acquirer_over_moov"`
	CPUvsEcho        float64 `json:"server_cpu_acquirer_over_echo"`
	ThroughputVsEcho float64 `json:"throughput_acquirer_over_echo"`
}

type benchTarget struct {
	name  string
	args  []string
	proc  *exec.Cmd
	addr  string
	fleet *load.Fleet
	res   *load.Result
	cpu   time.Duration // server CPU over the measured rounds
	self  time.Duration // client CPU over them
}

func runBench(cmd *cobra.Command, f benchFlags) error {
	if f.terminals < 1 || f.terminals > 10000 || f.rounds < 1 || f.duration <= 0 || f.warmup < 0 || f.retain < 0 {
		return invalid(errors.New("--terminals 1 to 10000, --rounds at least 1, --duration positive, --warmup and --retain not negative"))
	}
	profile, err := loadProfile(f.profile)
	if err != nil {
		return err
	}
	mix, err := load.ParseMix(f.mix)
	if err != nil {
		return invalid(fmt.Errorf("--mix: %w", err))
	}
	exe, err := os.Executable()
	if err != nil {
		return runtimeErr(fmt.Errorf("finding posim's own executable: %w", err))
	}
	acq := []string{"acquirer", "--listen", "127.0.0.1:0", "--profile", profile.Name(), "--log-level", "error", "--retain", fmt.Sprint(f.retain)}
	if f.limits {
		acq = append(acq, "--daily-amount", "999999999.99", "--daily-count", "1000000000", "--velocity-count", "1000000000", "--velocity-window", "1m")
	}
	targets := []*benchTarget{
		{name: "acquirer", args: acq},
		{name: "moov", args: []string{"baseline", "--listen", "127.0.0.1:0", "--profile", profile.Name()}},
		{name: "echo", args: []string{"baseline", "--echo", "--listen", "127.0.0.1:0", "--profile", profile.Name()}},
	}
	ctx := cmd.Context()
	defer func() {
		for _, t := range targets {
			if t.fleet != nil {
				t.fleet.Close()
			}
			stopServer(t.proc)
		}
	}()
	out := cmd.OutOrStdout()
	for _, t := range targets {
		if t.proc, t.addr, err = startServer(ctx, exe, t.args); err != nil {
			return runtimeErr(fmt.Errorf("starting the %s server: %w", t.name, err))
		}
		o := load.Options{Target: t.addr, Terminals: f.terminals, Profile: profile, Mix: mix, Timeout: 5 * time.Second, Seed: 1,
			SkipSignOn: t.name != "acquirer"}
		if t.fleet, err = load.Dial(o); err != nil {
			return runtimeErr(fmt.Errorf("connecting to the %s server: %w", t.name, err))
		}
	}
	fmt.Fprintf(out, "posim bench: %s, %d terminals, %d rounds of %s a server after a %s warm-up; lean client, each server in its own process\n",
		profile.Name(), f.terminals, f.rounds, f.duration/time.Duration(f.rounds), f.warmup)
	fleets := []*load.Fleet{targets[0].fleet, targets[1].fleet, targets[2].fleet}
	results, err := load.Alternate(ctx, fleets, f.duration, f.warmup, f.rounds, func(i int, run func() error) error {
		t := targets[i]
		before, _ := procCPU(t.proc.Process.Pid)
		self := selfCPU()
		err := run()
		after, _ := procCPU(t.proc.Process.Pid)
		t.self += selfCPU() - self
		t.cpu += after - before
		return err
	})
	if err != nil {
		return runtimeErr(err)
	}
	if ctx.Err() != nil {
		return runtimeErr(ctx.Err())
	}
	for i, t := range targets {
		t.res = results[i]
	}
	rep := benchReport(out, profile.Name(), f, targets)
	if f.jsonPath != "" {
		data, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(f.jsonPath, append(data, '\n'), 0o644); err != nil {
			return runtimeErr(err)
		}
	}
	return nil
}

// benchReport prints each server's figures and the acquirer's ratios to
// the bare moov server and the echo, and returns them.
func benchReport(out io.Writer, profile string, f benchFlags, targets []*benchTarget) BenchReport {
	rep := BenchReport{Profile: profile, Terminals: f.terminals, Rounds: f.rounds}
	fmt.Fprintf(out, "%-9s %12s %9s %9s %15s %15s\n", "server", "throughput", "p50", "p99", "server CPU/tx", "client CPU/tx")
	for _, t := range targets {
		s := BenchServer{Name: t.name, Command: "posim " + strings.Join(t.args, " "), Throughput: t.res.Throughput,
			P50: t.res.Latency.P50, P99: t.res.Latency.P99, Responses: t.res.Responses}
		for _, n := range t.res.Errors {
			s.Errors += n
		}
		if t.res.Responses > 0 {
			s.ServerCPU = float64(t.cpu.Microseconds()) / float64(t.res.Responses)
			s.ClientCPU = float64(t.self.Microseconds()) / float64(t.res.Responses)
		}
		rep.Servers = append(rep.Servers, s)
		fmt.Fprintf(out, "%-9s %10.0f/s %6.2f ms %6.2f ms %12.1f µs %12.1f µs", s.Name, s.Throughput, s.P50, s.P99, s.ServerCPU, s.ClientCPU)
		if s.Errors > 0 {
			fmt.Fprintf(out, "  errors %d", s.Errors)
		}
		fmt.Fprintln(out)
	}
	a, m, e := rep.Servers[0], rep.Servers[1], rep.Servers[2]
	rep.CPUvsMoov, rep.ThroughputVsMoov = ratio(a.ServerCPU, m.ServerCPU), ratio(a.Throughput, m.Throughput)
	rep.CPUvsEcho, rep.ThroughputVsEcho = ratio(a.ServerCPU, e.ServerCPU), ratio(a.Throughput, e.Throughput)
	fmt.Fprintf(out, "acquirer/moov: server CPU per transaction %.2f, throughput %.2f\n", rep.CPUvsMoov, rep.ThroughputVsMoov)
	fmt.Fprintf(out, "acquirer/echo: server CPU per transaction %.2f, throughput %.2f\n", rep.CPUvsEcho, rep.ThroughputVsEcho)
	return rep
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

var listeningOn = regexp.MustCompile(`listening on (\S+)`)

// startServer starts posim with args in a process of its own and returns
// the address it says it listens on.
func startServer(ctx context.Context, exe string, args []string) (*exec.Cmd, string, error) {
	c := exec.Command(exe, args...)
	c.Env = append(os.Environ(), benchEnv...)
	stdout, err := c.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	var stderr strings.Builder
	c.Stderr = &limitedWriter{w: &stderr, n: 4096}
	if err := c.Start(); err != nil {
		return nil, "", err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningOn.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		close(found)
	}()
	select {
	case addr, ok := <-found:
		if ok {
			return c, addr, nil
		}
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
	}
	stopServer(c)
	return nil, "", fmt.Errorf("posim %s did not say where it listens: %s", strings.Join(args, " "), strings.TrimSpace(stderr.String()))
}

// stopServer interrupts a server and waits for it (killing it after 5 s).
func stopServer(c *exec.Cmd) {
	if c == nil || c.Process == nil {
		return
	}
	_ = c.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = c.Process.Kill()
		<-done
	}
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
