package faults

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
	"github.com/posim/posim/yamlx"
	"go.yaml.in/yaml/v3"
)

// Env is what compiled rules need from the run around them.
type Env struct {
	// Profile is the dialect in use; rules limited to others are left out.
	Profile string
	// Seed is the run's seed; each rule draws from its own stream.
	Seed int64
	// Speed divides every duration (1 = real time).
	Speed float64
	// Elapsed returns scenario time since the start.
	Elapsed func() time.Duration
	// Cards resolves card aliases in when.card.
	Cards *cards.Book
	// Acquirer is the host the rules act on (refuse, fee_anomaly), when
	// the rules run in posim's acquirer.
	Acquirer func() *acquirer.Acquirer
	// Journal receives a fault entry for every rule that fires.
	Journal acquirer.Journal
	// Now stamps journal entries.
	Now func() time.Time
	// After schedules fn after d of real time (a refuse's end); its owner
	// cancels what is pending when the host or proxy stops (see Timers).
	// Nil: the rule set schedules on Timers of its own, which Close stops.
	After func(d time.Duration, fn func())
	// Logger, when set, gets one line per fault fired.
	Logger *slog.Logger
}

// scale divides a scenario duration by the speed.
func (e *Env) scale(d time.Duration) time.Duration {
	if e.Speed <= 0 {
		return d
	}
	return time.Duration(float64(d) / e.Speed)
}

// Faults is a compiled rule set: it runs the first rule that fires on a
// request, or lets the host handle it as usual. It serves posim's acquirer
// (as an acquirer.Handler) and the proxy (Serve). It is safe for
// concurrent use.
type Faults struct {
	env   *Env
	rules []*compiled

	mu    sync.Mutex
	last  map[string]*wire.Txn // last response sent, by TID (for stale sends)
	holds map[string]chan struct{}
	// own schedules what the rules do later when the environment has no
	// After
	own Timers
}

var (
	_ acquirer.Handler       = (*Faults)(nil)
	_ acquirer.InlineHandler = (*Faults)(nil)
)

type compiled struct {
	Rule
	rng      *rand.Rand
	seen     map[string]int // matches per scope key
	fired    map[string]int // fires per scope key
	disabled bool           // kept, counted as nothing, fires never
}

// Compile turns rules into a rule set for env.
func Compile(rules []Rule, env *Env) (*Faults, error) {
	f := &Faults{env: env, last: map[string]*wire.Txn{}, holds: map[string]chan struct{}{}}
	if env.After == nil {
		env.After = f.own.After
	}
	for _, r := range rules {
		if env.Profile != "" && !appliesTo(r.Profiles, env.Profile) {
			continue
		}
		f.rules = append(f.rules, f.compile(r))
	}
	return f, nil
}

func (f *Faults) compile(r Rule) *compiled {
	h := fnv.New64a()
	h.Write([]byte(r.ID))
	return &compiled{
		Rule:  r,
		rng:   rand.New(rand.NewPCG(uint64(f.env.Seed), h.Sum64())),
		seen:  map[string]int{},
		fired: map[string]int{},
	}
}

// RuleStats is how often a rule's trigger matched a request and how often
// the rule fired.
type RuleStats struct {
	ID          string   `json:"id"`
	Enabled     bool     `json:"enabled"`
	When        When     `json:"when"`
	Matched     int      `json:"matched"`
	Fired       int      `json:"fired"`
	Probability *float64 `json:"probability,omitempty"`
	Actions     []string `json:"actions"`
	// Drops says the rule's answer never leaves the host (no_response or
	// discard): each firing leaves a terminal waiting for its timeout.
	Drops bool `json:"drops"`
}

// Stats returns every rule's counts so far, in rule order.
func (f *Faults) Stats() []RuleStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]RuleStats, 0, len(f.rules))
	for _, r := range f.rules {
		st := RuleStats{ID: r.ID, Enabled: !r.disabled, When: r.When, Probability: r.When.Probability, Actions: []string{}}
		for _, n := range r.seen {
			st.Matched += n
		}
		for _, n := range r.fired {
			st.Fired += n
		}
		for _, a := range r.Do {
			st.Actions = append(st.Actions, a.String())
			st.Drops = st.Drops || registry[a.Name].drops
		}
		out = append(out, st)
	}
	return out
}

// ErrNoRule: no rule has the id given.
var ErrNoRule = errors.New("no such rule")

// AddRule parses one rule (YAML or JSON, as a scenario's rules item),
// checks it for posim's acquirer and appends it: the next request meets
// it. Its id must be new.
func (f *Faults) AddRule(data []byte) error {
	var r Rule
	if err := decodeRule(data, &r); err != nil {
		return err
	}
	var errs []error
	report := func(line int, format string, a ...any) {
		errs = append(errs, &yamlx.FileError{File: "POST /rules", Line: line, Msg: fmt.Sprintf(format, a...)})
	}
	if r.ID == "" {
		report(1, "a rule needs an id")
	}
	book := f.env.Cards
	if book == nil {
		book = cards.Builtin()
	}
	CheckWhen(r.When, book, 1, report)
	CheckPipeline(r, 1, WhereAcquirer, report)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.rules {
		if c.ID == r.ID {
			return fmt.Errorf("rule id %q is already used: delete it first, or choose another", r.ID)
		}
	}
	f.rules = append(f.rules, f.compile(r))
	return nil
}

// Close cancels what the rules scheduled on the rule set's own timers
// (when the environment gave no After). It is idempotent.
func (f *Faults) Close() error {
	f.own.Stop()
	return nil
}

// RemoveRule deletes the rule with id.
func (f *Faults) RemoveRule(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.rules {
		if c.ID == id {
			f.rules = append(f.rules[:i:i], f.rules[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("%w %q", ErrNoRule, id)
}

// EnableRule turns the rule with id on or off; a disabled rule neither
// counts nor fires.
func (f *Faults) EnableRule(id string, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.rules {
		if c.ID == id {
			c.disabled = !on
			return nil
		}
	}
	return fmt.Errorf("%w %q", ErrNoRule, id)
}

// RulesJSON is Stats for the control API.
func (f *Faults) RulesJSON() any { return f.Stats() }

// Handle runs the first rule that fires on the request, or processes and
// answers it as usual.
func (f *Faults) Handle(ctx context.Context, x *acquirer.Exchange) {
	f.Serve(ctx, f.host(x))
}

// HandleInline is Handle on the connection's read loop: a request no rule
// fires on is answered at once; a rule's actions, which may wait, run in a
// goroutine of their own.
func (f *Faults) HandleInline(x *acquirer.Exchange) {
	hx := f.host(x)
	if r := f.pick(hx); r != nil {
		x.Go(func(ctx context.Context) { f.run(ctx, r, hx) })
		return
	}
	f.respond(hx, hx.Process())
}

// Serve runs the first rule that fires on x, or lets the host handle it
// and answers as usual. It returns when the pipeline ends.
func (f *Faults) Serve(ctx context.Context, x Exchange) {
	if r := f.pick(x); r != nil {
		f.run(ctx, r, x)
		return
	}
	f.respond(x, x.Process())
}

// Pick is Serve in two halves, for a caller that passes requests no rule
// fires on straight through: it returns the pipeline to run, or nil.
func (f *Faults) Pick(x Exchange) func(ctx context.Context) {
	r := f.pick(x)
	if r == nil {
		return nil
	}
	return func(ctx context.Context) { f.run(ctx, r, x) }
}

// pick releases what a reversal waits for and returns the rule that fires
// on the request, if any.
func (f *Faults) pick(x Exchange) *compiled {
	req := x.Request()
	if req.Op == wire.OpReversal || req.Op == wire.OpReversalAdvice {
		f.release(req)
	}
	return f.match(x)
}

// match counts the request against every rule, then returns the first
// rule that fires: "nth: 2" always means the second matching request,
// whatever earlier rules did with the first.
func (f *Faults) match(x Exchange) *compiled {
	f.mu.Lock()
	defer f.mu.Unlock()
	var chosen *compiled
	for _, r := range f.rules {
		if r.disabled {
			continue
		}
		if r.triggered(f.env, x) && chosen == nil {
			chosen = r
		}
	}
	if chosen != nil {
		chosen.fired[scopeKey(chosen.When.Scope, x)]++
	}
	return chosen
}

// fault journals that a rule fired an action.
func (f *Faults) fault(x Exchange, r *compiled, what string) {
	req := x.Request()
	if f.env.Logger != nil {
		f.env.Logger.Warn("fault", acquirer.KeyConn, x.ConnID(), acquirer.KeyMTI, req.MTI, acquirer.KeySTAN, req.STAN, "rule", r.ID, "action", what)
	}
	if f.env.Journal == nil {
		return
	}
	now := time.Now()
	if f.env.Now != nil {
		now = f.env.Now()
	}
	f.env.Journal.Append(acquirer.Entry{
		Time: now, Kind: acquirer.KindFault, Conn: x.ConnID(), MTI: req.MTI, STAN: req.STAN,
		TID: req.TID, Detail: fmt.Sprintf("rule %s: %s", r.ID, what),
	})
}

func (f *Faults) respond(x Exchange, resp *wire.Txn) {
	if resp == nil {
		return
	}
	f.mu.Lock()
	f.last[resp.TID] = resp
	f.mu.Unlock()
	_ = x.Respond(resp)
}

func holdKey(tid, mti, stan string) string { return tid + "|" + mti + "|" + stan }

// holdFor registers what the reversal of req will close.
func (f *Faults) holdFor(req *wire.Txn) chan struct{} {
	ch := make(chan struct{})
	f.mu.Lock()
	f.holds[holdKey(req.TID, req.MTI[:3]+"0", req.STAN)] = ch
	f.mu.Unlock()
	return ch
}

// dropHold forgets the hold ch of req when it is still waiting (the
// pipeline ended before its reversal came).
func (f *Faults) dropHold(req *wire.Txn, ch chan struct{}) {
	k := holdKey(req.TID, req.MTI[:3]+"0", req.STAN)
	f.mu.Lock()
	if f.holds[k] == ch {
		delete(f.holds, k)
	}
	f.mu.Unlock()
}

// release wakes the held response whose reversal just arrived.
func (f *Faults) release(rev *wire.Txn) {
	if rev.Original == nil {
		return
	}
	mti := rev.Original.MTI
	if len(mti) == 4 {
		mti = mti[:3] + "0"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := holdKey(rev.TID, mti, rev.Original.STAN)
	if ch, ok := f.holds[k]; ok {
		close(ch)
		delete(f.holds, k)
	}
}

// run executes a rule's pipeline in order: each primitive in turn, until
// one ends it. The answer is sent at the end unless an action already
// answered, suppressed it or cut the connection.
func (f *Faults) run(ctx context.Context, r *compiled, x Exchange) {
	p := &pipe{ctx: ctx, f: f, r: r, x: x}
	for _, a := range r.Do {
		if _, holds := a.prim.(*HoldSpec); holds {
			// wait for the reversal from the start: it may come while
			// process still waits for a slow host
			p.hold = f.holdFor(x.Request())
			defer f.dropHold(x.Request(), p.hold)
		}
	}
	for _, a := range r.Do {
		if !a.prim.run(p) {
			return
		}
	}
	if !p.answered {
		p.respond(p.response(""))
	}
}

// hostExchange is an acquirer.Exchange as the rules see it.
type hostExchange struct {
	x   *acquirer.Exchange
	env *Env
}

func (f *Faults) host(x *acquirer.Exchange) *hostExchange { return &hostExchange{x: x, env: f.env} }

func (h *hostExchange) Request() *wire.Txn                { return h.x.Request }
func (h *hostExchange) ConnID() string                    { return h.x.Conn.ID() }
func (h *hostExchange) Process() *wire.Txn                { return h.x.Process() }
func (h *hostExchange) Respond(t *wire.Txn) error         { return h.x.Respond(t) }
func (h *hostExchange) Send(t *wire.Txn) error            { return h.x.Conn.Send(t) }
func (h *hostExchange) Frame(t *wire.Txn) ([]byte, error) { return h.x.Conn.Frame(t) }
func (h *hostExchange) WriteRaw(b []byte) error           { return h.x.Conn.WriteRaw(b) }
func (h *hostExchange) Close()                            { h.x.Conn.Close() }
func (h *hostExchange) Reset()                            { h.x.Conn.Reset() }

// Forward: posim's acquirer is the host; there is none behind it.
func (h *hostExchange) Forward() error {
	return fmt.Errorf("duplicate to host: %w (posim's acquirer is the host)", ErrNotHere)
}

func (h *hostExchange) Refuse() (func() error, error) {
	if h.env.Acquirer == nil {
		return nil, ErrNotHere
	}
	a := h.env.Acquirer()
	a.Pause()
	return a.Resume, nil
}

func (h *hostExchange) MarkAnomaly(an acquirer.Anomaly) (int64, error) {
	d, done := h.x.Decision()
	if !done || d.Record == nil {
		return 0, fmt.Errorf("nothing booked to mark (put process before it)")
	}
	if h.env.Acquirer == nil {
		return 0, ErrNotHere
	}
	h.env.Acquirer().Engine().MarkAnomaly(d.Record.ID, an)
	return d.Record.ID, nil
}

// decodeRule reads one rule written in YAML (JSON is YAML too), strictly:
// an unknown key is an error naming its line.
func decodeRule(data []byte, r *Rule) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return yamlx.Wrap(err)
	}
	if len(doc.Content) == 0 {
		return errors.New("the body holds no rule")
	}
	if err := yamlx.Decode(doc.Content[0], r); err != nil {
		if le, ok := err.(*yamlx.LineError); ok {
			return fmt.Errorf("line %d: %s", le.Line, le.Msg)
		}
		return err
	}
	return nil
}
