package acquirer

import (
	"testing"

	"github.com/posim/posim/emv"
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

// A chip card swiped without its chip is told by its service code (2xx)
// even when the terminal does not say fallback (DE22 02x): the fallback
// policy answers it; a magnetic stripe card (1xx) is not affected.
func TestEngine_ChipCardSwipedIsAFallback(t *testing.T) {
	e := newEngine(t, func(p *Policies) { p.Fallback = "05" })
	swiped := func(service string) *wire.Txn {
		r := sale(propChipPAN, 100)
		r.EntryMode, r.Track2 = "021", propChipPAN+"=3012"+service+"0000000000"
		return r
	}
	d := e.Decide(swiped("201"), t0)
	require.Equal(t, "05", d.Response.ResponseCode)
	require.Contains(t, d.Why, "service code 2xx")
	d = e.Decide(swiped("101"), t0)
	require.NotContains(t, d.Why, "service code", "a 1xx track is a stripe card's")
}

// A script advice (0620) reports the script results in DF31 as PBOC
// terminals write them or in EMV's 9F5B; the host books either on the
// sale, and refuses (30) an advice that carries neither.
func TestEngine_ScriptAdviceTakesDF31Or9F5B(t *testing.T) {
	e := newEngine(t)
	s := sale(approvePAN, 100)
	require.Equal(t, "00", e.Decide(s, t0).Response.ResponseCode)
	advice := func(tag uint32) *wire.Txn {
		stanSeq++
		return &wire.Txn{MTI: "0620", Op: wire.OpScriptAdvice, PAN: approvePAN, Amount: 100, HasAmount: true,
			STAN: pad6(stanSeq), TID: "T1", MID: "M1", Original: &wire.Original{MTI: "0200", STAN: s.STAN},
			ICC: emv.List{{Tag: tag, Value: []byte{0x20, 0, 0, 0, 0}}}.Bytes()}
	}
	for _, tag := range []uint32{emv.TagScriptResult, emv.TagScriptResultsEMV} {
		d := e.Decide(advice(tag), t0)
		require.Equal(t, "00", d.Response.ResponseCode, d.Why)
		require.Contains(t, d.Why, "processed (DF31 2000000000)")
	}
	d := e.Decide(advice(emv.TagATC), t0)
	require.Equal(t, "30", d.Response.ResponseCode)
	require.Contains(t, d.Why, "DF31 or 9F5B")
}
