package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"reflect"
	"sync"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/faults"
	"github.com/posim/posim/wire"
)

// Directions a message takes through the proxy, as journalled in Detail.
const (
	FromTerminal = "from terminal"
	ToHost       = "to host"
	FromHost     = "from host"
	ToTerminal   = "to terminal"
)

// link is one terminal connection and its connection to the host.
type link struct {
	p      *Proxy
	id     string
	term   net.Conn
	host   net.Conn
	ctx    context.Context
	cancel context.CancelFunc

	twmu, hwmu sync.Mutex // one writer at a time on each side
	pipes      sync.WaitGroup

	mu       sync.Mutex
	pending  map[string]chan *frame // answers awaited by rule pipelines, by pairKey
	hostDone bool
	once     sync.Once
}

func (l *link) run() {
	p := l.p
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.links, l)
		p.mu.Unlock()
	}()
	p.journal(acquirer.Entry{Kind: acquirer.KindConnection, Conn: l.id, Detail: "terminal " + l.term.RemoteAddr().String() + " connected"})
	d := &net.Dialer{Timeout: p.cfg.DialTimeout}
	var host net.Conn
	var err error
	if p.cfg.UpstreamTLS != nil {
		host, err = (&tls.Dialer{NetDialer: d, Config: p.cfg.UpstreamTLS}).DialContext(l.ctx, "tcp", p.cfg.Upstream)
	} else {
		host, err = d.DialContext(l.ctx, "tcp", p.cfg.Upstream)
	}
	if err != nil {
		p.journal(acquirer.Entry{Kind: acquirer.KindFault, Conn: l.id, Detail: "host " + p.cfg.Upstream + " unreachable: " + err.Error() + "; terminal connection closed"})
		p.cfg.Logger.Warn("host unreachable", "conn", l.id, "upstream", p.cfg.Upstream, "err", err)
		l.close(false)
		return
	}
	l.mu.Lock()
	l.host = host
	l.mu.Unlock()
	if l.ctx.Err() != nil {
		host.Close()
		return
	}
	var fromHost sync.WaitGroup
	fromHost.Add(1)
	go func() {
		defer fromHost.Done()
		l.readHost()
		// the host hung up: answers already read still go out, through
		// their pipelines, then the terminal is closed too
		l.pipes.Wait()
		l.close(false)
	}()
	l.readTerminal()
	l.close(false)
	fromHost.Wait()
	l.pipes.Wait()
	p.journal(acquirer.Entry{Kind: acquirer.KindConnection, Conn: l.id, Detail: "closed"})
}

// close closes both sides once; rst resets the terminal's side.
func (l *link) close(rst bool) {
	l.once.Do(func() {
		l.cancel()
		term := l.term
		if tc, ok := term.(*tls.Conn); ok {
			term = tc.NetConn()
		}
		if tc, ok := term.(*net.TCPConn); ok && rst {
			_ = tc.SetLinger(0)
		}
		l.term.Close()
		l.mu.Lock()
		host := l.host
		l.mu.Unlock()
		if host != nil {
			host.Close()
		}
	})
}

func (l *link) entry(kind, dir string, t *wire.Txn) acquirer.Entry {
	e := acquirer.Entry{Kind: kind, Conn: l.id, Detail: dir}
	if t != nil {
		e.MTI, e.Op, e.STAN, e.TID, e.MID, e.PAN = t.MTI, string(t.Op), t.STAN, t.TID, t.MID, wire.MaskPAN(t.PAN)
		e.Amount, e.RC, e.RRN, e.MAC = wire.Money(t.Amount), t.ResponseCode, t.RRN, len(t.MAC) > 0
		if t.IsResponse() {
			e.Reason = wire.Meaning(t.ResponseCode, "en")
		}
	}
	return e
}

// observe journals, logs, dumps and records a decoded frame.
func (l *link) observe(f *frame, dir string) {
	p := l.p
	p.journal(l.entry(acquirer.KindIn, dir, f.txn))
	p.cfg.Logger.Info(dir, "conn", l.id, "mti", f.txn.MTI, "stan", f.txn.STAN, "tid", f.txn.TID, "rc", f.txn.ResponseCode)
	if p.cfg.Dump != nil {
		arrow := " <<"
		if dir == FromHost {
			arrow = " host>>"
		}
		wire.Dump(p.cfg.Dump, l.id+arrow, f.msg)
	}
	if r := p.cfg.Record; r != nil {
		kind := "request"
		if dir == FromHost {
			kind = "response"
		}
		if err := r.Message(kind, l.id, f.prefix, f.msg, f.raw); err != nil {
			p.journal(acquirer.Entry{Kind: acquirer.KindFault, Conn: l.id, Detail: "recording failed: " + err.Error()})
		}
	}
}

// unreadable journals a frame that passes through undecoded.
func (l *link) unreadable(f *frame, dir string) {
	if f.why == "keep-alive (empty frame)" {
		return
	}
	l.p.journal(acquirer.Entry{Kind: acquirer.KindBadFrame, Conn: l.id,
		Detail: dir + ": " + f.why + "; passed through unchanged"})
	l.p.cfg.Logger.Warn("frame passed through undecoded", "conn", l.id, "from", dir, "why", f.why)
}

// broken handles a stream whose framing broke: what was read passes, then
// the rest of the connection is copied byte for byte.
func (l *link) broken(f *frame, err error, dir string, r io.Reader, w func([]byte) error) {
	if len(f.raw) == 0 || l.ctx.Err() != nil {
		return
	}
	l.p.journal(acquirer.Entry{Kind: acquirer.KindBadFrame, Conn: l.id,
		Detail: fmt.Sprintf("%s: framing lost after %d bytes (%v); the rest of the connection passes through as bytes", dir, len(f.raw), err)})
	if w(f.raw) != nil {
		return
	}
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 && w(buf[:n]) != nil {
			return
		}
		if err != nil {
			return
		}
	}
}

func (l *link) readTerminal() {
	r := &capture{r: bufio.NewReader(l.term)}
	for {
		f, err := l.p.read(r)
		if err != nil {
			if err != io.EOF {
				l.broken(f, err, FromTerminal, r.r, l.writeHost)
			}
			return
		}
		if f.txn == nil {
			l.unreadable(f, FromTerminal)
			if l.writeHost(f.raw) != nil {
				return
			}
			continue
		}
		l.observe(f, FromTerminal)
		l.request(f)
	}
}

// request passes a decoded request on, or hands it to the rule that fires.
func (l *link) request(f *frame) {
	if rules := l.p.cfg.Rules; rules != nil {
		x := newExchange(l, f)
		if run := rules.Pick(x); run != nil {
			l.pipes.Add(1)
			go func() {
				defer l.pipes.Done()
				run(l.ctx)
			}()
			return
		}
	}
	_ = l.sendHost(f.raw, f.txn)
}

func (l *link) readHost() {
	r := &capture{r: bufio.NewReader(l.host)}
	for {
		f, err := l.p.read(r)
		if err != nil {
			if err != io.EOF {
				l.broken(f, err, FromHost, r.r, l.writeTerminal)
			}
			l.hostGone()
			return
		}
		if f.txn == nil {
			l.unreadable(f, FromHost)
			if l.writeTerminal(f.raw) != nil {
				l.hostGone()
				return
			}
			continue
		}
		l.observe(f, FromHost)
		if ch := l.waiter(pairKey(f.txn)); ch != nil {
			ch <- f
			continue
		}
		_ = l.sendTerminal(f.raw, f.txn)
	}
}

// hostGone wakes every pipeline waiting for an answer: none will come.
func (l *link) hostGone() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hostDone = true
	for k, ch := range l.pending {
		close(ch)
		delete(l.pending, k)
	}
}

func (l *link) await(key string) (chan *frame, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hostDone {
		return nil, false
	}
	ch := make(chan *frame, 1)
	l.pending[key] = ch
	return ch, true
}

func (l *link) waiter(key string) chan *frame {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := l.pending[key]
	delete(l.pending, key)
	return ch
}

func (l *link) writeHost(b []byte) error {
	l.hwmu.Lock()
	defer l.hwmu.Unlock()
	_, err := l.host.Write(b)
	return err
}

func (l *link) writeTerminal(b []byte) error {
	l.twmu.Lock()
	defer l.twmu.Unlock()
	_, err := l.term.Write(b)
	return err
}

// sendHost writes a request frame to the host and journals it.
func (l *link) sendHost(b []byte, t *wire.Txn) error {
	l.p.journal(l.entry(acquirer.KindOut, ToHost, t))
	return l.writeHost(b)
}

// sendTerminal writes an answer frame to the terminal and journals it.
func (l *link) sendTerminal(b []byte, t *wire.Txn) error {
	l.p.journal(l.entry(acquirer.KindOut, ToTerminal, t))
	return l.writeTerminal(b)
}

// exchange is a request as the fault rules see it through the proxy.
type exchange struct {
	l    *link
	f    *frame
	req  *wire.Txn // what rules may change
	sent wire.Txn  // the request as it arrived

	mu        sync.Mutex
	processed bool
	resp      *frame // the host's answer, once processed
}

var _ faults.Exchange = (*exchange)(nil)

func newExchange(l *link, f *frame) *exchange {
	req := *f.txn
	return &exchange{l: l, f: f, req: &req, sent: *f.txn}
}

func (x *exchange) Request() *wire.Txn { return x.req }
func (x *exchange) ConnID() string     { return x.l.id }

// requestBytes is the request as the host gets it: as it arrived, or
// with what a rule changed rewritten.
func (x *exchange) requestBytes() ([]byte, error) {
	if reflect.DeepEqual(*x.req, x.sent) {
		return x.f.raw, nil
	}
	return x.l.p.encode(x.req, x.f, nil)
}

// Process forwards the request to the host and waits for its answer.
func (x *exchange) Process() *wire.Txn {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.processed {
		x.processed = true
		x.resp = x.forwardAndWait()
	}
	if x.resp == nil {
		return nil
	}
	cp := *x.resp.txn
	return &cp
}

func (x *exchange) forwardAndWait() *frame {
	l := x.l
	ch, ok := l.await(pairKey(x.req))
	if !ok {
		return nil
	}
	if err := x.Forward(); err != nil {
		l.waiter(pairKey(x.req))
		return nil
	}
	t := time.NewTimer(l.p.cfg.HostTimeout)
	defer t.Stop()
	select {
	case f := <-ch:
		return f // nil when the host hung up
	case <-t.C:
		l.waiter(pairKey(x.req))
		l.p.journal(acquirer.Entry{Kind: acquirer.KindFault, Conn: l.id, MTI: x.req.MTI, STAN: x.req.STAN, TID: x.req.TID,
			Detail: fmt.Sprintf("host did not answer within %s", l.p.cfg.HostTimeout)})
		return nil
	case <-l.ctx.Done():
		return nil
	}
}

// Forward sends the request to the host (again).
func (x *exchange) Forward() error {
	b, err := x.requestBytes()
	if err != nil {
		x.l.p.journal(acquirer.Entry{Kind: acquirer.KindFault, Conn: x.l.id, MTI: x.req.MTI, STAN: x.req.STAN,
			Detail: "could not rewrite the request: " + err.Error() + "; sent as it arrived"})
		b = x.f.raw
	}
	return x.l.sendHost(b, x.req)
}

// Frame is what Respond writes for t: the host's answer byte for byte
// when no rule changed it.
func (x *exchange) Frame(t *wire.Txn) ([]byte, error) {
	x.mu.Lock()
	resp := x.resp
	x.mu.Unlock()
	if resp != nil && reflect.DeepEqual(*t, *resp.txn) {
		return resp.raw, nil
	}
	if resp != nil {
		return x.l.p.encode(t, resp, nil)
	}
	return x.l.p.encode(t, nil, replyPrefix(x.f.prefix))
}

func (x *exchange) Respond(t *wire.Txn) error {
	b, err := x.Frame(t)
	if err != nil {
		x.l.p.journal(acquirer.Entry{Kind: acquirer.KindFault, Conn: x.l.id, MTI: t.MTI, STAN: t.STAN, Detail: "could not encode the answer: " + err.Error()})
		return err
	}
	return x.l.sendTerminal(b, t)
}

func (x *exchange) Send(t *wire.Txn) error {
	b, err := x.l.p.encode(t, nil, replyPrefix(x.f.prefix))
	if err != nil {
		return err
	}
	return x.l.sendTerminal(b, t)
}

func (x *exchange) WriteRaw(b []byte) error { return x.l.writeTerminal(b) }
func (x *exchange) Close()                  { x.l.close(false) }
func (x *exchange) Reset()                  { x.l.close(true) }

func (x *exchange) Refuse() (func() error, error) {
	x.l.p.Pause()
	return x.l.p.Resume, nil
}

func (x *exchange) MarkAnomaly(acquirer.Anomaly) (int64, error) {
	return 0, fmt.Errorf("a proxy keeps no books: %w", faults.ErrNotHere)
}

// replyPrefix is a TPDU and header with the TPDU's destination and source
// swapped, as a host answers.
func replyPrefix(prefix []byte) []byte {
	if len(prefix) < 5 {
		return prefix
	}
	out := append([]byte(nil), prefix...)
	out[1], out[2], out[3], out[4] = prefix[3], prefix[4], prefix[1], prefix[2]
	return out
}
