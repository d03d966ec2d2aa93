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
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	posterm "github.com/posim/posim/terminal"
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
	// SkipSignOn: the target is no acquirer (a bare server or an echo)
	// and issues no working keys; requests go unsigned.
	SkipSignOn bool
	// Progress, when set, is called about once a second.
	Progress func(Progress)
}

// The operations of a fleet: the catalogue's sale, void and refund
// (posterm.Operations), and a decline, a sale of the card the host
// declines.
const (
	opSale    = string(wire.OpSale)
	opVoid    = string(wire.OpVoid)
	opRefund  = string(wire.OpRefund)
	opDecline = "decline"
)

// fleetOps are the operations a fleet sends, in the order a mix names them.
var fleetOps = []string{opSale, opVoid, opRefund, opDecline}

// Mix is the relative weight of each operation in a run.
type Mix struct {
	Sale, Void, Refund, Decline int
}

// weight returns where op's weight is kept.
func (m *Mix) weight(op string) *int {
	switch op {
	case opSale:
		return &m.Sale
	case opVoid:
		return &m.Void
	case opRefund:
		return &m.Refund
	case opDecline:
		return &m.Decline
	}
	return nil
}

// ParseMix reads "sale=70,void=10,refund=10,decline=10" (weights, any
// scale). Operations are named as in the terminal's catalogue.
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
		name := strings.TrimSpace(k)
		if op, ok := posterm.Lookup(name); ok {
			name = op.Name()
		}
		w := m.weight(name)
		if w == nil {
			why := "unknown operation"
			if _, ok := posterm.Lookup(name); ok {
				why = "an operation posim load does not send"
			}
			return m, fmt.Errorf("mix %q: %s %q (want %s)", s, why, k, strings.Join(fleetOps, ", "))
		}
		*w = n
	}
	if m.total() == 0 {
		return m, fmt.Errorf("mix %q: all weights are zero", s)
	}
	return m, nil
}

func (m Mix) total() int { return m.Sale + m.Void + m.Refund + m.Decline }

// String is the mix as ParseMix reads it.
func (m Mix) String() string {
	parts := make([]string, len(fleetOps))
	for i, op := range fleetOps {
		parts[i] = fmt.Sprintf("%s=%d", op, *m.weight(op))
	}
	return strings.Join(parts, ",")
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

// (terminals, dialling and the exchange of one request: lean.go)

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
