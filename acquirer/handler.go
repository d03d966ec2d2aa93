package acquirer

import (
	"context"
	"sync"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/posim/posim/wire"
)

// Handler decides what happens to one inbound request: whether it is
// processed (booked), whether and how it is answered. The DefaultHandler
// processes and answers; fault rules wrap or replace it. Handle is called in
// its own goroutine per message and must return when ctx is done.
type Handler interface {
	Handle(ctx context.Context, x *Exchange)
}

// InlineHandler is a Handler that can take each request on the
// connection's read loop, saving a goroutine per message. HandleInline must
// not block: whatever waits (a delay, a held response) continues in x.Go.
// Requests of one connection are then handled in the order they arrived.
type InlineHandler interface {
	Handler
	HandleInline(x *Exchange)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, x *Exchange)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, x *Exchange) { f(ctx, x) }

// DefaultHandler processes every request and sends the engine's response.
// It is an InlineHandler.
var DefaultHandler Handler = defaultHandler{}

type defaultHandler struct{}

func (h defaultHandler) Handle(_ context.Context, x *Exchange) { h.HandleInline(x) }

func (defaultHandler) HandleInline(x *Exchange) {
	// the decided answer as it is: this handler changes nothing, so it
	// needs no copy of its own
	if resp := x.decide(); resp != nil {
		_ = x.Respond(resp)
	}
}

// Exchange is one request on its way through a handler. Its methods are safe
// for concurrent use.
type Exchange struct {
	Conn    *Conn
	Request *wire.Txn
	// Message is the request as a moov message, when one was built (a dump
	// or a recording asks for it); nil when the compiled codec read it.
	Message  *iso8583.Message
	Received time.Time

	mu       sync.Mutex
	done     bool
	decision Decision
}

// Process runs the request through the engine once (booking it in the
// ledger) and returns the response to send, or nil when there is nothing to
// answer. Later calls return the same response.
func (x *Exchange) Process() *wire.Txn {
	x.decide()
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.response()
}

// decide runs the request through the engine once and returns the decided
// answer itself (shared with the ledger: not to be changed).
func (x *Exchange) decide() *wire.Txn {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.done {
		x.done = true
		a := x.Conn.a
		if a.opts.Replay != nil {
			if resp, why, ok := a.opts.Replay.Answer(x.Request); ok {
				x.decision = Decision{Response: resp, Why: why}
				a.journalDecision(x.Conn, x.Request, x.decision)
				return x.decision.Response
			}
		}
		x.decision = a.engine.Decide(x.Request, a.Now())
		if err := x.decision.Durable(); err != nil {
			// the books could not keep it: answering would promise what a
			// restart forgets; the terminal times out and reverses instead
			a.journal.Append(Entry{Time: a.Now(), Kind: KindFault, Conn: x.Conn.ID(), MTI: x.Request.MTI, STAN: x.Request.STAN,
				TID: x.Request.TID, Detail: "decision not kept by the data store, not answered: " + err.Error()})
			a.log.Error("data store failed: request not answered", KeyConn, x.Conn.ID(), KeySTAN, x.Request.STAN, "err", err)
			x.decision.Response = nil
		}
		a.journalDecision(x.Conn, x.Request, x.decision)
	}
	return x.decision.Response
}

// response copies the decided answer (nil: none).
func (x *Exchange) response() *wire.Txn {
	if x.decision.Response == nil {
		return nil
	}
	resp := *x.decision.Response
	return &resp
}

// Go runs fn in a goroutine owned by the acquirer: Close waits for it, and
// ctx ends when the connection or the acquirer closes. Handlers continue in
// it whatever must wait. When the acquirer is already closed, fn is not run.
func (x *Exchange) Go(fn func(ctx context.Context)) {
	a := x.Conn.a
	if !a.track() {
		return
	}
	go func() {
		defer a.wg.Done()
		fn(x.Conn.ctx)
	}()
}

// Decision returns the engine's decision and whether Process has run.
func (x *Exchange) Decision() (Decision, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.decision, x.done
}

// Respond sends t as the answer to the request.
func (x *Exchange) Respond(t *wire.Txn) error { return x.Conn.Send(t) }

func (a *Acquirer) journalDecision(c *Conn, req *wire.Txn, d Decision) {
	e := a.entry(KindDecision, c, req)
	e.RC, e.RRN = "", ""
	if d.Response != nil {
		e.RC, e.RRN = d.Response.ResponseCode, d.Response.RRN
	}
	e.Detail = d.Why
	if r := d.Record; r != nil {
		e.RecordID, e.Status, e.Reason = r.ID, r.Status, r.Reason
		e.PAN, e.Amount = r.MaskedPAN, wire.Money(r.Amount)
	}
	a.journal.Append(e)
	for _, n := range d.Notes {
		ne := a.entry(n.Kind, c, req)
		ne.Detail = n.Detail
		if d.Record != nil {
			ne.RecordID = d.Record.ID
		}
		a.journal.Append(ne)
	}
}
