package proxy_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/faults"
	"github.com/posim/posim/proxy"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// isoHost is a tiny ISO 8583 host behind the proxy: it keeps every frame
// it receives as bytes, and writes back what its reply function returns
// for it (nothing when nil). conn counts its connections from 1.
type isoHost struct {
	ln     net.Listener
	reply  func(conn int, req *wire.Txn) []byte
	frames chan []byte // every frame received, length header included
	hungUp chan int    // a connection the proxy closed
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
}

// approve answers every request 00, with an RRN that names the
// connection and a private field posim's model does not carry (a proxy
// that re-encoded what it decoded would lose it).
func approve(conn int, req *wire.Txn) []byte {
	resp := req.Response("00")
	resp.RRN, resp.AuthCode = "00000000000"+string(rune('0'+conn)), "A1B2C3"
	resp.Extra = map[int]string{63: hostPrivate}
	return encode(resp)
}

// Private fields posim's model does not carry, in the host's answers and
// the terminal's requests.
const (
	hostPrivate     = "HOST PRIVATE"
	terminalPrivate = "TERMINAL PRIVATE"
)

// encode frames a message as iso87 does (nil when it cannot).
func encode(t *wire.Txn) []byte {
	m, err := wire.ISO87.Encode(t)
	if err != nil {
		return nil
	}
	b, err := wire.NewCodec(wire.ISO87).Frame(m)
	if err != nil {
		return nil
	}
	return b
}

// decode reads a frame as iso87 does.
func decode(t *testing.T, frame []byte) *wire.Txn {
	t.Helper()
	m, err := wire.NewCodec(wire.ISO87).ReadMessage(bytes.NewReader(frame))
	require.NoError(t, err)
	txn, err := wire.ISO87.Decode(m)
	require.NoError(t, err)
	return txn
}

func newISOHost(t *testing.T, reply func(conn int, req *wire.Txn) []byte) *isoHost {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	h := &isoHost{ln: ln, reply: reply, frames: make(chan []byte, 16), hungUp: make(chan int, 4)}
	h.wg.Add(1)
	go h.accept()
	t.Cleanup(func() { ln.Close(); h.wg.Wait() })
	return h
}

func (h *isoHost) accept() {
	defer h.wg.Done()
	defer h.closeAll()
	for n := 1; ; n++ {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		h.conns = append(h.conns, c)
		h.mu.Unlock()
		h.wg.Add(1)
		go h.serve(n, c)
	}
}

// closeAll hangs up on the proxy.
func (h *isoHost) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		c.Close()
	}
}

func (h *isoHost) serve(n int, c net.Conn) {
	defer h.wg.Done()
	for {
		var hdr [2]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			if !errors.Is(err, net.ErrClosed) {
				h.hungUp <- n
			}
			return
		}
		body := make([]byte, int(hdr[0])<<8|int(hdr[1]))
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		// answer first: once the test has the frame, the answer is out
		var req *wire.Txn
		if m, err := wire.NewCodec(wire.ISO87).UnpackBody(body); err == nil {
			req, _ = wire.ISO87.Decode(m)
		}
		if req != nil && h.reply != nil {
			if b := h.reply(n, req); b != nil {
				_, _ = c.Write(b)
			}
		}
		h.frames <- append(hdr[:], body...)
	}
}

// frame waits for the next frame the host receives.
func (h *isoHost) frame(t *testing.T) []byte {
	t.Helper()
	select {
	case f := <-h.frames:
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("the host received nothing")
		return nil
	}
}

// relay starts a proxy in front of h with the rules given (none when
// doc is empty).
func relay(t *testing.T, h *isoHost, doc string) (*proxy.Proxy, *acquirer.MemJournal, *faults.Faults) {
	t.Helper()
	j := acquirer.NewMemJournal()
	var f *faults.Faults
	if doc != "" {
		f = rules(t, "iso87", doc, j)
	}
	px, err := proxy.New(proxy.Config{Upstream: h.ln.Addr().String(), Profile: wire.ISO87, Rules: f, Journal: j, HostTimeout: 2 * time.Second})
	require.NoError(t, err)
	require.NoError(t, px.Listen("127.0.0.1:0"))
	t.Cleanup(func() { px.Close() })
	return px, j, f
}

// pos is a terminal's connection to the proxy, as bytes.
type pos struct{ c net.Conn }

func dialPOS(t *testing.T, addr string) *pos {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	return &pos{c: c}
}

// send writes a request and returns its frame.
func (p *pos) send(t *testing.T, req *wire.Txn) []byte {
	t.Helper()
	b := encode(req)
	require.NotNil(t, b)
	_, err := p.c.Write(b)
	require.NoError(t, err)
	return b
}

// read reads one frame.
func (p *pos) read(t *testing.T) []byte {
	t.Helper()
	var hdr [2]byte
	_, err := io.ReadFull(p.c, hdr[:])
	require.NoError(t, err)
	body := make([]byte, int(hdr[0])<<8|int(hdr[1]))
	_, err = io.ReadFull(p.c, body)
	require.NoError(t, err)
	return append(hdr[:], body...)
}

// hungUp reports whether the proxy closed the connection.
func (p *pos) hungUp(t *testing.T) bool {
	t.Helper()
	_, err := p.c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF)
}

func posSale(stan string) *wire.Txn {
	return &wire.Txn{MTI: "0200", Op: wire.OpSale, ProcessingCode: wire.PCPurchase, PAN: "4111111111111111", Amount: 1000, HasAmount: true,
		STAN: stan, TransmissionTime: "0115100000", TID: "TERM0001", MID: "MERCHANT0000001", Currency: "156", EntryMode: "021",
		Extra: map[int]string{48: terminalPrivate}}
}
