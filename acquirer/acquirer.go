package acquirer

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moov-io/iso8583"
	iso8583errors "github.com/moov-io/iso8583/errors"
	"github.com/moov-io/iso8583/utils"
	"github.com/posim/posim/wire"
)

// Acquirer is a simulated acquiring host listening on TCP. It is safe for
// concurrent use. Close it to stop listening and drop every connection.
type Acquirer struct {
	opts    Options
	engine  *Engine
	journal Journal
	codec   *wire.Codec
	log     *slog.Logger
	handler atomic.Pointer[Handler]

	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	ln     net.Listener
	addr   string // kept while paused
	paused bool
	conns  map[*Conn]struct{}
	closed bool
	wg     sync.WaitGroup
	seq    atomic.Int64
	macs   bool // the engine issues keys and checks MACs (cup); fixed at New
	// compiled: the profile's compiled codec reads requests and writes
	// answers (nil: moov messages, as dumps and recordings need them)
	compiled wire.CompiledProfile

	// connections refused over MaxConns, and the last warning of it or of
	// an unreadable frame (warnings at most once a second)
	refused, badFrames                    atomic.Int64
	warnedRefused, warnedFrame, warnedTLS atomic.Int64 // unix nanoseconds
}

// connLog is where connection entries go.
func (a *Acquirer) connLog() Journal {
	if a.opts.ConnLog != nil {
		return a.opts.ConnLog
	}
	return a.journal
}

// ConnLog returns the journal of connection entries (the journal itself
// unless WithConnectionLog was given).
func (a *Acquirer) ConnLog() Journal { return a.connLog() }

// warnEvery reports whether a rate-limited warning may be logged now (last
// is when the last one was): at most one a second, so that a flood of bad
// input cannot flood the log.
func warnEvery(last *atomic.Int64) bool {
	now := time.Now().UnixNano()
	was := last.Load()
	return now-was >= int64(time.Second) && last.CompareAndSwap(was, now)
}

// New returns an acquirer configured by opts; call Listen to start it.
func New(opts ...Option) (*Acquirer, error) {
	o := DefaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	engine := o.Engine
	if engine == nil {
		var err error
		if engine, err = NewEngine(o.Cards, o.Policies); err != nil {
			return nil, err
		}
		engine.SetRetention(o.Retain, o.RetainPostings)
	}
	if o.Journal == nil {
		o.Journal = NewMemJournal()
	}
	codec := wire.NewCodec(o.Profile)
	if o.Framer != nil {
		codec.Framer = o.Framer
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Acquirer{
		opts: o, engine: engine, journal: o.Journal, codec: codec, log: o.Logger,
		ctx: ctx, cancel: cancel, conns: map[*Conn]struct{}{},
	}
	if o.Profile.Capabilities().WorkingKeys {
		if !engine.KeysEnabled() {
			if err := engine.EnableKeys(o.TMK, o.MACAlg); err != nil {
				return nil, err
			}
		}
		codec.MACKeyFor = engine.MACKey
	}
	a.macs = engine.KeysEnabled()
	engine.SetDialect(o.Profile.Capabilities())
	if tf, ok := codec.Framer.(wire.TPDUFramer); ok {
		// a host answers with destination and source swapped, and says
		// what it drops for a TPDU or header it does not expect
		tf.Reply = true
		tf.OnMismatch = a.mismatch
		codec.Framer = tf
	}
	if fp, ok := o.Profile.(wire.CompiledProfile); ok && o.Dump == nil && o.Record == nil {
		a.compiled = fp
	}
	a.SetHandler(o.Handler)
	return a, nil
}

// record hands a message to the recorder; a failure is journalled once per
// connection, and the host carries on.
func (a *Acquirer) record(r Recorder, dir string, c *Conn, m *iso8583.Message, frame []byte) {
	var prefix []byte
	if tf, ok := c.codec.Framer.(wire.TPDUFramer); ok {
		tf.Reply = dir == "response"
		prefix = tf.Prefix()
		if tp, hd, seen := tf.Echo.Last(); seen && dir == "request" {
			prefix = append(tp[:], hd[:]...) // the request's own, as it came
		}
	}
	if err := r.Message(dir, c.id, prefix, m, frame); err != nil && c.recordFailed.CompareAndSwap(false, true) {
		a.journal.Append(Entry{Time: a.Now(), Kind: KindFault, Conn: c.id, Detail: "recording failed: " + err.Error()})
		a.log.Error("recording failed", KeyConn, c.id, "err", err)
	}
}

func (a *Acquirer) mismatch(m wire.Mismatch) {
	a.journal.Append(Entry{Time: a.Now(), Kind: KindBadFrame, Detail: "dropped (" + m.Policy + "): " + m.String()})
	if m.Policy == wire.MismatchReject {
		a.log.Warn("frame rejected: unexpected TPDU or header", "tpdu", fmt.Sprintf("%X", m.TPDU), "header", fmt.Sprintf("%X", m.Header))
	}
}

// Engine returns the acquirer's decision engine and ledger.
func (a *Acquirer) Engine() *Engine { return a.engine }

// Journal returns the journal.
func (a *Acquirer) Journal() Journal { return a.journal }

// Profile returns the dialect the acquirer speaks.
func (a *Acquirer) Profile() wire.Profile { return a.opts.Profile }

// Now returns the acquirer's clock reading.
func (a *Acquirer) Now() time.Time { return a.opts.Clock() }

// SetHandler replaces the handler for the next requests; nil restores the
// DefaultHandler.
func (a *Acquirer) SetHandler(h Handler) {
	if h == nil {
		h = DefaultHandler
	}
	a.handler.Store(&h)
}

// Handler returns the handler requests go to.
func (a *Acquirer) Handler() Handler { return *a.handler.Load() }

// Apply sets a scenario's policies, back office and handler on the running
// acquirer, in that order, so that the next request meets all of them. A
// policy or contract it refuses changes nothing.
func (a *Acquirer) Apply(s Setup) error {
	if s.Policies != nil {
		if err := s.Policies.Validate(); err != nil {
			return err
		}
	}
	if bo := s.BackOffice; bo != nil {
		if err := a.engine.SetContracts(bo.Cutover, bo.Contracts); err != nil {
			return err
		}
		a.engine.Advance(a.Now()) // the business day starts
	}
	if s.Policies != nil {
		if err := a.engine.SetPolicies(*s.Policies); err != nil {
			return err
		}
	}
	a.SetHandler(s.Handler)
	return nil
}

// Listen binds addr (for example "127.0.0.1:0") and starts accepting.
func (a *Acquirer) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	return a.Serve(ln)
}

// Serve accepts connections on ln in the background until Close.
func (a *Acquirer) Serve(ln net.Listener) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		ln.Close()
		return errors.New("acquirer is closed")
	}
	if a.ln != nil {
		a.mu.Unlock()
		ln.Close()
		return errors.New("acquirer is already listening")
	}
	ln = a.wrap(ln)
	a.ln = ln
	a.wg.Add(1)
	a.mu.Unlock()
	a.log.Info("listening", "addr", ln.Addr().String(), "profile", a.opts.Profile.Name(), "tls", a.opts.TLS != nil)
	go a.accept(ln)
	return nil
}

// Pause takes the host off the network as during maintenance: the listener
// closes (connection attempts are refused) and every open connection is
// dropped. The ledger and journal are kept. Resume brings it back.
func (a *Acquirer) Pause() {
	a.mu.Lock()
	ln := a.ln
	if ln == nil || a.paused {
		a.mu.Unlock()
		return
	}
	a.paused = true
	a.addr = ln.Addr().String()
	conns := make([]*Conn, 0, len(a.conns))
	for c := range a.conns {
		conns = append(conns, c)
	}
	a.mu.Unlock()
	ln.Close()
	for _, c := range conns {
		c.Close()
	}
	a.journal.Append(Entry{Time: a.Now(), Kind: KindFault, Detail: "host down: listener closed"})
}

// Resume listens again on the address used before Pause.
func (a *Acquirer) Resume() error {
	a.mu.Lock()
	if !a.paused || a.closed {
		a.mu.Unlock()
		return nil
	}
	addr := a.addr
	a.mu.Unlock()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening again on %s: %w", addr, err)
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		ln.Close()
		return nil
	}
	ln = a.wrap(ln)
	a.ln, a.paused = ln, false
	a.wg.Add(1)
	a.mu.Unlock()
	a.journal.Append(Entry{Time: a.Now(), Kind: KindFault, Detail: "host up: listening again"})
	go a.accept(ln)
	return nil
}

// wrap makes ln a TLS listener when the acquirer serves TLS.
func (a *Acquirer) wrap(ln net.Listener) net.Listener {
	if a.opts.TLS == nil {
		return ln
	}
	return tls.NewListener(ln, a.opts.TLS)
}

// Addr returns the address the acquirer listens on, or "" before Listen.
func (a *Acquirer) Addr() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ln == nil {
		return ""
	}
	return a.ln.Addr().String()
}

func (a *Acquirer) accept(ln net.Listener) {
	defer a.wg.Done()
	var backoff time.Duration
	for {
		raw, err := ln.Accept()
		if err != nil {
			if a.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			// a temporary failure (too many open files ...) must not stop the host
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			a.log.Warn("accept failed", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-a.ctx.Done():
				return
			}
			continue
		}
		backoff = 0
		if err := a.open(raw); err != nil {
			a.log.Warn("connection refused", "remote", raw.RemoteAddr().String(), "err", err)
			raw.Close()
		}
	}
}

func (a *Acquirer) isClosed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.closed
}

// Close stops listening, closes every connection and waits for handlers to
// finish. It is idempotent.
func (a *Acquirer) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	ln := a.ln
	conns := make([]*Conn, 0, len(a.conns))
	for c := range a.conns {
		conns = append(conns, c)
	}
	a.mu.Unlock()

	a.cancel()
	if ln != nil {
		ln.Close()
	}
	for _, c := range conns {
		c.Close()
	}
	a.wg.Wait()
	return nil
}

// Conns returns the number of open connections.
func (a *Acquirer) Conns() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.conns)
}

// track starts a unit of work owned by the acquirer; it fails once closed.
func (a *Acquirer) track() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return false
	}
	a.wg.Add(1)
	return true
}

func (a *Acquirer) open(raw net.Conn) error {
	c := &Conn{id: "c" + strconv.FormatInt(a.seq.Add(1), 10), a: a, raw: raw}
	c.ctx, c.cancel = context.WithCancel(a.ctx)
	codec := *a.codec
	codec.OnBadMessage = c.badMessage
	if tf, ok := codec.Framer.(wire.TPDUFramer); ok {
		// answers echo the TPDU (destination and source swapped) and
		// header of this connection's requests, as field hosts do
		tf.Echo = wire.NewTPDUEcho()
		codec.Framer = tf
	}
	c.codec = &codec
	// the connection is owned by the acquirer until its read loop ends
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return errors.New("acquirer is closed")
	}
	if max := a.opts.MaxConns; max > 0 && len(a.conns) >= max {
		a.mu.Unlock()
		n := a.refused.Add(1)
		if warnEvery(&a.warnedRefused) {
			a.log.Warn("connection refused: too many open", "max_conns", max, "refused_so_far", n)
		}
		raw.Close()
		return nil
	}
	a.wg.Add(1)
	a.conns[c] = struct{}{}
	a.mu.Unlock()
	a.connLog().Append(Entry{Time: a.Now(), Kind: KindConnection, Conn: c.id, Detail: "opened from " + raw.RemoteAddr().String()})
	a.log.Info("connection opened", KeyConn, c.id, "remote", raw.RemoteAddr().String())
	go c.readLoop()
	return nil
}

// logTxn writes the one structured line for a message in or out.
func (a *Acquirer) logTxn(dir string, c *Conn, t *wire.Txn) {
	if !a.log.Enabled(a.ctx, slog.LevelInfo) {
		return // no masking and no attributes for a discarded line
	}
	a.log.Info(dir, KeyConn, c.id, KeyMTI, t.MTI, KeySTAN, t.STAN, KeyTID, t.TID,
		KeyRC, t.ResponseCode, KeyPAN, wire.MaskPAN(t.PAN), "op", string(t.Op))
}

func (a *Acquirer) entry(kind string, c *Conn, t *wire.Txn) Entry {
	e := Entry{Time: a.Now(), Kind: kind, Conn: c.id}
	if t != nil {
		e.MTI, e.Op, e.STAN, e.TID, e.MID = t.MTI, string(t.Op), t.STAN, t.TID, t.MID
		e.PAN, e.RC, e.RRN = c.mask(t.PAN), t.ResponseCode, t.RRN
		e.MAC = len(t.MAC) > 0
		if t.HasAmount {
			e.Amount = wire.Money(t.Amount)
		}
	}
	return e
}

// checkMAC verifies the MAC of a request under cup; it returns why it
// failed, or "".
func (a *Acquirer) checkMAC(req *wire.Txn, body []byte) string {
	if !a.macs || req.IsResponse() || req.Op == wire.OpSignOn {
		return ""
	}
	k := a.engine.MACKey(req.TID)
	if k == nil {
		return "" // no key to check it with: the engine asks for a sign-on (77)
	}
	if len(req.MAC) == 0 {
		if req.Op.Financial() || req.Op == wire.OpReversal || req.Op == wire.OpReversalAdvice {
			return "MAC missing on a financial message from a signed-on terminal"
		}
		return "" // network management and settlement go unsigned
	}
	if !wire.VerifyMAC(k, body) {
		return "MAC failed"
	}
	return ""
}

// Conn is one terminal connection. Its methods are safe for concurrent use.
//
// Each connection has one read loop. Requests are handled on it when the
// handler is an InlineHandler (the DefaultHandler and scenario fault rules
// are), which costs no goroutine per message; otherwise each request gets a
// goroutine of its own. Writes are serialised: one frame, one Write.
type Conn struct {
	id     string
	a      *Acquirer
	raw    net.Conn
	codec  *wire.Codec
	wmu    sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	masked atomic.Pointer[[2]string] // the last PAN seen and its mask
	// recordFailed: a recording failure was already journalled
	recordFailed atomic.Bool
}

// mask masks a PAN, remembering the last one: a terminal's request, the
// decision and the answer all carry the same card.
func (c *Conn) mask(pan string) string {
	if p := c.masked.Load(); p != nil && p[0] == pan {
		return p[1]
	}
	m := wire.MaskPAN(pan)
	c.masked.Store(&[2]string{pan, m})
	return m
}

// ID names the connection in the journal ("c1", "c2" ...).
func (c *Conn) ID() string { return c.id }

// RemoteAddr is the terminal's address.
func (c *Conn) RemoteAddr() string { return c.raw.RemoteAddr().String() }

// codecFor is the connection's codec for t: with the processing request
// t asks the terminal for in the header of its frame (cup).
func (c *Conn) codecFor(t *wire.Txn) *wire.Codec {
	tf, ok := c.codec.Framer.(wire.TPDUFramer)
	if !ok || t.HostRequest == 0 {
		return c.codec
	}
	codec := *c.codec
	tf.Request = t.HostRequest
	codec.Framer = tf
	return &codec
}

// Send encodes t and writes it as one frame, journalling and logging it.
func (c *Conn) Send(t *wire.Txn) error {
	if fp := c.a.compiled; fp != nil {
		frame, err := c.codecFor(t).FrameCompiled(fp, t)
		if err != nil {
			c.a.journal.Append(Entry{Time: c.a.Now(), Kind: KindFault, Conn: c.id, MTI: t.MTI, STAN: t.STAN, Detail: "send failed: " + err.Error()})
			return fmt.Errorf("sending %s: %w", t.MTI, err)
		}
		return c.sendFrame(t, nil, frame)
	}
	m, err := c.a.opts.Profile.Encode(t)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", t.MTI, err)
	}
	frame, err := c.codecFor(t).Frame(m)
	if err != nil {
		c.a.journal.Append(Entry{Time: c.a.Now(), Kind: KindFault, Conn: c.id, MTI: t.MTI, STAN: t.STAN, Detail: "send failed: " + err.Error()})
		return fmt.Errorf("sending %s: %w", t.MTI, err)
	}
	return c.sendFrame(t, m, frame)
}

// SendMessage writes an already encoded message; t describes it for the
// journal.
func (c *Conn) SendMessage(t *wire.Txn, m *iso8583.Message) error {
	frame, err := c.codec.Frame(m)
	if err != nil {
		c.a.journal.Append(Entry{Time: c.a.Now(), Kind: KindFault, Conn: c.id, MTI: t.MTI, STAN: t.STAN, Detail: "send failed: " + err.Error()})
		return fmt.Errorf("sending %s: %w", t.MTI, err)
	}
	return c.sendFrame(t, m, frame)
}

// sendFrame journals, logs, dumps and records a frame (m: its message,
// when a moov message was built), then writes it.
func (c *Conn) sendFrame(t *wire.Txn, m *iso8583.Message, frame []byte) error {
	// journalled before the write, so that the entry always precedes
	// whatever the terminal does with the answer
	c.a.journal.Append(c.a.entry(KindOut, c, t))
	c.a.logTxn("out", c, t)
	if c.a.opts.Dump != nil && m != nil {
		wire.Dump(c.a.opts.Dump, c.id+" >>", m)
	}
	if r := c.a.opts.Record; r != nil && m != nil {
		c.a.record(r, "response", c, m, frame)
	}
	if err := c.write(frame); err != nil {
		c.a.journal.Append(Entry{Time: c.a.Now(), Kind: KindFault, Conn: c.id, MTI: t.MTI, STAN: t.STAN, Detail: "send failed: " + err.Error()})
		return fmt.Errorf("sending %s: %w", t.MTI, err)
	}
	return nil
}

func (c *Conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.ctx.Err() != nil {
		return errConnClosed
	}
	_, err := c.raw.Write(b)
	return err
}

var errConnClosed = errors.New("connection closed")

// WriteRaw writes bytes as they are, with no framing: for faults that send
// garbage, truncated or fragmented frames.
func (c *Conn) WriteRaw(b []byte) error { return c.write(b) }

// Frame packs t into a complete frame without sending it.
func (c *Conn) Frame(t *wire.Txn) ([]byte, error) {
	m, err := c.a.opts.Profile.Encode(t)
	if err != nil {
		return nil, err
	}
	return c.codec.Frame(m)
}

// Close closes the connection gracefully (FIN).
func (c *Conn) Close() {
	c.cancel()
	c.raw.Close()
}

// Reset closes the connection with a TCP RST.
func (c *Conn) Reset() {
	raw := c.raw
	if tc, ok := raw.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// Context is cancelled when the connection or the acquirer closes.
func (c *Conn) Context() context.Context { return c.ctx }

// readLoop reads frames until the connection ends, handing each request to
// the handler.
func (c *Conn) readLoop() {
	defer c.closed()
	r := bufio.NewReader(c.raw)
	idle := c.a.opts.IdleTimeout
	fp := c.a.compiled
	var fields wire.Fields
	for {
		if idle > 0 {
			// the whole next frame must arrive in time: a slowloris peer
			// that trickles bytes is closed like a silent one
			_ = c.raw.SetReadDeadline(time.Now().Add(idle))
		}
		body, err := c.codec.Framer.ReadFrame(r)
		if err != nil {
			if c.ctx.Err() == nil {
				c.readError(err)
			}
			return
		}
		if len(body) == 0 {
			continue // a keep-alive
		}
		if fp != nil && fp.Compiled().Unpack(body, &fields) == nil {
			req, err := fp.DecodeFrom(&fields)
			c.inbound(nil, req, err, body)
			continue
		}
		// moov reads it (again, when the compiled codec refused it: for
		// the answer to a bad frame moov's partial message gives)
		m, err := c.codec.UnpackBody(body)
		if err != nil {
			c.readError(err)
			return
		}
		if m != nil { // nil: a bad frame already answered
			req, err := c.a.opts.Profile.Decode(m)
			c.inbound(m, req, err, body)
		}
	}
}

func (c *Conn) closed() {
	c.once.Do(func() {
		c.cancel()
		c.raw.Close()
		a := c.a
		a.mu.Lock()
		delete(a.conns, c)
		a.mu.Unlock()
		a.connLog().Append(Entry{Time: a.Now(), Kind: KindConnection, Conn: c.id, Detail: "closed"})
		a.log.Info("connection closed", KeyConn, c.id)
		a.wg.Done()
	})
}

func (c *Conn) readError(err error) {
	var ne net.Error
	var rec tls.RecordHeaderError
	var alert tls.AlertError
	var cv *tls.CertificateVerificationError
	switch {
	case errors.As(err, &rec) || errors.As(err, &alert) || errors.As(err, &cv) || strings.Contains(err.Error(), "tls:"):
		if warnEvery(&c.a.warnedTLS) {
			c.a.log.Warn("TLS handshake failed", KeyConn, c.id, "remote", c.RemoteAddr(), "err", err)
		}
	case errors.As(err, &ne) && ne.Timeout():
		c.a.log.Debug("closing idle connection", KeyConn, c.id, "idle_timeout", c.a.opts.IdleTimeout)
	case errors.Is(err, wire.ErrFrameTooLarge):
		c.a.log.Warn("closing connection: frame too large", KeyConn, c.id, "err", errorText(err))
		c.a.journal.Append(Entry{Time: c.a.Now(), Kind: KindBadFrame, Conn: c.id, Detail: "closing connection: " + errorText(err)})
	case isEOF(err):
		c.a.log.Debug("peer closed", KeyConn, c.id)
	default:
		c.a.log.Warn("connection error", KeyConn, c.id, "err", err)
	}
}

func isEOF(err error) bool {
	s := errorText(err)
	return errors.Is(err, io.EOF) || strings.Contains(s, "EOF") || strings.Contains(s, "use of closed") || strings.Contains(s, "reset by peer")
}

// errorText unwraps moov's SafeError, which hides its cause from Error().
// Only use it on errors of the framing layer, which carry no card data.
func errorText(err error) string {
	var se *utils.SafeError
	if errors.As(err, &se) && se.Err != nil {
		return se.Err.Error()
	}
	return err.Error()
}

// unpackText describes an unpack failure without field content, which could
// be card data.
func unpackText(err error) string {
	var ue *iso8583errors.UnpackError
	if errors.As(err, &ue) && ue.FieldID != "" {
		return "field " + ue.FieldID + " could not be unpacked"
	}
	return "message could not be unpacked"
}

// badMessage answers a frame that could not be unpacked with a format error
// when its MTI is readable and a request; otherwise it only journals it.
func (c *Conn) badMessage(b wire.BadMessage) {
	a := c.a
	mti, _ := b.Partial.GetMTI()
	get := func(id int) string { s, _ := b.Partial.GetString(id); return s }
	t := &wire.Txn{MTI: mti, STAN: get(11), TID: get(41), MID: get(42), ProcessingCode: get(3), DE60: get(60)}
	e := a.entry(KindBadFrame, c, t)
	why := unpackText(b.Err)
	if causes := wire.DiagnoseBody(b.Raw, a.opts.Profile); len(causes) > 0 {
		why = strings.Join(causes, "; ")
	}
	e.Detail = fmt.Sprintf("%d-byte frame: %s", len(b.Raw), why)
	a.journal.Append(e)
	if n := a.badFrames.Add(1); warnEvery(&a.warnedFrame) {
		a.log.Warn("bad message", KeyConn, c.id, KeyMTI, mti, "bytes", len(b.Raw), "err", why, "bad_frames_so_far", n)
	}
	if _, err := wire.ResponseMTI(mti); err != nil {
		return
	}
	_ = c.Send(t.Response("30")) // on the read loop: answered before the next frame is read
}

// inbound handles one request, decoded as req (err: why it could not be);
// body is its frame body as it arrived, m its moov message (nil when the
// compiled codec read it).
func (c *Conn) inbound(m *iso8583.Message, req *wire.Txn, err error, body []byte) {
	a := c.a
	now := a.Now()
	if a.opts.Dump != nil && m != nil {
		wire.Dump(a.opts.Dump, c.id+" <<", m)
	}
	if r := a.opts.Record; r != nil && m != nil {
		a.record(r, "request", c, m, nil)
	}
	a.journal.Append(a.entry(KindIn, c, req))
	a.logTxn("in", c, req)
	x := &Exchange{Conn: c, Request: req, Message: m, Received: now}
	if err != nil {
		x.done = true
		x.decision = Decision{Response: req.Response("30"), Why: "format error: " + err.Error()}
		a.journal.Append(Entry{Time: now, Kind: KindDecision, Conn: c.id, MTI: req.MTI, STAN: req.STAN, TID: req.TID, RC: "30", Detail: x.decision.Why})
	} else if why := a.checkMAC(req, body); why != "" {
		// A0: nothing is processed; the terminal must sign on again
		x.done = true
		x.decision = Decision{Response: req.Response("A0"), Why: why}
		a.journal.Append(Entry{Time: now, Kind: KindDecision, Conn: c.id, MTI: req.MTI, STAN: req.STAN, TID: req.TID, RC: "A0", Detail: why})
	}
	h := *a.handler.Load()
	if ih, ok := h.(InlineHandler); ok {
		ih.HandleInline(x)
		return
	}
	x.Go(func(ctx context.Context) { h.Handle(ctx, x) })
}
