package faults

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// pipeListener hands posim's acquirer the server ends of in-memory pipes:
// its read loops and handlers run for real, with no network.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.UnixAddr{Name: "pipe", Net: "pipe"} }

// hostTerminal is one terminal connection to posim's acquirer, whose
// handler is the rules given.
type hostTerminal struct {
	c      net.Conn
	codec  *wire.Codec
	faults chan string // the details of the faults fired
}

// faultJournal passes on what the rules journal.
type faultJournal struct {
	*acquirer.MemJournal
	faults chan string
}

func (j faultJournal) Append(e acquirer.Entry) acquirer.Entry {
	j.faults <- e.Detail
	return j.MemJournal.Append(e)
}

func startHost(t *testing.T, doc string) *hostTerminal {
	t.Helper()
	var a *acquirer.Acquirer
	j := faultJournal{acquirer.NewMemJournal(), make(chan string, 16)}
	f := ruleSet(t, &Env{Journal: j, Acquirer: func() *acquirer.Acquirer { return a }}, doc)
	a, err := acquirer.New(acquirer.WithHandler(f))
	require.NoError(t, err)
	ln := &pipeListener{conns: make(chan net.Conn, 1), done: make(chan struct{})}
	require.NoError(t, a.Serve(ln))
	t.Cleanup(func() { a.Close() })
	client, server := net.Pipe()
	ln.conns <- server
	t.Cleanup(func() { client.Close() })
	require.NoError(t, client.SetDeadline(time.Now().Add(5*time.Second)))
	return &hostTerminal{c: client, codec: wire.NewCodec(wire.ISO87), faults: j.faults}
}

// fault waits for the next fault the rules journal.
func (h *hostTerminal) fault(t *testing.T) string {
	t.Helper()
	select {
	case d := <-h.faults:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("no fault journalled")
		return ""
	}
}

// send writes a request from a goroutine: a pipe has no buffer, and the
// acquirer may be writing an answer at the same time.
func (h *hostTerminal) send(t *testing.T, req *wire.Txn) <-chan error {
	t.Helper()
	m, err := wire.ISO87.Encode(req)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- h.codec.WriteMessage(h.c, m) }()
	return done
}

func (h *hostTerminal) read(t *testing.T) *wire.Txn {
	t.Helper()
	m, err := h.codec.ReadMessage(h.c)
	require.NoError(t, err)
	resp, err := wire.ISO87.Decode(m)
	require.NoError(t, err)
	return resp
}

func hostSale(stan string) *wire.Txn {
	return &wire.Txn{MTI: "0200", Op: wire.OpSale, ProcessingCode: wire.PCPurchase, PAN: "6200000000000005", Amount: 1000, HasAmount: true,
		STAN: stan, TransmissionTime: "0115100000", TID: "TERM0001", MID: "MERCHANT0000001", Currency: "156"}
}

// HandleInline answers on the connection's read loop, and runs a rule's
// pipeline, which may wait, in a goroutine of its own: the connection goes
// on reading while an answer is held.
func TestHandleInline_AHeldAnswerDoesNotHoldUpTheConnection(t *testing.T) {
	h := startHost(t, `[{id: hold, when: {op: sale}, do: [process, {hold_until: {reversal: true}}]}]`)
	sale := hostSale("000001")
	sent := h.send(t, sale)
	require.NoError(t, <-sent)
	require.Equal(t, "rule hold: response held until a reversal arrives", h.fault(t))
	rev := wire.ISO87.Reversal(sale, "98", "000002", time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC))
	sent = h.send(t, rev)
	// the reversal releases the held answer as it is read, then is
	// answered: the two answers race
	got := map[string]*wire.Txn{}
	for range 2 {
		a := h.read(t)
		got[a.MTI] = a
	}
	require.NoError(t, <-sent)
	require.Len(t, got, 2, "a 0410 and a 0210")
	require.Equal(t, "000002", got["0410"].STAN, "the reversal was read and answered while the sale's answer was held")
	require.Equal(t, []string{"000001", "00"}, []string{got["0210"].STAN, got["0210"].ResponseCode}, "and the held answer released")
	require.Equal(t, "rule hold: reversal arrived: held response released", h.fault(t))
}

// An answer sent on the read loop is remembered as a terminal's last,
// as one sent by a rule is.
func TestHandleInline_RemembersTheAnswerForAStaleSend(t *testing.T) {
	h := startHost(t, `[{id: stale, when: {stan: "000002"}, do: [{send: {stale: true}}, process]}]`)
	sent := h.send(t, hostSale("000001"))
	first := h.read(t)
	require.NoError(t, <-sent)
	require.Equal(t, "000001", first.STAN)
	sent = h.send(t, hostSale("000002"))
	stale, answer := h.read(t), h.read(t)
	require.NoError(t, <-sent)
	require.Equal(t, []string{"0210", "000001"}, []string{stale.MTI, stale.STAN}, "the previous answer first")
	require.Equal(t, []string{"0210", "000002"}, []string{answer.MTI, answer.STAN})
}
