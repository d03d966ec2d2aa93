package acquirer

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFeeRule(t *testing.T) {
	r := FeeRule{PPM: 6000, Cap: 2000} // 0.60 % capped at 20.00
	require.Equal(t, int64(60), r.Fee(10000))
	require.Equal(t, int64(2000), r.Fee(1_000_000), "capped")
	require.Equal(t, int64(1), FeeRule{PPM: 6000}.Fee(100), "0.6 rounds half up to 1")
	require.Equal(t, int64(0), FeeRule{PPM: 6000, Rounding: "down"}.Fee(100))
	require.Equal(t, int64(500), FeeRule{PPM: 1000, Floor: 500}.Fee(1000), "floor")
	tf := FeeRule{Kind: "tiered_fixed", Tiers: []Tier{{UpTo: 10000, Fee: 100}, {Fee: 300}}}
	require.Equal(t, int64(100), tf.Fee(9999))
	require.Equal(t, int64(300), tf.Fee(20000))
	tr := FeeRule{Kind: "tiered_rate", Tiers: []Tier{{UpTo: 100000, PPM: 6000}, {PPM: 5000}}}
	require.Equal(t, int64(600), tr.Fee(100000))
	require.Equal(t, int64(1000), tr.Fee(200000))
	require.Equal(t, "0.60% cap 20.00", r.Describe())
}

func TestCutOverAndFeeReport(t *testing.T) {
	e := newEngine(t)
	require.NoError(t, e.SetContracts(23*time.Hour, []Contract{{MID: "M1", Debit: FeeRule{PPM: 6000, Cap: 2000}, Cycle: "T+1"}}))
	day1 := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	ok := e.Decide(sale(approvePAN, 10000), day1)
	require.Equal(t, "00", ok.Response.ResponseCode)
	big := e.Decide(sale(approvePAN, 500_000), day1.Add(time.Minute))
	require.Equal(t, "00", big.Response.ResponseCode)
	e.MarkAnomaly(big.Record.ID, Anomaly{Kind: AnomalyCapIgnored})
	rev := sale(approvePAN, 5000)
	e.Decide(rev, day1.Add(2*time.Minute))
	d := e.Decide(reversalOf(rev, "98"), day1.Add(3*time.Minute))
	require.Equal(t, "00", d.Response.ResponseCode)
	e.MarkAnomaly(d.Record.Original, Anomaly{Kind: AnomalyFeeOnReversed})

	e.Advance(day1.Add(14 * time.Hour)) // past 23:00
	lines := e.Lines()
	require.Len(t, lines, 3)
	require.Equal(t, int64(60), lines[0].Fee)
	require.Equal(t, "2026-01-16", lines[0].PayoutDate, "T+1")
	report := e.FeeReport()
	require.Len(t, report, 2)
	require.Equal(t, "fee", report[0].Kind)
	require.Equal(t, int64(3000-2000), report[0].Amount, "0.60% of 5000.00 without the 20.00 cap")
	require.Equal(t, int64(30), report[1].Amount, "a fee on a reversed sale")
	st := e.Statement("M1", "2026-01-15")
	require.Equal(t, int64(510_000), st.Sales)
	require.Equal(t, int64(510_000-60-3000-30), st.NetPayout)
	var buf strings.Builder
	require.NoError(t, WriteStatement(&buf, st))
	require.Contains(t, buf.String(), "net payout 5069.10")
	require.Contains(t, buf.String(), "fee charged on a reversed sale")
}

// A new cut-over time, set while the host runs (PUT /scenario loads a
// scenario's back office), closes the next business day at that time, not
// at the old one; a receipt's business day (DE15) and the books agree.
func TestCutOver_ANewTimeTakesEffect(t *testing.T) {
	monday := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name       string
		from, to   time.Duration
		closedAt   time.Duration // the first moment of Monday the day is closed
		openBefore time.Duration
	}{
		{"earlier", 23 * time.Hour, 22 * time.Hour, 22 * time.Hour, 21*time.Hour + 59*time.Minute},
		{"later", 21 * time.Hour, 23 * time.Hour, 23 * time.Hour, 22*time.Hour + 59*time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t)
			require.NoError(t, e.SetContracts(c.from, []Contract{{MID: "M1", Cycle: "T+1"}}))
			e.Advance(monday.Add(-24 * time.Hour)) // the business day runs at the old time
			require.NoError(t, e.SetContracts(c.to, []Contract{{MID: "M1", Cycle: "T+1"}}))
			require.Equal(t, "00", e.Decide(sale(approvePAN, 1000), monday).Response.ResponseCode)
			day0 := monday.Truncate(24 * time.Hour)
			e.Advance(day0.Add(c.openBefore))
			require.Empty(t, e.Lines(), "the day is still open")
			e.Advance(day0.Add(c.closedAt))
			require.Len(t, e.Lines(), 1, "the day closed at the new time")
			require.Equal(t, "2026-03-02", e.Lines()[0].Day)
		})
	}
}
