package load

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func TestRunAgainstBaseline(t *testing.T) {
	b, err := StartBaseline("127.0.0.1:0", wire.ISO87)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	// the run lasts until its first progress report (about a second): a
	// run of a fixed 1.2 s raced its end against the report
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	progress := make(chan Progress, 10)
	res, err := Run(ctx, Options{Target: b.Addr(), Terminals: 4,
		Progress: func(p Progress) {
			select {
			case progress <- p:
			default:
			}
			cancel()
		}}, time.Minute)
	require.NoError(t, err)
	require.Positive(t, res.Responses)
	require.Equal(t, res.Responses, res.Codes["00"])
	require.Equal(t, res.Responses, res.Ops["sale"])
	require.Empty(t, res.Errors)
	require.Positive(t, res.Latency.P50)
	require.LessOrEqual(t, res.Latency.P50, res.Latency.Max)
	require.NotEmpty(t, res.Series)
	require.LessOrEqual(t, res.Series[0].P50, res.Series[0].P99)
	require.NotEmpty(t, progress, "progress is reported about once a second")
}

func TestRunRate(t *testing.T) {
	b, err := StartBaseline("127.0.0.1:0", wire.ISO87)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	res, err := Run(context.Background(), Options{Target: b.Addr(), Terminals: 2, Rate: 50}, time.Second)
	require.NoError(t, err)
	// a target rate bounds the count: 50/s for one second, give or take the start
	require.LessOrEqual(t, res.Responses, int64(60))
	require.Positive(t, res.Responses)
}

// A target that refuses connections: the run says which terminal could
// not connect where, and why, at once (no retry loop, no wait for the
// run's duration).
func TestRunRefused(t *testing.T) {
	addr := refusingAddr(t)
	done := make(chan error, 1)
	go func() {
		_, err := Run(t.Context(), Options{Target: addr, Terminals: 3}, time.Hour)
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, syscall.ECONNREFUSED)
		require.ErrorContains(t, err, "connecting terminal 1 to "+addr)
	case <-time.After(10 * time.Second):
		require.FailNow(t, "Run hangs on a target that refuses connections")
	}
}

// refusingAddr is an address on 127.0.0.1 that nothing listens on.
func refusingAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// Options that cannot make a fleet are refused before any connection.
func TestDial_RefusesBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"no terminals", Options{Terminals: 0}, "at least one terminal"},
		{"a terminal ID prefix longer than DE41 allows", Options{Terminals: 1, TIDPrefix: "ABCDEFGH"}, "at most 7 characters"},
		{"more terminals than the digits after the prefix", Options{Terminals: 10, TIDPrefix: "ABCDEFG"}, "10 terminals do not fit 1 digits"},
		{"a profile without a compiled codec", Options{Terminals: 1, Profile: uncompiled{wire.ISO87}}, "no compiled codec"},
	} {
		// nothing listens on the target: a fleet that tried to connect
		// would fail with another error
		tc.o.Target = refusingAddr(t)
		_, err := Dial(tc.o)
		require.ErrorContains(t, err, tc.want, tc.name)
		require.NotErrorIs(t, err, syscall.ECONNREFUSED, tc.name)
	}
}

// Terminal IDs are the prefix and a number filling DE41's eight
// characters: nine terminals fit after a seven-character prefix, and each
// one's requests carry its own ID and the fleet's merchant.
func TestDial_NamesTerminals(t *testing.T) {
	h := startScriptHost(t, func(_ int, req *wire.Txn, _ []*wire.Txn) []reply { return []reply{answer(req, "00")} })
	f, err := Dial(Options{Target: h.Addr(), Terminals: 9, TIDPrefix: "ABCDEFG", MID: "MERCHANT0000042", Timeout: time.Second})
	require.NoError(t, err)
	t.Cleanup(f.Close)
	var tids []string
	for _, term := range f.terms {
		require.True(t, f.one(t.Context(), term, newShard(), time.Now(), new(atomic.Int64), new(atomic.Int64)))
		req := h.requests(t, 1)[0]
		require.Equal(t, "MERCHANT0000042", req.MID)
		require.Equal(t, "000001", req.STAN, "each terminal its own STAN space")
		tids = append(tids, req.TID)
	}
	require.Equal(t, []string{"ABCDEFG1", "ABCDEFG2", "ABCDEFG3", "ABCDEFG4", "ABCDEFG5", "ABCDEFG6", "ABCDEFG7", "ABCDEFG8", "ABCDEFG9"}, tids)

	_, err = (&Fleet{}).Run(t.Context(), 0)
	require.ErrorContains(t, err, "duration must be positive")
}

// A target that goes away during a run: the terminals keep trying to
// connect again (to reverse what they were waiting for), and cancelling
// the context ends the run, which counts the lost connection.
func TestRun_TargetGoesAway(t *testing.T) {
	h := startScriptHost(t, func(int, *wire.Txn, []*wire.Txn) []reply { return nil })
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := Run(ctx, Options{Target: h.Addr(), Terminals: 1, Timeout: 10 * time.Second}, 100*time.Millisecond)
		done <- outcome{res, err}
	}()
	h.requests(t, 1)
	h.Close() // the first request is never answered: its connection and the listener go
	cancel()
	select {
	case o := <-done:
		require.NoError(t, o.err)
		require.Equal(t, int64(1), o.res.Errors["connection"], "errors %v", o.res.Errors)
		require.Zero(t, o.res.Responses)
		require.Zero(t, o.res.Errors["reconnected"])
	case <-time.After(10 * time.Second):
		require.FailNow(t, "Run does not end when its context is cancelled")
	}
}

func startAcquirer(t *testing.T, opts ...acquirer.Option) *acquirer.Acquirer {
	t.Helper()
	a, err := acquirer.New(opts...) // the built-in card "unlimited" never runs out
	require.NoError(t, err)
	require.NoError(t, a.Listen("127.0.0.1:0"))
	t.Cleanup(func() { a.Close() })
	return a
}

func TestRunMix(t *testing.T) {
	a := startAcquirer(t)
	mix, err := ParseMix("sale=50,void=20,refund=20,decline=10")
	require.NoError(t, err)
	res, err := Run(context.Background(), Options{Target: a.Addr(), Terminals: 4, Mix: mix, Seed: 7}, time.Second)
	require.NoError(t, err)
	require.Empty(t, res.Errors)
	for _, op := range []string{"sale", "void", "refund", "decline"} {
		require.Positive(t, res.Ops[op], op)
	}
	require.Equal(t, res.Ops["decline"], res.Codes["51"], "declines use the insufficient-funds card")
	require.Equal(t, res.Responses-res.Ops["decline"], res.Codes["00"], "voids and refunds refer to approved sales")
	require.Len(t, a.Engine().Snapshot().Records, int(res.Responses))
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix("sale=8, void=1,refund=1")
	require.NoError(t, err)
	require.Equal(t, Mix{Sale: 8, Void: 1, Refund: 1}, m)
	m, err = ParseMix("")
	require.NoError(t, err)
	require.Equal(t, Mix{Sale: 1}, m)
	for _, bad := range []string{"sale", "sale=x", "sale=-1", "payout=3", "sale=0"} {
		_, err := ParseMix(bad)
		require.Error(t, err, bad)
	}
}

// dropEvery processes every request and loses the answer to every nth sale.
type dropEvery struct {
	mu   sync.Mutex
	n, i int
}

func (d *dropEvery) Handle(_ context.Context, x *acquirer.Exchange) { d.HandleInline(x) }

func (d *dropEvery) HandleInline(x *acquirer.Exchange) {
	resp := x.Process()
	d.mu.Lock()
	drop := false
	if x.Request.Op == wire.OpSale {
		d.i++
		drop = d.i%d.n == 0
	}
	d.mu.Unlock()
	if !drop && resp != nil {
		_ = x.Respond(resp)
	}
}

func TestRunReversesTimeouts(t *testing.T) {
	// the timeout that must fire on the lost answers is also the one of
	// the answers that come and of the reversals, which must not: 5 s (the
	// default), far above a loaded machine's jitter; the run drains, so
	// the test waits it out once
	t.Parallel()
	a := startAcquirer(t, acquirer.WithHandler(&dropEvery{n: 10}))
	res, err := Run(context.Background(), Options{Target: a.Addr(), Terminals: 4, Timeout: 5 * time.Second}, 1500*time.Millisecond)
	require.NoError(t, err)
	require.Positive(t, res.Reversals.Timeouts)
	require.Equal(t, res.Reversals.Timeouts, res.Errors["timeout"])
	require.Equal(t, res.Reversals.Timeouts, res.Reversals.Acknowledged, "every lost answer reversed")
	require.Zero(t, res.Reversals.Failed)
	require.Len(t, res.Reversed, int(res.Reversals.Timeouts))
	for _, ref := range res.Reversed {
		recs := a.Engine().Find(ref.TID, ref.MTI, ref.STAN)
		require.Len(t, recs, 1)
		require.Equal(t, acquirer.StatusReversed, recs[0].Status)
	}
}

// fleetPair starts an acquirer and a baseline and dials two terminals to
// each.
func fleetPair(t *testing.T) (fa, fb *Fleet) {
	t.Helper()
	a := startAcquirer(t)
	b, err := StartBaseline("127.0.0.1:0", wire.ISO87)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	fa, err = Dial(Options{Target: a.Addr(), Terminals: 2})
	require.NoError(t, err)
	t.Cleanup(fa.Close)
	fb, err = Dial(Options{Target: b.Addr(), Terminals: 2, TIDPrefix: "B"})
	require.NoError(t, err)
	t.Cleanup(fb.Close)
	return fa, fb
}

func TestCompare(t *testing.T) {
	fa, fb := fleetPair(t)
	ra, rb, err := Compare(context.Background(), fa, fb, 1200*time.Millisecond, 200*time.Millisecond, 4)
	require.NoError(t, err)
	require.InDelta(t, 1.2, ra.Duration, 0.2, "four rounds of 300 ms")
	require.InDelta(t, 1.2, rb.Duration, 0.2)
	require.Positive(t, ra.Responses)
	require.Positive(t, rb.Responses)
	require.Equal(t, ra.Responses, ra.Codes["00"])
	var sum int64
	for _, s := range ra.Series {
		sum += s.Responses
	}
	require.Equal(t, ra.Responses, sum, "the merged series holds every response")
}

// Under cup every terminal signs on first and signs its requests with its
// MAC key: the host approves sales and voids and declines what it must,
// never answering 77 (not signed on) or A0 (bad MAC).
func TestRunCUPSignsOnAndSigns(t *testing.T) {
	a := startAcquirer(t, acquirer.WithProfile(wire.CUP))
	mix, err := ParseMix("sale=60,void=20,refund=10,decline=10")
	require.NoError(t, err)
	res, err := Run(context.Background(), Options{Target: a.Addr(), Terminals: 3, Profile: wire.CUP, Mix: mix, Seed: 3}, time.Second)
	require.NoError(t, err)
	require.Positive(t, res.Codes["00"])
	require.Positive(t, res.Codes["51"], "the decline card")
	require.Positive(t, res.Ops["void"])
	require.Zero(t, res.Codes["77"]+res.Codes["A0"], "codes %v", res.Codes)
	require.Empty(t, res.Errors)
}

// The echo answers each request with itself under the response MTI: the
// fleet counts the answers (they carry no DE39) and reads no error.
func TestRunAgainstEcho(t *testing.T) {
	for _, p := range []wire.Profile{wire.ISO87, wire.CUP} {
		e, err := StartEcho("127.0.0.1:0", p)
		require.NoError(t, err)
		res, err := Run(context.Background(), Options{Target: e.Addr(), Terminals: 2, Profile: p, SkipSignOn: true}, 500*time.Millisecond)
		require.NoError(t, err, p.Name())
		require.Positive(t, res.Responses, p.Name())
		require.Empty(t, res.Errors, p.Name())
		require.NoError(t, e.Close())
	}
}

// A request template's changing fields are found where they are: a frame
// the fleet patched decodes to the values it wrote.
func TestTemplatesPatchTheRightBytes(t *testing.T) {
	for _, p := range []wire.Profile{wire.ISO87, wire.CUP} {
		f := &Fleet{o: Options{Profile: p, PAN: "6200000000009998", DeclinePAN: "6200000000000104", MID: "M1"}, fp: p.(wire.CompiledProfile), codec: wire.NewCodec(p)}
		tmpl, err := f.templates("L0000001")
		require.NoError(t, err, p.Name())
		tt := &terminal{tid: "L0000001"}
		now := time.Date(2026, 11, 27, 13, 14, 15, 0, time.Local)
		frame := f.request(tt, tmpl["void"], 4321, now, 98765, "123456789012")
		body := frame[tmpl["void"].body:]
		var fs wire.Fields
		require.NoError(t, p.(wire.CompiledProfile).Compiled().Unpack(body, &fs), p.Name())
		x, err := p.(wire.CompiledProfile).DecodeFrom(&fs)
		require.NoError(t, err, p.Name())
		require.Equal(t, "004321", x.STAN, p.Name())
		require.Equal(t, int64(98765), x.Amount, p.Name())
		require.Equal(t, "123456789012", x.RRN, p.Name())
		require.Equal(t, "L0000001", x.TID, p.Name())
		require.Equal(t, wire.OpVoid, x.Op, p.Name())
		if tmpl["void"].de7.n > 0 {
			require.Equal(t, wire.TransmissionTimeOf(now), x.TransmissionTime, p.Name())
		}
		if tmpl["void"].de12.n > 0 {
			require.Equal(t, "131415", x.LocalTime, p.Name())
			require.Equal(t, "1127", x.LocalDate, p.Name())
		}
	}
}
