package main

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"sort"

	"github.com/posim/posim/demo"
	"github.com/posim/posim/scenarios"
	"github.com/spf13/cobra"
)

type demoFlags struct {
	lang, ui, profile string
	speed             float64
	noBrowser, stay   bool
	reports           []string
}

func newDemoCmd() *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo [SCENARIO...]",
		Short: "Play failures step by step with a live ladder diagram in the browser",
		Long: `Start acquirer and terminal in this process and play the failure catalogue (or the
scenarios named: catalogue names or files) step by step at a trainer's pace, with a live
page on 127.0.0.1: the messages as a ladder diagram, faults where they fire, timeouts and
reversals, what the terminal screen shows, the ledger before and after, the story.
The page has play/pause, next step, restart and speed controls, and needs no network.

The page opens in the default browser when there is one. With --no-browser the URL is
printed and the demo exits once every scenario has played (--stay keeps serving);
otherwise it serves until Ctrl-C.`,
		Example: `  posim demo
  posim demo --lang zh lost-response-reversal duplicate-after-lost-approval-94
  posim demo --no-browser --speed 50 --report html:demo.html lost-response-reversal`,
		RunE: func(cmd *cobra.Command, args []string) error { return runDemo(cmd, f, args) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.lang, "lang", "en", "language of titles, narration, terminal screens and response codes: en or zh")
	fl.Float64Var(&f.speed, "speed", 4, "divide every duration (and the pause between steps) by this")
	fl.StringVar(&f.profile, "profile", "iso87", "dialect: iso87 or cup")
	fl.StringVar(&f.ui, "ui", "127.0.0.1:8080", "address of the live page")
	fl.BoolVar(&f.noBrowser, "no-browser", false, "print the page's URL instead of opening a browser, and exit when done")
	fl.BoolVar(&f.stay, "stay", false, "keep serving the page after the last scenario")
	fl.StringArrayVar(&f.reports, "report", nil, "write a report when done: html:PATH, md:PATH, json:PATH or junit:PATH")
	return cmd
}

func runDemo(cmd *cobra.Command, f demoFlags, args []string) error {
	if f.lang != "en" && f.lang != "zh" {
		return invalid(fmt.Errorf("--lang %q: want en or zh", f.lang))
	}
	if f.speed <= 0 {
		return invalid(errors.New("--speed must be positive"))
	}
	reps, err := parseReports(f.reports)
	if err != nil {
		return err
	}
	if _, err := loadProfile(f.profile); err != nil {
		return err
	}
	var list []*scenarios.Scenario
	if len(args) == 0 {
		all, err := scenarios.Catalog()
		if err != nil {
			return err
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
			return invalid(err)
		}
		if !s.Supports(f.profile) {
			return invalid(fmt.Errorf("scenario %s does not run under profile %s (it lists %v)", s.Name, f.profile, s.Profiles))
		}
		list = append(list, s)
	}
	out := cmd.OutOrStdout()
	srv := demo.New(demo.Options{Scenarios: list, Lang: f.lang, Speed: f.speed, Out: out, Profile: f.profile})
	url, err := srv.Listen(f.ui)
	if err != nil {
		return runtimeErr(err)
	}
	defer srv.Close()
	opened := false
	if !f.noBrowser {
		opened = openBrowser(url)
	}
	if opened {
		fmt.Fprintf(out, "posim demo: the live page is open in your browser (%s); Ctrl-C stops it\n", url)
	} else {
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
	if f.stay || !f.noBrowser {
		fmt.Fprintf(out, "the page stays up at %s; Ctrl-C stops it\n", url)
		<-cmd.Context().Done()
	}
	if failed > 0 {
		return &exitError{code: exitExpected, err: fmt.Errorf("%d scenarios failed", failed), silent: true}
	}
	return nil
}

// openBrowser opens url in the default browser when there is one.
func openBrowser(url string) bool {
	name := "xdg-open"
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name = "rundll32"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return false
	}
	args := []string{url}
	if runtime.GOOS == "windows" {
		args = []string{"url.dll,FileProtocolHandler", url}
	}
	return exec.Command(path, args...).Start() == nil
}
