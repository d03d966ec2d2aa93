package faults

import (
	"regexp"
	"slices"

	"github.com/posim/posim/wire"
)

// SendSpec is send: an extra message to the terminal before the answer:
// the previous answer sent to this terminal (Stale) or a message of its
// own (MTI and Fields, keyed like respond's).
type SendSpec struct {
	Stale  bool              `yaml:"stale" json:"stale,omitempty"`
	MTI    string            `yaml:"mti" json:"mti,omitempty"`
	Fields map[string]string `yaml:"fields" json:"fields,omitempty"`
}

// ActSend is the name of the send primitive: send an extra message.
const ActSend = "send"

func init() {
	register(primitiveDef{name: ActSend, doc: "send an extra message first: the terminal's previous answer (stale) or one of its own (mti, fields)",
		new: func() primitive { return &SendSpec{} }})
}

var mtiRe = regexp.MustCompile(`^[0-9]{4}$`)

func (s *SendSpec) check(c *checker) {
	if s.Stale == (s.MTI != "") {
		c.errorf("send: give either stale: true or an mti")
	}
	if s.MTI != "" && !mtiRe.MatchString(s.MTI) {
		c.errorf("send.mti %q: want four digits", s.MTI)
	}
	for k := range s.Fields {
		if !slices.Contains(respondFields, k) {
			c.errorf("send.fields: unknown field %q", k)
		}
	}
}

func (s *SendSpec) run(p *pipe) bool {
	x := p.x
	var msg *wire.Txn
	if s.Stale {
		p.f.mu.Lock()
		if prev := p.f.last[x.Request().TID]; prev != nil {
			cp := *prev
			msg = &cp
		}
		p.f.mu.Unlock()
		if msg == nil {
			p.fault("no earlier response to send stale")
			return true
		}
		p.fault("stale response of STAN " + msg.STAN + " sent")
	} else {
		req := x.Request()
		msg = &wire.Txn{MTI: s.MTI, STAN: req.STAN, TID: req.TID, MID: req.MID}
		applyOverrides(msg, s.Fields)
		p.fault("unsolicited " + msg.MTI + " sent")
	}
	_ = x.Send(msg)
	return true
}

func (s *SendSpec) String() string {
	if s.Stale {
		return "send(stale)"
	}
	return "send(" + s.MTI + ")"
}
