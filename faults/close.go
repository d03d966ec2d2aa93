package faults

import (
	"fmt"
	"time"
)

// Close points.
const (
	AtReceive       = "on_receive"
	AtBeforeRespond = "before_respond"
	AtAfterRespond  = "after_respond"
)

// CloseSpec is close: close the terminal's connection with a FIN (or a RST,
// Mode rst) at a point: on_receive (before the host sees the request),
// before_respond (the default) or after_respond (just after the answer).
type CloseSpec struct {
	At   string `yaml:"at" json:"at"`
	Mode string `yaml:"mode" json:"mode,omitempty"`
}

// ActClose is the name of the close primitive: close the connection.
const ActClose = "close"

func init() {
	register(primitiveDef{name: ActClose, doc: "close the connection (fin or rst) on_receive, before_respond or after_respond",
		new: func() primitive { return &CloseSpec{} }, bare: true, answers: true, ends: true})
}

// afterRespondGrace is how long close at after_respond waits after the
// answer was written, in real time.
const afterRespondGrace = 50 * time.Millisecond

func (s *CloseSpec) check(c *checker) {
	switch s.At {
	case "", AtBeforeRespond, AtAfterRespond:
	case AtReceive:
		if c.processed {
			c.errorf("rule %q: close at on_receive comes after process, when the host has already seen the request: put it first, or use before_respond", c.rule.ID)
		}
	default:
		c.errorf("close.at %q: want on_receive, before_respond or after_respond", s.At)
	}
	if m := s.Mode; m != "" && m != "fin" && m != "rst" {
		c.errorf("close.mode %q: want fin or rst", m)
	}
}

func (s *CloseSpec) run(p *pipe) bool {
	if orDefault(s.At, AtBeforeRespond) == AtAfterRespond {
		if !p.answered {
			p.respond(p.response(""))
		}
		// let the answer be read before the FIN: a client that sees both
		// at once may act on the close first
		time.Sleep(afterRespondGrace)
	}
	p.fault(s.String())
	if s.Mode == "rst" {
		p.x.Reset()
	} else {
		p.x.Close()
	}
	return false
}

func (s *CloseSpec) String() string {
	return fmt.Sprintf("close(%s,%s)", orDefault(s.At, AtBeforeRespond), orDefault(s.Mode, "fin"))
}
