package load

import (
	"encoding/json"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// latencies returns n latencies from `from` in steps of `step`, in a
// seeded random order (a histogram must not depend on the order).
func latencies(from, step time.Duration, n int, seed uint64) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = from + time.Duration(i)*step
	}
	rand.New(rand.NewPCG(seed, 0)).Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// measured records the latencies of each second as approved sales, as a
// terminal's shard does, and sums them up as a run does over d.
func measured(d time.Duration, bySecond map[int][]time.Duration) *Result {
	s := newShard()
	for sec, lats := range bySecond {
		for _, l := range lats {
			s.record(sec, l, "sale", "00")
		}
	}
	r := &Result{Duration: d.Seconds(), Errors: s.errs, Codes: s.codes, Ops: s.ops, Reversals: s.rev, Reversed: s.refs,
		hist: s.hist, seconds: s.seconds}
	r.finish()
	return r
}

// The percentiles of a known set: 10 µs, 20 µs ... 1000 µs. By nearest
// rank, p50 is the 50th value (500 µs), p90 the 90th (900 µs), p99 the 99th
// (990 µs), p99.9 the 100th (1000 µs). Below 2048 µs the histogram (three
// significant digits) holds every microsecond exactly.
func TestResult_PercentilesOfAKnownSet(t *testing.T) {
	all := latencies(10*time.Microsecond, 10*time.Microsecond, 100, 1)
	r := measured(2*time.Second, map[int][]time.Duration{0: all})
	require.Equal(t, int64(100), r.Responses)
	require.Equal(t, Latency{P50: 0.5, P90: 0.9, P99: 0.99, P999: 1, Max: 1}, r.Latency)
	require.InDelta(t, 50, r.Throughput, 1e-9, "responses per second of the run's duration")
	require.Equal(t, map[string]int64{"00": 100}, r.Codes)
	require.Equal(t, map[string]int64{"sale": 100}, r.Ops)
}

// Each second has its own percentiles; a second without a response has no
// point in the series. The first half of the set: p50 the 25th value (250
// µs), p90 the 45th (450 µs), p99 the 50th (500 µs); the second half: 750,
// 950 and 1000 µs. (The per-second histograms keep two significant digits:
// 450 µs reads as 451, 950 as 951, which round to the same hundredths of a
// millisecond.)
func TestResult_SeriesBySecond(t *testing.T) {
	r := measured(3*time.Second, map[int][]time.Duration{
		0: latencies(10*time.Microsecond, 10*time.Microsecond, 50, 2),
		2: latencies(510*time.Microsecond, 10*time.Microsecond, 50, 3),
	})
	require.Equal(t, []Second{
		{T: 0, Responses: 50, P50: 0.25, P90: 0.45, P99: 0.5},
		{T: 2, Responses: 50, P50: 0.75, P90: 0.95, P99: 1},
	}, r.Series)
	require.Equal(t, Latency{P50: 0.5, P90: 0.9, P99: 0.99, P999: 1, Max: 1}, r.Latency, "the run's figures are over every second")
	require.InDelta(t, 100.0/3, r.Throughput, 1e-9)
}

// A later round merged into a result: counts add up, the percentiles are
// those of both rounds' latencies together, and the later round's seconds
// follow the earlier's.
func TestResult_Merge(t *testing.T) {
	a := measured(time.Second, map[int][]time.Duration{0: latencies(10*time.Microsecond, 10*time.Microsecond, 50, 4)})
	a.Errors["timeout"] = 2
	a.Reversals = Reversals{Timeouts: 2, Sent: 2, Acknowledged: 2}
	a.Reversed = []Ref{{TID: "L0000002", MTI: "0200", STAN: "000007"}, {TID: "L0000001", MTI: "0200", STAN: "000009"}}
	a.Requests = 52
	b := measured(time.Second, map[int][]time.Duration{0: latencies(510*time.Microsecond, 10*time.Microsecond, 50, 5)})
	b.Errors["timeout"] = 1
	b.Errors["connection"] = 1
	b.Reversals = Reversals{Timeouts: 1, Lost: 1, Sent: 3, Acknowledged: 1, Failed: 1}
	b.Reversed = []Ref{{TID: "L0000001", MTI: "0200", STAN: "000003"}, {TID: "L0000002", MTI: "0200", STAN: "000001"}}
	b.Requests = 52

	a.Merge(b)
	require.Equal(t, int64(100), a.Responses)
	require.Equal(t, int64(104), a.Requests)
	require.InDelta(t, 2, a.Duration, 1e-9)
	require.InDelta(t, 50, a.Throughput, 1e-9)
	require.Equal(t, Latency{P50: 0.5, P90: 0.9, P99: 0.99, P999: 1, Max: 1}, a.Latency)
	require.Equal(t, []Second{
		{T: 0, Responses: 50, P50: 0.25, P90: 0.45, P99: 0.5},
		{T: 1, Responses: 50, P50: 0.75, P90: 0.95, P99: 1},
	}, a.Series)
	require.Equal(t, map[string]int64{"00": 100}, a.Codes)
	require.Equal(t, map[string]int64{"timeout": 3, "connection": 1}, a.Errors)
	require.Equal(t, map[string]int64{"sale": 100}, a.Ops)
	require.Equal(t, Reversals{Timeouts: 3, Lost: 1, Sent: 5, Acknowledged: 3, Failed: 1}, a.Reversals)
	require.Equal(t, []Ref{
		{TID: "L0000001", MTI: "0200", STAN: "000003"}, {TID: "L0000001", MTI: "0200", STAN: "000009"},
		{TID: "L0000002", MTI: "0200", STAN: "000001"}, {TID: "L0000002", MTI: "0200", STAN: "000007"},
	}, a.Reversed, "by terminal, then STAN")
}

// Microseconds are shown as milliseconds to the nearest hundredth.
func TestMS(t *testing.T) {
	for us, want := range map[int64]float64{0: 0, 4: 0, 5: 0.01, 1234: 1.23, 1236: 1.24, 1000: 1, 61_234_567: 61234.57} {
		require.InDelta(t, want, ms(us), 1e-9, "%d µs", us)
	}
}

// The JSON report carries the figures under the names the README lists:
// throughput, p50/p90/p99/p99.9/max, errors by kind, response codes,
// operations, reversals and the per-second series.
func TestResult_JSON(t *testing.T) {
	r := measured(2*time.Second, map[int][]time.Duration{0: latencies(10*time.Microsecond, 10*time.Microsecond, 100, 6)})
	r.Target, r.Terminals, r.Mix = "127.0.0.1:8583", 4, "sale=1"
	r.Errors["timeout"] = 3
	r.Reversals = Reversals{Timeouts: 3, Sent: 4, Acknowledged: 3}
	r.Reversed = []Ref{{TID: "L0000001", MTI: "0200", STAN: "000001"}}
	b, err := json.Marshal(&Report{Command: "posim load", Acquirer: r})
	require.NoError(t, err)

	var got struct {
		Acquirer map[string]json.RawMessage `json:"acquirer"`
	}
	require.NoError(t, json.Unmarshal(b, &got))
	want := map[string]string{
		"target":           `"127.0.0.1:8583"`,
		"terminals":        `4`,
		"mix":              `"sale=1"`,
		"duration_s":       `2`,
		"requests":         `0`,
		"responses":        `100`,
		"throughput_per_s": `50`,
		"latency":          `{"p50_ms":0.5,"p90_ms":0.9,"p99_ms":0.99,"p999_ms":1,"max_ms":1}`,
		"errors":           `{"timeout":3}`,
		"response_codes":   `{"00":100}`,
		"operations":       `{"sale":100}`,
		"reversals":        `{"timeouts":3,"connection_lost":0,"sent":4,"acknowledged":3,"failed":0}`,
		"series":           `[{"t":0,"responses":100,"p50_ms":0.5,"p90_ms":0.9,"p99_ms":0.99}]`,
	}
	require.Len(t, got.Acquirer, len(want), "no other key (the reversed requests stay out)")
	for k, v := range want {
		require.JSONEq(t, v, string(got.Acquirer[k]), k)
	}
}

// A request answered after the run's last second began counts in that
// second, not in one past the run.
func TestFleet_CountsALateRequestInTheLastSecond(t *testing.T) {
	h := startScriptHost(t, func(_ int, req *wire.Txn, _ []*wire.Txn) []reply { return []reply{answer(req, "00")} })
	f, _, s, _, _ := oneTerminal(t, Options{Target: h.Addr(), Timeout: time.Second})
	f.lastSec = 1 // a two-second run
	require.True(t, f.one(t.Context(), f.terms[0], s, time.Now().Add(-5*time.Second), new(atomic.Int64), new(atomic.Int64)))
	require.Len(t, s.seconds, 2)
	require.Equal(t, int64(1), s.seconds[1].TotalCount())
}
