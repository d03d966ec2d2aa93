package faults

import (
	"time"

	"github.com/posim/posim/yamlx"
)

// HoldSpec is hold_until: hold the answer until a reversal of the request
// arrives (or Timeout passes), then release it: the answer arrives after
// the terminal gave up and reversed.
type HoldSpec struct {
	Reversal bool           `yaml:"reversal" json:"reversal"`
	Timeout  yamlx.Duration `yaml:"timeout" json:"timeout,omitempty"`
}

// ActHoldUntil is the name of the hold_until primitive: hold the answer until the reversal.
const ActHoldUntil = "hold_until"

func init() {
	register(primitiveDef{name: ActHoldUntil, doc: "hold the answer until the request's reversal arrives (or a timeout), then release it",
		new: func() primitive { return &HoldSpec{} }})
}

func (s *HoldSpec) check(c *checker) {
	if !s.Reversal {
		c.errorf("hold_until: the only event to wait for is the reversal: {hold_until: {reversal: true}}")
	}
	if s.Timeout < 0 {
		c.errorf("hold_until.timeout must not be negative")
	}
}

func (s *HoldSpec) run(p *pipe) bool {
	f, req := p.f, p.x.Request()
	k := holdKey(req.TID, req.MTI[:3]+"0", req.STAN)
	ch := p.hold // registered when the pipeline began
	if ch == nil {
		ch = f.holdFor(req)
	}
	p.fault("response held until a reversal arrives")
	timeout := s.Timeout.D()
	if timeout <= 0 {
		timeout = 24 * time.Hour
	}
	t := time.NewTimer(f.env.scale(timeout))
	defer t.Stop()
	select {
	case <-ch:
		p.fault("reversal arrived: held response released")
	case <-t.C:
		f.mu.Lock()
		delete(f.holds, k)
		f.mu.Unlock()
		p.fault("hold timed out: response released")
	case <-p.ctx.Done():
		return false
	}
	return true
}

func (s *HoldSpec) String() string { return "hold_until(reversal)" }
