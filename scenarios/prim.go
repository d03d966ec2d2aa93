package scenarios

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
// its own file (prim_NAME.go) and registers itself there.
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
		panic("scenarios: primitive registered twice: " + d.name)
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

// checker is what a primitive's check sees: its rule, its place in the
// pipeline and where the rules run.
type checker struct {
	v     *validator
	rule  Rule
	line  int
	where string
	// state before this primitive
	processed, answered bool
	// answers: this primitive answers the terminal (its registration's
	// answers, which its check may change by its arguments).
	answers bool
}

// errorf reports a problem on the primitive's line.
func (c *checker) errorf(format string, a ...any) { c.v.add(c.line, format, a...) }

// pipeline checks a rule's actions, one by one, then the pipeline as a
// whole: a response is never invented without a response code.
func (v *validator) pipeline(r Rule, line int) {
	if len(r.Do) == 0 {
		v.add(line, "rule %q: do is empty (use process for the default behaviour)", r.ID)
	}
	c := &checker{v: v, rule: r, where: v.where}
	ended := ""
	for _, a := range r.Do {
		def := registry[a.Name]
		c.line = a.Line
		if ended != "" {
			c.errorf("rule %q: %s comes after %s, which ends the pipeline: it would never run", r.ID, a, ended)
		}
		c.answers = def.answers
		if a.prim != nil {
			a.prim.check(c)
		}
		c.processed = c.processed || def.processes
		c.answered = c.answered || c.answers
		if def.ends {
			ended = a.String()
		}
	}
	if !c.answered && !c.processed && len(r.Do) > 0 {
		v.add(line, "rule %q neither processes nor answers: add process, or respond: {de39: ...}", r.ID)
	}
}

// only reports why when the rules run elsewhere than where.
func (c *checker) only(where, why string) bool {
	if c.where != "" && c.where != where {
		c.errorf("rule %q: %s", c.rule.ID, why)
		return false
	}
	return true
}

// CheckFor checks a scenario's rules for where they will run (WhereAcquirer
// or WhereProxy): primitives that make no sense there are refused, each
// error naming its file and line. Parse has checked everything else.
func CheckFor(s *Scenario, where string) error {
	v := &validator{file: s.File, where: where}
	for _, r := range s.Rules {
		line := 0
		if len(r.Do) > 0 {
			line = r.Do[0].Line
		}
		v.pipeline(r, line)
	}
	return errors.Join(v.errs...)
}

// ProxyRules compiles a scenario's rules for posim proxy: checked for the
// proxy, card aliases (when.card) resolved against the scenario's cards,
// the scenario's seed unless env gives one.
func ProxyRules(s *Scenario, env Env) (*Faults, error) {
	if err := CheckFor(s, WhereProxy); err != nil {
		return nil, err
	}
	book, err := scenarioBook(s)
	if err != nil {
		return nil, err
	}
	env.Cards = book
	if env.Seed == 0 {
		env.Seed = s.Seed
	}
	return Compile(s.Rules, &env)
}
