// Package load pushes traffic from a fleet of emulated terminals at an
// acquirer and measures throughput and latency (HDR histograms), errors and
// response codes; a bare echo server gives the baseline to compare with.
package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	connection "github.com/moov-io/iso8583-connection"
	"github.com/posim/posim/wire"
)

// Options configure a load run.
type Options struct {
	// Target is the acquirer's address.
	Target string
	// Terminals is the fleet size: one connection, TID and STAN space each.
	Terminals int
	// Duration bounds the run.
	Duration time.Duration
	// Rate is the total requests per second; 0 runs closed loop (each
	// terminal sends its next request when the last one is answered).
	Rate float64
	// Profile is the dialect (default iso87).
	Profile wire.Profile
	// PAN is the card every sale uses (it needs a large balance).
	PAN string
	// Timeout is each request's response timeout.
	Timeout time.Duration
	// Progress, when set, is called about once a second.
	Progress func(Progress)
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

// Second is one second of the run.
type Second struct {
	T         int     `json:"t"`
	Responses int64   `json:"responses"`
	P99       float64 `json:"p99_ms"`
}

// Result is what a run measured.
type Result struct {
	Target     string           `json:"target"`
	Terminals  int              `json:"terminals"`
	Duration   float64          `json:"duration_s"`
	Requests   int64            `json:"requests"`
	Responses  int64            `json:"responses"`
	Throughput float64          `json:"throughput_per_s"`
	Latency    Latency          `json:"latency"`
	Errors     map[string]int64 `json:"errors"`
	Codes      map[string]int64 `json:"response_codes"`
	Series     []Second         `json:"series"`
}

type worker struct {
	hist   *hdrhistogram.Histogram
	errs   map[string]int64
	codes  map[string]int64
	sent   int64
	second map[int]*hdrhistogram.Histogram
}

// Run drives the fleet until the duration ends or ctx is done.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Terminals < 1 {
		return nil, errors.New("load: need at least one terminal")
	}
	if o.Duration <= 0 {
		return nil, errors.New("load: duration must be positive")
	}
	if o.Profile == nil {
		o.Profile = wire.ISO87
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.PAN == "" {
		o.PAN = "6200000000000005"
	}
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()

	conns := make([]*connection.Connection, o.Terminals)
	codec := wire.NewCodec(o.Profile)
	for i := range conns {
		c, err := connection.New(o.Target, o.Profile.Spec(), nil, nil,
			connection.SetMessageReader(codec), connection.SetMessageWriter(codec),
			connection.SendTimeout(o.Timeout), connection.IdleTime(time.Hour), connection.ReadTimeout(time.Hour),
			connection.ConnectTimeout(5*time.Second))
		if err != nil {
			return nil, err
		}
		if err := c.Connect(); err != nil {
			for _, done := range conns[:i] {
				done.Close()
			}
			return nil, fmt.Errorf("load: connecting terminal %d to %s: %w", i+1, o.Target, err)
		}
		conns[i] = c
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()

	var responses, failures atomic.Int64
	start := time.Now()
	var interval time.Duration
	if o.Rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(o.Terminals) / o.Rate)
	}
	workers := make([]*worker, o.Terminals)
	var wg sync.WaitGroup
	for i := range conns {
		w := &worker{hist: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3), errs: map[string]int64{}, codes: map[string]int64{}, second: map[int]*hdrhistogram.Histogram{}}
		workers[i] = w
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tid := fmt.Sprintf("L%07d", i+1)
			next := time.Now()
			for stan := 1; ctx.Err() == nil; stan++ {
				if interval > 0 {
					next = next.Add(interval)
					if d := time.Until(next); d > 0 {
						select {
						case <-time.After(d):
						case <-ctx.Done():
							return
						}
					}
				}
				now := time.Now()
				req := &wire.Txn{Op: wire.OpSale, PAN: o.PAN, Amount: 100, HasAmount: true, TransmissionTime: wire.TransmissionTimeOf(now),
					STAN: fmt.Sprintf("%06d", stan%1_000_000), TID: tid, MID: "LOAD00000000001", Currency: "156", Condition: "00", Batch: "000001"}
				m, err := o.Profile.Encode(req)
				if err != nil {
					w.errs["encode"]++
					continue
				}
				w.sent++
				resp, err := conns[i].Send(m)
				lat := time.Since(now)
				switch {
				case errors.Is(err, connection.ErrSendTimeout):
					if ctx.Err() == nil {
						w.errs["timeout"]++
						failures.Add(1)
					}
					continue
				case err != nil:
					w.errs["connection"]++
					failures.Add(1)
					if errors.Is(err, connection.ErrConnectionClosed) {
						return
					}
					continue
				}
				rc, _ := resp.GetString(39)
				w.codes[rc]++
				us := lat.Microseconds()
				_ = w.hist.RecordValue(max(us, 1))
				sec := int(now.Sub(start) / time.Second)
				h := w.second[sec]
				if h == nil {
					h = hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 2)
					w.second[sec] = h
				}
				_ = h.RecordValue(max(us, 1))
				responses.Add(1)
			}
		}(i)
	}
	if o.Progress != nil {
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					o.Progress(Progress{Elapsed: time.Since(start), Responses: responses.Load(), Errors: failures.Load()})
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	res := &Result{Target: o.Target, Terminals: o.Terminals, Duration: elapsed.Seconds(), Errors: map[string]int64{}, Codes: map[string]int64{}}
	all := hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)
	perSecond := map[int]*hdrhistogram.Histogram{}
	for _, w := range workers {
		all.Merge(w.hist)
		res.Requests += w.sent
		for k, v := range w.errs {
			res.Errors[k] += v
		}
		for k, v := range w.codes {
			res.Codes[k] += v
		}
		for s, h := range w.second {
			if perSecond[s] == nil {
				perSecond[s] = hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 2)
			}
			perSecond[s].Merge(h)
		}
	}
	res.Responses = all.TotalCount()
	res.Throughput = float64(res.Responses) / elapsed.Seconds()
	ms := func(us int64) float64 { return math.Round(float64(us)/10) / 100 }
	res.Latency = Latency{P50: ms(all.ValueAtQuantile(50)), P90: ms(all.ValueAtQuantile(90)), P99: ms(all.ValueAtQuantile(99)),
		P999: ms(all.ValueAtQuantile(99.9)), Max: ms(all.Max())}
	for s := 0; s <= int(elapsed/time.Second); s++ {
		if h := perSecond[s]; h != nil {
			res.Series = append(res.Series, Second{T: s, Responses: h.TotalCount(), P99: ms(h.ValueAtQuantile(99))})
		}
	}
	return res, nil
}
