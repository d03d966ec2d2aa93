package acquirer

import (
	"fmt"
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// Regression tests for the money rules (README, "Money rules"): each one
// failed on the main that issue 11 started from.

// refOf builds a void, refund or completion that names an original by RRN.
func refOf(op wire.Op, rrn string, amount int64) *wire.Txn {
	stanSeq++
	t := &wire.Txn{MTI: "0200", Op: op, ProcessingCode: wire.PCVoid, PAN: approvePAN, Amount: amount, HasAmount: true,
		STAN: pad6(stanSeq), TransmissionTime: "1122100100", TID: "T1", MID: "M1", RRN: rrn}
	if op == wire.OpRefund {
		t.MTI, t.ProcessingCode = "0220", wire.PCRefund
	}
	return t
}

func balOf(t *testing.T, e *Engine, pan string) int64 {
	t.Helper()
	a, ok := e.Account(pan)
	require.True(t, ok)
	return a.Balance
}

func TestMoney_OriginalAfterItsReversalIsMatchedExactly(t *testing.T) {
	t.Run("an unrelated sale that reuses the STAN on another day is not reversed", func(t *testing.T) {
		e := newEngine(t)
		start := balOf(t, e, approvePAN)
		// a 25.00 sale whose request never arrived: only its reversal did
		lost := sale(approvePAN, 2500)
		require.Equal(t, "00", e.Decide(reversalOf(lost, "98"), t0).Response.ResponseCode)
		// another day, the STAN comes round again for a 3.21 sale
		reuse := *lost
		reuse.Amount, reuse.TransmissionTime = 321, "1123093000"
		d := e.Decide(&reuse, t0.Add(24*time.Hour))
		require.Equal(t, "00", d.Response.ResponseCode)
		require.Equal(t, StatusApproved, d.Record.Status, "the 3.21 sale stands")
		require.Equal(t, start-321, balOf(t, e, approvePAN))
	})
	t.Run("the same STAN with another card is not reversed", func(t *testing.T) {
		e := newEngine(t)
		lost := sale(approvePAN, 2500)
		e.Decide(reversalOf(lost, "98"), t0)
		other := *lost
		other.PAN = "4111111111111111"
		require.Equal(t, StatusApproved, e.Decide(&other, t0).Record.Status)
	})
	t.Run("the original itself, late, is booked and reversed at once", func(t *testing.T) {
		e := newEngine(t)
		start := balOf(t, e, approvePAN)
		late := sale(approvePAN, 2500)
		e.Decide(reversalOf(late, "98"), t0)
		d := e.Decide(late, t0.Add(time.Second))
		require.Equal(t, StatusReversed, d.Record.Status)
		require.Equal(t, start, balOf(t, e, approvePAN))
	})
}

func TestMoney_NoCardIsCreditedMoreThanItsOriginalDebited(t *testing.T) {
	setup := func(t *testing.T) (*Engine, int64, *wire.Txn, string) {
		e := newEngine(t)
		start := balOf(t, e, approvePAN)
		s := sale(approvePAN, 8000)
		rrn := e.Decide(s, t0).Response.RRN
		require.Equal(t, "00", e.Decide(refOf(wire.OpRefund, rrn, 3000), t0).Response.ResponseCode)
		require.Equal(t, start-5000, balOf(t, e, approvePAN))
		return e, start, s, rrn
	}
	t.Run("a void after a partial refund is declined 12", func(t *testing.T) {
		e, start, _, rrn := setup(t)
		require.Equal(t, "12", e.Decide(refOf(wire.OpVoid, rrn, 8000), t0).Response.ResponseCode)
		require.Equal(t, start-5000, balOf(t, e, approvePAN))
	})
	t.Run("a reversal after a partial refund credits only what remains", func(t *testing.T) {
		e, start, s, _ := setup(t)
		require.Equal(t, "00", e.Decide(reversalOf(s, "98"), t0).Response.ResponseCode)
		require.Equal(t, start, balOf(t, e, approvePAN), "80.00 debited, 30.00 refunded, 50.00 reversed")
		sale := e.Snapshot().Records[0]
		require.Equal(t, StatusReversed, sale.Status)
		require.Equal(t, int64(5000), sale.Credited)
		// the merchant keeps the refunded part of the sale and pays the refund: nothing
		tot := e.totalsOf(e.open("T1"))
		require.Equal(t, tot.DebitAmount, tot.CreditAmount)
	})
	t.Run("reversing the refund of a reversed sale gives nothing twice", func(t *testing.T) {
		e, start, s, _ := setup(t)
		e.Decide(reversalOf(s, "98"), t0)
		refund := e.Snapshot().Records[1]
		// a 0400 for the refund, as a custom POS might send it
		rev := reversalOf(&wire.Txn{MTI: refund.MTI, Op: wire.OpRefund, ProcessingCode: wire.PCVoid, PAN: approvePAN,
			Amount: 3000, HasAmount: true, STAN: refund.STAN, TransmissionTime: refund.TransmissionTime, TID: "T1", MID: "M1"}, "98")
		require.Equal(t, "00", e.Decide(rev, t0).Response.ResponseCode)
		require.Equal(t, start, balOf(t, e, approvePAN), "the sale is wholly undone, once")
	})
}

func TestMoney_RefundBelongsToTheOriginalsMerchant(t *testing.T) {
	e := newEngine(t)
	start := balOf(t, e, approvePAN)
	rrn := e.Decide(sale(approvePAN, 5000), t0).Response.RRN
	r := refOf(wire.OpRefund, rrn, 1000)
	r.MID = "M2"
	require.Equal(t, "12", e.Decide(r, t0).Response.ResponseCode)
	v := refOf(wire.OpVoid, rrn, 5000)
	v.MID = "M2"
	require.Equal(t, "12", e.Decide(v, t0).Response.ResponseCode, "a void too")
	require.Equal(t, start-5000, balOf(t, e, approvePAN))
}

func TestMoney_ChargebackOnlyForAClearedSale(t *testing.T) {
	d0 := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	newBO := func(t *testing.T) *Engine {
		e := newEngine(t)
		require.NoError(t, e.SetContracts(23*time.Hour, nil))
		return e
	}
	cases := []struct {
		name string
		make func(e *Engine) *wire.Txn
		want string
	}{
		{"reversed", func(e *Engine) *wire.Txn {
			s := sale(approvePAN, 1000)
			e.Decide(s, d0)
			e.Decide(reversalOf(s, "98"), d0)
			return s
		}, "reversed"},
		{"voided", func(e *Engine) *wire.Txn {
			s := sale(approvePAN, 1000)
			rrn := e.Decide(s, d0).Response.RRN
			require.Equal(t, "00", e.Decide(refOf(wire.OpVoid, rrn, 1000), d0).Response.ResponseCode)
			return s
		}, "voided"},
		{"declined", func(e *Engine) *wire.Txn {
			s := sale(lowPAN, 900000)
			e.Decide(s, d0)
			return s
		}, "declined"},
	}
	for _, tc := range cases {
		t.Run("refused for a "+tc.name+" sale", func(t *testing.T) {
			e := newBO(t)
			s := tc.make(e)
			_, err := e.Retrieval("T1", s.STAN, d0.AddDate(0, 0, 30))
			require.ErrorContains(t, err, tc.want)
			_, err = e.Chargeback("T1", s.STAN, "4515", 0, d0.AddDate(0, 0, 30))
			require.ErrorContains(t, err, tc.want)
			require.Empty(t, e.Lines(), "nothing charged back")
		})
	}
	t.Run("refused for a sale never cleared", func(t *testing.T) {
		e := newEngine(t) // no back office: only a batch settlement clears
		s := sale(approvePAN, 1000)
		e.Decide(s, d0)
		_, err := e.Chargeback("T1", s.STAN, "4515", 0, d0.AddDate(0, 0, 30))
		require.ErrorContains(t, err, "never cleared")
	})
	t.Run("a chargeback gives the card back what the merchant is debited", func(t *testing.T) {
		e := newBO(t)
		start := balOf(t, e, approvePAN)
		s := sale(approvePAN, 1000)
		e.Decide(s, d0)
		_, err := e.Chargeback("T1", s.STAN, "4515", 0, d0.AddDate(0, 0, 30))
		require.NoError(t, err)
		require.Equal(t, start, balOf(t, e, approvePAN))
	})
}

func TestMoney_VoidReversedAfterCutOverIsALateReversal(t *testing.T) {
	e := newEngine(t)
	require.NoError(t, e.SetContracts(23*time.Hour, []Contract{{MID: "M1", Cycle: "T+1"}}))
	d0 := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC) // a Thursday
	start := balOf(t, e, approvePAN)
	s := sale(approvePAN, 10000)
	rrn := e.Decide(s, d0).Response.RRN
	v := refOf(wire.OpVoid, rrn, 10000)
	require.Equal(t, "00", e.Decide(v, d0.Add(time.Hour)).Response.ResponseCode)
	// the void's answer was lost; its reversal arrives after the cut-over
	d := e.Decide(reversalOf(v, "98"), d0.Add(24*time.Hour))
	require.Equal(t, "00", d.Response.ResponseCode)
	require.Contains(t, d.Notes, Note{KindLate, "reversal of settled record 2: adjustment due on the next settlement"})
	require.Equal(t, start-10000, balOf(t, e, approvePAN), "the sale is reinstated on the card")
	e.Advance(d0.Add(48 * time.Hour))
	var paid int64
	for _, l := range e.Lines() {
		paid += l.Gross
	}
	require.Equal(t, int64(10000), paid, "the merchant is paid the reinstated sale")
	lines := e.Lines()
	require.Equal(t, "late reversal", lines[len(lines)-1].Rule)
	require.Equal(t, "2026-01-19", lines[len(lines)-1].PayoutDate, "Friday's business day pays on Monday")
}

func TestMoney_SeveralFeeAnomaliesAllApply(t *testing.T) {
	e := newEngine(t)
	require.NoError(t, e.SetContracts(23*time.Hour, []Contract{{MID: "M1", Debit: FeeRule{PPM: 6000}, Cycle: "T+1"}}))
	d0 := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	d := e.Decide(sale(approvePAN, 100000), d0)
	e.MarkAnomaly(d.Record.ID, Anomaly{Kind: AnomalyWrongRate, PPM: 10000})
	e.MarkAnomaly(d.Record.ID, Anomaly{Kind: AnomalyActivationFee, Amount: 9900})
	e.MarkAnomaly(d.Record.ID, Anomaly{Kind: AnomalyDelayPayout, Days: 2})
	e.Advance(d0.Add(14 * time.Hour))
	l := e.Lines()[0]
	require.Equal(t, int64(1000), l.Fee, "1.00 % instead of 0.60 %")
	require.Equal(t, int64(9900), l.Deductions, "and an activation fee")
	require.Equal(t, "2026-01-18", l.PayoutDate, "and two days late")
	require.Len(t, e.FeeReport(), 3)
}

func TestMoney_PayoutsCountBusinessDays(t *testing.T) {
	fri := time.Date(2026, 10, 2, 23, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		c    Contract
		at   time.Time
		want string
	}{
		{"T+1 from a Thursday pays on Friday", Contract{Cycle: "T+1"}, fri.AddDate(0, 0, -1), "2026-10-02"},
		{"T+1 from a Friday pays on Monday", Contract{Cycle: "T+1"}, fri, "2026-10-05"},
		{"T+1 from a Saturday pays on Monday", Contract{Cycle: "T+1"}, fri.AddDate(0, 0, 1), "2026-10-05"},
		{"holidays roll the payout forward", Contract{Cycle: "T+1", Holidays: []string{"2026-10-05", "2026-10-06"}}, fri, "2026-10-07"},
		{"D0 stays the same day, even a Saturday", Contract{Cycle: "D0"}, fri.AddDate(0, 0, 1), "2026-10-03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, day(tt.c.payoutDay(tt.at)))
		})
	}
	e := newEngine(t)
	require.ErrorContains(t, e.SetContracts(23*time.Hour, []Contract{{MID: "M1", Holidays: []string{"10/01"}}}), `holiday "10/01"`)
}

func TestMoney_RRNsNeverRepeatAcrossRestarts(t *testing.T) {
	now := time.Date(2026, 2, 3, 7, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	issue := func(e *Engine, at time.Time, n int) {
		for range n {
			d := e.Decide(sale(approvePAN, 1), at)
			require.Len(t, d.Response.RRN, 12)
			require.False(t, seen[d.Response.RRN], "RRN %s issued twice", d.Response.RRN)
			seen[d.Response.RRN] = true
		}
	}
	first := newEngine(t)
	issue(first, now, 50) // a burst: all in one microsecond of the clock
	// the process restarts a second later: a new engine, nothing kept
	issue(newEngine(t), now.Add(time.Second), 50)
	first.Reset()
	issue(first, now, 5)
	// the first RRN of a host follows its clock, wherever the clock is in
	// the twelve-digit cycle
	for _, at := range []time.Time{now, now.Add(3 * 24 * time.Hour), now.Add(7 * 24 * time.Hour)} {
		e := newEngine(t)
		require.Equal(t, fmt.Sprintf("%012d", at.UnixMicro()%rrnSpace), e.Decide(sale(approvePAN, 1), at).Response.RRN)
	}
	require.True(t, serialBefore(rrnSpace-1, 0), "the space wraps")
	require.False(t, serialBefore(5, 5))
}
