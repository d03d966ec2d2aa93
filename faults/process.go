package faults

// ProcessSpec is process: the host handles the request. On posim's
// acquirer the request is booked in the ledger; through the proxy it is
// forwarded to the real host and its answer awaited. What follows acts on
// that answer.
type ProcessSpec struct{}

// ActProcess is the name of the process primitive: commit the request to the host.
const ActProcess = "process"

func init() {
	register(primitiveDef{name: ActProcess, doc: "let the host handle the request (book it; through the proxy, forward it and wait for the answer)",
		new: func() primitive { return &ProcessSpec{} }, bare: true, processes: true})
}

func (*ProcessSpec) noArgs() {}

func (*ProcessSpec) check(c *checker) {
	if c.processed {
		c.errorf("rule %q: process comes twice; the host handles a request once", c.rule.ID)
	}
}

func (*ProcessSpec) run(p *pipe) bool {
	p.processed = true
	p.resp = p.x.Process()
	if p.resp == nil {
		p.answered = true // nothing to answer: a stray response, or a host that never answered
	}
	return true
}

func (*ProcessSpec) String() string { return ActProcess }
