package terminal

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/moov-io/iso8583"
	iso8583errors "github.com/moov-io/iso8583/errors"
	"github.com/posim/posim/wire"
)

// Errors of the link to the acquirer.
var (
	// errNotSent: the connection was already closed (or the write failed)
	// before the request left; nothing reached the host.
	errNotSent = errors.New("the connection was closed before the request was sent")
	// errClosed: the host closed the connection after the request left and
	// before its response arrived.
	errClosed = errors.New("the acquirer closed the connection")
	// errTimeout: no response within the timeout.
	errTimeout = errors.New("no response in time")
)

// link is the terminal's connection to its acquirer. One goroutine reads
// every frame and, after the last, the error that ended the connection, in
// the order they arrived: a response the host wrote before it closed is
// always delivered before the close. (moov's client fails a waiting send
// when it sees the close, racing the response it has just read.) A link
// carries one exchange at a time, as a terminal does; whatever arrives for
// no waiting request goes to the unmatched handler (late responses).
type link struct {
	conn      net.Conn
	reader    messageReader
	writer    messageWriter
	unmatched func(*iso8583.Message)
	log       func(msg string, args ...any)

	mu      sync.Mutex
	waiting *exchange // the request waiting for its response, if any
	err     error     // why the connection ended; nil while it is up

	done      chan struct{} // closed when the reader has stopped
	closeOnce sync.Once
}

// messageReader reads one framed message (nil for a keep-alive) and its
// body as it arrived.
type messageReader interface {
	ReadBody(r io.Reader) (*iso8583.Message, []byte, error)
}

// messageWriter writes one framed message.
type messageWriter interface {
	WriteMessage(w io.Writer, m *iso8583.Message) error
}

type exchange struct {
	id    string
	reply chan result // buffered: the reader never blocks on it
}

type result struct {
	msg  *iso8583.Message
	body []byte // as it arrived: what its MAC covers
	err  error
}

// dial connects to addr and starts reading.
func dial(ctx context.Context, addr string, timeout time.Duration, tlsCfg *tls.Config, r messageReader, w messageWriter,
	unmatched func(*iso8583.Message), log func(string, ...any)) (*link, error) {
	d := &net.Dialer{Timeout: timeout}
	var conn net.Conn
	var err error
	if tlsCfg != nil {
		// the handshake is part of connecting: a host that refuses the
		// terminal's certificate refuses the connection
		td := &tls.Dialer{NetDialer: d, Config: tlsCfg}
		start := time.Now()
		conn, err = td.DialContext(ctx, "tcp", addr)
		if err == nil {
			conn, err = accepted(conn.(*tls.Conn), time.Since(start))
		}
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	l := &link{conn: conn, reader: r, writer: w, unmatched: unmatched, log: log, done: make(chan struct{})}
	go l.read()
	return l, nil
}

// accepted waits, under TLS 1.3, for the host's verdict on the
// terminal's certificate: the host checks it after the terminal's side of
// the handshake has finished, and a refusal arrives as an alert on the
// first read. Without this wait the terminal would send its request into
// a connection being refused and count it lost (a reversal for nothing);
// with it, a refused terminal is refused at connect. It waits three
// handshakes' time (at least 20 ms) for the alert; a byte the host sends
// meanwhile is kept for the reader.
func accepted(c *tls.Conn, handshake time.Duration) (net.Conn, error) {
	if c.ConnectionState().Version < tls.VersionTLS13 {
		return c, nil // the verdict came within the handshake
	}
	_ = c.SetReadDeadline(time.Now().Add(3*handshake + 20*time.Millisecond))
	var b [1]byte
	n, err := c.Read(b[:])
	_ = c.SetReadDeadline(time.Time{})
	var ne net.Error
	switch {
	case n == 1:
		return &firstByte{Conn: c, b: b[0], has: true}, nil
	case err == nil || errors.As(err, &ne) && ne.Timeout():
		return c, nil
	default:
		c.Close()
		return nil, err
	}
}

// firstByte is a connection whose first byte was read already.
type firstByte struct {
	net.Conn
	b   byte
	has bool
}

func (c *firstByte) Read(p []byte) (int, error) {
	if c.has && len(p) > 0 {
		p[0], c.has = c.b, false
		return 1, nil
	}
	return c.Conn.Read(p)
}

// read hands each frame to the waiting exchange or the unmatched handler,
// and the error that ends the connection to the waiting exchange.
func (l *link) read() {
	defer close(l.done)
	br := bufio.NewReader(l.conn)
	for {
		m, body, err := l.reader.ReadBody(br)
		var unpackErr *iso8583errors.UnpackError
		switch {
		case errors.As(err, &unpackErr):
			// a frame that does not parse: the connection is still good
			l.log("unparsable frame ignored", "err", unpackErr.Err)
			continue
		case err != nil:
			l.fail(err)
			return
		case m == nil:
			continue // keep-alive
		}
		id, idErr := wire.RequestIDByClass{}.GenerateRequestID(m)
		l.mu.Lock()
		x := l.waiting
		matched := x != nil && idErr == nil && id == x.id && isResponse(m)
		if matched {
			l.waiting = nil
		}
		l.mu.Unlock()
		if matched {
			x.reply <- result{msg: m, body: body}
			continue
		}
		l.unmatched(m)
	}
}

// isResponse reports whether the MTI's function digit marks a response.
func isResponse(m *iso8583.Message) bool {
	mti, err := m.GetMTI()
	return err == nil && len(mti) == 4 && (mti[2]-'0')%2 == 1
}

// fail ends the link with err, telling the waiting exchange.
func (l *link) fail(err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errClosed
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = err
	}
	if x := l.waiting; x != nil {
		l.waiting = nil
		x.reply <- result{err: l.err}
	}
}

// alive reports whether the connection is still up as far as the reader
// knows.
func (l *link) alive() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err == nil && !peerClosed(l.conn)
}

// exchange writes m and waits up to timeout for the response with the same
// MTI class and STAN, which it returns with its body as it arrived. It
// returns errNotSent when the connection had ended before m could be
// written, errClosed when it ended while waiting, and errTimeout when
// nothing came in time.
func (l *link) exchange(ctx context.Context, m *iso8583.Message, timeout time.Duration) (*iso8583.Message, []byte, error) {
	id, err := wire.RequestIDByClass{}.GenerateRequestID(m)
	if err != nil {
		return nil, nil, err
	}
	x := &exchange{id: id, reply: make(chan result, 1)}
	if peerClosed(l.conn) {
		return nil, nil, errNotSent
	}
	l.mu.Lock()
	if l.err != nil {
		l.mu.Unlock()
		return nil, nil, errNotSent
	}
	l.waiting = x
	l.mu.Unlock()
	if err := l.write(m, timeout); err != nil {
		l.mu.Lock()
		if l.waiting == x {
			l.waiting = nil
		}
		l.mu.Unlock()
		return nil, nil, err
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-x.reply:
		return r.msg, r.body, r.err
	case <-timer.C:
	case <-ctx.Done():
	}
	l.mu.Lock()
	if l.waiting == x {
		l.waiting = nil
	}
	l.mu.Unlock()
	select {
	case r := <-x.reply:
		if r.err != nil {
			return nil, nil, r.err
		}
		l.unmatched(r.msg) // it came, but after the terminal gave up
	default:
	}
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	return nil, nil, errTimeout
}

// send writes m without waiting for an answer.
func (l *link) send(m *iso8583.Message, timeout time.Duration) error {
	if !l.alive() {
		return errNotSent
	}
	return l.write(m, timeout)
}

func (l *link) write(m *iso8583.Message, timeout time.Duration) error {
	_ = l.conn.SetWriteDeadline(time.Now().Add(timeout))
	if err := l.writer.WriteMessage(l.conn, m); err != nil {
		return fmt.Errorf("%w: %v", errNotSent, err)
	}
	return nil
}

// Done is closed when the connection has ended.
func (l *link) Done() <-chan struct{} { return l.done }

// Close drops the connection and waits for the reader to stop.
func (l *link) Close() error {
	l.closeOnce.Do(func() {
		l.conn.Close()
	})
	<-l.done
	return nil
}
