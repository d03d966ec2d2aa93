package faults

import "github.com/posim/posim/yamlx"

// NoResponseSpec is no_response: the answer never leaves. After Hold, Then
// is keep (the connection stays open, the default) or close. After process
// it is the classic lost response: the host booked the sale, the terminal
// never hears of it.
type NoResponseSpec struct {
	Hold yamlx.Duration `yaml:"hold" json:"hold,omitempty"`
	Then string         `yaml:"then" json:"then,omitempty"`
}

// ActNoResponse is the name of the no_response primitive: never answer.
const ActNoResponse = "no_response"

func init() {
	register(primitiveDef{name: ActNoResponse, doc: "never answer (after process: the host booked it, the terminal never hears); then keep or close after a hold",
		new: func() primitive { return &NoResponseSpec{} }, bare: true, answers: true, drops: true})
}

func (s *NoResponseSpec) check(c *checker) {
	if t := s.Then; t != "" && t != "keep" && t != "close" {
		c.errorf("no_response.then %q: want keep or close", t)
	}
}

func (s *NoResponseSpec) run(p *pipe) bool {
	p.answered = true
	p.fault("no response")
	if s.Hold > 0 && !p.sleep(s.Hold.D()) {
		return false
	}
	if s.Then == "close" {
		p.x.Close()
		return false
	}
	return true
}

func (s *NoResponseSpec) String() string {
	if s.Then == "close" {
		return "no_response(close after " + s.Hold.String() + ")"
	}
	return ActNoResponse
}
