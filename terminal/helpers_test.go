package terminal_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

type rawConn struct {
	c     net.Conn
	codec *wire.Codec
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &rawConn{c: c, codec: wire.NewCodec(wire.ISO87)}
}

func (r *rawConn) roundTrip(t *testing.T, req *wire.Txn) *wire.Txn {
	t.Helper()
	m, err := wire.ISO87.Encode(req)
	require.NoError(t, err)
	require.NoError(t, r.c.SetDeadline(time.Now().Add(5*time.Second)))
	require.NoError(t, r.codec.WriteMessage(r.c, m))
	rm, err := r.codec.ReadMessage(r.c)
	require.NoError(t, err)
	resp, err := wire.ISO87.Decode(rm)
	require.NoError(t, err)
	return resp
}

// restartWith writes st as a terminal's state and starts a terminal on it.
func restartWith(t *testing.T, addr, tid string, st terminal.State) *terminal.Terminal {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, terminal.WriteState(dir, st))
	return newTerminal(t, addr, dir, func(c *terminal.Config) { c.TID = tid })
}

// scriptHost is an iso87 host on 127.0.0.1:0 that answers each request as
// its script says. Every request it reads goes, in the order read, to a
// channel the test takes them from with next.
type scriptHost struct {
	addr   string
	reqs   chan *wire.Txn
	errs   chan error
	ends   chan struct{} // a terminal closed its connection
	script hostScript

	mu   sync.Mutex
	seen map[string]int // requests read so far, by MTI
}

// hostScript answers one request: seen is how many requests of its MTI the
// host read before it. nil stays silent; hangUp closes the connection.
type hostScript func(req *wire.Txn, seen int) *wire.Txn

// hangUp, returned by a script, closes the connection instead of answering.
var hangUp = &wire.Txn{MTI: "hang up"}

// approveAll approves every request.
func approveAll(req *wire.Txn, _ int) *wire.Txn { return answer(req, "00") }

// silentTo leaves the first n requests of mti unanswered and answers the
// others as then does.
func silentTo(mti string, n int, then hostScript) hostScript {
	return func(req *wire.Txn, seen int) *wire.Txn {
		if req.MTI == mti && seen < n {
			return nil
		}
		return then(req, seen)
	}
}

// hangUpOn closes the connection on the first n requests of mti and
// answers the others as then does.
func hangUpOn(mti string, n int, then hostScript) hostScript {
	return func(req *wire.Txn, seen int) *wire.Txn {
		if req.MTI == mti && seen < n {
			return hangUp
		}
		return then(req, seen)
	}
}

// codeFor answers every request of mti with rc, the others as then does.
func codeFor(mti, rc string, then hostScript) hostScript {
	return func(req *wire.Txn, seen int) *wire.Txn {
		if req.MTI == mti {
			return answer(req, rc)
		}
		return then(req, seen)
	}
}

// alterFirst answers the first request of mti with rc and alter's changes,
// and approves everything else.
func alterFirst(mti, rc string, alter func(resp *wire.Txn)) hostScript {
	return func(req *wire.Txn, seen int) *wire.Txn {
		if req.MTI != mti || seen > 0 {
			return answer(req, "00")
		}
		resp := answer(req, rc)
		alter(resp)
		return resp
	}
}

// answer is the response a well-behaved host gives req with code rc: the
// request's MTI + 10 echoing DE3, DE4, DE7, DE11, DE41, DE42 and DE49,
// with an RRN and an authorisation code made from the STAN (unique per
// terminal).
func answer(req *wire.Txn, rc string) *wire.Txn {
	mti, _ := wire.ResponseMTI(req.MTI)
	resp := &wire.Txn{MTI: mti, ProcessingCode: req.ProcessingCode, Amount: req.Amount, HasAmount: req.HasAmount,
		TransmissionTime: req.TransmissionTime, STAN: req.STAN, ResponseCode: rc, TID: req.TID, MID: req.MID,
		Currency: req.Currency, NetworkCode: req.NetworkCode, Totals: req.Totals}
	if req.PAN != "" {
		resp.RRN = "100000" + req.STAN
		if rc == "00" {
			resp.AuthCode = "A" + req.STAN[1:]
		}
	}
	return resp
}

func startScriptHost(t *testing.T, script hostScript) *scriptHost {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	h := &scriptHost{addr: ln.Addr().String(), reqs: make(chan *wire.Txn, 256), errs: make(chan error, 16),
		ends: make(chan struct{}, 16), script: script, seen: map[string]int{}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				h.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return h
}

func (h *scriptHost) serve(c net.Conn) {
	defer c.Close()
	codec := wire.NewCodec(wire.ISO87)
	for {
		m, err := codec.ReadMessage(c)
		if errors.Is(err, io.EOF) {
			select {
			case h.ends <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return
		}
		if m == nil {
			continue
		}
		req, err := wire.ISO87.Decode(m)
		if err != nil {
			h.errs <- err
			return
		}
		h.mu.Lock()
		n := h.seen[req.MTI]
		h.seen[req.MTI]++
		h.mu.Unlock()
		h.reqs <- req
		resp := h.script(req, n)
		switch {
		case resp == hangUp:
			return
		case resp == nil:
			continue
		}
		rm, err := wire.ISO87.Encode(resp)
		if err == nil {
			err = codec.WriteMessage(c, rm)
		}
		if err != nil {
			h.errs <- err
			return
		}
	}
}

// next returns the next request the host read.
func (h *scriptHost) next(t *testing.T) *wire.Txn {
	t.Helper()
	select {
	case req := <-h.reqs:
		return req
	case err := <-h.errs:
		t.Fatalf("script host: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("script host: no request in 5 s")
	}
	return nil
}

// hungUp waits until a terminal has closed its connection to the host.
func (h *scriptHost) hungUp(t *testing.T) {
	t.Helper()
	select {
	case <-h.ends:
	case <-time.After(5 * time.Second):
		t.Fatal("script host: the terminal kept its connection open for 5 s")
	}
}

// nextMTIs returns the MTIs of the next n requests the host read.
func (h *scriptHost) nextMTIs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for range n {
		out = append(out, h.next(t).MTI)
	}
	return out
}

// drained reports that the host read nothing more than the test took.
// Call it after an answered exchange: whatever the terminal sent before
// on the same connection was read before it.
func (h *scriptHost) drained(t *testing.T) {
	t.Helper()
	select {
	case req := <-h.reqs:
		t.Fatalf("script host read a further %s (STAN %s)", req.MTI, req.STAN)
	default:
	}
}

// restart closes term, as a power cut or the end of the process does,
// and returns what its state directory holds then and a terminal started
// on it with term's configuration, changed by tweak.
func restart(t *testing.T, term *terminal.Terminal, tweak ...func(*terminal.Config)) (*terminal.Terminal, terminal.State) {
	t.Helper()
	cfg := term.Config()
	require.NoError(t, term.Close())
	st, err := terminal.ReadState(cfg.StateDir)
	require.NoError(t, err)
	for _, f := range tweak {
		f(&cfg)
	}
	again, err := terminal.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { again.Close() })
	return again, st
}

// patient gives a terminal timeouts that never fire in a test: a fault
// that must end an exchange is the host hanging up, not the clock.
func patient(c *terminal.Config) { c.Timeout, c.ConnectTimeout = 5*time.Second, 5*time.Second }

// scriptTerminal returns a patient iso87 terminal for a script host, with
// a state directory of its own.
func scriptTerminal(t *testing.T, h *scriptHost, tweak ...func(*terminal.Config)) *terminal.Terminal {
	t.Helper()
	return newTerminal(t, h.addr, t.TempDir(), append([]func(*terminal.Config){patient}, tweak...)...)
}
