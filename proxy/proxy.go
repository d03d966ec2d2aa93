// Package proxy stands between a real terminal and a real host: posim
// proxy. Each terminal connection gets its own connection to the host;
// frames are decoded in both directions with the dialect's spec, journalled,
// dumped and recorded, and the scenario's fault rules act on them (before
// process on the request on its way to the host, after process on the
// host's answer). Frames it cannot decode, and requests no rule fires on,
// pass through byte for byte: a proxy never breaks a link it does not
// understand. TPDUs and headers pass through untouched.
package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/faults"
	"github.com/posim/posim/wire"
)

// Config configures a Proxy.
type Config struct {
	// Upstream is the host's address; UpstreamTLS, when set, makes the
	// link to it TLS.
	Upstream    string
	UpstreamTLS *tls.Config
	// TLS, when set, makes the terminals' side TLS.
	TLS *tls.Config
	// Profile is the dialect; Framer the framing (nil: the profile's).
	Profile wire.Profile
	Framer  wire.Framer
	// Rules, when set, are the fault rules; nil passes everything through.
	Rules *faults.Faults
	// Journal receives every message, fault and unreadable frame (nil: an
	// in-memory one).
	Journal acquirer.Journal
	// Logger gets one line per message and problem (nil: none).
	Logger *slog.Logger
	// Dump, when set, receives every decoded message field by field.
	Dump io.Writer
	// Record, when set, receives every decoded message.
	Record acquirer.Recorder
	// HostTimeout is how long process waits for the host's answer
	// (default 60s); DialTimeout how long connecting to it may take
	// (default 10s).
	HostTimeout, DialTimeout time.Duration
	// Now stamps journal entries (nil: time.Now).
	Now func() time.Time
}

// Proxy relays terminal connections to the host. It is safe for
// concurrent use.
type Proxy struct {
	cfg    Config
	inner  wire.Framer
	prefix int // TPDU and header bytes before the body (cup: 11)
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	ln     net.Listener
	addr   string
	links  map[*link]struct{}
	nextID int
	paused bool
	wg     sync.WaitGroup
}

// New returns a proxy; Listen starts it.
func New(cfg Config) (*Proxy, error) {
	if cfg.Profile == nil {
		return nil, errors.New("proxy: no profile")
	}
	if cfg.Upstream == "" {
		return nil, errors.New("proxy: no upstream host")
	}
	if cfg.Framer == nil {
		cfg.Framer = cfg.Profile.Framer()
	}
	if cfg.Journal == nil {
		cfg.Journal = acquirer.NewMemJournal()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HostTimeout <= 0 {
		cfg.HostTimeout = 60 * time.Second
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Dump != nil {
		cfg.Dump = &wire.SyncWriter{W: cfg.Dump}
	}
	p := &Proxy{cfg: cfg, inner: wire.InnerFramer(cfg.Framer), links: map[*link]struct{}{}}
	if _, ok := cfg.Framer.(wire.TPDUFramer); ok || cfg.Profile.Capabilities().TPDU {
		p.prefix = 11
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p, nil
}

// Journal is the proxy's journal.
func (p *Proxy) Journal() acquirer.Journal { return p.cfg.Journal }

// Listen starts accepting terminals on addr ("127.0.0.1:0" picks a port).
func (p *Proxy) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	if p.cfg.TLS != nil {
		ln = tls.NewListener(ln, p.cfg.TLS)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Add(1)
	go p.accept(ln)
	return nil
}

// Addr is the address terminals connect to.
func (p *Proxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// Conns is the number of terminal connections open.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.ctx.Err() != nil || p.paused {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.nextID++
		l := &link{p: p, id: fmt.Sprintf("c%d", p.nextID), term: c, pending: map[string]chan *frame{}}
		l.ctx, l.cancel = context.WithCancel(p.ctx)
		p.links[l] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go l.run()
	}
}

// Pause takes the proxy off the network: the listener closes and every
// connection drops (the refuse primitive). Resume brings it back on the
// same address.
func (p *Proxy) Pause() {
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
	p.hangUp()
}

// hangUp closes the listener and every connection.
func (p *Proxy) hangUp() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	for _, l := range links {
		l.close(false)
	}
}

// Resume listens again on the proxy's address after Pause.
func (p *Proxy) Resume() error {
	p.mu.Lock()
	if !p.paused || p.ctx.Err() != nil {
		p.mu.Unlock()
		return nil
	}
	p.paused = false
	addr := p.addr
	p.mu.Unlock()
	return p.Listen(addr)
}

// Close stops accepting, closes every connection and waits for them.
func (p *Proxy) Close() error {
	p.cancel()
	p.hangUp()
	p.wg.Wait()
	return nil
}

func (p *Proxy) journal(e acquirer.Entry) {
	e.Time = p.cfg.Now()
	p.cfg.Journal.Append(e)
}

// frame is one frame read from either side.
type frame struct {
	raw    []byte // the frame exactly as it arrived, length header included
	prefix []byte // TPDU and header (nil without)
	msg    *iso8583.Message
	txn    *wire.Txn
	why    string // why it could not be decoded ("" when it was)
}

// capture records the bytes a framer reads.
type capture struct {
	r   io.Reader
	buf []byte
}

func (c *capture) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.buf = append(c.buf, b[:n]...)
	return n, err
}

// read reads one frame from r and decodes what it can. A framing error
// (a length header that cannot be believed) returns the bytes read so far
// in the frame with the error: the stream cannot be split any more.
func (p *Proxy) read(r *capture) (*frame, error) {
	r.buf = r.buf[:0]
	body, err := p.inner.ReadFrame(r)
	raw := append([]byte(nil), r.buf...)
	if err != nil {
		return &frame{raw: raw}, err
	}
	f := &frame{raw: raw}
	if len(body) == 0 {
		f.why = "keep-alive (empty frame)"
		return f, nil
	}
	if p.prefix > 0 {
		if len(body) < p.prefix {
			f.why = fmt.Sprintf("%d-byte frame, shorter than TPDU and header", len(body))
			return f, nil
		}
		f.prefix, body = body[:p.prefix], body[p.prefix:]
	}
	m := iso8583.NewMessage(p.cfg.Profile.Spec())
	if err := m.Unpack(body); err != nil {
		why := err.Error()
		if causes := wire.DiagnoseBody(body, p.cfg.Profile); len(causes) > 0 {
			why = strings.Join(causes, "; ")
		}
		f.why = fmt.Sprintf("%d-byte frame: %s", len(raw), why)
		return f, nil
	}
	t, err := p.cfg.Profile.Decode(m)
	if err != nil {
		mti, _ := m.GetMTI()
		f.msg = m
		f.why = fmt.Sprintf("%s does not follow the %s dialect: %v", mti, p.cfg.Profile.Name(), err)
		return f, nil
	}
	f.msg, f.txn = m, t
	return f, nil
}

// pairKey pairs an answer with its request: terminal, message class, STAN.
func pairKey(t *wire.Txn) string {
	class := t.MTI
	if len(class) == 4 {
		class = class[:2]
	}
	return strings.TrimSpace(t.TID) + "|" + class + "|" + t.STAN
}

// encode frames t: from the message it was decoded from (orig, whose
// prefix it keeps) with only the fields that changed rewritten, or from
// scratch when there is none.
func (p *Proxy) encode(t *wire.Txn, orig *frame, prefix []byte) ([]byte, error) {
	var m *iso8583.Message
	if orig != nil && orig.msg != nil {
		var err error
		if m, err = patch(p.cfg.Profile, orig, t); err != nil {
			return nil, err
		}
		prefix = orig.prefix
	} else {
		var err error
		if m, err = p.cfg.Profile.Encode(t); err != nil {
			return nil, err
		}
	}
	body, err := m.Pack()
	if err != nil {
		return nil, err
	}
	if t.CorruptMAC && len(body) >= 8 {
		body[len(body)-1] ^= 0x01
	}
	return p.inner.AppendFrame(nil, append(append([]byte(nil), prefix...), body...))
}

// patch returns a copy of the original message with the fields in which t
// differs from the original's decoding rewritten as the profile writes
// them: what a rule changed, and nothing else.
func patch(prof wire.Profile, orig *frame, t *wire.Txn) (*iso8583.Message, error) {
	body, err := orig.msg.Pack()
	if err != nil {
		return nil, err
	}
	m := iso8583.NewMessage(prof.Spec())
	if err := m.Unpack(body); err != nil {
		return nil, err
	}
	before, err := prof.Encode(orig.txn)
	if err != nil {
		return nil, fmt.Errorf("cannot re-encode the original to find what changed: %w", err)
	}
	after, err := prof.Encode(t)
	if err != nil {
		return nil, err
	}
	if a, _ := after.GetMTI(); a != "" {
		if b, _ := before.GetMTI(); a != b {
			m.MTI(a)
		}
	}
	bf, af := before.GetFields(), after.GetFields()
	for id := 2; id <= 128; id++ {
		fb, inB := bf[id]
		fa, inA := af[id]
		switch {
		case inA && !inB, inA && inB && !sameField(fa, fb):
			v, err := fa.Bytes()
			if err != nil {
				return nil, err
			}
			if err := m.BinaryField(id, v); err != nil {
				return nil, fmt.Errorf("DE%d: %w", id, err)
			}
		case inB && !inA:
			m.UnsetField(id)
		}
	}
	return m, nil
}

// sameField reports whether two fields hold the same value.
func sameField(a, b interface{ Bytes() ([]byte, error) }) bool {
	va, errA := a.Bytes()
	vb, errB := b.Bytes()
	return errA == nil && errB == nil && bytes.Equal(va, vb)
}
