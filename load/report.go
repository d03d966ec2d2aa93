package load

import (
	"fmt"
	"math"
	"time"
)

// Report is everything a load run found: the figures of the acquirer, of
// the baseline and their ratio, the fault check and the idle hold.
type Report struct {
	Command  string      `json:"command"`
	Started  time.Time   `json:"started"`
	Acquirer *Result     `json:"acquirer,omitempty"`
	Baseline *Result     `json:"baseline,omitempty"`
	Ratio    float64     `json:"ratio,omitempty"`
	Faults   *FaultCheck `json:"faults,omitempty"`
	Idle     *Idle       `json:"idle,omitempty"`
	Host     *HostStats  `json:"host,omitempty"`
	// ClientCPU is this process's CPU per response over the measured run,
	// in microseconds: the fleet's, and the acquirer's too when it runs in
	// this process (InProcess). HostCPU is the host's, read from its
	// control API (--control) before and after.
	ClientCPU float64 `json:"client_cpu_us,omitempty"`
	InProcess bool    `json:"acquirer_in_process,omitempty"`
	HostCPU   float64 `json:"host_cpu_us,omitempty"`
}

// HostStats are the acquirer process's own figures, read from its control
// API (/metrics) after the run.
type HostStats struct {
	RSSMiB      float64 `json:"rss_mib"`
	Connections float64 `json:"connections"`
	Goroutines  float64 `json:"goroutines"`
	CPUSeconds  float64 `json:"cpu_seconds"`
}

// Idle is an idle hold: terminals connected and silent.
type Idle struct {
	Terminals int     `json:"terminals"`
	Connected int     `json:"connected"`
	HeldFor   float64 `json:"held_s"`
}

// RuleCount is one fault rule's activity during the run, with the bounds
// its probability allows.
type RuleCount struct {
	ID          string   `json:"id"`
	Actions     []string `json:"actions"`
	Drops       bool     `json:"drops"`
	Matched     int      `json:"matched"`
	Fired       int      `json:"fired"`
	Probability *float64 `json:"probability,omitempty"`
	// Expected is Matched × Probability; Low and High are four standard
	// deviations either side (a binomial count outside them is a bug,
	// not bad luck: about 1 run in 15 000).
	Expected     float64 `json:"expected,omitempty"`
	Low          float64 `json:"low,omitempty"`
	High         float64 `json:"high,omitempty"`
	WithinBounds bool    `json:"within_bounds"`
}

// Bounds fills Expected, Low, High and WithinBounds from the counts.
func (r *RuleCount) Bounds() {
	if r.Probability == nil {
		r.WithinBounds = true
		return
	}
	p, n := *r.Probability, float64(r.Matched)
	r.Expected = n * p
	sd := math.Sqrt(n * p * (1 - p))
	r.Low, r.High = math.Max(0, r.Expected-4*sd), r.Expected+4*sd
	r.WithinBounds = float64(r.Fired) >= math.Floor(r.Low) && float64(r.Fired) <= math.Ceil(r.High)
}

// FaultCheck reconciles the faults fired during a run with what the
// terminals saw and with the acquirer's ledger once the run has drained.
type FaultCheck struct {
	Scenario string      `json:"scenario"`
	Rules    []RuleCount `json:"rules"`
	// Dropped is the number of answers the rules never sent.
	Dropped int64 `json:"dropped"`
	// Timeouts, reversals acknowledged and failed, as the terminals saw them.
	Timeouts     int64 `json:"timeouts"`
	Lost         int64 `json:"connection_lost"`
	Acknowledged int64 `json:"reversals_acknowledged"`
	Failed       int64 `json:"reversals_failed"`
	// Checked is the number of timed-out requests looked up in the ledger;
	// Unreversed those still approved there (each one is a customer
	// debited for a sale the terminal showed as failed).
	Checked    int   `json:"checked"`
	Unreversed []Ref `json:"unreversed"`
	// NotBooked are timed-out requests the ledger has no record of: never
	// booked (a discarded request) or forgotten by the ledger's retention.
	NotBooked int    `json:"not_booked"`
	OK        bool   `json:"ok"`
	Summary   string `json:"summary"`
}

// Judge sets OK and Summary: every dropped answer timed out at a terminal
// and was reversed, no timed-out approval stays in the ledger, and every
// probabilistic rule fired within its bounds.
func (c *FaultCheck) Judge() {
	var problems []string
	for _, r := range c.Rules {
		if !r.WithinBounds {
			problems = append(problems, fmt.Sprintf("rule %s fired %d times, outside %.0f..%.0f for %d matches at p=%g",
				r.ID, r.Fired, r.Low, r.High, r.Matched, *r.Probability))
		}
	}
	if c.Timeouts != c.Dropped {
		problems = append(problems, fmt.Sprintf("%d answers dropped but %d timeouts seen", c.Dropped, c.Timeouts))
	}
	if c.Failed > 0 {
		problems = append(problems, fmt.Sprintf("%d reversals never answered", c.Failed))
	}
	if n := len(c.Unreversed); n > 0 {
		problems = append(problems, fmt.Sprintf("%d timed-out approvals left unreversed in the ledger", n))
	}
	c.OK = len(problems) == 0
	if c.OK {
		c.Summary = fmt.Sprintf("%d answers dropped, %d timeouts, %d connections lost, %d reversals acknowledged; all %d checked in the ledger are reversed",
			c.Dropped, c.Timeouts, c.Lost, c.Acknowledged, c.Checked-c.NotBooked)
		if c.NotBooked > 0 {
			c.Summary += fmt.Sprintf(" (%d not booked)", c.NotBooked)
		}
		return
	}
	c.Summary = fmt.Sprint(problems)
}
