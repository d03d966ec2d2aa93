package load

import (
	"bytes"
	"testing"
	"time"

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

// The page shows the figures of the report it is given: the summary row
// of each target with its percentiles, the codes, errors and reversals,
// the ratio, the fault check, the idle hold and the host's figures; and
// nothing of what the report lacks.
func TestWriteHTML_ShowsTheFigures(t *testing.T) {
	known := func() *Result {
		r := measured(2*time.Second, map[int][]time.Duration{0: latencies(10*time.Microsecond, 10*time.Microsecond, 100, 7)})
		r.Terminals, r.Mix = 4, "sale=1"
		return r
	}
	withFaults := func(ok bool) *FaultCheck {
		p := 0.01
		c := &FaultCheck{Scenario: "drop-1pct", Dropped: 100, Timeouts: 100, Acknowledged: 100, Checked: 100,
			Rules: []RuleCount{{ID: "drop-1pct-of-approvals", Actions: []string{"process", "no_response"}, Matched: 10_000, Fired: 100, Probability: &p}}}
		if !ok {
			c.Timeouts = 99
		}
		c.Rules[0].Bounds()
		c.Judge()
		return c
	}
	for _, tc := range []struct {
		name          string
		report        func() *Report
		want, notWant []string
	}{{
		name:   "one target",
		report: func() *Report { return &Report{Command: "posim load", Acquirer: known()} },
		want: []string{
			"<tr><td>acquirer</td><td>50</td><td>0.5</td><td>0.9</td><td>0.99</td><td>1</td><td>1</td><td>100</td></tr>",
			"<b>acquirer</b>: 4 terminals, mix sale=1, response codes 00: 100</p>",
		},
		notWant: []string{"baseline", `id="ratio"`, "errors", "timeouts", "Faults", `id="idle"`, `id="host"`},
	}, {
		name: "errors and reversals",
		report: func() *Report {
			r := known()
			r.Codes["51"] = 7
			r.Errors = map[string]int64{"timeout": 3, "connection": 1, "reconnected": 1}
			r.Reversals = Reversals{Timeouts: 3, Lost: 1, Sent: 5, Acknowledged: 3, Failed: 1}
			return &Report{Acquirer: r}
		},
		want: []string{"response codes 00: 100, 51: 7, errors timeout: 3, connection: 1, reconnected: 1; " +
			"3 timeouts, 1 connections lost, 3 reversals acknowledged, 1 failed</p>"},
	}, {
		name: "against a baseline",
		report: func() *Report {
			b := known()
			b.Throughput = 80
			return &Report{Acquirer: known(), Baseline: b, Ratio: 50.0 / 80}
		},
		want: []string{
			"<tr><td>baseline</td><td>80</td><td>0.5</td>",
			`<p id="ratio">Ratio acquirer/baseline: <b>0.62</b></p>`,
			`aria-label="Latency, baseline"`,
		},
	}, {
		name:   "faults that reconcile",
		report: func() *Report { return &Report{Acquirer: known(), Faults: withFaults(true)} },
		want: []string{
			"<h2>Faults: scenario drop-1pct</h2>",
			`<p id="faults" class="ok">OK: 100 answers dropped, 100 timeouts, 0 connections lost, 100 reversals acknowledged; all 100 checked in the ledger are reversed</p>`,
			"<tr><td>drop-1pct-of-approvals</td><td>process, no_response</td><td>10000</td><td>100</td><td>100.0</td><td>60..140</td></tr>",
		},
	}, {
		name:   "faults that do not",
		report: func() *Report { return &Report{Acquirer: known(), Faults: withFaults(false)} },
		want:   []string{`<p id="faults" class="bad">FAILED: [100 answers dropped but 99 timeouts seen]</p>`},
	}, {
		name: "an idle hold and the host's figures",
		report: func() *Report {
			return &Report{Idle: &Idle{Terminals: 5000, Connected: 4998, HeldFor: 2.5},
				Host: &HostStats{RSSMiB: 91.4, Connections: 4998, Goroutines: 5011}}
		},
		want: []string{
			`<p id="idle">Held 4998 idle connections for 2.5 s.</p>`,
			`<p id="host">Acquirer process: 91 MiB resident, 4998 connections, 5011 goroutines.</p>`,
		},
		notWant: []string{`id="summary"`, "<svg"},
	}} {
		var b bytes.Buffer
		require.NoError(t, WriteHTML(&b, tc.report()), tc.name)
		page := b.String()
		for _, s := range tc.want {
			require.Contains(t, page, s, tc.name)
		}
		for _, s := range tc.notWant {
			require.NotContains(t, page, s, tc.name)
		}
	}
}

// The start time is printed in UTC, as the page says, whatever zone the
// report's time is in.
func TestWriteHTML_StartedInUTC(t *testing.T) {
	var b bytes.Buffer
	started := time.Date(2027, 1, 1, 3, 4, 5, 0, time.FixedZone("CST", 8*3600))
	require.NoError(t, WriteHTML(&b, &Report{Started: started}))
	require.Contains(t, b.String(), "<p>2026-12-31 19:04:05 UTC</p>")
}

func TestFormatCounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    map[string]int64
		want string
	}{
		{"nothing", nil, "none"},
		{"one", map[string]int64{"00": 3}, "00: 3"},
		{"largest first", map[string]int64{"51": 4, "00": 120, "05": 9}, "00: 120, 05: 9, 51: 4"},
		{"ties by name", map[string]int64{"timeout": 2, "connection": 2, "invalid response": 5}, "invalid response: 5, connection: 2, timeout: 2"},
	} {
		require.Equal(t, tc.want, FormatCounts(tc.m), tc.name)
	}
}

// The charts' axis labels: whole numbers plain, fractions to two places
// without trailing zeros, thousands as k and millions as M.
func TestShort(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 0.25: "0.25", 0.5: "0.5", 1.5: "1.5", 3.14159: "3.14", 150: "150",
		2500: "2500", 12_345: "12k", 2_500_000: "2.5M"} {
		require.Equal(t, want, short(in), "%v", in)
	}
}
