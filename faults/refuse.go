package faults

import (
	"fmt"

	"github.com/posim/posim/yamlx"
)

// RefuseSpec is refuse: take the host off the network (listener closed,
// connections dropped) for For; Mode close instead keeps accepting and
// closes this connection at once. Through the proxy it is the proxy's
// listener that goes away.
type RefuseSpec struct {
	For  yamlx.Duration `yaml:"for" json:"for"`
	Mode string         `yaml:"mode" json:"mode,omitempty"`
}

// ActRefuse is the name of the refuse primitive: take the host off the network.
const ActRefuse = "refuse"

func init() {
	register(primitiveDef{name: ActRefuse, doc: "take the host off the network for a period (down), or close the connection at once (close)",
		new: func() primitive { return &RefuseSpec{} }, answers: true, ends: true})
}

func (s *RefuseSpec) check(c *checker) {
	if s.For <= 0 {
		c.errorf("refuse needs a positive duration: {refuse: {for: 30s}}")
	}
	if m := s.Mode; m != "" && m != "down" && m != "close" {
		c.errorf("refuse.mode %q: want down or close", m)
	}
}

func (s *RefuseSpec) run(p *pipe) bool {
	p.fault(fmt.Sprintf("host refuses connections for %s", s.For))
	if s.Mode == "close" {
		p.x.Close()
		return false
	}
	resume, err := p.x.Refuse()
	if err != nil {
		p.fault("refuse: " + err.Error())
		return false
	}
	p.f.env.After(p.f.env.scale(s.For.D()), func() { _ = resume() })
	return false
}

func (s *RefuseSpec) String() string {
	return fmt.Sprintf("refuse(%s,%s)", s.For, orDefault(s.Mode, "down"))
}
