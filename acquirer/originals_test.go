package acquirer

import (
	"testing"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func preauth(amount int64) *wire.Txn {
	stanSeq++
	return &wire.Txn{MTI: "0100", Op: wire.OpPreAuth, ProcessingCode: wire.PCPreAuth, PAN: approvePAN, Amount: amount, HasAmount: true,
		STAN: pad6(stanSeq), TransmissionTime: "0115100000", TID: "T1", MID: "M1", Condition: wire.CondPreAuth}
}

// TestEngine_OriginalsAsCUPNamesThem: voids, completions and their voids
// find their original as a CUP host does (DE37, else DE38 on the card, and
// DE61), and CUP's pre-authorisation rules hold.
func TestEngine_OriginalsAsCUPNamesThem(t *testing.T) {
	cup := func(t *testing.T) *Engine {
		e := newEngine(t)
		e.SetDialect(wire.CUP.Capabilities())
		return e
	}
	t.Run("a completion by its authorisation code, no RRN", func(t *testing.T) {
		e := cup(t)
		pa := e.Decide(preauth(10000), t0)
		c := refOf(wire.OpCompletion, "", 10000)
		c.ProcessingCode, c.Condition, c.AuthCode = wire.PCPurchase, wire.CondPreAuth, pa.Response.AuthCode
		require.Equal(t, "00", e.Decide(c, t0).Response.ResponseCode)
	})
	t.Run("DE61 must name the original's trace number", func(t *testing.T) {
		e := cup(t)
		s := sale(approvePAN, 500)
		rrn := e.Decide(s, t0).Response.RRN
		v := refOf(wire.OpVoid, rrn, 500)
		v.OrigRef = &wire.OrigRef{Batch: "000000", STAN: "999999", Date: "0115"}
		d := e.Decide(v, t0)
		require.Equal(t, "25", d.Response.ResponseCode)
		require.Contains(t, d.Why, "DE61 names trace 999999")
		v2 := refOf(wire.OpVoid, rrn, 500)
		v2.OrigRef = &wire.OrigRef{Batch: "000000", STAN: s.STAN, Date: "0115"}
		require.Equal(t, "00", e.Decide(v2, t0).Response.ResponseCode)
	})
	t.Run("a completion may exceed its pre-authorisation by 15 % under cup, not under iso87", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			e      *Engine
			amount int64
			want   string
		}{
			{"cup 115 %", cup(t), 11500, "00"},
			{"cup 115.01 %", cup(t), 11501, "64"},
			{"iso87 100 %", newEngine(t), 10000, "00"},
			{"iso87 100.01 %", newEngine(t), 10001, "64"},
		} {
			rrn := tc.e.Decide(preauth(10000), t0).Response.RRN
			c := refOf(wire.OpCompletion, rrn, tc.amount)
			c.ProcessingCode, c.Condition = wire.PCPurchase, wire.CondPreAuth
			require.Equal(t, tc.want, tc.e.Decide(c, t0).Response.ResponseCode, tc.name)
		}
		ten := 10
		e := newEngine(t, func(p *Policies) { p.CompletionTolerance = &ten })
		rrn := e.Decide(preauth(10000), t0).Response.RRN
		c := refOf(wire.OpCompletion, rrn, 11000)
		c.ProcessingCode, c.Condition = wire.PCPurchase, wire.CondPreAuth
		require.Equal(t, "00", e.Decide(c, t0).Response.ResponseCode, "the policy's tolerance")
	})
	t.Run("a pre-authorisation void releases the hold; its reversal puts it back", func(t *testing.T) {
		e := cup(t)
		pa := e.Decide(preauth(10000), t0)
		v := refOf(wire.OpPreAuthVoid, "", 10000)
		v.MTI, v.Condition, v.AuthCode = "0100", wire.CondPreAuth, pa.Response.AuthCode
		require.Equal(t, "00", e.Decide(v, t0).Response.ResponseCode)
		a, _ := e.Account(approvePAN)
		require.Zero(t, a.Held)
		require.Equal(t, "00", e.Decide(reversalOf(v, "98"), t0).Response.ResponseCode)
		a, _ = e.Account(approvePAN)
		require.Equal(t, int64(10000), a.Held)
	})
	t.Run("a completion void credits the card and the pre-authorisation stands again", func(t *testing.T) {
		e := cup(t)
		start := balOf(t, e, approvePAN)
		rrn := e.Decide(preauth(10000), t0).Response.RRN
		c := refOf(wire.OpCompletion, rrn, 8000)
		c.ProcessingCode, c.Condition = wire.PCPurchase, wire.CondPreAuth
		crrn := e.Decide(c, t0).Response.RRN
		require.Equal(t, start-8000, balOf(t, e, approvePAN))
		cv := refOf(wire.OpCompletionVoid, crrn, 8000)
		cv.Condition = wire.CondPreAuth
		require.Equal(t, "00", e.Decide(cv, t0).Response.ResponseCode)
		require.Equal(t, start, balOf(t, e, approvePAN))
		a, _ := e.Account(approvePAN)
		require.Equal(t, int64(10000), a.Held, "the pre-authorisation holds again")
		// reversing the completion void reinstates the completion
		require.Equal(t, "00", e.Decide(reversalOf(cv, "98"), t0).Response.ResponseCode)
		require.Equal(t, start-8000, balOf(t, e, approvePAN))
		a, _ = e.Account(approvePAN)
		require.Zero(t, a.Held)
	})
}
