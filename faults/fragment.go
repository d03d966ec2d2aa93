package faults

import (
	"fmt"

	"github.com/posim/posim/yamlx"
)

// FragmentSpec is fragment: send the answer's frame in Parts pieces (at
// least 2), Gap apart.
type FragmentSpec struct {
	Parts int            `yaml:"parts" json:"parts,omitempty"`
	Gap   yamlx.Duration `yaml:"gap" json:"gap,omitempty"`
}

// ActFragment is the name of the fragment primitive: send the answer in pieces.
const ActFragment = "fragment"

func init() {
	register(primitiveDef{name: ActFragment, doc: "send the answer's frame in pieces, a gap apart",
		new: func() primitive { return &FragmentSpec{} }, bare: true, answers: true})
}

func (s *FragmentSpec) check(c *checker) {
	if s.Parts < 0 || s.Gap < 0 {
		c.errorf("fragment: parts and gap must not be negative")
	}
}

func (s *FragmentSpec) run(p *pipe) bool {
	frame, err := p.x.Frame(p.response(""))
	if err != nil {
		p.fault("fragment: " + err.Error())
		return false
	}
	parts := max(s.Parts, 2)
	size := (len(frame) + parts - 1) / parts
	p.fault(fmt.Sprintf("fragment into %d parts", parts))
	for i := 0; i < len(frame); i += size {
		if i > 0 && !p.sleep(s.Gap.D()) {
			return false
		}
		_ = p.x.WriteRaw(frame[i:min(i+size, len(frame))])
	}
	p.answered = true
	return true
}

func (s *FragmentSpec) String() string { return fmt.Sprintf("fragment(%d)", max(s.Parts, 2)) }
