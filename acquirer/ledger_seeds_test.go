package acquirer

import (
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// The sequences TestLedger_MoneyIsNeverCreatedOrLost found, shrunk, kept as
// table tests: each broke a money rule before it was fixed.
func TestLedger_FoundSequences(t *testing.T) {
	d0 := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	type world struct {
		e   *Engine
		now time.Time
	}
	sell := func(w *world, amount int64) (*wire.Txn, string) {
		s := sale(approvePAN, amount)
		d := w.e.Decide(s, w.now)
		require.Equal(t, "00", d.Response.ResponseCode)
		return s, d.Response.RRN
	}
	cutOver := func(w *world) { w.now = w.now.Add(24 * time.Hour); w.e.Advance(w.now) }
	preauthAndComplete := func(w *world) (completion *wire.Txn) {
		stanSeq++
		pa := &wire.Txn{MTI: "0100", Op: wire.OpPreAuth, ProcessingCode: wire.PCPreAuth, PAN: approvePAN, Amount: 500, HasAmount: true,
			STAN: pad6(stanSeq), TransmissionTime: "0115100000", TID: "T1", MID: "M1", Condition: wire.CondPreAuth}
		rrn := w.e.Decide(pa, w.now).Response.RRN
		c := refOf(wire.OpCompletion, rrn, 500)
		c.ProcessingCode, c.Condition = wire.PCPurchase, wire.CondPreAuth
		require.Equal(t, "00", w.e.Decide(c, w.now).Response.ResponseCode)
		return c
	}
	tests := []struct {
		name string
		play func(t *testing.T, w *world)
	}{
		{"a refund after a chargeback is declined: the chargeback gave the money back", func(t *testing.T, w *world) {
			s, rrn := sell(w, 100)
			cutOver(w)
			_, err := w.e.Chargeback("T1", s.STAN, "4515", 0, w.now)
			require.NoError(t, err)
			require.Equal(t, "64", w.e.Decide(refOf(wire.OpRefund, rrn, 100), w.now).Response.ResponseCode)
		}},
		{"a reversal's postings name the reversal", func(t *testing.T, w *world) {
			s, _ := sell(w, 100)
			d := w.e.Decide(reversalOf(s, "98"), w.now)
			postings := w.e.Snapshot().Postings
			require.Equal(t, d.Record.ID, postings[len(postings)-1].Record)
		}},
		{"a voided completion gives the pre-authorisation and its hold back", func(t *testing.T, w *world) {
			c := preauthAndComplete(w)
			rrn := w.e.Find("T1", c.MTI, c.STAN)[0].RRN
			require.Equal(t, "00", w.e.Decide(refOf(wire.OpVoid, rrn, 500), w.now).Response.ResponseCode)
			a, _ := w.e.Account(approvePAN)
			require.Equal(t, int64(500), a.Held)
		}},
		{"a retrieval, then a reversal: the chargeback is refused", func(t *testing.T, w *world) {
			s, _ := sell(w, 100)
			cutOver(w)
			_, err := w.e.Retrieval("T1", s.STAN, w.now)
			require.NoError(t, err)
			w.e.Decide(reversalOf(s, "98"), w.now)
			_, err = w.e.Chargeback("T1", s.STAN, "4515", 0, w.now)
			require.ErrorContains(t, err, "reversed")
		}},
		{"a refused dispute step leaves no stale amount for the chargeback", func(t *testing.T, w *world) {
			s, rrn := sell(w, 100)
			cutOver(w)
			_, err := w.e.SecondChargeback("T1", s.STAN, w.now)
			require.Error(t, err)
			require.Equal(t, "00", w.e.Decide(refOf(wire.OpRefund, rrn, 100), w.now).Response.ResponseCode)
			_, err = w.e.Chargeback("T1", s.STAN, "4515", 0, w.now)
			require.ErrorContains(t, err, "refunded in full")
		}},
		{"a completion's void reversed after the pre-authorisation was completed again: both stand", func(t *testing.T, w *world) {
			c := preauthAndComplete(w)
			rrn := w.e.Find("T1", c.MTI, c.STAN)[0].RRN
			v := refOf(wire.OpVoid, rrn, 500)
			require.Equal(t, "00", w.e.Decide(v, w.now).Response.ResponseCode)
			again := *c
			stanSeq++
			again.STAN = pad6(stanSeq)
			require.Equal(t, "00", w.e.Decide(&again, w.now).Response.ResponseCode)
			w.e.Decide(reversalOf(v, "98"), w.now)
			w.e.Decide(reversalOf(&again, "98"), w.now)
			snap := w.e.Snapshot()
			require.Equal(t, StatusCompleted, snap.Records[0].Status, "the reinstated completion still stands on it")
		}},
		{"a second chargeback after the sale was reversed is refused", func(t *testing.T, w *world) {
			e := w.e
			s, _ := sell(w, 100)
			cutOver(w)
			_, err := e.Chargeback("T1", s.STAN, "4515", 0, w.now)
			require.NoError(t, err)
			_, err = e.Represent("T1", s.STAN, true, w.now)
			require.NoError(t, err)
			e.Decide(reversalOf(s, "98"), w.now)
			_, err = e.SecondChargeback("T1", s.STAN, w.now)
			require.ErrorContains(t, err, "nothing to charge back")
		}},
		{"a chargeback after the second chargeback is refused", func(t *testing.T, w *world) {
			e := w.e
			s, _ := sell(w, 100)
			cutOver(w)
			_, err := e.Chargeback("T1", s.STAN, "4515", 0, w.now)
			require.NoError(t, err)
			_, err = e.Represent("T1", s.STAN, true, w.now)
			require.NoError(t, err)
			_, err = e.SecondChargeback("T1", s.STAN, w.now)
			require.NoError(t, err)
			_, err = e.Chargeback("T1", s.STAN, "4515", 0, w.now)
			require.ErrorContains(t, err, "already charged back")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t)
			require.NoError(t, e.SetContracts(23*time.Hour, nil))
			// a credit card, so that second chargebacks are allowed
			a := e.l.accounts[approvePAN]
			a.Card.Type = "credit"
			start := map[string]int64{approvePAN: a.Balance}
			w := &world{e: e, now: d0}
			e.Advance(w.now)
			tt.play(t, w)
			require.NoError(t, checkLedger(e, start))
		})
	}
}
