package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/posim/posim/scenarios"
	"github.com/posim/posim/scenarios/report"
	"github.com/posim/posim/wire"
	"github.com/spf13/cobra"
)

type runFlags struct {
	catalog bool
	tags    []string
	profile string
	seed    int64
	speed   float64
	jobs    int
	reports []string
	verbose bool
	dump    bool
	target  string
	tid     string
	mid     string
	state   string
	specFlags
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [FILES|DIRS|NAMES...]",
		Short: "Run scenarios: both sides in-process over loopback, expectations checked",
		Long: `Run scenario files (or every .yaml file of the directories named, catalogue
scenarios by name, or the whole built-in catalogue with --catalog). Each scenario gets its own acquirer on 127.0.0.1:0, its
own terminal state and its own ledger; results are printed in input order.

Exit codes: 0 all passed, 1 usage error, 2 invalid scenario or nothing selected,
3 a scenario could not run, 4 an expectation failed.`,
		Example: `  posim run --catalog --speed 20 --report junit:j.xml --report json:r.json
  posim run my-scenarios/ --tags reversal --seed 42
  posim run --catalog --tags network --report md:report.md`,
		RunE: func(cmd *cobra.Command, args []string) error { return runRun(cmd, f, args) },
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.catalog, "catalog", false, "run the built-in failure catalogue")
	fl.StringSliceVar(&f.tags, "tags", nil, "only scenarios with one of these tags (comma-separated)")
	fl.StringVar(&f.profile, "profile", wire.Default.Name(), dialects())
	fl.Int64Var(&f.seed, "seed", 0, "seed for every scenario (default: each scenario's own)")
	fl.Float64Var(&f.speed, "speed", 1, "divide every duration by this (20 runs a 30 s timeout in 1.5 s)")
	fl.IntVar(&f.jobs, "jobs", runtime.NumCPU(), "scenarios run at once (output stays in input order)")
	fl.StringArrayVar(&f.reports, "report", nil, "write a report: junit:PATH, json:PATH, md:PATH or html:PATH (repeatable)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "print every scenario's timeline")
	fl.BoolVar(&f.dump, "dump", false, "print every message the terminal sends and receives field by field on stderr (card data masked; clearest with --jobs 1)")
	f.specFlags.add(fl)
	fl.StringVar(&f.target, "target", "", "run only the terminal steps against this host (HOST:PORT), one scenario after another on one terminal state; rules and host-side expectations are not applied")
	fl.StringVar(&f.tid, "tid", "", "terminal id (DE41) instead of the scenarios' own")
	fl.StringVar(&f.mid, "mid", "", "merchant id (DE42) instead of the scenarios' own")
	fl.StringVar(&f.state, "state", "", "with --target: keep the terminal's state here (one directory per TID) across runs; default: a temporary directory for this run")
	return cmd
}

type reportSpec struct{ kind, path string }

func parseReports(specs []string) ([]reportSpec, error) {
	var out []reportSpec
	for _, s := range specs {
		kind, path, ok := strings.Cut(s, ":")
		if !ok || path == "" {
			return nil, invalid(fmt.Errorf("--report %q: want KIND:PATH, e.g. junit:results.xml", s))
		}
		switch kind {
		case "junit", "json", "md", "html":
		default:
			return nil, invalid(fmt.Errorf("--report %q: kind %q: want junit, json, md or html", s, kind))
		}
		if err := checkWritable(path); err != nil {
			return nil, invalid(fmt.Errorf("--report %s: %w", s, err))
		}
		out = append(out, reportSpec{kind, path})
	}
	return out, nil
}

// checkWritable makes sure a report can be written to path before a run
// starts: its directory is created, and the file opened for writing.
func checkWritable(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// selectScenarios loads what the arguments and flags name.
func selectScenarios(args []string, catalog bool, tags []string) ([]*scenarios.Scenario, error) {
	var all []*scenarios.Scenario
	if catalog {
		cat, err := scenarios.Catalog()
		if err != nil {
			return nil, err
		}
		all = append(all, cat...)
	}
	var paths []string
	for _, a := range args {
		if _, err := os.Stat(a); err != nil && !strings.ContainsAny(a, "/.") {
			// not a file: a catalogue scenario by name
			s, err := scenarios.FromCatalog(a)
			if err != nil {
				return nil, invalid(err)
			}
			all = append(all, s)
			continue
		}
		paths = append(paths, a)
	}
	if len(paths) > 0 {
		loaded, err := scenarios.LoadPaths(paths)
		if err != nil {
			return nil, invalid(err)
		}
		all = append(all, loaded...)
	}
	if !catalog && len(args) == 0 {
		return nil, usageErr("name scenario files or directories, or use --catalog")
	}
	if len(tags) == 0 {
		return all, nil
	}
	var out []*scenarios.Scenario
	for _, s := range all {
		if s.HasTag(tags...) {
			out = append(out, s)
		}
	}
	return out, nil
}

// runConfig is what posim run's flags ask for, checked: the reports to
// write and the options every scenario runs with.
type runConfig struct {
	runFlags
	reports []reportSpec
	opts    scenarios.Options
}

// config checks the flags; cleanup removes what it made (a temporary
// terminal state).
func (f runFlags) config(cmd *cobra.Command) (c runConfig, cleanup func(), err error) {
	c.runFlags, cleanup = f, func() {}
	if err := checkSpeed(f.speed); err != nil {
		return c, cleanup, err
	}
	if f.jobs < 1 {
		return c, cleanup, invalid(errors.New("--jobs must be at least 1"))
	}
	if c.reports, err = parseReports(f.reports); err != nil {
		return c, cleanup, err
	}
	if f.spec != "" {
		if _, err := f.customProfile("", ""); err != nil {
			return c, cleanup, err
		}
		c.profile = wire.CustomName
	}
	if _, err := loadProfile(c.profile); err != nil {
		return c, cleanup, err
	}
	if len(f.tid) > 8 {
		return c, cleanup, invalid(fmt.Errorf("--tid %q: want at most 8 characters", f.tid))
	}
	if len(f.mid) > 15 {
		return c, cleanup, invalid(fmt.Errorf("--mid %q: want at most 15 characters", f.mid))
	}
	c.opts = scenarios.Options{Speed: f.speed, Profile: c.profile, Target: f.target, TID: f.tid, MID: f.mid}
	if f.dump {
		c.opts.Dump = &wire.SyncWriter{W: cmd.ErrOrStderr()}
	}
	if cmd.Flags().Changed("seed") {
		c.opts.Seed = &c.seed
	}
	if f.state != "" && f.target == "" {
		return c, cleanup, invalid(errors.New("--state goes with --target: without it every scenario has its own host and a fresh terminal"))
	}
	if f.target == "" {
		return c, cleanup, nil
	}
	if err := checkAddr("--target", f.target); err != nil {
		return c, cleanup, err
	}
	// one terminal, as a real host sees it: its STANs go on from one
	// scenario to the next (a host would answer a STAN it has seen 94)
	if cmd.Flags().Changed("jobs") && f.jobs > 1 {
		return c, cleanup, invalid(fmt.Errorf("--jobs %d: with --target the scenarios run one after another on one terminal state", f.jobs))
	}
	c.jobs = 1
	c.opts.StateDir = f.state
	if c.opts.StateDir == "" {
		dir, err := os.MkdirTemp("", "posim-run-")
		if err != nil {
			return c, cleanup, runtimeErr(err)
		}
		c.opts.StateDir, cleanup = dir, func() { os.RemoveAll(dir) }
	}
	return c, cleanup, nil
}

func runRun(cmd *cobra.Command, f runFlags, args []string) error {
	c, cleanup, err := f.config(cmd)
	defer cleanup()
	if err != nil {
		return err
	}
	selected, err := selectScenarios(args, c.catalog, c.tags)
	if err != nil {
		return err
	}
	run := &report.Run{Speed: c.speed, Profile: c.profile, Started: time.Now(), Seed: c.opts.Seed}
	var runnable []*scenarios.Scenario
	for _, s := range selected {
		if !s.Supports(c.profile) {
			run.Skipped = append(run.Skipped, report.Skipped{Name: s.Name, Reason: "does not run under profile " + c.profile})
			continue
		}
		runnable = append(runnable, s)
	}
	if len(runnable) == 0 {
		return invalid(fmt.Errorf("no scenario selected (tags %v, profile %s): nothing to run", c.tags, c.profile))
	}
	out := cmd.OutOrStdout()
	if c.target != "" {
		fmt.Fprintf(out, "target %s: terminal steps only, one terminal state across the run; fault rules and host-side expectations are not applied\n", c.target)
	}
	fmt.Fprintf(out, "posim run: %d scenarios, profile %s, speed %g\n", len(runnable), c.profile, c.speed)
	for _, sk := range run.Skipped {
		fmt.Fprintf(out, "skipped %s: %s\n", sk.Name, sk.Reason)
	}
	run.Results = c.play(cmd, runnable, out)
	passed, failed := run.Counts()
	fmt.Fprintf(out, "\n%d passed, %d failed\n", passed, failed)
	for _, rep := range c.reports {
		if err := writeReport(rep, run); err != nil {
			return runtimeErr(err)
		}
	}
	if cmd.Context().Err() != nil {
		return runtimeErr(cmd.Context().Err())
	}
	for _, r := range run.Results {
		if r.Error != "" {
			return &exitError{code: exitRuntime, err: fmt.Errorf("%s: %s", r.Name, r.Error), silent: true}
		}
	}
	if failed > 0 {
		return &exitError{code: exitExpected, err: fmt.Errorf("%d scenarios failed", failed), silent: true}
	}
	return nil
}

// play runs the scenarios, --jobs at once, and prints each result in
// input order as it arrives.
func (c runConfig) play(cmd *cobra.Command, runnable []*scenarios.Scenario, out io.Writer) []*scenarios.Result {
	color := isTerminal(out)
	results := make([]*scenarios.Result, len(runnable))
	done := make([]chan struct{}, len(runnable))
	for i := range done {
		done[i] = make(chan struct{})
	}
	sem := make(chan struct{}, c.jobs)
	var wg sync.WaitGroup
	for i, s := range runnable {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = scenarios.Run(cmd.Context(), s, c.opts)
			close(done[i])
		}()
	}
	for i := range runnable {
		if color {
			// a progress line on a terminal, overwritten by the result
			fmt.Fprintf(out, "\r\x1b[K[%d/%d] %s ...", i+1, len(runnable), runnable[i].Name)
		}
		<-done[i]
		if color {
			fmt.Fprint(out, "\r\x1b[K")
		}
		printScenario(out, results[i], color, c.verbose)
	}
	wg.Wait()
	return results
}

func printScenario(w io.Writer, r *scenarios.Result, color, verbose bool) {
	mark, on, off := "PASS", "", ""
	switch {
	case r.Error != "":
		mark = "ERROR"
	case !r.Passed:
		mark = "FAIL"
	}
	if color {
		on, off = "\x1b[32m", "\x1b[0m"
		if mark != "PASS" {
			on = "\x1b[31m"
		}
	}
	fmt.Fprintf(w, "%s%-5s%s %-34s %6.2fs  seed %-6d %s\n", on, mark, off, r.Name, r.Duration.Seconds(), r.Seed, r.Title.EN)
	if r.Error != "" {
		fmt.Fprintf(w, "      error: %s\n", r.Error)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "      ✗ %s\n", f.String())
	}
	if verbose || !r.Passed {
		for _, line := range strings.Split(strings.TrimRight(report.Timeline(r, color), "\n"), "\n") {
			fmt.Fprintf(w, "      %s\n", line)
		}
	}
}

func writeReport(rep reportSpec, run *report.Run) error { return writeReportLang(rep, run, "en") }

// writeReportLang writes a report; lang picks the HTML page's language.
func writeReportLang(rep reportSpec, run *report.Run, lang string) error {
	f, err := os.Create(rep.path)
	if err != nil {
		return fmt.Errorf("writing %s report: %w", rep.kind, err)
	}
	switch rep.kind {
	case "junit":
		err = report.JUnit(f, run)
	case "json":
		err = report.JSON(f, run)
	case "md":
		err = report.Markdown(f, run)
	case "html":
		err = report.HTML(f, run, lang)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s report %s: %w", rep.kind, rep.path, err)
	}
	return nil
}

// isTerminal reports whether w is a character device (a TTY).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
