// Package demo plays scenarios at a trainer's pace and serves the live
// ladder page on 127.0.0.1: every message, fault, timeout and reversal as it
// happens, the terminal's screen, the ledger before and after, in English or
// Chinese, with play/pause, next step, restart and speed controls. The page
// is embedded and needs no network.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/scenarios"
	"github.com/posim/posim/scenarios/report"
	"github.com/posim/posim/wire"
)

// Options configure a demo.
type Options struct {
	// Scenarios to play, in order.
	Scenarios []*scenarios.Scenario
	// Lang is en or zh.
	Lang string
	// Speed divides every scenario duration and the pause between steps.
	Speed float64
	// StepPause is the pause before each step at speed 1 (default 3s), so
	// that an audience can follow.
	StepPause time.Duration
	// Out receives the narration (may be nil).
	Out io.Writer
	// Profile is the dialect (default iso87).
	Profile string
}

// Server plays the scenarios and serves the live page. Its methods are safe
// for concurrent use.
type Server struct {
	opts Options

	mu       sync.Mutex
	speed    float64
	paused   bool
	step     chan struct{} // one step while paused
	resume   chan struct{} // closed on play
	restart  chan struct{}
	again    chan int // after the run: one scenario to play again
	current  int
	done     bool
	results  []report.PageScenario
	subs     map[chan struct{}]struct{}
	srv      *http.Server
	ln       net.Listener
	finished []*scenarios.Result
}

// New returns a demo server.
func New(o Options) *Server {
	if o.Speed <= 0 {
		o.Speed = 1
	}
	if o.StepPause == 0 {
		o.StepPause = 3 * time.Second
	}
	if o.Lang == "" {
		o.Lang = "en"
	}
	if o.Profile == "" {
		o.Profile = wire.Default.Name()
	}
	s := &Server{opts: o, speed: o.Speed, step: make(chan struct{}, 1), resume: make(chan struct{}), restart: make(chan struct{}, 1), again: make(chan int, 1), subs: map[chan struct{}]struct{}{}}
	s.reset()
	return s
}

func (s *Server) reset() {
	s.mu.Lock()
	s.results = make([]report.PageScenario, len(s.opts.Scenarios))
	for i, sc := range s.opts.Scenarios {
		s.results[i] = report.PageScenario{Result: &scenarios.Result{Name: sc.Name, Title: sc.Title, Story: sc.Story, Events: []scenarios.Event{}}}
	}
	s.current, s.done, s.finished = 0, false, nil
	s.mu.Unlock()
	s.notify()
}

// Listen starts serving the page on addr (e.g. 127.0.0.1:8080) and returns
// its URL.
func (s *Server) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("serving the demo page: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /api/run", s.state)
	mux.HandleFunc("GET /api/events", s.events)
	mux.HandleFunc("POST /api/control", s.control)
	s.mu.Lock()
	s.ln = ln
	// the page's controls must not be driven by another site's form
	guarded := acquirer.Guard(mux, acquirer.GuardConfig{Addr: ln.Addr().String()})
	s.srv = &http.Server{Handler: guarded, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Unlock()
	go func() { _ = s.srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/", nil
}

// Close stops serving.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.srv
	for ch := range s.subs {
		close(ch)
		delete(s.subs, ch)
	}
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

// notify tells every page that something changed.
func (s *Server) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (s *Server) data() report.PageData {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := report.PageData{Live: true, Lang: s.opts.Lang, Speed: s.speed, Current: s.current, Paused: s.paused, Done: s.done}
	for _, r := range s.results {
		cp := *r.Result
		cp.Events = append([]scenarios.Event(nil), r.Events...)
		d.Scenarios = append(d.Scenarios, report.PageScenario{Result: &cp, Running: r.Running, Passed: r.Passed})
	}
	return d
}

func (s *Server) page(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = report.Page(w, s.data())
}

func (s *Server) state(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	d := s.data()
	d.Codes = nil // the page has them already
	_ = json.NewEncoder(w).Encode(d)
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprint(w, "data: hello\n\n")
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case _, ok := <-ch:
			if !ok {
				return
			}
			fmt.Fprint(w, "data: changed\n\n")
			fl.Flush()
		}
	}
}

type controlRequest struct {
	Action string  `json:"action"`
	Value  float64 `json:"value"`
}

func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	var c controlRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&c); err != nil {
		http.Error(w, "want {\"action\": \"play|pause|next|restart|speed\"}", http.StatusBadRequest)
		return
	}
	if err := s.Control(c.Action, c.Value); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Control applies a trainer's control: play, pause, next, restart or speed.
func (s *Server) Control(action string, value float64) error {
	s.mu.Lock()
	switch action {
	case "play":
		if s.paused {
			s.paused = false
			close(s.resume)
		}
	case "pause":
		if !s.paused {
			s.paused = true
			s.resume = make(chan struct{})
		}
	case "next":
		select {
		case s.step <- struct{}{}:
		default:
		}
	case "restart":
		select {
		case s.restart <- struct{}{}:
		default:
		}
	case "again":
		i := int(value)
		if i < 0 || i >= len(s.opts.Scenarios) || float64(i) != value {
			s.mu.Unlock()
			return fmt.Errorf("again: scenario %v: want 0 to %d", value, len(s.opts.Scenarios)-1)
		}
		select {
		case s.again <- i:
		default:
		}
	case "speed":
		if value <= 0 || value > 1000 {
			s.mu.Unlock()
			return errors.New("speed must be between 0 and 1000")
		}
		s.speed = value
	default:
		s.mu.Unlock()
		return fmt.Errorf("unknown action %q", action)
	}
	s.mu.Unlock()
	s.notify()
	return nil
}

// gate paces the steps: a pause an audience can follow, and the trainer's
// pause and next-step controls.
func (s *Server) gate(ctx context.Context, _ int) error {
	s.mu.Lock()
	pause := time.Duration(float64(s.opts.StepPause) / s.speed)
	s.mu.Unlock()
	t := time.NewTimer(pause)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.step:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		s.mu.Lock()
		paused, resume := s.paused, s.resume
		s.mu.Unlock()
		if !paused {
			return nil
		}
		select {
		case <-resume:
		case <-s.step:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Play plays every scenario once, in order, and returns the run. A restart
// from the page starts over; ctx ends it.
func (s *Server) Play(ctx context.Context) *report.Run {
	for {
		run, restarted := s.playOnce(ctx, nil)
		if !restarted {
			return run
		}
		s.reset()
	}
}

// Encore serves the page's requests after the run until ctx ends: restart
// plays everything again, "play this scenario again" that one scenario.
// It returns the last run.
func (s *Server) Encore(ctx context.Context, last *report.Run) *report.Run {
	for {
		select {
		case <-ctx.Done():
			return last
		case <-s.restart:
			s.reset()
			last = s.Play(ctx)
		case i := <-s.again:
			s.mu.Lock()
			s.results[i] = report.PageScenario{Result: &scenarios.Result{Name: s.opts.Scenarios[i].Name, Title: s.opts.Scenarios[i].Title,
				Story: s.opts.Scenarios[i].Story, Events: []scenarios.Event{}}}
			s.done = false
			s.mu.Unlock()
			s.notify()
			s.playOnce(ctx, []int{i})
		}
	}
}

// playOnce plays the scenarios at the indexes only (nil: all).
func (s *Server) playOnce(parent context.Context, only []int) (*report.Run, bool) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	restarted := make(chan struct{})
	go func() {
		select {
		case <-s.restart:
			close(restarted)
			cancel()
		case <-ctx.Done():
		}
	}()
	run := &report.Run{Speed: s.speed, Profile: s.opts.Profile, Started: time.Now()}
	for i, sc := range s.opts.Scenarios {
		if only != nil && !slices.Contains(only, i) {
			continue
		}
		s.mu.Lock()
		s.current = i
		s.results[i].Running = true
		speed := s.speed
		s.mu.Unlock()
		s.notify()
		s.narrate("\n== %s\n%s\n", sc.Title.In(s.opts.Lang), sc.Story.In(s.opts.Lang))
		res := scenarios.Run(ctx, sc, scenarios.Options{
			Speed:   speed,
			Profile: s.opts.Profile,
			Gate:    s.gate,
			OnStart: func(before []acquirer.AccountView) { s.started(i, before) },
			OnEvent: func(e scenarios.Event) { s.event(i, e) },
		})
		select {
		case <-restarted:
			return nil, true
		default:
		}
		if ctx.Err() != nil {
			// stopped (Ctrl-C): the scenario did not fail, it was cut short
			break
		}
		passed := res.Passed
		s.mu.Lock()
		s.results[i] = report.PageScenario{Result: res, Passed: &passed}
		s.mu.Unlock()
		s.notify()
		run.Results = append(run.Results, res)
		verdict := words[s.opts.Lang].passed
		if !passed {
			verdict = words[s.opts.Lang].failed
		}
		s.narrate("-> %s\n", verdict)
		if ctx.Err() != nil {
			break
		}
	}
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	s.notify()
	return run, false
}

func (s *Server) started(i int, before []acquirer.AccountView) {
	s.mu.Lock()
	s.results[i].Before = before
	s.mu.Unlock()
}

func (s *Server) event(i int, e scenarios.Event) {
	s.mu.Lock()
	s.results[i].Events = append(s.results[i].Events, e)
	s.mu.Unlock()
	s.notify()
	w := words[s.opts.Lang]
	switch {
	case e.Source == "terminal" && e.Kind == "step":
		what := scenarios.StepLabel(e.Op, s.opts.Lang)
		if e.Amount != "" {
			what += " " + e.Amount
		}
		if e.Card != "" {
			what += " " + w.card + " " + e.Card
		}
		s.narrate("  %s %d: %s\n", w.step, e.Step, what)
	case e.Source == "terminal" && e.Kind == "result":
		disp := e.Display
		if s.opts.Lang == "zh" {
			disp = e.DisplayZH
		}
		s.narrate("    %s%s\n", w.shows, disp)
		if e.Pending {
			s.narrate("    %s\n", w.pending)
		}
	case e.Kind == "fault":
		s.narrate("    %s%s\n", w.fault, e.Detail)
	case e.Kind == "in":
		s.narrate("    → %s %s\n", e.MTI, e.STAN)
	case e.Kind == "out":
		s.narrate("    ← %s %s %s %s\n", e.MTI, e.STAN, e.RC, wire.Meaning(e.RC, s.opts.Lang))
	}
}

type vocabulary struct {
	step, card, shows, pending, fault, passed, failed string
}

// words are the narration's words in each language; steps are named by
// scenarios.StepLabel.
var words = map[string]vocabulary{
	"en": {step: "step", card: "card", shows: "terminal shows: ", pending: "reversal record pending", fault: "fault: ", passed: "passed", failed: "FAILED"},
	"zh": {step: "步骤", card: "卡", shows: "终端显示：", pending: "终端保存了冲正记录", fault: "故障：", passed: "通过", failed: "失败"},
}

func (s *Server) narrate(format string, a ...any) {
	if s.opts.Out != nil {
		fmt.Fprintf(s.opts.Out, format, a...)
	}
}
