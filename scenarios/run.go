package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
)

// Epoch is where scenario time starts: a fixed instant, so that runs are
// repeatable. advance steps move the clock forward from it.
var Epoch = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// Options tune a run.
type Options struct {
	// Seed overrides the scenario's seed when set.
	Seed *int64
	// Speed divides every duration; 0 means 1 (real time).
	Speed float64
	// Profile is the dialect; default iso87.
	Profile string
	// Logger receives the acquirer's and terminal's message lines.
	Logger *slog.Logger
	// Dump, when set, receives every message the terminal sends and
	// receives, field by field (card data masked).
	Dump io.Writer
	// OnEvent, when set, sees every event as it happens (the live page).
	OnEvent func(Event)
	// OnStart, when set, is called once the ledger is seeded, with the
	// balances before the first step.
	OnStart func(before []acquirer.AccountView)
	// Gate, when set, is called before each step (1-based) and may block:
	// the trainer's pause and next-step controls.
	Gate func(ctx context.Context, step int) error
	// Target, when set, runs only the terminal steps against that host
	// (someone else's acquirer): rules are not applied and only the
	// terminal's expectations are checked.
	Target string
	// Host, when set, is the acquirer the steps run against instead of one
	// the run builds: a scenario's host built elsewhere (posimtest, a Go
	// test) with its journal an *acquirer.MemJournal. The run neither
	// listens nor closes it. It should be built from the same scenario
	// with Epoch set to scenarios.Epoch, so that dates match.
	Host *Host
	// StateDir keeps the terminal's state, one directory per TID below
	// it; runs that share it carry the terminal's STANs, batch, sign-on
	// and pending reversal from one scenario to the next, as one real
	// terminal would (what a real host needs: its duplicate check would
	// otherwise answer 94 to STANs it has seen). Empty: a fresh state per
	// scenario.
	StateDir string
	// TID and MID, when set, replace the scenario's terminal identity.
	TID, MID string
}

// Event is one thing that happened during a run: a message in or out of
// the acquirer, a decision, a fault, a terminal step and its result. The
// reports are all rendered from the same events.
type Event struct {
	Seq    int    `json:"seq"`
	AtMS   int64  `json:"at_ms"` // scenario time since the start
	Step   int    `json:"step"`  // 1-based; 0 before the first step
	Source string `json:"source"`
	Kind   string `json:"kind"`
	MTI    string `json:"mti,omitempty"`
	STAN   string `json:"stan,omitempty"`
	RC     string `json:"rc,omitempty"`
	PAN    string `json:"pan,omitempty"` // masked
	Amount string `json:"amount,omitempty"`
	MAC    bool   `json:"mac,omitempty"` // the message carried DE64 (a MAC)
	Detail string `json:"detail,omitempty"`
	// terminal events
	Op        string `json:"op,omitempty"`
	Card      string `json:"card,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
	Display   string `json:"display,omitempty"`
	DisplayZH string `json:"display_zh,omitempty"`
	Pending   bool   `json:"reversal_pending,omitempty"`
	// Receipt and ReceiptZH are the transaction's receipt as the terminal
	// prints it, in English and Chinese (result events of transactions).
	Receipt   string `json:"receipt,omitempty"`
	ReceiptZH string `json:"receipt_zh,omitempty"`
	// Balances (kind "balance", after a step that moved money): each card
	// whose balance changed, before and after the step.
	Balances []BalanceChange `json:"balances,omitempty"`
}

// BalanceChange is one card's balance before and after a step.
type BalanceChange struct {
	Card   string `json:"card"` // alias, or the masked PAN
	Before string `json:"before"`
	After  string `json:"after"`
}

// StepResult is what one step did.
type StepResult struct {
	Index           int    `json:"index"`
	Op              string `json:"op"`
	Line            int    `json:"line"`
	Outcome         string `json:"outcome,omitempty"`
	ResponseCode    string `json:"response_code,omitempty"`
	Meaning         string `json:"meaning,omitempty"`
	Display         string `json:"display,omitempty"`
	DisplayZH       string `json:"display_zh,omitempty"`
	STAN            string `json:"stan,omitempty"`
	RRN             string `json:"rrn,omitempty"`
	Amount          string `json:"amount,omitempty"`
	PAN             string `json:"pan,omitempty"`
	ReversalPending bool   `json:"reversal_pending,omitempty"`
	ReversalsSent   int    `json:"reversals_sent,omitempty"`
	Detail          string `json:"detail,omitempty"`

	res *terminal.Result
}

// Failure is one broken expectation.
type Failure struct {
	Scenario string `json:"scenario"`
	Step     int    `json:"step"` // 0: the end state
	Op       string `json:"op,omitempty"`
	Line     int    `json:"line,omitempty"`
	What     string `json:"what"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
}

func (f Failure) String() string {
	where := "end state"
	if f.Step > 0 {
		where = fmt.Sprintf("step %d (%s, line %d)", f.Step, f.Op, f.Line)
	}
	return fmt.Sprintf("%s: %s: %s: expected %s, got %s", f.Scenario, where, f.What, f.Expected, f.Actual)
}

// Result is the outcome of one scenario run.
type Result struct {
	Name     string                 `json:"name"`
	Title    Text                   `json:"title"`
	Story    Text                   `json:"story"`
	File     string                 `json:"file"`
	Tags     []string               `json:"tags,omitempty"`
	Seed     int64                  `json:"seed"`
	Speed    float64                `json:"speed"`
	Profile  string                 `json:"profile"`
	Passed   bool                   `json:"passed"`
	Error    string                 `json:"error,omitempty"`
	Duration time.Duration          `json:"duration_ns"`
	Failures []Failure              `json:"failures,omitempty"`
	Steps    []StepResult           `json:"steps"`
	Events   []Event                `json:"events"`
	Before   []acquirer.AccountView `json:"balances_before"`
	After    []acquirer.AccountView `json:"balances_after"`
}

// run is the state of one scenario run.
type run struct {
	s       *Scenario
	opts    Options
	speed   float64
	start   time.Time
	host    *Host // the scenario's acquirer (with Target: its clock and books only)
	own     bool  // the run built host and closes it
	book    *cards.Book
	engine  *acquirer.Engine
	journal *acquirer.MemJournal
	profile wire.Profile
	term    *terminal.Terminal
	tcfg    terminal.Config
	tmpDir  string // the terminal's state, removed at the end; "" when kept
	// others are the terminals a step's tid: names under a dialect with
	// working keys (see termFor), by TID
	others map[string]*terminal.Terminal
	res    *Result
	step   atomic.Int64
	// where the terminal's state stood when the scenario began (a state
	// carried over from an earlier scenario, a sign-on made for it)
	logAtStart, batchAtStart int
	// stanBase is the terminal's STAN counter when the scenario's steps
	// began: the STANs a scenario names count from it (stan: 1 is the
	// first trace number its steps used)
	stanBase int

	evMu   sync.Mutex
	timers []*time.Timer
}

func (r *run) elapsed() time.Duration { return r.host.Elapsed() }

func (r *run) now() time.Time { return r.host.Now() }

func (r *run) scale(d time.Duration) time.Duration { return time.Duration(float64(d) / r.speed) }

func (r *run) acquirer() *acquirer.Acquirer { return r.host.Acquirer() }

func (r *run) after(d time.Duration, fn func()) {
	r.evMu.Lock()
	defer r.evMu.Unlock()
	r.timers = append(r.timers, time.AfterFunc(d, fn))
}

// balanceEvent journals the cards whose balance the step moved (a
// trainer's whole lesson is the debit at the step where it happens) and
// returns the balances now.
func (r *run) balanceEvent(step int, before []acquirer.AccountView) []acquirer.AccountView {
	if r.opts.Target != "" {
		return before // the host's ledger is not ours to read
	}
	now := r.engine.Snapshot().Accounts
	was := map[string]int64{}
	for _, a := range before {
		was[a.PAN] = int64(a.Balance)
	}
	var changes []BalanceChange
	for _, a := range now {
		b, ok := was[a.PAN]
		if !ok || b == int64(a.Balance) {
			continue
		}
		name := a.Alias
		if name == "" {
			name = a.PAN
		}
		changes = append(changes, BalanceChange{Card: name, Before: wire.FormatAmount(b), After: wire.FormatAmount(int64(a.Balance))})
	}
	if len(changes) > 0 {
		r.event(Event{Step: step, Source: "acquirer", Kind: "balance", Balances: changes})
	}
	return now
}

func (r *run) event(e Event) {
	r.evMu.Lock()
	defer r.evMu.Unlock()
	e.Seq = len(r.res.Events) + 1
	if e.Step == 0 {
		e.Step = int(r.step.Load())
	}
	if e.Source == "terminal" {
		e.AtMS = r.elapsed().Milliseconds()
	}
	r.res.Events = append(r.res.Events, e)
	if r.opts.OnEvent != nil {
		r.opts.OnEvent(e)
	}
}

// Run plays one scenario: an acquirer with the scenario's rules on
// 127.0.0.1:0, the emulated terminal driven through the steps, then the
// expectations checked. It never panics on a bad scenario; problems are in
// Result.Error and Result.Failures.
func Run(ctx context.Context, s *Scenario, o Options) *Result {
	seed := s.Seed
	if o.Seed != nil {
		seed = *o.Seed
	}
	if o.Speed <= 0 {
		o.Speed = 1
	}
	if o.Profile == "" {
		o.Profile = wire.Default.Name()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &run{s: s, opts: o, speed: o.Speed, start: time.Now(),
		res: &Result{Name: s.Name, Title: s.Title, Story: s.Story, File: s.File, Tags: s.Tags, Seed: seed, Speed: o.Speed, Profile: o.Profile, Steps: []StepResult{}, Events: []Event{}}}
	err := r.play(ctx, seed)
	r.res.Duration = time.Since(r.start)
	if err != nil {
		r.res.Error = err.Error()
	}
	r.res.Passed = err == nil && len(r.res.Failures) == 0
	return r.res
}

func (r *run) play(ctx context.Context, seed int64) (err error) {
	p, err := wire.ProfileByName(r.opts.Profile)
	if err != nil {
		return err
	}
	r.profile = p
	if !r.s.Supports(p.Name()) {
		return fmt.Errorf("scenario %s does not support profile %s", r.s.Name, p.Name())
	}
	if err := r.setup(seed); err != nil {
		return err
	}
	defer r.teardown()
	r.signOnFirst(ctx)
	r.res.Before = r.engine.Snapshot().Accounts
	if r.opts.OnStart != nil {
		r.opts.OnStart(r.res.Before)
	}
	balances := r.res.Before
	for i, st := range r.s.Steps {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !forProfile(st.Profiles, r.profile.Name()) {
			r.res.Steps = append(r.res.Steps, StepResult{Index: i + 1, Op: st.Op, Line: st.Line, Detail: "not under profile " + r.profile.Name()})
			continue
		}
		if r.opts.Gate != nil {
			if err := r.opts.Gate(ctx, i+1); err != nil {
				return err
			}
		}
		r.step.Store(int64(i + 1))
		n := max(st.Repeat, 1)
		var sr StepResult
		for k := 0; k < n; k++ {
			if ctx.Err() != nil {
				return ctx.Err() // a repeat stops as soon as the run is asked to
			}
			if sr, err = r.do(ctx, i, st); err != nil {
				return fmt.Errorf("step %d (%s, line %d): %w", i+1, st.Op, st.Line, err)
			}
		}
		r.engine.Advance(r.now()) // cut-overs due by now run, messages or not
		balances = r.balanceEvent(i+1, balances)
		r.res.Steps = append(r.res.Steps, sr)
		if st.Expect != nil {
			r.checkStep(i, st, sr)
		}
	}
	r.step.Store(int64(len(r.s.Steps) + 1))
	r.res.After = r.engine.Snapshot().Accounts
	r.checkEnd()
	return nil
}

func (r *run) setup(seed int64) error {
	if err := r.setupHost(seed); err != nil {
		return err
	}
	r.book, r.engine = r.host.Book, r.host.Engine()
	ts := r.s.Setup.Terminal
	cfg := terminal.DefaultConfig()
	cfg.Host, cfg.Profile, cfg.Cards, cfg.Clock = r.opts.Target, r.profile, r.book, r.now
	if r.opts.Target == "" {
		cfg.Host = r.host.Addr()
	}
	cfg.Logger = r.opts.Logger
	for _, tid := range []string{ts.TID, r.opts.TID} {
		if tid != "" {
			cfg.TID = tid
		}
	}
	for _, mid := range []string{ts.MID, r.opts.MID} {
		if mid != "" {
			cfg.MID = mid
		}
	}
	for _, m := range r.book.Merchants {
		if m.MID == cfg.MID && m.Name != "" {
			cfg.MerchantName = m.Name // printed on receipts
		}
	}
	dir, err := r.stateDir(cfg.TID)
	if err != nil {
		return err
	}
	cfg.StateDir = dir
	if r.opts.StateDir == "" {
		r.tmpDir = dir
	}
	if ts.Timeout != nil {
		cfg.Timeout = ts.Timeout.D()
	}
	if ts.ConnectTimeout != nil {
		cfg.ConnectTimeout = ts.ConnectTimeout.D()
	}
	cfg.Timeout = r.scale(cfg.Timeout)
	// a loaded machine (CI, the race detector) may take a while to connect
	// even on loopback: never less than a second
	cfg.ConnectTimeout = max(r.scale(cfg.ConnectTimeout), time.Second)
	if ts.Reversal.Retries != nil {
		cfg.ReversalRetries = *ts.Reversal.Retries
	}
	if ts.Reversal.WhenExhausted != "" {
		cfg.WhenExhausted = ts.Reversal.WhenExhausted
	}
	cfg.ImmediateReversal = ts.Reversal.Immediate
	cfg.Retransmits = ts.Retransmit
	cfg.SkipTCUpload = ts.SkipTCUpload
	cfg.ChipDownload = ts.ChipDownload
	// loaded with the host's transport key, as terminals are at the factory
	cfg.TransportKey = r.s.Setup.Acquirer.TransportKey
	cfg.Dump = r.opts.Dump
	if w := ts.Write; w != nil {
		cfg.WriteChunk, cfg.WriteGap = w.Chunk, r.scale(w.Gap.D())
	}
	caps := r.profile.Capabilities()
	if caps.TPDU {
		f, err := wire.NewTPDUFramer(wire.InnerFramer(r.profile.Framer()), ts.TPDU, ts.Header, "")
		if err != nil {
			return err
		}
		cfg.Framer = f
	}
	cfg.AutoSignOn = caps.WorkingKeys // a keyed host answers an unsigned terminal 77
	if ts.AutoSignOn != nil {
		cfg.AutoSignOn = *ts.AutoSignOn
	}
	r.tcfg = cfg
	r.term, err = terminal.New(cfg)
	return err
}

// stateDir is where the terminal tid keeps its state: under the run's
// --state directory, else a temporary one removed at the end.
func (r *run) stateDir(tid string) (string, error) {
	if r.opts.StateDir != "" {
		return filepath.Join(r.opts.StateDir, "terminal-"+tid), nil
	}
	return os.MkdirTemp("", "posim-terminal-")
}

// setupHost builds the scenario's acquirer (or takes the one given) and
// turns its journal into the run's events.
func (r *run) setupHost(seed int64) error {
	if h := r.opts.Host; h != nil {
		j, ok := h.Journal().(*acquirer.MemJournal)
		if !ok {
			return fmt.Errorf("the host given to the run keeps its journal in a %T: the run needs an *acquirer.MemJournal", h.Journal())
		}
		r.host, r.journal = h, j
	} else {
		r.journal = acquirer.NewMemJournal()
		h, err := NewHost(r.s, HostOptions{Seed: &seed, Speed: r.speed, Profile: r.profile.Name(), Logger: r.opts.Logger,
			Epoch: Epoch, Journal: r.journal})
		if err != nil {
			return err
		}
		r.host, r.own = h, true
		if r.opts.Target == "" {
			if err := h.Listen("127.0.0.1:0"); err != nil {
				return err
			}
		}
	}
	r.journal.OnAppend(func(e acquirer.Entry) {
		if e.Kind == acquirer.KindConnection {
			return
		}
		amt := ""
		if e.Amount != 0 {
			amt = wire.FormatAmount(int64(e.Amount))
		}
		r.event(Event{AtMS: e.Time.Sub(Epoch).Milliseconds(), Source: "acquirer", Kind: e.Kind, MTI: e.MTI, STAN: e.STAN, RC: e.RC, PAN: e.PAN, Amount: amt, MAC: e.MAC, Detail: e.Detail})
	})
	return nil
}

func (r *run) teardown() {
	r.evMu.Lock()
	for _, t := range r.timers {
		t.Stop()
	}
	r.evMu.Unlock()
	if r.term != nil {
		r.term.Close()
	}
	for _, t := range r.others {
		t.Close()
		if r.tmpDir != "" {
			os.RemoveAll(t.Config().StateDir)
		}
	}
	if r.journal != nil {
		r.journal.OnAppend(nil)
	}
	if r.own && r.host != nil {
		r.host.Close()
	}
	if r.tmpDir != "" {
		os.RemoveAll(r.tmpDir)
	}
}

// signOnFirst signs the terminal on before the first step, as a terminal
// does at the start of its day, when it signs on by itself (cup) and the
// scenario does not begin with a sign-on of its own; the STANs the scenario
// names then count from after it.
func (r *run) signOnFirst(ctx context.Context) {
	if r.tcfg.AutoSignOn && !r.term.State().SignedOn && r.firstOp() != string(wire.OpSignOn) {
		if res, err := r.term.SignOn(ctx); res != nil {
			detail := string(res.Outcome)
			if err != nil {
				detail += ": " + err.Error()
			}
			r.event(Event{Source: "terminal", Kind: "result", STAN: res.STAN, RC: res.ResponseCode, Op: string(wire.OpSignOn),
				Outcome: string(res.Outcome), Detail: "sign-on before the first step: " + detail})
		}
	}
	st := r.term.State()
	r.stanBase = st.STAN
	r.logAtStart, r.batchAtStart = len(st.Log), st.Batch
}

// firstOp is the first step that the terminal acts in.
func (r *run) firstOp() string {
	for _, st := range r.s.Steps {
		if _, world := lookupWorld(st.Op); !world {
			return st.Op
		}
	}
	return ""
}

// stan is the STAN of the scenario's n-th trace number (see stanBase).
func (r *run) stan(n int) string {
	return fmt.Sprintf("%06d", n+r.stanBase)
}

// stanArg turns a step's stan argument ("1") into the STAN it names.
func (r *run) stanArg(s string) string {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return r.stan(n)
	}
	return s
}

// sleep waits d of scenario time.
func (r *run) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(r.scale(d))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// do runs one step once: an operation of the terminal's catalogue, or a
// world step.
func (r *run) do(ctx context.Context, i int, st Step) (StepResult, error) {
	sr := StepResult{Index: i + 1, Op: st.Op, Line: st.Line}
	r.event(Event{Source: "terminal", Kind: "step", Detail: describeStep(st), Op: st.Op, Card: st.Args.Card, Amount: st.Args.Amount})
	var res *terminal.Result
	var err error
	if op, ok := terminal.Lookup(st.Op); ok {
		req, rerr := r.request(st.Args)
		if rerr != nil {
			return sr, rerr
		}
		t, terr := r.termFor(&req)
		if terr != nil {
			return sr, terr
		}
		res, err = op.Run(t, ctx, req)
		if errors.Is(err, terminal.ErrInvalidRequest) {
			return sr, err
		}
	} else {
		w, _ := lookupWorld(st.Op)
		if r.opts.Target != "" && (w.host || (st.Op == "restart" && st.Target == "acquirer")) {
			return sr, fmt.Errorf("%s acts on posim's own acquirer: not possible with a target host", describeStep(st))
		}
		if res, err = w.run(r, ctx, st, &sr); err != nil {
			return sr, err
		}
	}
	if res != nil {
		r.result(st, res, &sr)
	}
	return sr, nil
}

// result fills the step's result from the terminal's and tells the
// events.
func (r *run) result(st Step, res *terminal.Result, sr *StepResult) {
	sr.res = res
	sr.Outcome, sr.ResponseCode, sr.Meaning = string(res.Outcome), res.ResponseCode, res.Meaning
	sr.Display, sr.DisplayZH, sr.STAN, sr.RRN = res.Display, res.DisplayZH, res.STAN, res.RRN
	sr.Amount, sr.PAN, sr.ReversalPending, sr.ReversalsSent = res.Amount, res.PAN, res.ReversalPending, len(res.ReversalsSent)
	detail := string(res.Outcome)
	if res.ResponseCode != "" {
		detail += " " + res.ResponseCode
	}
	ev := Event{Source: "terminal", Kind: "result", STAN: res.STAN, RC: res.ResponseCode, Detail: detail + ": " + res.Display,
		Op: st.Op, Outcome: string(res.Outcome), Display: res.Display, DisplayZH: res.DisplayZH, Pending: res.ReversalPending}
	if res.Receipt != nil {
		var en, zh strings.Builder
		_ = terminal.WriteReceipt(&en, res.Receipt, "en")
		_ = terminal.WriteReceipt(&zh, res.Receipt, "zh")
		ev.Receipt, ev.ReceiptZH = en.String(), zh.String()
	}
	r.event(ev)
}

func (r *run) wait(ctx context.Context, st Step, _ *StepResult) (*terminal.Result, error) {
	return nil, r.sleep(ctx, st.Duration.D())
}

func (r *run) advance(_ context.Context, st Step, sr *StepResult) (*terminal.Result, error) {
	r.host.Advance(st.Duration.D())
	sr.Detail = "clock advanced " + st.Duration.String()
	return nil, nil
}

func (r *run) reconnect(context.Context, Step, *StepResult) (*terminal.Result, error) {
	r.term.Disconnect()
	return nil, nil
}

func (r *run) restart(_ context.Context, st Step, _ *StepResult) (*terminal.Result, error) {
	if st.Target != "terminal" {
		return nil, r.host.Restart()
	}
	r.term.Close()
	t, err := terminal.New(r.tcfg)
	if err != nil {
		return nil, err
	}
	r.term = t
	return nil, nil
}

func (r *run) hostDown(_ context.Context, st Step, _ *StepResult) (*terminal.Result, error) {
	a := r.acquirer()
	a.Pause()
	r.after(r.scale(st.Duration.D()), func() { _ = a.Resume() })
	return nil, nil
}

func (r *run) hostUp(context.Context, Step, *StepResult) (*terminal.Result, error) {
	return nil, r.acquirer().Resume()
}

func describeStep(st Step) string {
	d := st.Op
	a := st.Args
	if a.Amount != "" {
		d += " " + a.Amount
	}
	if a.Card != "" {
		d += " card " + a.Card
	}
	if a.PowerCut != "" {
		d += " (power cut " + a.PowerCut + ")"
	}
	if st.Duration > 0 {
		d += " " + st.Duration.String()
	}
	if st.Target != "" {
		d += " " + st.Target
	}
	if a.Status != "" {
		d += " " + a.Status
	}
	return d
}

// termFor returns the terminal a step's request goes out from. Under a
// dialect with working keys a step's tid: names another terminal, as a
// shop's second till is: it has its own state, trace numbers and keys,
// and signs on before it transacts as the scenario's terminal does (a host
// answers a terminal that has not signed on 77, and a TID's requests are
// signed with its own MAC key). Elsewhere the tid: only replaces DE41 of
// the scenario's terminal's request.
func (r *run) termFor(req *terminal.Request) (*terminal.Terminal, error) {
	if req.TID == "" || req.TID == r.tcfg.TID || !r.profile.Capabilities().WorkingKeys {
		return r.term, nil
	}
	tid := req.TID
	req.TID = ""
	if t := r.others[tid]; t != nil {
		return t, nil
	}
	cfg := r.tcfg
	cfg.TID = tid
	dir, err := r.stateDir(tid)
	if err != nil {
		return nil, err
	}
	cfg.StateDir = dir
	t, err := terminal.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("terminal %s: %w", tid, err)
	}
	if r.others == nil {
		r.others = map[string]*terminal.Terminal{}
	}
	r.others[tid] = t
	return t, nil
}

// request turns step arguments into a terminal request.
func (r *run) request(a OpArgs) (terminal.Request, error) {
	req := terminal.Request{Card: a.Card, PIN: a.PIN, NoPIN: a.NoPIN, RRN: a.RRN, AuthCode: a.AuthCode, STAN: r.stanArg(a.STAN),
		TID: a.TID, MID: a.MID, PowerCut: a.PowerCut, CloseBeforeRead: a.CloseBeforeRead, BadMAC: a.BadMAC,
		CardResponse: a.CardResponse, Fallback: a.Fallback}
	if a.PAN != "" {
		req.Card = a.PAN
	}
	if a.Amount != "" {
		v, err := wire.ParseAmount(a.Amount)
		if err != nil {
			return req, err
		}
		req.Amount = v
	}
	if a.RRNOf > 0 {
		rrn, auth, err := r.rrnOf(a.RRNOf)
		if err != nil {
			return req, err
		}
		req.RRN = rrn
		if req.AuthCode == "" {
			req.AuthCode = auth // as a cashier reads it from the phone authorisation
		}
	}
	return req, nil
}

// rrnOf returns the RRN of the transaction of an earlier step: the one the
// terminal received, or else the one the host booked (a lost response).
// Its authorisation code comes with it (a completion or pre-authorisation
// void names its original by it under cup).
func (r *run) rrnOf(step int) (rrn, authCode string, err error) {
	if step > len(r.res.Steps) {
		return "", "", fmt.Errorf("rrn_of %d: that step has not run", step)
	}
	sr := r.res.Steps[step-1]
	for _, rec := range r.engine.Snapshot().Records {
		if rec.STAN == sr.STAN && rec.TID == r.tcfg.TID && rec.RRN != "" {
			return rec.RRN, rec.AuthCode, nil
		}
	}
	if sr.RRN != "" {
		return sr.RRN, "", nil
	}
	return "000000000000", "", nil // the host never booked it: an unknown RRN
}

// cupFramer builds the cup framing from hex TPDU and header (empty: the
// documented defaults) and a mismatch policy.
func cupFramer(tpdu, header, mismatch string) (wire.TPDUFramer, error) {
	return wire.NewTPDUFramer(nil, tpdu, header, mismatch)
}

// forProfile reports whether something limited to profiles applies under p.
func forProfile(profiles []string, p string) bool {
	return len(profiles) == 0 || slices.Contains(profiles, p)
}

// dispute runs a back-office dispute step on the acquirer's books; its
// result is approved when the step was accepted, refused otherwise.
func (r *run) dispute(_ context.Context, st Step, _ *StepResult) (*terminal.Result, error) {
	a := st.Args
	stan := r.stanArg(a.STAN)
	tid := a.TID
	if tid == "" {
		tid = r.tcfg.TID
	}
	now := r.now()
	var d acquirer.Dispute
	var err error
	switch st.Op {
	case "retrieval":
		d, err = r.engine.Retrieval(tid, stan, now)
	case "chargeback":
		fee, _ := wire.ParseAmount(orZero(a.Fee))
		d, err = r.engine.Chargeback(tid, stan, a.Reason, fee, now)
	case "representment":
		d, err = r.engine.Represent(tid, stan, a.Won, now)
	case "second_chargeback":
		d, err = r.engine.SecondChargeback(tid, stan, now)
	}
	res := &terminal.Result{Operation: st.Op, Outcome: terminal.Approved, STAN: stan, Display: st.Op + ": " + d.Stage}
	if err != nil {
		res.Outcome, res.Error, res.Display = terminal.Refused, err.Error(), err.Error()
	}
	res.DisplayZH = res.Display
	r.event(Event{Source: "acquirer", Kind: "dispute", STAN: stan, Detail: res.Display})
	return res, nil
}

// settlementAccount runs a settlement_account step on the acquirer's back
// office; its result is approved when the back office took it.
func (r *run) settlementAccount(_ context.Context, st Step, _ *StepResult) (*terminal.Result, error) {
	mid := st.Args.MID
	if mid == "" {
		mid = r.tcfg.MID
	}
	l, err := r.engine.SetSettlementAccount(mid, st.Args.Status, r.now())
	res := &terminal.Result{Operation: st.Op, Outcome: terminal.Approved, MID: mid}
	switch {
	case err != nil:
		res.Outcome, res.Error, res.Display = terminal.Refused, err.Error(), err.Error()
		res.DisplayZH = res.Display
	case st.Args.Status != acquirer.AccountCorrected:
		res.Display = "settlement account of " + mid + ": " + st.Args.Status + ": payouts to it come back"
		res.DisplayZH = "商户 " + mid + " 结算账户有误：结算款将被退回（退票）"
	case l.ID == 0:
		res.Display, res.DisplayZH = "settlement account of "+mid+" corrected: nothing to pay again", "商户 "+mid+" 结算账户已更正：无退回款项"
	default:
		res.Display = fmt.Sprintf("settlement account of %s corrected: %s paid again on %s (line %d)", mid, wire.FormatAmount(l.Net), l.PayoutDate, l.ID)
		res.DisplayZH = fmt.Sprintf("商户 %s 结算账户已更正：退回款 %s 将于 %s 重新划付", mid, wire.FormatAmount(l.Net), l.PayoutDate)
	}
	r.event(Event{Source: "acquirer", Kind: "settlement_account", Detail: res.Display})
	return res, nil
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
