package faults

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
	"go.yaml.in/yaml/v3"
)

// Exchange is one request as a rule's pipeline acts on it. posim's acquirer
// gives one whose Process books the request in its ledger; the proxy gives
// one whose Process forwards the request to the real host and waits for its
// answer; unit tests give a fake. Implementations are safe for concurrent
// use.
type Exchange interface {
	// Request is the decoded request. Primitives that run before Process
	// may change it: the host then sees the changed request.
	Request() *wire.Txn
	// ConnID names the terminal's connection.
	ConnID() string
	// Process lets the host handle the request, once, and returns a copy
	// of its answer, or nil when there is none (a stray response, or a
	// host that never answered).
	Process() *wire.Txn
	// Respond sends t to the terminal as the answer.
	Respond(t *wire.Txn) error
	// Send sends an extra message to the terminal (not an answer).
	Send(t *wire.Txn) error
	// Frame returns the bytes Respond would write for t.
	Frame(t *wire.Txn) ([]byte, error)
	// WriteRaw writes bytes to the terminal as they are.
	WriteRaw(b []byte) error
	// Close closes the terminal's connection with a FIN, Reset with a RST.
	Close()
	Reset()
	// Forward sends the request to the host once more, as a terminal that
	// retransmits would; ErrNotHere where there is no host behind.
	Forward() error
	// Refuse takes the host (or the proxy's listener) off the network and
	// returns what brings it back.
	Refuse() (resume func() error, err error)
	// MarkAnomaly marks the booked record of the request for a back-office
	// fault and returns its id; ErrNotHere where posim keeps no books.
	MarkAnomaly(an acquirer.Anomaly) (int64, error)
}

// ErrNotHere is what an Exchange returns for what it cannot do: a proxy
// keeps no books, posim's acquirer has no host behind it.
var ErrNotHere = errors.New("not available here")

// Where a rule set runs: posim's own acquirer or the proxy between a
// terminal and a real host. Some primitives make sense in one only.
const (
	WhereAcquirer = "acquirer"
	WhereProxy    = "proxy"
)

// A primitive is one fault primitive with its arguments: decoded from its
// YAML form, checked, run against an exchange and described. Each lives in
// its own file (NAME.go) and registers itself there.
type primitive interface {
	// check validates the arguments and the primitive's place in the
	// pipeline, reporting through c.
	check(c *checker)
	// run executes the primitive; false ends the pipeline.
	run(p *pipe) bool
	// String describes it for journals, reports and posim validate.
	String() string
}

// primitiveDef is a registered primitive.
type primitiveDef struct {
	name string
	// doc is one line for posim's help and the README.
	doc string
	// new returns the primitive with its default arguments.
	new func() primitive
	// bare: the name alone is enough (every argument has a default).
	bare bool
	// scalar, when set, decodes the short form {name: value}.
	scalar func(p primitive, n *yaml.Node) error
	// processes: after it the host has handled the request.
	processes bool
	// answers: after it the terminal has its answer (or never gets one).
	answers bool
	// ends: nothing after it runs.
	ends bool
	// drops: the terminal's answer never leaves (it waits for its timeout).
	drops bool
}

var registry = map[string]primitiveDef{}

// register adds a primitive; called from each primitive's file.
func register(d primitiveDef) {
	if _, dup := registry[d.name]; dup {
		panic("faults: primitive registered twice: " + d.name)
	}
	registry[d.name] = d
}

// ActionNames lists the fault primitives.
func ActionNames() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ActionDoc returns the one-line description of a primitive.
func ActionDoc(name string) string { return registry[name].doc }

// pipe is the state of one rule's pipeline on one request.
type pipe struct {
	ctx context.Context
	f   *Faults
	r   *compiled
	x   Exchange
	// resp is the answer being built.
	resp *wire.Txn
	// processed: the host has handled the request; answered: the
	// terminal's answer was sent, suppressed or the connection cut.
	processed, answered bool
	// hold is what the request's reversal closes, for hold_until.
	hold chan struct{}
}

// response returns the answer being built: the host's once processed, else
// an answer with code (96 when empty) that books nothing.
func (p *pipe) response(code string) *wire.Txn {
	if p.resp == nil {
		if p.processed {
			p.resp = p.x.Process()
		}
		if p.resp == nil {
			if code == "" {
				code = "96"
			}
			p.resp = p.x.Request().Response(code)
		}
	}
	return p.resp
}

// fault journals that the rule fired what.
func (p *pipe) fault(what string) { p.f.fault(p.x, p.r, what) }

// sleep waits d of scenario time (scaled), or until the pipeline's context
// ends.
func (p *pipe) sleep(d time.Duration) bool {
	t := time.NewTimer(p.f.env.scale(d))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.ctx.Done():
		return false
	}
}

// respond sends t as the answer, remembering it for stale sends.
func (p *pipe) respond(t *wire.Txn) { p.f.respond(p.x, t) }
