package faults

import "fmt"

// TruncateSpec is truncate: send only the first Bytes bytes of the answer's
// frame (default: half of it).
type TruncateSpec struct {
	Bytes int `yaml:"bytes" json:"bytes,omitempty"`
}

// ActTruncate is the name of the truncate primitive: send part of the answer.
const ActTruncate = "truncate"

func init() {
	register(primitiveDef{name: ActTruncate, doc: "send only the first bytes of the answer's frame (default half)",
		new: func() primitive { return &TruncateSpec{} }, bare: true, answers: true})
}

func (s *TruncateSpec) check(c *checker) {
	if s.Bytes < 0 {
		c.errorf("truncate.bytes must not be negative")
	}
}

func (s *TruncateSpec) run(p *pipe) bool {
	frame, err := p.x.Frame(p.response(""))
	if err != nil {
		p.fault("truncate: " + err.Error())
		return false
	}
	n := s.Bytes
	if n <= 0 || n >= len(frame) {
		n = len(frame) / 2
	}
	p.fault(fmt.Sprintf("truncate to %d of %d bytes", n, len(frame)))
	_ = p.x.WriteRaw(frame[:n])
	p.answered = true
	return true
}

func (s *TruncateSpec) String() string {
	if s.Bytes > 0 {
		return fmt.Sprintf("truncate(%d)", s.Bytes)
	}
	return ActTruncate
}
