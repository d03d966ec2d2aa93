package acquirer

import (
	"testing"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// adjustment builds a cup adjustment or tip advice naming the trace stan
// of terminal T1, with the new amount.
func adjustment(op wire.Op, stan string, amount int64) *wire.Txn {
	stanSeq++
	return &wire.Txn{MTI: "0220", Op: op, ProcessingCode: wire.PCPurchase, PAN: approvePAN, Amount: amount, HasAmount: true,
		STAN: pad6(stanSeq), TID: "T1", MID: "M1", Currency: "156", Batch: "000001",
		OrigRef: &wire.OrigRef{Batch: "000001", STAN: stan}}
}

func offline(amount int64) *wire.Txn {
	r := sale(approvePAN, amount)
	r.MTI, r.Op, r.Batch = "0220", wire.OpOfflineSale, "000001"
	return r
}

// An adjustment gives an offline sale its new amount and a tip a sale its
// new total: the card pays the difference (back, when lower), the
// original counts in the totals with its new amount, and what the host
// cannot apply is refused with the reason, booking nothing.
func TestEngine_AdjustmentsAndTips(t *testing.T) {
	e := newEngine(t)
	before, _ := e.Account(approvePAN)
	off := offline(10000)
	require.Equal(t, "00", e.Decide(off, t0).Response.ResponseCode)
	s := sale(approvePAN, 5000)
	s.Batch = "000001"
	require.Equal(t, "00", e.Decide(s, t0).Response.ResponseCode)

	tests := []struct {
		name string
		req  *wire.Txn
		code string
	}{
		{"an adjustment down", adjustment(wire.OpAdjust, off.STAN, 8000), "00"},
		{"a tip on the sale", adjustment(wire.OpTip, s.STAN, 5600), "00"},
		{"a tip on the offline sale", adjustment(wire.OpTip, off.STAN, 9000), "00"},
		{"an adjustment of an online sale: not an offline one", adjustment(wire.OpAdjust, s.STAN, 100), "25"},
		{"a trace the terminal never sent", adjustment(wire.OpAdjust, "999999", 100), "25"},
		{"a tip total below the sale's", adjustment(wire.OpTip, s.STAN, 5000), "13"},
		{"a zero amount", adjustment(wire.OpAdjust, off.STAN, 0), "13"},
	}
	for _, tt := range tests {
		d := e.Decide(tt.req, t0)
		require.Equal(t, "0230", d.Response.MTI, tt.name)
		require.Equal(t, tt.code, d.Response.ResponseCode, "%s: %s", tt.name, d.Why)
	}
	after, _ := e.Account(approvePAN)
	require.Equal(t, int64(9000+5600), before.Balance-after.Balance, "the card pays the new amounts, no more")
	tot := e.totalsOf(e.open("T1"))
	require.Equal(t, 2, tot.DebitCount, "adjustments and tips count in their originals")
	require.Equal(t, int64(9000+5600), tot.DebitAmount)

	// once settled, the batch is no longer adjusted
	e.close("T1", Settlement{})
	d := e.Decide(adjustment(wire.OpTip, s.STAN, 7000), t0)
	require.Equal(t, "12", d.Response.ResponseCode, d.Why)

	// a void of a tipped sale gives back the whole, tip included
	e2 := newEngine(t)
	s2 := sale(approvePAN, 5000)
	d = e2.Decide(s2, t0)
	require.Equal(t, "00", e2.Decide(adjustment(wire.OpTip, s2.STAN, 6000), t0).Response.ResponseCode)
	v := sale(approvePAN, 6000)
	v.Op, v.ProcessingCode, v.RRN = wire.OpVoid, wire.PCVoid, d.Response.RRN
	require.Equal(t, "00", e2.Decide(v, t0).Response.ResponseCode)
	back, _ := e2.Account(approvePAN)
	require.Equal(t, before.Balance, back.Balance)
}
