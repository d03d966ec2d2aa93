package acquirer

import (
	"testing"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// settlement requests of terminal T1, batch 000001
func settleReq(op wire.Op, tot *wire.Totals) *wire.Txn {
	stanSeq++
	pc := wire.PCSettle
	if op == wire.OpSettleTrailer {
		pc = wire.PCSettleTrailer
	}
	return &wire.Txn{MTI: "0500", Op: op, ProcessingCode: pc, STAN: pad6(stanSeq), TID: "T1", MID: "M1", Batch: "000001", Totals: tot}
}

func uploadOf(orig *wire.Txn, amount int64) *wire.Txn {
	stanSeq++
	return &wire.Txn{MTI: "0320", Op: wire.OpBatchUpload, STAN: pad6(stanSeq), TID: "T1", MID: "M1", Batch: "000001",
		PAN: orig.PAN, Amount: amount, HasAmount: true, Original: &wire.Original{MTI: orig.MTI, STAN: orig.STAN, TransmissionTime: orig.TransmissionTime}}
}

// The day's business on T1: a 10.00 sale, a 5.00 sale voided, a 3.00
// refund of the first sale.
func dayOfBusiness(t *testing.T, e *Engine) (kept, voided *wire.Txn) {
	t.Helper()
	kept, voided = sale(approvePAN, 1000), sale(approvePAN, 500)
	rrn := e.Decide(kept, t0).Response.RRN
	vrrn := e.Decide(voided, t0).Response.RRN
	require.Equal(t, "00", e.Decide(refOf(wire.OpVoid, vrrn, 500), t0).Response.ResponseCode)
	require.Equal(t, "00", e.Decide(refOf(wire.OpRefund, rrn, 300), t0).Response.ResponseCode)
	return kept, voided
}

// What a batch counts: under iso87 a voided sale counts nowhere; under
// cup it counts as a debit and its void as a credit (DOMAIN.md 6).
func TestSettle_TotalsAsTheDialectCounts(t *testing.T) {
	for name, c := range map[string]struct {
		caps wire.Capabilities
		want wire.Totals
	}{
		"iso87": {wire.ISO87.Capabilities(), wire.Totals{DebitCount: 1, DebitAmount: 1000, CreditCount: 1, CreditAmount: 300}},
		"cup":   {wire.CUP.Capabilities(), wire.Totals{DebitCount: 2, DebitAmount: 1500, CreditCount: 2, CreditAmount: 800}},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEngine(t)
			e.SetDialect(c.caps)
			dayOfBusiness(t, e)
			d := e.Decide(settleReq(wire.OpSettle, &c.want), t0)
			require.Equal(t, "00", d.Response.ResponseCode, d.Why)
			require.Equal(t, c.want, *d.Response.Totals)
		})
	}
}

func TestSettle_BalancedBatchCloses(t *testing.T) {
	e := newEngine(t)
	dayOfBusiness(t, e)
	tot := wire.Totals{DebitCount: 1, DebitAmount: 1000, CreditCount: 1, CreditAmount: 300}
	d := e.Decide(settleReq(wire.OpSettle, &tot), t0)
	require.Equal(t, "0510", d.Response.MTI)
	require.Equal(t, "00", d.Response.ResponseCode)
	require.Equal(t, []Note{{KindSettlement, "balanced debits 1/10.00 credits 1/3.00"}}, d.Notes)
	snap := e.Snapshot()
	for _, r := range snap.Records {
		require.True(t, r.Settled, "record %d", r.ID)
	}
	require.Len(t, snap.Settlements, 1)
	require.Equal(t, Settlement{TID: "T1", Batch: "000001", Time: t0, Balanced: true, Terminal: tot, Host: tot}, snap.Settlements[0])

	t.Run("the same settlement again is answered 00 and closes nothing more", func(t *testing.T) {
		again := e.Decide(settleReq(wire.OpSettle, &tot), t0)
		require.Equal(t, "00", again.Response.ResponseCode)
		require.Equal(t, tot, *again.Response.Totals, "the figures the batch closed with")
		require.Contains(t, again.Why, "already closed")
		require.Len(t, e.Snapshot().Settlements, 1)
	})
	t.Run("the next batch starts empty", func(t *testing.T) {
		zero := wire.Totals{}
		next := settleReq(wire.OpSettle, &zero)
		next.Batch = "000002"
		require.Equal(t, "00", e.Decide(next, t0).Response.ResponseCode)
	})
	t.Run("a settlement without totals is a format error", func(t *testing.T) {
		require.Equal(t, "30", e.Decide(settleReq(wire.OpSettle, nil), t0).Response.ResponseCode)
	})
}

// Out of balance: 95 with the host's figures, the batch stays open; the
// terminal uploads its transactions and closes with a trailer; the batch
// closes with the host's figures and lists each difference.
func TestSettle_OutOfBalanceUploadAndTrailer(t *testing.T) {
	e := newEngine(t)
	agreed := sale(approvePAN, 1000)     // both know it
	differs := sale(approvePAN, 2000)    // the terminal has 20.01
	hostOnly := sale(approvePAN, 4000)   // the answer was lost: the terminal never logged it
	terminalOnly := sale(approvePAN, 50) // an advice the host never got
	for _, s := range []*wire.Txn{agreed, differs, hostOnly} {
		require.Equal(t, "00", e.Decide(s, t0).Response.ResponseCode)
	}
	tot := wire.Totals{DebitCount: 3, DebitAmount: 1000 + 2001 + 50}
	d := e.Decide(settleReq(wire.OpSettle, &tot), t0)
	require.Equal(t, "95", d.Response.ResponseCode)
	require.Equal(t, wire.Totals{DebitCount: 3, DebitAmount: 7000}, *d.Response.Totals, "the host's figures")
	require.Equal(t, "21", d.Response.SettleResult, "domestic not balanced, foreign balanced")
	require.Empty(t, e.Snapshot().Settlements)
	require.False(t, e.Snapshot().Records[0].Settled, "the batch stays open")

	for _, u := range []*wire.Txn{uploadOf(agreed, 1000), uploadOf(differs, 2001), uploadOf(terminalOnly, 50)} {
		up := e.Decide(u, t0)
		require.Equal(t, "0330", up.Response.MTI)
		require.Equal(t, "00", up.Response.ResponseCode, up.Why)
	}
	bad := uploadOf(agreed, 1000)
	bad.Original = nil
	require.Equal(t, "30", e.Decide(bad, t0).Response.ResponseCode, "an upload item names its original")

	tr := e.Decide(settleReq(wire.OpSettleTrailer, &tot), t0)
	require.Equal(t, "00", tr.Response.ResponseCode)
	require.Equal(t, KindSettlement, tr.Notes[0].Kind)
	snap := e.Snapshot()
	require.Len(t, snap.Settlements, 1)
	s := snap.Settlements[0]
	require.False(t, s.Balanced)
	require.Equal(t, 3, s.Uploaded)
	require.Equal(t, wire.Totals{DebitCount: 3, DebitAmount: 7000}, s.Host)
	masked := wire.MaskPAN(approvePAN)
	require.ElementsMatch(t, []Discrepancy{
		{Kind: TerminalOnly, STAN: terminalOnly.STAN, PAN: masked, TerminalAmount: 50},
		{Kind: AmountMismatch, STAN: differs.STAN, RRN: snap.Records[1].RRN, PAN: masked, HostAmount: 2000, TerminalAmount: 2001},
		{Kind: HostOnly, STAN: hostOnly.STAN, RRN: snap.Records[2].RRN, PAN: masked, HostAmount: 4000},
	}, s.Discrepancies)
	for _, r := range snap.Records {
		require.True(t, r.Settled)
	}
}

// cup settles domestic and foreign cards apart: the result digits say
// which half balances (1) and which does not (2).
func TestSettle_CUPResultDigits(t *testing.T) {
	e := newEngine(t)
	e.SetDialect(wire.CUP.Capabilities())
	e.Decide(sale(approvePAN, 1000), t0)
	e.Decide(sale("4111111111111111", 700), t0)
	host := wire.Totals{DebitCount: 1, DebitAmount: 1000, ForeignDebitCount: 1, ForeignDebitAmount: 700}
	for _, c := range []struct {
		name   string
		change func(*wire.Totals)
		want   string
	}{
		{"foreign wrong", func(t *wire.Totals) { t.ForeignDebitAmount++ }, "12"},
		{"domestic wrong", func(t *wire.Totals) { t.DebitCount++ }, "21"},
		{"both wrong", func(t *wire.Totals) { t.DebitAmount++; t.ForeignDebitCount = 0 }, "22"},
	} {
		tot := host
		c.change(&tot)
		d := e.Decide(settleReq(wire.OpSettle, &tot), t0)
		require.Equal(t, "95", d.Response.ResponseCode, c.name)
		require.Equal(t, c.want, d.Response.SettleResult, c.name)
	}
	d := e.Decide(settleReq(wire.OpSettle, &host), t0)
	require.Equal(t, "00", d.Response.ResponseCode, d.Why)
}

// cup uploads name transactions by trace number alone, up to eight a
// message.
func TestSettle_CUPUploadsByTraceNumber(t *testing.T) {
	e := newEngine(t)
	e.SetDialect(wire.CUP.Capabilities())
	a, b := sale(approvePAN, 1000), sale(approvePAN, 2000)
	e.Decide(a, t0)
	e.Decide(b, t0)
	tot := wire.Totals{DebitCount: 1, DebitAmount: 1000}
	require.Equal(t, "95", e.Decide(settleReq(wire.OpSettle, &tot), t0).Response.ResponseCode)
	stanSeq++
	up := &wire.Txn{MTI: "0320", Op: wire.OpBatchUpload, STAN: pad6(stanSeq), TID: "T1", MID: "M1", Batch: "000001",
		Uploads: []wire.Upload{{STAN: a.STAN, PAN: approvePAN, Amount: 1000}}}
	d := e.Decide(up, t0)
	require.Equal(t, "00", d.Response.ResponseCode)
	require.Contains(t, d.Why, "1 items")
	e.Decide(settleReq(wire.OpSettleTrailer, &tot), t0)
	s := e.Snapshot().Settlements[0]
	require.Len(t, s.Discrepancies, 1)
	require.Equal(t, HostOnly, s.Discrepancies[0].Kind)
	require.Equal(t, b.STAN, s.Discrepancies[0].STAN)
}
