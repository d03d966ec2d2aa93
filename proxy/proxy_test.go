package proxy_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/faults"
	"github.com/posim/posim/proxy"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// rules compiles fault rules written as a YAML list.
func rules(t *testing.T, profile, doc string, j acquirer.Journal) *faults.Faults {
	t.Helper()
	var rs []faults.Rule
	require.NoError(t, yaml.Unmarshal([]byte(doc), &rs))
	f, err := faults.Compile(rs, &faults.Env{Profile: profile, Seed: 1, Speed: 1, Now: time.Now, Journal: j,
		After: func(d time.Duration, fn func()) { time.AfterFunc(d, fn) }})
	require.NoError(t, err)
	return f
}

// chain starts posim's acquirer and a proxy in front of it.
func chain(t *testing.T, p wire.Profile, doc string) (*acquirer.Acquirer, *proxy.Proxy, *acquirer.MemJournal, *faults.Faults) {
	t.Helper()
	j := acquirer.NewMemJournal()
	f := rules(t, p.Name(), doc, j)
	a, err := acquirer.New(acquirer.WithProfile(p))
	require.NoError(t, err)
	require.NoError(t, a.Listen("127.0.0.1:0"))
	t.Cleanup(func() { a.Close() })
	px, err := proxy.New(proxy.Config{Upstream: a.Addr(), Profile: p, Rules: f, Journal: j, HostTimeout: 5 * time.Second})
	require.NoError(t, err)
	require.NoError(t, px.Listen("127.0.0.1:0"))
	t.Cleanup(func() { px.Close() })
	return a, px, j, f
}

// newTerminal returns a terminal that reverses at once what goes
// unanswered. Its timeout is that of a lost answer and of the reversal
// after it, which must be answered: 5 s, far above a loaded 2-core
// machine's scheduling jitter under the race detector (2 s was close).
func newTerminal(t *testing.T, p wire.Profile, addr string) *terminal.Terminal {
	t.Helper()
	cfg := terminal.DefaultConfig()
	cfg.Host, cfg.Profile, cfg.StateDir = addr, p, t.TempDir()
	cfg.Timeout = 5 * time.Second
	cfg.AutoSignOn = p.Capabilities().WorkingKeys
	cfg.ImmediateReversal = true
	term, err := terminal.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { term.Close() })
	return term
}

// The story of the issue: the host approves and books the second sale, the
// proxy loses its answer, the terminal times out and reverses through the
// proxy, and the host's ledger shows the sale reversed.
func TestProxy_LostApprovalIsReversedAtTheHost(t *testing.T) {
	t.Parallel() // it waits out the lost answer's timeout, once per dialect
	for _, p := range []wire.Profile{wire.ISO87, wire.CUP} {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			a, px, j, f := chain(t, p, `[{id: lose-second, when: {op: sale, nth: 2}, do: [process, no_response]}]`)
			term := newTerminal(t, p, px.Addr())
			ctx := context.Background()
			first, err := term.Sale(ctx, terminal.Request{Card: "approve", Amount: 1000})
			require.NoError(t, err)
			require.Equal(t, terminal.Approved, first.Outcome)
			second, err := term.Sale(ctx, terminal.Request{Card: "approve", Amount: 2000})
			require.ErrorContains(t, err, "no response")
			require.Equal(t, terminal.NoResponse, second.Outcome)
			require.NotEmpty(t, second.ReversalsSent, "the terminal reversed")
			require.False(t, second.ReversalPending, "the host acknowledged the reversal")

			var sale *acquirer.Record
			for _, r := range a.Engine().Snapshot().Records {
				if r.STAN == second.STAN && r.Op == wire.OpSale {
					sale = &r
				}
			}
			require.NotNil(t, sale, "the host booked the second sale")
			require.Equal(t, acquirer.StatusReversed, sale.Status)

			fault := j.List(acquirer.Filter{Kind: acquirer.KindFault, STAN: second.STAN})
			require.NotEmpty(t, fault)
			require.Equal(t, "rule lose-second: no response", fault[0].Detail)
			fromHost := j.List(acquirer.Filter{Kind: acquirer.KindIn, STAN: second.STAN, MTI: "0210"})
			require.Len(t, fromHost, 1, "the host's answer reached the proxy")
			require.Equal(t, proxy.FromHost, fromHost[0].Detail)
			require.Empty(t, j.List(acquirer.Filter{Kind: acquirer.KindOut, STAN: second.STAN, MTI: "0210"}), "and never left it")
			require.Equal(t, 1, f.Stats()[0].Fired)
		})
	}
}

// host is a fake host that keeps every byte it receives and answers with
// what the test gives it.
type host struct {
	ln   net.Listener
	got  chan []byte
	conn chan net.Conn
}

func newHost(t *testing.T) *host {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	h := &host{ln: ln, got: make(chan []byte, 16), conn: make(chan net.Conn, 1)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		h.conn <- c
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				h.got <- append([]byte(nil), buf[:n]...)
			}
			if err != nil {
				close(h.got)
				return
			}
		}
	}()
	return h
}

// readN collects n bytes the host received.
func (h *host) readN(t *testing.T, n int) []byte {
	t.Helper()
	var out []byte
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case b, ok := <-h.got:
			require.True(t, ok, "host connection closed after %d of %d bytes", len(out), n)
			out = append(out, b...)
		case <-timeout:
			t.Fatalf("host got %d of %d bytes", len(out), n)
		}
	}
	return out
}

func frame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(body))), body...)
}

// toFakeHost starts a proxy in front of the fake host h and connects to
// it as a terminal.
func toFakeHost(t *testing.T, h *host, cfg proxy.Config) net.Conn {
	t.Helper()
	cfg.Upstream, cfg.Profile = h.ln.Addr().String(), wire.ISO87
	px, err := proxy.New(cfg)
	require.NoError(t, err)
	require.NoError(t, px.Listen("127.0.0.1:0"))
	t.Cleanup(func() { px.Close() })
	c, err := net.Dial("tcp", px.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestProxy_UndecodableFramesPassUnchangedBothWays(t *testing.T) {
	h := newHost(t)
	j := acquirer.NewMemJournal()
	c := toFakeHost(t, h, proxy.Config{Journal: j, Rules: rules(t, "iso87", `[{id: all, do: [discard]}]`, j)})

	junk := frame([]byte("02007 this is not ISO 8583 at all"))
	_, err := c.Write(junk)
	require.NoError(t, err)
	require.Equal(t, junk, h.readN(t, len(junk)), "byte for byte, even with a rule that discards every request")

	hc := <-h.conn
	back := frame([]byte{0x02, 0x10, 0xFF, 0xFF})
	_, err = hc.Write(back)
	require.NoError(t, err)
	got := make([]byte, len(back))
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	require.Equal(t, back, got)

	bad := j.List(acquirer.Filter{Kind: acquirer.KindBadFrame})
	require.Len(t, bad, 2)
	require.Contains(t, bad[0].Detail, proxy.FromTerminal)
	require.Contains(t, bad[0].Detail, "passed through unchanged")
	require.Contains(t, bad[1].Detail, proxy.FromHost)
}

func TestProxy_BrokenFramingFallsBackToBytes(t *testing.T) {
	h := newHost(t)
	j := acquirer.NewMemJournal()
	c := toFakeHost(t, h, proxy.Config{Journal: j})
	// a zero length header is a keep-alive; 0xFFFF announces more than
	// binary2 allows by default, so the framing is lost
	data := append([]byte{0xFF, 0xFF}, []byte("GET / HTTP/1.1\r\n\r\n")...)
	_, err := c.Write(data)
	require.NoError(t, err)
	require.Equal(t, data, h.readN(t, len(data)))
	require.Eventually(t, func() bool { return len(j.List(acquirer.Filter{Kind: acquirer.KindBadFrame})) == 1 }, 5*time.Second, time.Millisecond)
	require.Contains(t, j.List(acquirer.Filter{Kind: acquirer.KindBadFrame})[0].Detail, "framing lost")
}

func TestProxy_CupTPDUAndHeaderPassUntouched(t *testing.T) {
	h := newHost(t)
	px, err := proxy.New(proxy.Config{Upstream: h.ln.Addr().String(), Profile: wire.CUP})
	require.NoError(t, err)
	require.NoError(t, px.Listen("127.0.0.1:0"))
	t.Cleanup(func() { px.Close() })
	// a terminal whose NII is 0x0123, not posim's default
	tf, err := wire.NewTPDUFramer(nil, "6001230000", "613100311001", "")
	require.NoError(t, err)
	cfg := terminal.DefaultConfig()
	cfg.Host, cfg.Profile, cfg.Framer, cfg.StateDir, cfg.Timeout = px.Addr(), wire.CUP, tf, t.TempDir(), 300*time.Millisecond
	term, err := terminal.New(cfg)
	require.NoError(t, err)
	defer term.Close()
	go term.Echo(context.Background()) //nolint:errcheck // the fake host never answers
	got := h.readN(t, 13)
	require.True(t, bytes.Equal(got[2:13], []byte{0x60, 0x01, 0x23, 0x00, 0x00, 0x61, 0x31, 0x00, 0x31, 0x10, 0x01}), "%X", got[:13])
}

func TestProxy_MutatedAnswerRewritesOnlyTheChangedField(t *testing.T) {
	_, px, j, _ := chain(t, wire.ISO87, `[{id: m, when: {op: sale}, do: [process, {mutate: [rrn]}]}]`)
	term := newTerminal(t, wire.ISO87, px.Addr())
	res, err := term.Sale(context.Background(), terminal.Request{Card: "approve", Amount: 500})
	require.NoError(t, err)
	fromHost := j.List(acquirer.Filter{Kind: acquirer.KindIn, MTI: "0210"})
	toTerm := j.List(acquirer.Filter{Kind: acquirer.KindOut, MTI: "0210"})
	require.Len(t, fromHost, 1)
	require.Len(t, toTerm, 1)
	require.NotEqual(t, fromHost[0].RRN, toTerm[0].RRN)
	require.Equal(t, toTerm[0].RRN, res.RRN, "the terminal got the mutated RRN")
	require.Equal(t, fromHost[0].RC, toTerm[0].RC)
}

func TestProxy_HostUnreachableClosesTheTerminal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	ln.Close()
	j := acquirer.NewMemJournal()
	px, err := proxy.New(proxy.Config{Upstream: dead, Profile: wire.ISO87, Journal: j})
	require.NoError(t, err)
	require.NoError(t, px.Listen("127.0.0.1:0"))
	t.Cleanup(func() { px.Close() })
	c, err := net.Dial("tcp", px.Addr())
	require.NoError(t, err)
	_, err = c.Read(make([]byte, 1))
	require.Error(t, err, "closed")
	require.Eventually(t, func() bool {
		for _, e := range j.List(acquirer.Filter{Kind: acquirer.KindFault}) {
			if strings.Contains(e.Detail, "unreachable") {
				return true
			}
		}
		return false
	}, 5*time.Second, time.Millisecond)
}

// refuse through the proxy takes the proxy off the network for the period,
// then it listens again on the same address.
func TestProxy_RefuseTakesTheProxyOffThenBack(t *testing.T) {
	_, px, j, _ := chain(t, wire.ISO87, `[{id: down, when: {op: sale, nth: 1}, do: [{refuse: {for: 300ms}}]}]`)
	term := newTerminal(t, wire.ISO87, px.Addr())
	res, err := term.Sale(context.Background(), terminal.Request{Card: "approve", Amount: 100})
	require.Error(t, err)
	require.NotEqual(t, terminal.Approved, res.Outcome)
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", px.Addr())
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "back on the same address")
	res, err = term.Sale(context.Background(), terminal.Request{Card: "approve", Amount: 200})
	require.NoError(t, err)
	require.Equal(t, terminal.Approved, res.Outcome)
	require.NotEmpty(t, j.List(acquirer.Filter{Kind: acquirer.KindFault}))
}

func TestProxy_DumpShowsBothDirectionsMasked(t *testing.T) {
	a, err := acquirer.New()
	require.NoError(t, err)
	require.NoError(t, a.Listen("127.0.0.1:0"))
	t.Cleanup(func() { a.Close() })
	var dump syncBuffer
	px, err := proxy.New(proxy.Config{Upstream: a.Addr(), Profile: wire.ISO87, Dump: &dump})
	require.NoError(t, err)
	require.NoError(t, px.Listen("127.0.0.1:0"))
	t.Cleanup(func() { px.Close() })
	term := newTerminal(t, wire.ISO87, px.Addr())
	_, err = term.Sale(context.Background(), terminal.Request{Card: "visa-approve", Amount: 100})
	require.NoError(t, err)
	out := dump.String()
	require.Contains(t, out, "c1 << 0200")
	require.Contains(t, out, "c1 host>> 0210")
	require.Contains(t, out, "411111******1111")
	require.NotContains(t, out, "4111111111111111")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
