package faults

import (
	"fmt"

	"github.com/posim/posim/yamlx"
)

// DuplicateSpec is duplicate: send a message twice, Gap apart. To
// terminal (the default) the answer is sent twice; to host (the proxy
// only, before process) the request reaches the host twice, as from a
// terminal that retransmitted.
type DuplicateSpec struct {
	Gap yamlx.Duration `yaml:"gap" json:"gap,omitempty"`
	To  string         `yaml:"to" json:"to,omitempty"`
}

// ActDuplicate is the name of the duplicate primitive: send twice.
const ActDuplicate = "duplicate"

func init() {
	register(primitiveDef{name: ActDuplicate, doc: "send the answer twice (to: terminal), or the request to the host twice (to: host, proxy)",
		new: func() primitive { return &DuplicateSpec{} }, bare: true})
}

func (s *DuplicateSpec) check(c *checker) {
	switch s.To {
	case "", "terminal":
		c.answers = true
	case "host":
		c.only(WhereProxy, "duplicate to host needs a host behind posim (posim proxy); against posim's acquirer set the terminal's retransmit instead")
		if c.processed {
			c.errorf("rule %q: duplicate to host comes after process: put it before, it sends the request again", c.rule.ID)
		}
	default:
		c.errorf("duplicate.to %q: want terminal or host", s.To)
	}
}

func (s *DuplicateSpec) run(p *pipe) bool {
	if s.To == "host" {
		p.fault("request sent to the host twice")
		if err := p.x.Forward(); err != nil {
			p.fault("duplicate to host: " + err.Error())
		}
		if s.Gap > 0 && !p.sleep(s.Gap.D()) {
			return false
		}
		return true
	}
	t := p.response("")
	p.fault("response sent twice")
	p.respond(t)
	if s.Gap > 0 && !p.sleep(s.Gap.D()) {
		return false
	}
	cp := *t
	p.respond(&cp)
	p.answered = true
	return true
}

func (s *DuplicateSpec) String() string {
	if s.To == "host" {
		return "duplicate(to host)"
	}
	if s.Gap > 0 {
		return fmt.Sprintf("duplicate(%s)", s.Gap)
	}
	return ActDuplicate
}
