package faults

import (
	"encoding/binary"
	"fmt"
)

// GarbageSpec is garbage: instead of the answer, Bytes seeded random bytes
// (random, the default) or a length header that announces more than
// follows (bad_length).
type GarbageSpec struct {
	Bytes int    `yaml:"bytes" json:"bytes,omitempty"`
	Mode  string `yaml:"mode" json:"mode,omitempty"`
}

// ActGarbage is the name of the garbage primitive: send random bytes instead.
const ActGarbage = "garbage"

func init() {
	register(primitiveDef{name: ActGarbage, doc: "send seeded random bytes (random) or a lying length header (bad_length) instead of the answer",
		new: func() primitive { return &GarbageSpec{} }, bare: true, answers: true})
}

func (s *GarbageSpec) check(c *checker) {
	if m := s.Mode; m != "" && m != "random" && m != "bad_length" {
		c.errorf("garbage.mode %q: want random or bad_length", m)
	}
	if s.Bytes < 0 {
		c.errorf("garbage.bytes must not be negative")
	}
}

func (s *GarbageSpec) run(p *pipe) bool {
	n := s.Bytes
	if n <= 0 {
		n = 16
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(p.r.rng.UintN(256))
	}
	if s.Mode == "bad_length" {
		b = binary.BigEndian.AppendUint16(nil, uint16(n+100))
		b = append(b, make([]byte, n)...)
	}
	p.fault(fmt.Sprintf("garbage %d bytes (%s)", len(b), orDefault(s.Mode, "random")))
	_ = p.x.WriteRaw(b)
	p.answered = true
	return true
}

func (s *GarbageSpec) String() string { return "garbage(" + orDefault(s.Mode, "random") + ")" }
