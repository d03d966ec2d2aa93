package scenarios

import (
	"context"
	"encoding/binary"
	"fmt"
	"github.com/posim/posim/emv"
	"hash/fnv"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
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
	// Acquirer is the host the rules act on (for refuse).
	Acquirer func() *acquirer.Acquirer
	// Journal receives a fault entry for every rule that fires.
	Journal acquirer.Journal
	// Now stamps journal entries.
	Now func() time.Time
	// After schedules fn after d of real time, owned by the run.
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

// afterRespondGrace is how long close at after_respond waits after the
// answer was written, in real time.
const afterRespondGrace = 50 * time.Millisecond

// Faults is a compiled rule set: an acquirer.Handler that runs the first
// rule that fires, or the default handler. It is safe for concurrent use.
type Faults struct {
	env   *Env
	rules []*compiled

	mu    sync.Mutex
	last  map[string]*wire.Txn // last response sent, by TID (for stale sends)
	holds map[string]chan struct{}
}

var _ acquirer.Handler = (*Faults)(nil)

type compiled struct {
	Rule
	rng   *rand.Rand
	seen  map[string]int // matches per scope key
	fired map[string]int // fires per scope key
}

// Compile turns rules into a handler for env.
func Compile(rules []Rule, env *Env) (*Faults, error) {
	f := &Faults{env: env, last: map[string]*wire.Txn{}, holds: map[string]chan struct{}{}}
	for _, r := range rules {
		if env.Profile != "" && !forProfile(r.Profiles, env.Profile) {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(r.ID))
		c := &compiled{
			Rule:  r,
			rng:   rand.New(rand.NewPCG(uint64(env.Seed), h.Sum64())),
			seen:  map[string]int{},
			fired: map[string]int{},
		}
		f.rules = append(f.rules, c)
	}
	return f, nil
}

var _ acquirer.InlineHandler = (*Faults)(nil)

// RuleStats is how often a rule's trigger matched a request and how often
// the rule fired.
type RuleStats struct {
	ID          string   `json:"id"`
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
		st := RuleStats{ID: r.ID, Probability: r.When.Probability}
		for _, n := range r.seen {
			st.Matched += n
		}
		for _, n := range r.fired {
			st.Fired += n
		}
		for _, a := range r.Do {
			st.Actions = append(st.Actions, a.String())
			st.Drops = st.Drops || a.Name == ActNoResponse || a.Name == ActDiscard
		}
		out = append(out, st)
	}
	return out
}

// Handle runs the first rule that fires on the request, or processes and
// answers it as usual.
func (f *Faults) Handle(ctx context.Context, x *acquirer.Exchange) {
	if r := f.pick(x); r != nil {
		f.run(ctx, r, x)
		return
	}
	f.respond(x, x.Process())
}

// HandleInline is Handle on the connection's read loop: a request no rule
// fires on is answered at once; a rule's actions, which may wait, run in a
// goroutine of their own.
func (f *Faults) HandleInline(x *acquirer.Exchange) {
	if r := f.pick(x); r != nil {
		x.Go(func(ctx context.Context) { f.run(ctx, r, x) })
		return
	}
	f.respond(x, x.Process())
}

// pick releases what a reversal waits for and returns the rule that fires
// on the request, if any.
func (f *Faults) pick(x *acquirer.Exchange) *compiled {
	if x.Request.Op == wire.OpReversal || x.Request.Op == wire.OpReversalAdvice {
		f.release(x.Request)
	}
	return f.match(x)
}

// match counts the request against every rule, then returns the first
// rule that fires: "nth: 2" always means the second matching request,
// whatever earlier rules did with the first.
func (f *Faults) match(x *acquirer.Exchange) *compiled {
	f.mu.Lock()
	defer f.mu.Unlock()
	var chosen *compiled
	for _, r := range f.rules {
		if r.triggered(f.env, x) && chosen == nil {
			chosen = r
		}
	}
	if chosen != nil {
		chosen.fired[scopeKey(chosen.When.Scope, x)]++
	}
	return chosen
}

func scopeKey(scope string, x *acquirer.Exchange) string {
	switch scope {
	case "connection":
		return x.Conn.ID()
	case "terminal":
		return x.Request.TID
	case "merchant":
		return x.Request.MID
	}
	return ""
}

// triggered counts a matching request and reports whether the rule's
// counters, probability and window let it fire.
func (r *compiled) triggered(env *Env, x *acquirer.Exchange) bool {
	if !matchWhen(r.When, x.Request, env.Cards) {
		return false
	}
	if w := r.When.Window; w != nil {
		el := env.Elapsed()
		if el < w.From.D() || (w.Until != nil && el >= w.Until.D()) {
			return false
		}
	}
	k := scopeKey(r.When.Scope, x)
	r.seen[k]++
	n := r.seen[k]
	w := r.When
	switch {
	case w.Nth > 0 && n != w.Nth:
		return false
	case w.After > 0 && n <= w.After:
		return false
	case w.Every > 0 && (n-w.After)%w.Every != 0:
		return false
	case w.Times > 0 && r.fired[k] >= w.Times:
		return false
	}
	return w.Probability == nil || r.rng.Float64() < *w.Probability
}

// matchWhen matches the decoded fields of a request.
func matchWhen(w When, t *wire.Txn, book *cards.Book) bool {
	eq := func(want, got string) bool { return want == "" || want == got }
	if !eq(w.MTI, t.MTI) || !eq(w.Op, string(t.Op)) || !eq(w.ProcessingCode, t.ProcessingCode) ||
		!eq(w.PAN, t.PAN) || !eq(w.TID, t.TID) || !eq(w.MID, t.MID) || !eq(w.STAN, t.STAN) ||
		!eq(w.EntryMode, t.EntryMode) || !eq(w.Currency, t.Currency) {
		return false
	}
	if w.BIN != "" && !strings.HasPrefix(t.PAN, w.BIN) {
		return false
	}
	if w.Card != "" {
		c, ok := book.ByAlias(w.Card)
		if !ok || c.PAN != t.PAN {
			return false
		}
	}
	if a := w.Amount; a != nil {
		if !t.HasAmount {
			return false
		}
		if a.Equal != "" {
			if v, _ := wire.ParseAmount(a.Equal); v != t.Amount {
				return false
			}
		}
		if a.Min != "" {
			if v, _ := wire.ParseAmount(a.Min); t.Amount < v {
				return false
			}
		}
		if a.Max != "" {
			if v, _ := wire.ParseAmount(a.Max); t.Amount > v {
				return false
			}
		}
	}
	for _, sub := range w.And {
		if !matchWhen(sub, t, book) {
			return false
		}
	}
	if len(w.Or) > 0 {
		any := false
		for _, sub := range w.Or {
			if matchWhen(sub, t, book) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	if w.Not != nil && matchWhen(*w.Not, t, book) {
		return false
	}
	return true
}

// fault journals that a rule fired an action.
func (f *Faults) fault(x *acquirer.Exchange, r *compiled, what string) {
	if f.env.Logger != nil {
		f.env.Logger.Warn("fault", acquirer.KeyConn, x.Conn.ID(), acquirer.KeyMTI, x.Request.MTI, acquirer.KeySTAN, x.Request.STAN, "rule", r.ID, "action", what)
	}
	if f.env.Journal == nil {
		return
	}
	f.env.Journal.Append(acquirer.Entry{
		Time: f.env.Now(), Kind: acquirer.KindFault, Conn: x.Conn.ID(), MTI: x.Request.MTI, STAN: x.Request.STAN,
		TID: x.Request.TID, Detail: fmt.Sprintf("rule %s: %s", r.ID, what),
	})
}

// sleep waits d of scenario time (scaled), or until ctx ends.
func (f *Faults) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(f.env.scale(d))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (f *Faults) respond(x *acquirer.Exchange, resp *wire.Txn) {
	if resp == nil {
		return
	}
	f.mu.Lock()
	f.last[resp.TID] = resp
	f.mu.Unlock()
	_ = x.Respond(resp)
}

func holdKey(tid, mti, stan string) string { return tid + "|" + mti + "|" + stan }

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

// run executes a rule's pipeline in order. A response is sent at the end
// unless an action already answered, suppressed or cut the connection.
func (f *Faults) run(ctx context.Context, r *compiled, x *acquirer.Exchange) {
	var resp *wire.Txn // the response being built
	processed, answered := false, false
	current := func(override map[string]string) *wire.Txn {
		if resp == nil {
			if processed {
				resp = x.Process()
			}
			if resp == nil {
				code := override["de39"]
				if code == "" {
					code = "96"
				}
				resp = x.Request.Response(code)
			}
		}
		return resp
	}
	for _, a := range r.Do {
		switch a.Name {
		case ActProcess:
			processed = true
			resp = x.Process()
			if resp == nil {
				answered = true // nothing to answer (a stray response)
			}
		case ActRespond:
			t := current(a.Respond)
			applyOverrides(t, a.Respond)
			f.fault(x, r, a.String())
			f.respond(x, t)
			answered = true
		case ActDelay:
			d := f.delay(r, a.Delay)
			f.fault(x, r, fmt.Sprintf("delay %s", d))
			if !f.sleep(ctx, d) {
				return
			}
		case ActNoResponse:
			answered = true
			f.fault(x, r, "no response")
			if a.NoResponse.Hold > 0 && !f.sleep(ctx, a.NoResponse.Hold.D()) {
				return
			}
			if a.NoResponse.Then == "close" {
				x.Conn.Close()
				return
			}
		case ActClose:
			at := orDefault(a.Close.At, AtBeforeRespond)
			if at == AtAfterRespond {
				if !answered {
					f.respond(x, current(nil))
				}
				// let the answer be read before the FIN: a client that sees
				// both at once may act on the close first
				time.Sleep(afterRespondGrace)
			}
			f.fault(x, r, a.String())
			if a.Close.Mode == "rst" {
				x.Conn.Reset()
			} else {
				x.Conn.Close()
			}
			return
		case ActTruncate:
			frame, err := x.Conn.Frame(current(nil))
			if err != nil {
				return
			}
			n := a.Truncate.Bytes
			if n <= 0 || n >= len(frame) {
				n = len(frame) / 2
			}
			f.fault(x, r, fmt.Sprintf("truncate to %d of %d bytes", n, len(frame)))
			_ = x.Conn.WriteRaw(frame[:n])
			answered = true
		case ActFragment:
			frame, err := x.Conn.Frame(current(nil))
			if err != nil {
				return
			}
			parts := max(a.Fragment.Parts, 2)
			size := (len(frame) + parts - 1) / parts
			f.fault(x, r, fmt.Sprintf("fragment into %d parts", parts))
			for i := 0; i < len(frame); i += size {
				if i > 0 && !f.sleep(ctx, a.Fragment.Gap.D()) {
					return
				}
				_ = x.Conn.WriteRaw(frame[i:min(i+size, len(frame))])
			}
			answered = true
		case ActGarbage:
			n := a.Garbage.Bytes
			if n <= 0 {
				n = 16
			}
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.rng.UintN(256))
			}
			if a.Garbage.Mode == "bad_length" {
				b = binary.BigEndian.AppendUint16(nil, uint16(n+100))
				b = append(b, make([]byte, n)...)
			}
			f.fault(x, r, fmt.Sprintf("garbage %d bytes (%s)", len(b), orDefault(a.Garbage.Mode, "random")))
			_ = x.Conn.WriteRaw(b)
			answered = true
		case ActMutate:
			t := current(nil)
			mutate(t, a.Mutate, r.rng)
			f.fault(x, r, a.String())
		case ActDuplicate:
			t := current(nil)
			f.fault(x, r, "response sent twice")
			f.respond(x, t)
			if a.Duplicate.Gap > 0 && !f.sleep(ctx, a.Duplicate.Gap.D()) {
				return
			}
			cp := *t
			f.respond(x, &cp)
			answered = true
		case ActSend:
			f.send(x, r, a.Send)
		case ActHoldUntil:
			if !f.hold(ctx, x, r, a.HoldUntil) {
				return
			}
		case ActRefuse:
			f.refuse(x, r, a.Refuse)
			return
		case ActDiscard:
			f.fault(x, r, "request discarded")
			answered = true
		case ActUpstream:
			if !f.upstream(ctx, x, r, a.Upstream, &resp, &processed) {
				return
			}
		case ActFee:
			d, done := x.Decision()
			if !done || d.Record == nil {
				f.fault(x, r, "fee_anomaly needs process first: nothing booked to mark")
				continue
			}
			an, err := a.Fee.anomaly()
			if err != nil {
				continue // refused by the validator already
			}
			f.env.Acquirer().Engine().MarkAnomaly(d.Record.ID, an)
			f.fault(x, r, "back-office anomaly "+an.Kind+" on record "+fmt.Sprint(d.Record.ID))
		}
	}
	if !answered {
		f.respond(x, current(nil))
	}
}

// delay draws a delay from the action's distribution with the rule's stream.
func (f *Faults) delay(r *compiled, d *DelaySpec) time.Duration {
	switch d.Distribution {
	case "uniform":
		lo, hi := d.Min.D(), d.Max.D()
		if hi <= lo {
			return lo
		}
		return lo + time.Duration(r.rng.Int64N(int64(hi-lo)))
	case "normal":
		v := float64(d.Mean) + r.rng.NormFloat64()*float64(d.StdDev)
		return time.Duration(math.Max(0, v))
	case "exponential":
		return time.Duration(r.rng.ExpFloat64() * float64(d.Mean))
	}
	return d.Fixed.D()
}

// applyOverrides sets response fields named deNN (and mti).
func applyOverrides(t *wire.Txn, o map[string]string) {
	for k, v := range o {
		switch k {
		case "mti":
			t.MTI = v
		case "de3":
			t.ProcessingCode = v
		case "de4":
			if amt, err := wire.ParseAmount(v); err == nil {
				t.Amount, t.HasAmount = amt, true
			}
		case "de11":
			t.STAN = v
		case "de37":
			t.RRN = v
		case "de38":
			t.AuthCode = v
		case "de39":
			t.ResponseCode = v
		case "de41":
			t.TID = v
		case "de42":
			t.MID = v
		case "de49":
			t.Currency = v
		}
	}
}

// mutate corrupts response fields the way broken hosts and links do.
func mutate(t *wire.Txn, fields []string, rng *rand.Rand) {
	for _, m := range fields {
		switch m {
		case "stan":
			n := 0
			fmt.Sscanf(t.STAN, "%d", &n)
			t.STAN = fmt.Sprintf("%06d", (n+1)%1000000)
		case "rrn":
			t.RRN = fmt.Sprintf("%012d", rng.Int64N(1e12))
		case "tid":
			t.TID = "XXXXXXXX"
		case "mti":
			if len(t.MTI) == 4 {
				t.MTI = t.MTI[:2] + "3" + t.MTI[3:]
			}
		case "amount":
			t.Amount++
			t.HasAmount = true
		case "drop_de39":
			t.ResponseCode = ""
		case "mac":
			// the codec signs responses: ask it to flip a bit afterwards
			t.CorruptMAC = true
			if len(t.MAC) == 0 {
				t.MAC = make([]byte, 8)
			}
		case "arpc":
			// the issuer authentication data no longer verifies at the card
			t.ICC = mutateICC(t.ICC, func(l emv.List) emv.List {
				if v, ok := l.Get(emv.TagIssuerAuth); ok && len(v) > 0 {
					bad := append([]byte{}, v...)
					bad[0] ^= 0xFF
					l = l.Set(emv.TagIssuerAuth, bad)
				}
				return l
			})
		case "drop_de55":
			t.ICC = nil
		case "script":
			// an issuer script template 2 (run after the second GENERATE
			// AC) with one command: PUT DATA of the consecutive offline
			// transaction limit (9F58), as issuers send to reset counters
			t.ICC = mutateICC(t.ICC, func(l emv.List) emv.List {
				return append(l, emv.TLV{Tag: emv.TagScript2, Value: issuerScript})
			})
		}
	}
}

func (f *Faults) send(x *acquirer.Exchange, r *compiled, s *SendSpec) {
	var msg *wire.Txn
	if s.Stale {
		f.mu.Lock()
		if prev := f.last[x.Request.TID]; prev != nil {
			cp := *prev
			msg = &cp
		}
		f.mu.Unlock()
		if msg == nil {
			f.fault(x, r, "no earlier response to send stale")
			return
		}
		f.fault(x, r, "stale response of STAN "+msg.STAN+" sent")
	} else {
		msg = &wire.Txn{MTI: s.MTI, STAN: x.Request.STAN, TID: x.Request.TID, MID: x.Request.MID}
		applyOverrides(msg, s.Fields)
		f.fault(x, r, "unsolicited "+msg.MTI+" sent")
	}
	_ = x.Conn.Send(msg)
}

// hold waits until the request's reversal arrives (or the timeout passes).
func (f *Faults) hold(ctx context.Context, x *acquirer.Exchange, r *compiled, h *HoldSpec) bool {
	mti := x.Request.MTI[:3] + "0"
	k := holdKey(x.Request.TID, mti, x.Request.STAN)
	ch := make(chan struct{})
	f.mu.Lock()
	f.holds[k] = ch
	f.mu.Unlock()
	f.fault(x, r, "response held until a reversal arrives")
	timeout := h.Timeout.D()
	if timeout <= 0 {
		timeout = 24 * time.Hour
	}
	t := time.NewTimer(f.env.scale(timeout))
	defer t.Stop()
	select {
	case <-ch:
		f.fault(x, r, "reversal arrived: held response released")
	case <-t.C:
		f.mu.Lock()
		delete(f.holds, k)
		f.mu.Unlock()
		f.fault(x, r, "hold timed out: response released")
	case <-ctx.Done():
		return false
	}
	return true
}

// refuse takes the host off the network and schedules its return.
func (f *Faults) refuse(x *acquirer.Exchange, r *compiled, s *RefuseSpec) {
	a := f.env.Acquirer()
	f.fault(x, r, fmt.Sprintf("host refuses connections for %s", s.For))
	if s.Mode == "close" {
		x.Conn.Close()
		return
	}
	a.Pause()
	f.env.After(f.env.scale(s.For.D()), func() { _ = a.Resume() })
}

// upstream simulates an issuer behind the host: when it is slower than the
// host's upstream timeout, the host answers 68 without booking, and the
// issuer's late approval is reversed upstream.
func (f *Faults) upstream(ctx context.Context, x *acquirer.Exchange, r *compiled, u *UpstreamSpec, resp **wire.Txn, processed *bool) bool {
	wait := min(u.Latency.D(), u.Timeout.D())
	if !f.sleep(ctx, wait) {
		return false
	}
	if u.Latency <= u.Timeout {
		f.fault(x, r, fmt.Sprintf("issuer answered after %s", u.Latency))
		*processed = true
		*resp = x.Process()
		return true
	}
	f.fault(x, r, fmt.Sprintf("issuer silent for %s (upstream timeout): answered 68; its late approval is reversed upstream", u.Timeout))
	*resp = x.Request.Response("68")
	return true
}

// issuerScript is the value of a 72 template: script identifier 9F18
// 00000001, then one command (86): 04 DA 9F 58 04 (PUT DATA 9F58, secure
// messaging) with the value 03 and a 3-byte MAC placeholder.
var issuerScript = []byte{0x9F, 0x18, 0x04, 0x00, 0x00, 0x00, 0x01, 0x86, 0x09, 0x04, 0xDA, 0x9F, 0x58, 0x04, 0x03, 0x00, 0x00, 0x00}

// mutateICC rewrites the chip data of a response; chip data that does not
// parse is left as it is.
func mutateICC(icc []byte, f func(emv.List) emv.List) []byte {
	l, err := emv.Parse(icc)
	if err != nil {
		return icc
	}
	return f(l).Bytes()
}
