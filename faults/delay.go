package faults

import (
	"fmt"
	"math"
	"time"

	"github.com/posim/posim/yamlx"
	"go.yaml.in/yaml/v3"
)

// DelaySpec is delay: wait before the next action. A fixed delay (Fixed,
// or the short form {delay: 2s}) or a distribution: uniform (Min, Max),
// normal (Mean, StdDev) or exponential (Mean), drawn from the rule's seeded
// stream. Before process it delays the request on its way to the host;
// after, the answer on its way to the terminal.
type DelaySpec struct {
	Fixed        yamlx.Duration `yaml:"fixed" json:"fixed,omitempty"`
	Distribution string         `yaml:"distribution" json:"distribution,omitempty"`
	Min          yamlx.Duration `yaml:"min" json:"min,omitempty"`
	Max          yamlx.Duration `yaml:"max" json:"max,omitempty"`
	Mean         yamlx.Duration `yaml:"mean" json:"mean,omitempty"`
	StdDev       yamlx.Duration `yaml:"stddev" json:"stddev,omitempty"`
}

// ActDelay is the name of the delay primitive: wait before the next action.
const ActDelay = "delay"

func init() {
	register(primitiveDef{name: ActDelay, doc: "wait before the next action: {delay: 2s} or a distribution (uniform, normal, exponential)",
		new:    func() primitive { return &DelaySpec{} },
		scalar: func(p primitive, n *yaml.Node) error { return yamlx.Decode(n, &p.(*DelaySpec).Fixed) }})
}

func (d *DelaySpec) check(c *checker) {
	switch d.Distribution {
	case "", "fixed":
	case "uniform":
		if d.Max < d.Min {
			c.errorf("delay: max is below min")
		}
	case "normal", "exponential":
		if d.Mean <= 0 {
			c.errorf("delay: %s needs a positive mean", d.Distribution)
		}
	default:
		c.errorf("delay.distribution %q: want fixed, uniform, normal or exponential", d.Distribution)
	}
}

func (d *DelaySpec) run(p *pipe) bool {
	wait := d.draw(p.r)
	p.fault(fmt.Sprintf("delay %s", wait))
	return p.sleep(wait)
}

// draw draws a delay from the distribution with the rule's stream.
func (d *DelaySpec) draw(r *compiled) time.Duration {
	switch d.Distribution {
	case "uniform":
		lo, hi := d.Min.D(), d.Max.D()
		if hi <= lo {
			return lo
		}
		return lo + time.Duration(r.rng.Int64N(int64(hi-lo)))
	case "normal":
		v := float64(d.Mean) + r.rng.NormFloat64()*float64(d.StdDev)
		return time.Duration(math.Max(0, v))
	case "exponential":
		return time.Duration(r.rng.ExpFloat64() * float64(d.Mean))
	}
	return d.Fixed.D()
}

func (d *DelaySpec) String() string {
	if d.Distribution == "" || d.Distribution == "fixed" {
		return fmt.Sprintf("delay(%s)", d.Fixed)
	}
	return "delay(" + d.Distribution + ")"
}
