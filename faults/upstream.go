package faults

import (
	"fmt"

	"github.com/posim/posim/yamlx"
)

// UpstreamSpec is upstream: an issuer behind the host that answers after
// Latency. When it is slower than the host's Timeout, the host answers 68
// without booking, and the issuer's late approval is reversed upstream.
type UpstreamSpec struct {
	Latency yamlx.Duration `yaml:"latency" json:"latency"`
	Timeout yamlx.Duration `yaml:"timeout" json:"timeout"`
}

// ActUpstream is the name of the upstream primitive: a slow issuer behind the host.
const ActUpstream = "upstream"

func init() {
	register(primitiveDef{name: ActUpstream, doc: "an issuer behind the host, slower or faster than its upstream timeout (68 when slower)",
		new: func() primitive { return &UpstreamSpec{} }, processes: true})
}

func (s *UpstreamSpec) check(c *checker) {
	if s.Timeout <= 0 {
		c.errorf("upstream needs a positive timeout")
	}
	if c.processed {
		c.errorf("rule %q: upstream decides whether the host processes the request: put it instead of process", c.rule.ID)
	}
}

func (s *UpstreamSpec) run(p *pipe) bool {
	if !p.sleep(min(s.Latency.D(), s.Timeout.D())) {
		return false
	}
	if s.Latency <= s.Timeout {
		p.fault(fmt.Sprintf("issuer answered after %s", s.Latency))
		p.processed = true
		p.resp = p.x.Process()
		return true
	}
	p.fault(fmt.Sprintf("issuer silent for %s (upstream timeout): answered 68; its late approval is reversed upstream", s.Timeout))
	p.resp = p.x.Request().Response("68")
	return true
}

func (s *UpstreamSpec) String() string { return fmt.Sprintf("upstream(%s,%s)", s.Latency, s.Timeout) }
