package faults

// DiscardSpec is discard: drop the request silently. The host never sees
// it and the terminal never hears back: a request lost on its way.
type DiscardSpec struct{}

// ActDiscard is the name of the discard primitive: drop the request.
const ActDiscard = "discard"

func init() {
	register(primitiveDef{name: ActDiscard, doc: "drop the request silently: the host never sees it",
		new: func() primitive { return &DiscardSpec{} }, bare: true, answers: true, drops: true})
}

func (*DiscardSpec) noArgs() {}

func (*DiscardSpec) check(c *checker) {
	if c.processed {
		c.errorf("rule %q: discard comes after process, when the host has already seen the request: use no_response to lose the answer", c.rule.ID)
	}
}

func (*DiscardSpec) run(p *pipe) bool {
	p.fault("request discarded")
	p.answered = true
	return true
}

func (*DiscardSpec) String() string { return ActDiscard }
