package load

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRuleCountBounds(t *testing.T) {
	p := 0.01
	r := RuleCount{Matched: 10_000, Fired: 100, Probability: &p}
	r.Bounds()
	require.InDelta(t, 100, r.Expected, 1e-9)
	require.InDelta(t, 100-4*9.95, r.Low, 0.01)
	require.True(t, r.WithinBounds)
	r.Fired = 150 // five standard deviations out
	r.Bounds()
	require.False(t, r.WithinBounds)
	r = RuleCount{Matched: 5, Fired: 1}
	r.Bounds()
	require.True(t, r.WithinBounds, "a rule without a probability has no bounds")
}

func TestFaultCheckJudge(t *testing.T) {
	p := 0.01
	ok := FaultCheck{Rules: []RuleCount{{ID: "drop", Matched: 10_000, Fired: 100, Probability: &p, WithinBounds: true}},
		Dropped: 100, Timeouts: 100, Acknowledged: 100, Checked: 100, Unreversed: []Ref{}}
	ok.Judge()
	require.True(t, ok.OK, ok.Summary)
	require.Contains(t, ok.Summary, "all 100 checked in the ledger are reversed")

	for name, tweak := range map[string]func(*FaultCheck){
		"a timeout missing":     func(c *FaultCheck) { c.Timeouts = 99 },
		"a reversal unanswered": func(c *FaultCheck) { c.Failed = 1 },
		"an approval standing":  func(c *FaultCheck) { c.Unreversed = []Ref{{TID: "L0000001", MTI: "0200", STAN: "000042"}} },
		"a rule out of bounds":  func(c *FaultCheck) { c.Rules[0].WithinBounds = false },
	} {
		c := ok
		c.Rules = append([]RuleCount(nil), ok.Rules...)
		tweak(&c)
		c.Judge()
		require.False(t, c.OK, name)
	}
}

func TestWriteHTML(t *testing.T) {
	res := &Result{Terminals: 2, Mix: "sale=1", Throughput: 1000, Responses: 3000, Codes: map[string]int64{"00": 2990, "51": 10},
		Series: []Second{{T: 0, Responses: 900, P50: 1, P90: 2, P99: 3}, {T: 1, Responses: 1100, P50: 1.5, P90: 2.5, P99: 4}}}
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, &Report{Command: "posim load <x>", Acquirer: res, Baseline: res, Ratio: 1}))
	page := b.String()
	require.Contains(t, page, "posim load &lt;x&gt;", "the command is escaped")
	require.Contains(t, page, "00: 2990, 51: 10")
	require.Equal(t, 3, bytes.Count(b.Bytes(), []byte("<svg")), "throughput and two latency charts")
	require.Contains(t, page, "acquirer 1s: 1100 responses/s")
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 0.3: 0.5, 7: 10, 12: 20, 180: 200, 16_500: 20_000, 50_000: 50_000} {
		require.InDelta(t, want, niceCeil(in), 1e-9, "%v", in)
	}
}
