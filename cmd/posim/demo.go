package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"time"

	"github.com/posim/posim/demo"
	"github.com/posim/posim/scenarios"
	"github.com/posim/posim/wire"
	"github.com/spf13/cobra"
)

type demoFlags struct {
	lang, ui, profile    string
	speed                float64
	noBrowser, stay, all bool
	present              bool
	reports              []string
}

// demoStory is what posim demo plays without names: about a minute at the
// default pace, the four lessons a training room starts with.
var demoStory = []string{
	"baseline-sale",                           // an approval
	"lost-response-reversal",                  // a lost response and its reversal
	"duplicate-after-lost-approval-94",        // a duplicate answered 94
	"first-settlement-fee-anomaly-wrong-rate", // a fee anomaly in the first payout
}

func newDemoCmd() *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo [SCENARIO...]",
		Short: "Play failures step by step with a live ladder diagram in the browser",
		Long: `Start acquirer and terminal in this process and play a short story (an approval, a lost
response and its reversal, a duplicate answered 94, a fee anomaly: about a minute), the
whole catalogue (--all) or the scenarios named (catalogue names or files) step by step at a
trainer's pace, with a live page on 127.0.0.1: the messages as a ladder diagram, faults
where they fire, timeouts and reversals, what the terminal screen shows, the ledger before
and after, the story. The page has play/pause, next step, restart and speed controls, and
needs no network.

The page opens in the default browser when one can be started; otherwise its address is
printed. When a browser opened the page, it stays up after the last scenario until Ctrl-C;
otherwise the demo exits when done (--stay keeps serving). Ctrl-C ends it with exit 0.`,
		Example: `  posim demo
  posim demo --all
  posim demo --lang zh lost-response-reversal duplicate-after-lost-approval-94
  posim demo --no-browser --speed 50 --report html:demo.html lost-response-reversal`,
		RunE: func(cmd *cobra.Command, args []string) error { return runDemo(cmd, f, args) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.lang, "lang", "en", "language of titles, narration, terminal screens and response codes: en or zh")
	fl.Float64Var(&f.speed, "speed", 4, "divide every duration (and the pause between steps) by this")
	fl.StringVar(&f.profile, "profile", wire.Default.Name(), dialects())
	fl.StringVar(&f.ui, "ui", "127.0.0.1:8080", "address of the live page")
	fl.BoolVar(&f.noBrowser, "no-browser", false, "print the page's URL instead of opening a browser, and exit when done")
	fl.BoolVar(&f.stay, "stay", false, "keep serving the page after the last scenario")
	fl.BoolVar(&f.all, "all", false, "play the whole catalogue instead of the short story")
	fl.BoolVar(&f.present, "present", false, "projector mode: large text, the ladder full width, keyboard shortcuts (space next, p pause, r restart, ←/→ scenarios, +/- zoom)")
	fl.StringArrayVar(&f.reports, "report", nil, "write a report when done: html:PATH, md:PATH, json:PATH or junit:PATH")
	return cmd
}

func runDemo(cmd *cobra.Command, f demoFlags, args []string) error {
	if f.lang != "en" && f.lang != "zh" {
		return invalid(fmt.Errorf("--lang %q: want en or zh", f.lang))
	}
	if err := checkSpeed(f.speed); err != nil {
		return err
	}
	reps, err := parseReports(f.reports)
	if err != nil {
		return err
	}
	if _, err := loadProfile(f.profile); err != nil {
		return err
	}
	list, err := f.scenarios(args)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	srv := demo.New(demo.Options{Scenarios: list, Lang: f.lang, Speed: f.speed, Out: out, Profile: f.profile})
	url, err := srv.Listen(f.ui)
	if err != nil {
		return runtimeErr(err)
	}
	if f.present {
		url += "?present=1"
	}
	defer srv.Close()
	opened := false
	if !f.noBrowser {
		opened = openBrowser(cmd.Context(), url)
	}
	if opened {
		fmt.Fprintf(out, "posim demo: the live page is open in your browser (%s); Ctrl-C stops it\n", url)
	} else {
		if !f.noBrowser {
			fmt.Fprintln(out, "posim demo: no browser could be started here (no display?)")
		}
		fmt.Fprintf(out, "posim demo: open %s to watch (play/pause, next step, restart, speed)\n", url)
	}
	run := srv.Play(cmd.Context())
	for _, rep := range reps {
		if err := writeReportLang(rep, run, f.lang); err != nil {
			return runtimeErr(err)
		}
		fmt.Fprintf(out, "wrote %s report %s\n", rep.kind, rep.path)
	}
	if cmd.Context().Err() != nil {
		return nil // Ctrl-C: the trainer is done
	}
	passed, failed := run.Counts()
	fmt.Fprintf(out, "\n%d passed, %d failed\n", passed, failed)
	if f.stay || opened {
		fmt.Fprintf(out, "the page stays up at %s (restart, or play a scenario again, from the page); Ctrl-C stops it\n", url)
		srv.Encore(cmd.Context(), run)
		return nil
	}
	if failed > 0 {
		return &exitError{code: exitExpected, err: fmt.Errorf("%d scenarios failed", failed), silent: true}
	}
	return nil
}

// scenarios are what the demo plays: those named, the whole catalogue
// (--all, the control and the best-known failure first), or the short
// story, as much of it as runs under the profile.
func (f demoFlags) scenarios(args []string) ([]*scenarios.Scenario, error) {
	var list []*scenarios.Scenario
	if f.all && len(args) > 0 {
		return nil, usageErr("--all plays the whole catalogue: name scenarios or give --all, not both")
	}
	story := len(args) == 0 && !f.all
	if story {
		args = demoStory
	}
	if len(args) == 0 {
		all, err := scenarios.Catalog()
		if err != nil {
			return nil, err
		}
		for _, s := range all {
			if s.Supports(f.profile) {
				list = append(list, s)
			}
		}
		// the control first, then the best-known failure, then the rest
		first := map[string]int{"baseline-sale": 0, "lost-response-reversal": 1}
		sort.SliceStable(list, func(i, j int) bool {
			pi, iok := first[list[i].Name]
			pj, jok := first[list[j].Name]
			return iok && (!jok || pi < pj)
		})
	}
	for _, a := range args {
		s, err := loadScenario(a)
		if err != nil {
			return nil, invalid(err)
		}
		if story && !s.Supports(f.profile) {
			continue // the story under another dialect: what it has of it
		}
		if !s.Supports(f.profile) {
			return nil, invalid(fmt.Errorf("scenario %s does not run under profile %s (it lists %v)", s.Name, f.profile, s.Profiles))
		}
		list = append(list, s)
	}
	return list, nil
}

// openBrowser opens url in the default browser and reports whether it
// could: on Linux and the BSDs only with a display, and only when the
// opener says it succeeded (xdg-open exits non-zero when it finds no
// browser).
func openBrowser(ctx context.Context, url string) bool {
	name := "xdg-open"
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name = "rundll32"
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return false
		}
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return false
	}
	args := []string{url}
	if runtime.GOOS == "windows" {
		args = []string{"url.dll,FileProtocolHandler", url}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, path, args...).Run() == nil
}
