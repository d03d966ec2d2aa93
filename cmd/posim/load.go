package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/load"
	"github.com/spf13/cobra"
)

type loadFlags struct {
	target, profile, jsonPath string
	terminals                 int
	duration                  time.Duration
	rate                      float64
	baseline                  bool
}

func newLoadCmd() *cobra.Command {
	var f loadFlags
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Push sales from a fleet of emulated terminals and measure throughput and latency",
		Long: `Push sales from a fleet of emulated terminals (one connection, TID and STAN space each)
at an acquirer: posim's own, started in this process, or --target HOST:PORT. Closed loop by
default, or a total --rate. Latencies come from an HDR histogram. --baseline runs the same
load, in the same run, against a bare iso8583-connection server that answers 00 without
ledger, journal, rules or events, and prints the ratio.`,
		Example: `  posim load --terminals 64 --duration 10s --baseline --json out.json`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runLoad(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "", "acquirer to load, HOST:PORT (default: posim's acquirer in this process)")
	fl.StringVar(&f.profile, "profile", "iso87", "dialect")
	fl.IntVar(&f.terminals, "terminals", 64, "emulated terminals")
	fl.DurationVar(&f.duration, "duration", 10*time.Second, "how long each run lasts")
	fl.Float64Var(&f.rate, "rate", 0, "total requests per second (0: closed loop)")
	fl.BoolVar(&f.baseline, "baseline", false, "also measure a bare iso8583-connection server and print the ratio")
	fl.StringVar(&f.jsonPath, "json", "", "write the results as JSON to this file")
	return cmd
}

type loadReport struct {
	Acquirer *load.Result `json:"acquirer"`
	Baseline *load.Result `json:"baseline,omitempty"`
	Ratio    float64      `json:"ratio,omitempty"`
}

func runLoad(cmd *cobra.Command, f loadFlags) error {
	if f.terminals < 1 || f.terminals > 100000 {
		return invalid(errors.New("--terminals: want 1 to 100000"))
	}
	if f.duration <= 0 || f.rate < 0 {
		return invalid(errors.New("--duration must be positive and --rate not negative"))
	}
	profile, err := loadProfile(f.profile)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	target := f.target
	if target == "" {
		book := cards.Builtin()
		for i := range book.Cards {
			book.Cards[i].Balance = 1 << 60 // a load run never runs out of money
		}
		a, err := acquirer.New(acquirer.WithProfile(profile), acquirer.WithCards(book),
			acquirer.WithJournal(acquirer.NewRingJournal(100_000)), acquirer.WithRetention(loadRetain, loadRetain))
		if err != nil {
			return err
		}
		if err := a.Listen("127.0.0.1:0"); err != nil {
			return runtimeErr(err)
		}
		defer a.Close()
		target = a.Addr()
	}
	opts := load.Options{Terminals: f.terminals, Duration: f.duration, Rate: f.rate, Profile: profile,
		Progress: func(p load.Progress) {
			if isTerminal(out) {
				fmt.Fprintf(out, "\r\x1b[K%5.1fs  %d responses  %d errors", p.Elapsed.Seconds(), p.Responses, p.Errors)
			}
		}}
	report := loadReport{}
	fmt.Fprintf(out, "posim load: %d terminals for %s against %s\n", f.terminals, f.duration, target)
	opts.Target = target
	if report.Acquirer, err = load.Run(cmd.Context(), opts); err != nil {
		return runtimeErr(err)
	}
	printLoad(out, "acquirer", report.Acquirer)
	if f.baseline {
		b, err := load.StartBaseline("127.0.0.1:0", profile)
		if err != nil {
			return runtimeErr(err)
		}
		opts.Target = b.Addr()
		report.Baseline, err = load.Run(cmd.Context(), opts)
		b.Close()
		if err != nil {
			return runtimeErr(err)
		}
		printLoad(out, "baseline", report.Baseline)
		if report.Baseline.Throughput > 0 {
			report.Ratio = report.Acquirer.Throughput / report.Baseline.Throughput
		}
		fmt.Fprintf(out, "ratio acquirer/baseline: %.2f\n", report.Ratio)
	}
	if f.jsonPath != "" {
		data, _ := json.MarshalIndent(report, "", "  ")
		if err := os.WriteFile(f.jsonPath, append(data, '\n'), 0o644); err != nil {
			return runtimeErr(err)
		}
	}
	return nil
}

func printLoad(w io.Writer, name string, r *load.Result) {
	if isTerminal(w) {
		fmt.Fprint(w, "\r\x1b[K")
	}
	fmt.Fprintf(w, "%-9s %9.0f/s  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms  responses %d  errors %v  codes %v\n",
		name, r.Throughput, r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.P999, r.Latency.Max, r.Responses, r.Errors, r.Codes)
}

// loadRetain bounds the in-process acquirer's ledger during a load run: the
// newest records are enough to match reversals, and memory stays flat.
const loadRetain = 200_000
