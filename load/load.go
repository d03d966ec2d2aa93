// Package load pushes traffic from a fleet of emulated terminals at an
// acquirer and measures throughput and latency (HDR histograms), errors and
// response codes; a bare echo server gives the baseline to compare with.
//
// A Fleet connects its terminals once and can run several measured rounds;
// Compare alternates rounds against two targets so that both see the same
// machine, warm-up and drift.
package load

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/moov-io/iso8583"
	connection "github.com/moov-io/iso8583-connection"
	"github.com/posim/posim/wire"
)

// Options configure a fleet.
type Options struct {
	// Target is the acquirer's address; TLS, when set, makes the links TLS.
	Target string
	TLS    *tls.Config
	// Terminals is the fleet size: one connection, TID and STAN space each.
	Terminals int
	// Rate is the total requests per second; 0 runs closed loop (each
	// terminal sends its next request when the last one is answered).
	Rate float64
	// Profile is the dialect (default iso87).
	Profile wire.Profile
	// Mix weighs the operations; the zero value sends sales only.
	Mix Mix
	// PAN is the card approved sales use (default: the built-in card
	// "unlimited", which never runs out); DeclinePAN the card declines use
	// (default: "insufficient-funds", 51).
	PAN, DeclinePAN string
	// Timeout is each request's response timeout; an unanswered sale or
	// void is reversed, as a terminal does.
	Timeout time.Duration
	// Seed makes the operation mix reproducible.
	Seed int64
	// TIDPrefix starts every terminal ID (default "L"): two fleets at one
	// host need different prefixes. MID is the merchant (DE42) of them all.
	TIDPrefix, MID string
	// Progress, when set, is called about once a second.
	Progress func(Progress)
}

// Mix is the relative weight of each operation in a run.
type Mix struct {
	Sale, Void, Refund, Decline int
}

// ParseMix reads "sale=70,void=10,refund=10,decline=10" (weights, any scale).
func ParseMix(s string) (Mix, error) {
	var m Mix
	if strings.TrimSpace(s) == "" {
		return Mix{Sale: 1}, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if !ok || err != nil || n < 0 {
			return m, fmt.Errorf("mix %q: want op=weight, like sale=80,void=10", part)
		}
		switch strings.TrimSpace(k) {
		case "sale":
			m.Sale = n
		case "void":
			m.Void = n
		case "refund":
			m.Refund = n
		case "decline":
			m.Decline = n
		default:
			return m, fmt.Errorf("mix %q: unknown operation %q (want sale, void, refund or decline)", s, k)
		}
	}
	if m.total() == 0 {
		return m, fmt.Errorf("mix %q: all weights are zero", s)
	}
	return m, nil
}

func (m Mix) total() int { return m.Sale + m.Void + m.Refund + m.Decline }

// String is the mix as ParseMix reads it.
func (m Mix) String() string {
	return fmt.Sprintf("sale=%d,void=%d,refund=%d,decline=%d", m.Sale, m.Void, m.Refund, m.Decline)
}

// Progress is a running count.
type Progress struct {
	Elapsed   time.Duration
	Responses int64
	Errors    int64
}

// Latency percentiles in milliseconds.
type Latency struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
}

// Second is one second of measured time.
type Second struct {
	T         int     `json:"t"`
	Responses int64   `json:"responses"`
	P50       float64 `json:"p50_ms"`
	P90       float64 `json:"p90_ms"`
	P99       float64 `json:"p99_ms"`
}

// Reversals are what the fleet did about requests left unanswered.
type Reversals struct {
	// Timeouts are requests (of any operation) whose response did not come
	// in time; Lost those whose connection dropped before the answer.
	Timeouts int64 `json:"timeouts"`
	Lost     int64 `json:"connection_lost"`
	// Sent counts reversals sent, repeats included; Acknowledged those
	// answered; Failed the originals whose reversal was never answered.
	Sent         int64 `json:"sent"`
	Acknowledged int64 `json:"acknowledged"`
	Failed       int64 `json:"failed"`
}

// Ref identifies a request a terminal reversed.
type Ref struct {
	TID, MTI, STAN string
}

// Result is what a run measured.
type Result struct {
	Target     string           `json:"target"`
	Terminals  int              `json:"terminals"`
	Mix        string           `json:"mix"`
	Duration   float64          `json:"duration_s"`
	Requests   int64            `json:"requests"`
	Responses  int64            `json:"responses"`
	Throughput float64          `json:"throughput_per_s"`
	Latency    Latency          `json:"latency"`
	Errors     map[string]int64 `json:"errors"`
	Codes      map[string]int64 `json:"response_codes"`
	Ops        map[string]int64 `json:"operations"`
	Reversals  Reversals        `json:"reversals"`
	Series     []Second         `json:"series"`

	// Reversed lists the requests the terminals reversed (after a timeout
	// or a lost connection).
	Reversed []Ref `json:"-"`

	hist    *hdrhistogram.Histogram
	seconds []*hdrhistogram.Histogram
}

const (
	histMax = int64(time.Minute / time.Microsecond)
	shards  = 16 // histograms shared by terminals i, i+16, ...
)

func newHist(digits int) *hdrhistogram.Histogram { return hdrhistogram.New(1, histMax, digits) }

// shard is the measurements of a group of terminals.
type shard struct {
	mu      sync.Mutex
	hist    *hdrhistogram.Histogram
	seconds []*hdrhistogram.Histogram
	errs    map[string]int64
	codes   map[string]int64
	ops     map[string]int64
	sent    int64
	rev     Reversals
	refs    []Ref
}

func newShard() *shard {
	return &shard{hist: newHist(3), errs: map[string]int64{}, codes: map[string]int64{}, ops: map[string]int64{}}
}

func (s *shard) record(sec int, lat time.Duration, op, rc string) {
	us := max(lat.Microseconds(), 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.hist.RecordValue(us)
	for len(s.seconds) <= sec {
		s.seconds = append(s.seconds, nil)
	}
	if s.seconds[sec] == nil {
		s.seconds[sec] = newHist(2)
	}
	_ = s.seconds[sec].RecordValue(us)
	s.codes[rc]++
	s.ops[op]++
}

// locked runs fn under the shard's lock: terminals share a shard.
func (s *shard) locked(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn()
}

func (s *shard) count(m map[string]int64, k string) { s.locked(func() { m[k]++ }) }

// terminal is one emulated terminal: its connection, identity and the last
// approved sale it can void or refund.
type terminal struct {
	conn *connection.Connection
	tid  string
	stan int
	rng  *rand.Rand
	last *wire.Txn // the last approved sale not yet voided, with its RRN
}

func (t *terminal) nextSTAN() string {
	t.stan = t.stan%999_999 + 1
	return fmt.Sprintf("%06d", t.stan)
}

// Fleet is a set of connected terminals. Run it one or more times; Close it
// when done.
type Fleet struct {
	o     Options
	codec *wire.Codec
	terms []*terminal

	lastSec int // the last second of the current run

	mu       sync.Mutex
	reversal Reversals // over every run, warm-ups included
	reversed []Ref
}

// Reversals returns what the fleet did about unanswered requests over all
// its runs, warm-ups included, with the requests it reversed: what a fault
// check compares with the host's rules and ledger.
func (f *Fleet) Reversals() (Reversals, []Ref) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reversal, append([]Ref(nil), f.reversed...)
}

// Dial connects the fleet's terminals to o.Target.
func Dial(o Options) (*Fleet, error) {
	if o.Terminals < 1 {
		return nil, errors.New("load: need at least one terminal")
	}
	if o.Profile == nil {
		o.Profile = wire.ISO87
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.PAN == "" {
		o.PAN = "6200000000009998"
	}
	if o.DeclinePAN == "" {
		o.DeclinePAN = "6200000000000104"
	}
	if o.TIDPrefix == "" {
		o.TIDPrefix = "L"
	}
	if len(o.TIDPrefix) > 7 {
		return nil, fmt.Errorf("load: terminal ID prefix %q: at most 7 characters (DE41 has 8)", o.TIDPrefix)
	}
	if digits := 8 - len(o.TIDPrefix); o.Terminals > int(math.Pow10(digits))-1 {
		return nil, fmt.Errorf("load: %d terminals do not fit %d digits after the prefix %q", o.Terminals, digits, o.TIDPrefix)
	}
	if o.MID == "" {
		o.MID = "LOAD00000000001"
	}
	if o.Mix.total() == 0 {
		o.Mix = Mix{Sale: 1}
	}
	f := &Fleet{o: o, codec: wire.NewCodec(o.Profile)}
	for i := range o.Terminals {
		c, err := f.dial()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("load: connecting terminal %d to %s: %w", i+1, o.Target, err)
		}
		f.terms = append(f.terms, &terminal{
			conn: c, tid: fmt.Sprintf("%s%0*d", o.TIDPrefix, 8-len(o.TIDPrefix), i+1),
			rng: rand.New(rand.NewPCG(uint64(o.Seed), uint64(i))),
		})
	}
	return f, nil
}

// dial opens one terminal connection.
func (f *Fleet) dial() (*connection.Connection, error) {
	o := f.o
	opts := []connection.Option{
		connection.SetMessageReader(f.codec), connection.SetMessageWriter(f.codec),
		connection.SetRequestIDGenerator(wire.RequestIDByClass{}),
		connection.SendTimeout(o.Timeout), connection.IdleTime(time.Hour), connection.ReadTimeout(time.Hour),
		connection.ConnectTimeout(5 * time.Second),
	}
	if o.TLS != nil {
		opts = append(opts, connection.SetTLSConfig(func(c *tls.Config) {
			c.RootCAs, c.Certificates, c.MinVersion = o.TLS.RootCAs, o.TLS.Certificates, o.TLS.MinVersion
		}))
	}
	c, err := connection.New(o.Target, o.Profile.Spec(), nil, nil, opts...)
	if err == nil {
		err = c.Connect()
	}
	return c, err
}

// redial replaces a terminal's dropped connection, retrying with a growing
// pause (up to a second) until ctx ends; false when it ends first.
func (f *Fleet) redial(ctx context.Context, t *terminal, s *shard) bool {
	t.conn.Close()
	pause := 10 * time.Millisecond
	for {
		c, err := f.dial()
		if err == nil {
			t.conn = c
			s.count(s.errs, "reconnected")
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// Close disconnects every terminal.
func (f *Fleet) Close() {
	for _, t := range f.terms {
		t.conn.Close()
	}
}

// Run drives the fleet for d (or until ctx is done) and returns what it
// measured. Reversals of unanswered requests are finished before it returns,
// even when the time is up: a run drains.
func (f *Fleet) Run(ctx context.Context, d time.Duration) (*Result, error) {
	if d <= 0 {
		return nil, errors.New("load: duration must be positive")
	}
	o := f.o
	f.lastSec = int((d - 1) / time.Second)
	runCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var sh [shards]*shard
	for i := range sh {
		sh[i] = newShard()
	}
	var responses, failures atomic.Int64
	start := time.Now()
	var interval time.Duration
	if o.Rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(len(f.terms)) / o.Rate)
	}
	var wg sync.WaitGroup
	for i, t := range f.terms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := sh[i%shards]
			next := time.Now()
			if interval > 0 { // spread the terminals over the first interval
				next = next.Add(time.Duration(int64(interval) * int64(i) / int64(len(f.terms))))
			}
			for runCtx.Err() == nil {
				if interval > 0 {
					if wait := time.Until(next); wait > 0 {
						select {
						case <-time.After(wait):
						case <-runCtx.Done():
							return
						}
					}
					next = next.Add(interval)
				}
				if !f.one(ctx, t, s, start, &responses, &failures) {
					return
				}
			}
		}()
	}
	if o.Progress != nil {
		go func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-runCtx.Done():
					return
				case <-tick.C:
					o.Progress(Progress{Elapsed: time.Since(start), Responses: responses.Load(), Errors: failures.Load()})
				}
			}
		}()
	}
	wg.Wait()
	elapsed := min(time.Since(start), d)
	res := &Result{Target: o.Target, Terminals: len(f.terms), Mix: o.Mix.String(), Duration: elapsed.Seconds(),
		Errors: map[string]int64{}, Codes: map[string]int64{}, Ops: map[string]int64{}, hist: newHist(3)}
	for _, s := range sh {
		res.hist.Merge(s.hist)
		res.Requests += s.sent
		addCounts(res.Errors, s.errs)
		addCounts(res.Codes, s.codes)
		addCounts(res.Ops, s.ops)
		res.Reversals.add(s.rev)
		res.Reversed = append(res.Reversed, s.refs...)
		for sec, h := range s.seconds {
			if h == nil {
				continue
			}
			for len(res.seconds) <= sec {
				res.seconds = append(res.seconds, nil)
			}
			if res.seconds[sec] == nil {
				res.seconds[sec] = newHist(2)
			}
			res.seconds[sec].Merge(h)
		}
	}
	res.finish()
	f.mu.Lock()
	f.reversal.add(res.Reversals)
	f.reversed = append(f.reversed, res.Reversed...)
	f.mu.Unlock()
	return res, nil
}

func addCounts(dst, src map[string]int64) {
	for k, v := range src {
		dst[k] += v
	}
}

func (r *Reversals) add(o Reversals) {
	r.Timeouts += o.Timeouts
	r.Lost += o.Lost
	r.Sent += o.Sent
	r.Acknowledged += o.Acknowledged
	r.Failed += o.Failed
}

// one sends one request and records it; false stops the terminal.
func (f *Fleet) one(ctx context.Context, t *terminal, s *shard, start time.Time, responses, failures *atomic.Int64) bool {
	o := f.o
	op := f.pick(t)
	now := time.Now()
	req := &wire.Txn{Op: wire.OpSale, PAN: o.PAN, Amount: 100 + int64(t.rng.IntN(900)), HasAmount: true,
		TransmissionTime: wire.TransmissionTimeOf(now), STAN: t.nextSTAN(), TID: t.tid, MID: o.MID,
		Currency: "156", Condition: wire.CondNormal, Batch: "000001", EntryMode: "021"}
	switch op {
	case "decline":
		req.PAN = o.DeclinePAN
	case "void":
		req.Op, req.ProcessingCode, req.RRN, req.Amount = wire.OpVoid, wire.PCVoid, t.last.RRN, t.last.Amount
		req.EntryMode = "012"
	case "refund":
		req.Op, req.ProcessingCode, req.RRN, req.Amount = wire.OpRefund, wire.PCRefund, t.last.RRN, min(t.last.Amount, 50)
		req.EntryMode = "012"
	}
	m, err := o.Profile.Encode(req)
	if err != nil {
		s.count(s.errs, "encode")
		failures.Add(1)
		return true
	}
	s.locked(func() { s.sent++ })
	resp, err := t.conn.Send(m)
	lat := time.Since(now)
	switch {
	case errors.Is(err, connection.ErrSendTimeout):
		s.count(s.errs, "timeout")
		s.locked(func() { s.rev.Timeouts++ })
		failures.Add(1)
		f.reverse(ctx, t, s, req, m, op)
		return true
	case err != nil:
		// the connection dropped, perhaps after the request left: like a
		// terminal, connect again and reverse what may have been booked
		s.count(s.errs, "connection")
		failures.Add(1)
		if !f.redial(ctx, t, s) {
			return false
		}
		s.locked(func() { s.rev.Lost++ })
		f.reverse(ctx, t, s, req, m, op)
		return true
	}
	rc, _ := resp.GetString(39)
	// a request sent in the last instant counts in the run's last second
	s.record(min(int(now.Sub(start)/time.Second), f.lastSec), lat, op, rc)
	responses.Add(1)
	if rc == "00" {
		switch op {
		case "sale":
			req.RRN, _ = resp.GetString(37)
			t.last = req
		case "void", "refund":
			t.last = nil // one reference per sale keeps voids and refunds valid
		}
	}
	return true
}

// pick chooses the next operation by the mix; voids and refunds need an
// approved sale to refer to, and become sales until there is one.
func (f *Fleet) pick(t *terminal) string {
	m := f.o.Mix
	n := t.rng.IntN(m.total())
	op := "sale"
	switch {
	case n < m.Sale:
	case n < m.Sale+m.Void:
		op = "void"
	case n < m.Sale+m.Void+m.Refund:
		op = "refund"
	default:
		op = "decline"
	}
	if (op == "void" || op == "refund") && t.last == nil {
		op = "sale"
	}
	return op
}

// reverse sends the reversal of an unanswered sale or void, repeating it
// until it is answered (at most five times), as a terminal must before its
// next transaction. A reversed void leaves its sale standing: it stays the
// terminal's last.
func (f *Fleet) reverse(ctx context.Context, t *terminal, s *shard, orig *wire.Txn, sent *iso8583.Message, op string) {
	if op == "refund" {
		return // a refund is not reversed (rule R1), and this fleet does not retransmit it
	}
	// the reversal copies what was on the wire
	orig.MTI, _ = sent.GetMTI()
	orig.ProcessingCode, _ = sent.GetString(3)
	acknowledged := false
	rev := f.o.Profile.Reversal(orig, wire.ReasonNoResponse, t.nextSTAN(), time.Now())
	for attempt := range 5 {
		if attempt > 0 {
			rev = f.o.Profile.Repeat(rev)
		}
		m, err := f.o.Profile.Encode(rev)
		if err != nil {
			break
		}
		s.locked(func() { s.rev.Sent++ })
		if _, err = t.conn.Send(m); err == nil {
			acknowledged = true
			break
		}
		if ctx.Err() != nil {
			break
		}
		if !errors.Is(err, connection.ErrSendTimeout) && !f.redial(ctx, t, s) {
			break // the connection dropped and could not be made again
		}
	}
	s.locked(func() {
		if acknowledged {
			s.rev.Acknowledged++
		} else {
			s.rev.Failed++
		}
		s.refs = append(s.refs, Ref{TID: orig.TID, MTI: orig.MTI, STAN: orig.STAN})
	})
}

// finish computes the summary figures from the histograms.
func (r *Result) finish() {
	r.Responses = r.hist.TotalCount()
	if r.Duration > 0 {
		r.Throughput = float64(r.Responses) / r.Duration
	}
	r.Latency = Latency{P50: ms(r.hist.ValueAtQuantile(50)), P90: ms(r.hist.ValueAtQuantile(90)), P99: ms(r.hist.ValueAtQuantile(99)),
		P999: ms(r.hist.ValueAtQuantile(99.9)), Max: ms(r.hist.Max())}
	r.Series = r.Series[:0]
	for sec, h := range r.seconds {
		if h != nil {
			r.Series = append(r.Series, Second{T: sec, Responses: h.TotalCount(),
				P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)), P99: ms(h.ValueAtQuantile(99))})
		}
	}
	sort.Slice(r.Reversed, func(i, j int) bool {
		a, b := r.Reversed[i], r.Reversed[j]
		return a.TID < b.TID || a.TID == b.TID && a.STAN < b.STAN
	})
}

func ms(us int64) float64 { return math.Round(float64(us)/10) / 100 }

// Merge adds a later round's results to r: counts add up, histograms merge
// and the later round's seconds follow r's.
func (r *Result) Merge(o *Result) {
	r.Duration += o.Duration
	r.Requests += o.Requests
	r.hist.Merge(o.hist)
	addCounts(r.Errors, o.Errors)
	addCounts(r.Codes, o.Codes)
	addCounts(r.Ops, o.Ops)
	r.Reversals.add(o.Reversals)
	r.Reversed = append(r.Reversed, o.Reversed...)
	r.seconds = append(r.seconds, o.seconds...)
	r.finish()
}

// Run connects a fleet, drives it for d and closes it.
func Run(ctx context.Context, o Options, d time.Duration) (*Result, error) {
	f, err := Dial(o)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Run(ctx, d)
}
