package load

import (
	"bufio"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// scriptHost is an iso87 host on 127.0.0.1:0 that reads every request,
// tells the test about it, and does what the test's script says: answer,
// answer late, stay silent or hang up.
type scriptHost struct {
	ln     net.Listener
	codec  *wire.Codec
	script func(n int, req *wire.Txn, earlier []*wire.Txn) []reply
	seen   chan seenReq
	errs   chan error
	wg     sync.WaitGroup

	mu    sync.Mutex
	all   []*wire.Txn
	conns map[net.Conn]struct{}
	nconn int
}

// seenReq is a request the host read: its number, from 1, and the
// connection it came on, from 1.
type seenReq struct {
	*wire.Txn
	n, conn int
}

// reply is one thing the host does: send a response, send raw bytes as a
// frame's body, or hang up.
type reply struct {
	resp   *wire.Txn
	raw    []byte
	hangUp bool
}

// answer is the host's response to req with code rc (an approval carries
// an RRN and an authorisation code).
func answer(req *wire.Txn, rc string) reply {
	r := req.Response(rc)
	if rc == "00" && req.Op != wire.OpReversal {
		r.RRN, r.AuthCode = "000000000"+req.STAN[3:], "A"+req.STAN[1:]
	}
	return reply{resp: r}
}

func startScriptHost(t *testing.T, script func(n int, req *wire.Txn, earlier []*wire.Txn) []reply) *scriptHost {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	h := &scriptHost{ln: ln, codec: wire.NewCodec(wire.ISO87), script: script, seen: make(chan seenReq, 64),
		errs: make(chan error, 16), conns: map[net.Conn]struct{}{}}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns[c] = struct{}{}
			h.nconn++
			id := h.nconn
			h.mu.Unlock()
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				h.serve(c, id)
			}()
		}
	}()
	t.Cleanup(func() {
		h.Close()
		close(h.errs)
		for err := range h.errs {
			t.Error(err)
		}
	})
	return h
}

func (h *scriptHost) Addr() string { return h.ln.Addr().String() }

// Close stops listening and drops every connection; it may be called
// more than once.
func (h *scriptHost) Close() {
	h.ln.Close()
	h.mu.Lock()
	for c := range h.conns {
		c.Close()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

func (h *scriptHost) fail(err error) {
	select {
	case h.errs <- err:
	default:
	}
}

func (h *scriptHost) serve(c net.Conn, id int) {
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
		c.Close()
	}()
	r := bufio.NewReader(c)
	for {
		m, err := h.codec.ReadMessage(r)
		if err != nil {
			return
		}
		req, err := wire.ISO87.Decode(m)
		if err != nil {
			h.fail(fmt.Errorf("host: decoding a request: %w", err))
			return
		}
		h.mu.Lock()
		earlier := append([]*wire.Txn(nil), h.all...)
		h.all = append(h.all, req)
		n := len(h.all)
		h.mu.Unlock()
		h.seen <- seenReq{Txn: req, n: n, conn: id}
		for _, rp := range h.script(n, req, earlier) {
			var frame []byte
			switch {
			case rp.hangUp:
				return
			case rp.raw != nil:
				frame, err = h.codec.Framer.AppendFrame(nil, rp.raw)
			default:
				var m2 *iso8583.Message
				if m2, err = wire.ISO87.Encode(rp.resp); err == nil {
					frame, err = h.codec.Frame(m2)
				}
			}
			if err == nil {
				_, err = c.Write(frame)
			}
			if err != nil {
				h.fail(fmt.Errorf("host: answering request %d: %w", n, err))
				return
			}
		}
	}
}

// requests waits for the next n requests the host reads.
func (h *scriptHost) requests(t *testing.T, n int) []seenReq {
	t.Helper()
	var out []seenReq
	for range n {
		select {
		case r := <-h.seen:
			out = append(out, r)
		case <-time.After(5 * time.Second):
			require.FailNow(t, "the host did not read the request", "%d of %d read: %v", len(out), n, out)
		}
	}
	return out
}

// oneTerminal dials one terminal to addr and returns a step function that
// sends one request (the default mix: sales) and records it in s.
func oneTerminal(t *testing.T, o Options) (f *Fleet, step func() bool, s *shard, responses, failures *atomic.Int64) {
	t.Helper()
	o.Terminals = 1
	f, err := Dial(o)
	require.NoError(t, err)
	t.Cleanup(f.Close)
	s, responses, failures = newShard(), new(atomic.Int64), new(atomic.Int64)
	start := time.Now()
	step = func() bool { return f.one(t.Context(), f.terms[0], s, start, responses, failures) }
	return f, step, s, responses, failures
}

func mtis(rs []seenReq) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.MTI)
	}
	return out
}

// What the fleet does with each kind of answer, request by request: what
// it counts, what it sends next and what it reverses.
func TestFleet_Answers(t *testing.T) {
	const mixed = 300 * time.Millisecond // some answers come, some never do
	silent := func(int, *wire.Txn, []*wire.Txn) []reply { return nil }
	for _, tc := range []struct {
		name      string
		timeout   time.Duration
		stan      int // the terminal's last STAN before the first request
		requests  int
		script    func(n int, req *wire.Txn, earlier []*wire.Txn) []reply
		wantMTIs  []string
		wantCodes map[string]int64
		wantErrs  map[string]int64
		wantRev   Reversals
		check     func(t *testing.T, seen []seenReq, s *shard)
	}{{
		name: "an approval is counted by its code, and nothing is reversed", timeout: time.Second, requests: 2,
		script:   func(_ int, req *wire.Txn, _ []*wire.Txn) []reply { return []reply{answer(req, "00")} },
		wantMTIs: []string{"0200", "0200"}, wantCodes: map[string]int64{"00": 2},
		check: func(t *testing.T, seen []seenReq, _ *shard) {
			require.Equal(t, "000001", seen[0].STAN)
			require.Equal(t, "000002", seen[1].STAN, "each request its own STAN")
		},
	}, {
		name: "a decline is counted by its code, and nothing is reversed", timeout: time.Second, requests: 1,
		script:   func(_ int, req *wire.Txn, _ []*wire.Txn) []reply { return []reply{answer(req, "51")} },
		wantMTIs: []string{"0200"}, wantCodes: map[string]int64{"51": 1},
	}, {
		name: "a keep-alive before the answer is skipped", timeout: time.Second, requests: 1,
		script:   func(_ int, req *wire.Txn, _ []*wire.Txn) []reply { return []reply{{raw: []byte{}}, answer(req, "00")} },
		wantMTIs: []string{"0200"}, wantCodes: map[string]int64{"00": 1},
	}, {
		name: "the STAN after 999999 is 000001", timeout: time.Second, stan: 999_999, requests: 1,
		script:   func(_ int, req *wire.Txn, _ []*wire.Txn) []reply { return []reply{answer(req, "00")} },
		wantMTIs: []string{"0200"}, wantCodes: map[string]int64{"00": 1},
		check: func(t *testing.T, seen []seenReq, _ *shard) { require.Equal(t, "000001", seen[0].STAN) },
	}, {
		name: "no answer: the sale times out and is reversed, reason 98, naming the original", timeout: mixed, requests: 1,
		script: func(n int, req *wire.Txn, _ []*wire.Txn) []reply {
			if n == 1 {
				return nil
			}
			return []reply{answer(req, "00")}
		},
		wantMTIs: []string{"0200", "0400"}, wantErrs: map[string]int64{"timeout": 1},
		wantRev: Reversals{Timeouts: 1, Sent: 1, Acknowledged: 1},
		check: func(t *testing.T, seen []seenReq, s *shard) {
			sale, rev := seen[0], seen[1]
			require.Equal(t, wire.ReasonNoResponse, rev.ResponseCode)
			require.Equal(t, "0200", rev.Original.MTI)
			require.Equal(t, sale.STAN, rev.Original.STAN)
			require.Equal(t, sale.TransmissionTime, rev.Original.TransmissionTime)
			require.Equal(t, sale.PAN, rev.PAN)
			require.Equal(t, sale.Amount, rev.Amount)
			require.Equal(t, sale.ProcessingCode, rev.ProcessingCode)
			require.Equal(t, sale.TID, rev.TID)
			require.Equal(t, "000002", rev.STAN, "the reversal has a STAN of its own (iso87)")
			require.Equal(t, []Ref{{TID: "L0000001", MTI: "0200", STAN: sale.STAN}}, s.refs)
		},
	}, {
		name: "a reversal answered with any code is done", timeout: mixed, requests: 1,
		script: func(n int, req *wire.Txn, _ []*wire.Txn) []reply {
			if n == 1 {
				return nil
			}
			return []reply{answer(req, "25")}
		},
		wantMTIs: []string{"0200", "0400"}, wantErrs: map[string]int64{"timeout": 1},
		wantRev: Reversals{Timeouts: 1, Sent: 1, Acknowledged: 1},
	}, {
		name: "a reversal never answered is repeated as 0401, five sends in all, then counted failed", timeout: 40 * time.Millisecond, requests: 1,
		script:   silent,
		wantMTIs: []string{"0200", "0400", "0401", "0401", "0401", "0401"}, wantErrs: map[string]int64{"timeout": 1},
		wantRev: Reversals{Timeouts: 1, Sent: 5, Failed: 1},
		check: func(t *testing.T, seen []seenReq, s *shard) {
			for _, r := range seen[2:] {
				require.Equal(t, seen[1].STAN, r.STAN, "a repeat keeps the reversal's STAN")
				require.Equal(t, seen[1].Original, r.Original)
			}
			require.Len(t, s.refs, 1, "listed as reversed, for the fault check to look up")
		},
	}, {
		name: "late answers are skipped: neither taken for the reversal's nor for the next sale's", timeout: mixed, requests: 2,
		script: func(n int, req *wire.Txn, earlier []*wire.Txn) []reply {
			switch n {
			case 1:
				return nil
			case 2: // the reversal: first the sale's late approval
				return []reply{answer(earlier[0], "00"), answer(req, "00")}
			default: // the next sale: first another late answer to the first
				return []reply{answer(earlier[0], "05"), answer(req, "00")}
			}
		},
		wantMTIs: []string{"0200", "0400", "0200"}, wantCodes: map[string]int64{"00": 1}, wantErrs: map[string]int64{"timeout": 1},
		wantRev: Reversals{Timeouts: 1, Sent: 1, Acknowledged: 1},
		check: func(t *testing.T, seen []seenReq, _ *shard) {
			require.Equal(t, "000003", seen[2].STAN, "the next sale keeps its own new STAN")
		},
	}, {
		name: "an answer for another terminal is invalid, and the request is reversed", timeout: mixed, requests: 1,
		script: func(n int, req *wire.Txn, _ []*wire.Txn) []reply {
			a := answer(req, "00")
			if n == 1 {
				a.resp.TID = "L9999999"
			}
			return []reply{a}
		},
		wantMTIs: []string{"0200", "0400"}, wantErrs: map[string]int64{"invalid response": 1},
		wantRev: Reversals{Sent: 1, Acknowledged: 1},
	}, {
		name: "an unreadable answer is invalid, and the request is reversed", timeout: mixed, requests: 1,
		script: func(n int, req *wire.Txn, _ []*wire.Txn) []reply {
			if n == 1 {
				return []reply{{raw: []byte("0210\xff\xff")}}
			}
			return []reply{answer(req, "00")}
		},
		wantMTIs: []string{"0200", "0400"}, wantErrs: map[string]int64{"invalid response": 1},
		wantRev: Reversals{Sent: 1, Acknowledged: 1},
	}, {
		name: "a dropped connection: the terminal connects again and reverses on the new one", timeout: mixed, requests: 1,
		script: func(n int, req *wire.Txn, _ []*wire.Txn) []reply {
			if n == 1 {
				return []reply{{hangUp: true}}
			}
			return []reply{answer(req, "00")}
		},
		wantMTIs: []string{"0200", "0400"}, wantErrs: map[string]int64{"connection": 1, "reconnected": 1},
		wantRev: Reversals{Lost: 1, Sent: 1, Acknowledged: 1},
		check: func(t *testing.T, seen []seenReq, s *shard) {
			require.Equal(t, 1, seen[0].conn)
			require.Equal(t, 2, seen[1].conn)
			require.Equal(t, []Ref{{TID: "L0000001", MTI: "0200", STAN: seen[0].STAN}}, s.refs)
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := startScriptHost(t, tc.script)
			f, step, s, responses, failures := oneTerminal(t, Options{Target: h.Addr(), Timeout: tc.timeout})
			f.terms[0].stan = tc.stan
			for range tc.requests {
				require.True(t, step())
			}
			seen := h.requests(t, len(tc.wantMTIs))
			require.Equal(t, tc.wantMTIs, mtis(seen))
			select {
			case r := <-h.seen:
				require.FailNow(t, "one request too many", "%s stan %s", r.MTI, r.STAN)
			default:
			}

			require.Equal(t, tc.wantCodes, nilIfEmpty(s.codes), "codes")
			require.Equal(t, tc.wantErrs, nilIfEmpty(s.errs), "errors")
			require.Equal(t, tc.wantRev, s.rev)
			require.Equal(t, int64(tc.requests), s.sent, "requests sent, reversals not included")
			var answered int64
			for _, n := range tc.wantCodes {
				answered += n
			}
			require.Equal(t, answered, responses.Load())
			require.Equal(t, answered, s.hist.TotalCount(), "each answer's latency, and only theirs")
			require.Equal(t, answered, s.ops["sale"])
			require.Equal(t, int64(tc.requests)-answered, failures.Load())
			if tc.wantRev.Sent == 0 {
				require.Empty(t, s.refs)
			}
			if tc.check != nil {
				tc.check(t, seen, s)
			}
		})
	}
}

func nilIfEmpty(m map[string]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	return m
}

// A refund is not reversed (rule R1: a terminal retransmits it instead):
// nothing goes to the host. A void is: its reversal names it.
func TestFleet_ReversesAVoidButNotARefund(t *testing.T) {
	h := startScriptHost(t, func(_ int, req *wire.Txn, _ []*wire.Txn) []reply { return []reply{answer(req, "00")} })
	f, _, s, _, _ := oneTerminal(t, Options{Target: h.Addr(), Timeout: time.Second})
	refund := f.txn("L0000001", "refund", "000001", time.Now(), 50, "000000000001")
	refund.MTI = "0220"
	f.reverse(t.Context(), f.terms[0], s, refund, "refund")
	require.Zero(t, s.rev)
	require.Empty(t, s.refs)

	void := f.txn("L0000001", "void", "000002", time.Now(), 100, "000000000001")
	void.MTI = "0200"
	f.reverse(t.Context(), f.terms[0], s, void, "void")
	rev := h.requests(t, 1)[0] // the first the host saw: the refund sent nothing
	require.Equal(t, "0400", rev.MTI)
	require.Equal(t, wire.PCVoid, rev.ProcessingCode)
	require.Equal(t, "0200", rev.Original.MTI)
	require.Equal(t, "000002", rev.Original.STAN)
	require.Equal(t, Reversals{Sent: 1, Acknowledged: 1}, s.rev)
	require.Equal(t, []Ref{{TID: "L0000001", MTI: "0200", STAN: "000002"}}, s.refs)
}

// Under cup, against posim's acquirer: the terminal signs on, its
// requests carry a MAC the host accepts, a declined card is declined, and
// an unanswered sale is reversed with the original's STAN, leaving it
// reversed in the ledger.
func TestFleet_AnswersUnderCUP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pan     string
		drop    bool
		wantRC  string
		wantRev Reversals
	}{
		{name: "approved", wantRC: "00"},
		{name: "declined", pan: "6200000000000104", wantRC: "51"},
		{name: "unanswered, reversed", drop: true, wantRev: Reversals{Timeouts: 1, Sent: 1, Acknowledged: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []acquirer.Option{acquirer.WithProfile(wire.CUP)}
			if tc.drop {
				opts = append(opts, acquirer.WithHandler(&dropEvery{n: 1}))
			}
			a := startAcquirer(t, opts...)
			timeout := time.Second
			if tc.drop {
				timeout = 300 * time.Millisecond
			}
			f, step, s, _, _ := oneTerminal(t, Options{Target: a.Addr(), Profile: wire.CUP, PAN: tc.pan, Timeout: timeout})
			stan := fmt6(f.terms[0].stan + 1) // the sale's; the sign-on had the one before
			require.True(t, step())
			require.Equal(t, tc.wantRev, s.rev)
			recs := a.Engine().Find("L0000001", "0200", stan)
			require.Len(t, recs, 1)
			if tc.drop {
				require.Empty(t, s.codes)
				require.Equal(t, []Ref{{TID: "L0000001", MTI: "0200", STAN: stan}}, s.refs)
				require.Equal(t, acquirer.StatusReversed, recs[0].Status)
				return
			}
			require.Equal(t, map[string]int64{tc.wantRC: 1}, s.codes)
			require.Equal(t, tc.wantRC, recs[0].ResponseCode)
			require.Empty(t, s.errs)
		})
	}
}
