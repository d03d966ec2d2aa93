package acquirer

import (
	"testing"
	"time"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// Table tests of the engine's decisions, without sockets: the engine is a
// function of request, ledger, policies and clock (README, "What the
// acquirer does").

const (
	wrongPINPAN = "6200000000001201" // PIN 1234 at the issuer
	creditPAN   = "6250940000000019"
	noFundsPAN  = "6200000000000104"
)

// riskEngine is newEngine with a restricted terminal and a merchant that
// refuses credit cards besides newEngine's frozen and restricted ones.
func riskEngine(t *testing.T, tweak ...func(*Policies)) *Engine {
	t.Helper()
	p := DefaultPolicies()
	for _, f := range tweak {
		f(&p)
	}
	book := cards.Builtin()
	book.Merchants = []cards.Merchant{
		{MID: "FROZEN", Status: cards.MerchantFrozen},
		{MID: "LIMITED", Status: cards.MerchantRestricted},
		{MID: "NOCREDIT", Status: cards.MerchantActive, Refuse: []string{cards.RefuseCredit}},
	}
	book.Terminals = []cards.Terminal{
		{TID: "GONE", Status: cards.TerminalDeregistered},
		{TID: "HELD", Status: cards.TerminalRestricted},
	}
	e, err := NewEngine(book, p)
	require.NoError(t, err)
	return e
}

// pinBlock is a PIN block for pan under the default policies' PIN key.
func pinBlock(t *testing.T, pin, pan string) []byte {
	t.Helper()
	k, err := wire.ParsePINKey(DefaultPolicies().PINKey)
	require.NoError(t, err)
	b, err := k.EncryptPIN(pin, pan)
	require.NoError(t, err)
	return b
}

func withPIN(t *testing.T, req *wire.Txn, pin string) *wire.Txn {
	req.PINBlock = pinBlock(t, pin, req.PAN)
	return req
}

func at(r *wire.Txn, tid, mid string) *wire.Txn {
	r.TID, r.MID = tid, mid
	return r
}

// settleBatch closes T1's open batch with the totals given.
func settleBatch(e *Engine, tot wire.Totals, now time.Time) Decision {
	stanSeq++
	return e.Decide(&wire.Txn{MTI: "0500", Op: wire.OpSettle, ProcessingCode: wire.PCSettle, STAN: pad6(stanSeq),
		TID: "T1", MID: "M1", Batch: "000001", Totals: &tot}, now)
}

// A request that fails several checks gets the answer of the first in the
// README's order: terminal, merchant, zero amount, magic amounts, card
// number, card status, expiry, PIN, card type, limits (per transaction,
// daily amount, daily count, velocity), funds. A declined request moves
// no money and gets no RRN.
func TestEngine_RiskChecksRunInTheDocumentedOrder(t *testing.T) {
	limits := func(p *Policies) { p.MaxAmount, p.DailyAmount, p.DailyCount, p.VelocityCount = 100, 150, 1, 1 }
	tests := []struct {
		name    string
		tweak   func(*Policies)
		prior   func() *wire.Txn // an approved sale before the request, if any
		req     func(t *testing.T) *wire.Txn
		want    string
		whyPart string
	}{
		{"a deregistered terminal before a frozen merchant", nil, nil,
			func(*testing.T) *wire.Txn { return at(sale("6200000000000401", 0), "GONE", "FROZEN") }, "97", "deregistered"},
		{"a restricted terminal before a frozen merchant", nil, nil,
			func(*testing.T) *wire.Txn { return at(sale(approvePAN, 100), "HELD", "FROZEN") }, "58", "terminal HELD restricted"},
		{"a frozen merchant before a zero amount", nil, nil,
			func(*testing.T) *wire.Txn { return at(sale(approvePAN, 0), "T1", "FROZEN") }, "03", "frozen"},
		{"a restricted merchant", nil, nil,
			func(*testing.T) *wire.Txn { return at(sale(approvePAN, 100), "T1", "LIMITED") }, "58", "merchant LIMITED restricted"},
		{"a zero amount before the card", nil, nil,
			func(*testing.T) *wire.Txn { return sale("6200000000000401", 0) }, "13", "zero amount"},
		{"a magic amount before the card number", nil, nil,
			func(*testing.T) *wire.Txn { return sale("6200000000000006", 999991) }, "91", "magic amount"},
		{"the card number before its status", nil, nil,
			func(*testing.T) *wire.Txn { return sale("6200000000000402", 100) }, "14", "Luhn"},
		{"the card's status before its limits", limits, nil,
			func(*testing.T) *wire.Txn { return sale("6200000000000401", 500) }, "41", "status lost"},
		{"the expiry before the PIN", nil, nil,
			func(t *testing.T) *wire.Txn { return withPIN(t, sale("6200000000001102", 100), "9999") }, "54", "expired"},
		{"the PIN before the limits", limits, nil,
			func(t *testing.T) *wire.Txn { return withPIN(t, sale(wrongPINPAN, 500), "9999") }, "55", "wrong PIN"},
		{"the card type before the limits", limits, nil,
			func(*testing.T) *wire.Txn { return at(sale(creditPAN, 500), "T1", "NOCREDIT") }, "57", "credit"},
		{"the per-transaction limit before the daily amount", limits, nil,
			func(*testing.T) *wire.Txn { return sale(approvePAN, 200) }, "61", "per-transaction"},
		{"the daily amount before the daily count", limits, func() *wire.Txn { return sale(approvePAN, 100) },
			func(*testing.T) *wire.Txn { return sale(approvePAN, 100) }, "61", "daily amount"},
		{"the daily count before velocity", func(p *Policies) { p.DailyCount, p.VelocityCount = 1, 1 }, func() *wire.Txn { return sale(approvePAN, 100) },
			func(*testing.T) *wire.Txn { return sale(approvePAN, 100) }, "65", "daily count"},
		{"velocity before funds", func(p *Policies) { p.VelocityCount = 1 }, func() *wire.Txn { return sale(lowPAN, 5000) },
			func(*testing.T) *wire.Txn { return sale(lowPAN, 100) }, "59", "velocity"},
		{"a limit before funds", func(p *Policies) { p.MaxAmount = 50 }, nil,
			func(*testing.T) *wire.Txn { return sale(noFundsPAN, 100) }, "61", "per-transaction"},
		{"funds last", limits, nil,
			func(*testing.T) *wire.Txn { return sale(noFundsPAN, 100) }, "51", "available 0.00 < 1.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tweaks []func(*Policies)
			if tt.tweak != nil {
				tweaks = append(tweaks, tt.tweak)
			}
			e := riskEngine(t, tweaks...)
			if tt.prior != nil {
				d := e.Decide(tt.prior(), t0)
				require.Equal(t, "00", d.Response.ResponseCode, d.Why)
			}
			req := tt.req(t)
			before, known := e.Account(req.PAN)
			d := e.Decide(req, t0.Add(time.Second))
			require.Equal(t, tt.want, d.Response.ResponseCode, d.Why)
			require.Contains(t, d.Why, tt.whyPart)
			require.Equal(t, StatusDeclined, d.Record.Status)
			require.Empty(t, d.Response.RRN, "no RRN for a decline")
			require.Empty(t, d.Response.AuthCode)
			if known {
				after, _ := e.Account(req.PAN)
				require.Equal(t, before.Balance, after.Balance, "a decline moves no money")
				require.Equal(t, before.Held, after.Held)
			}
		})
	}
}

// Every card status of the built-in book declines with the code the
// README's test card table gives it: sales, pre-authorisations and
// balance inquiries alike.
func TestEngine_CardStatusCodes(t *testing.T) {
	for alias, want := range map[string]string{
		"do-not-honor": "05", "lost": "41", "stolen": "43", "pick-up": "04", "fraud": "34",
		"restricted": "62", "not-permitted": "57", "aml": "93", "expired": "54",
	} {
		t.Run(alias+" "+want, func(t *testing.T) {
			c, ok := cards.Builtin().ByAlias(alias)
			require.True(t, ok)
			e := newEngine(t)
			require.Equal(t, want, e.Decide(sale(c.PAN, 100), t0).Response.ResponseCode)
			pa := preauth(100)
			pa.PAN = c.PAN
			require.Equal(t, want, e.Decide(pa, t0).Response.ResponseCode)
			stanSeq++
			bal := &wire.Txn{MTI: "0200", Op: wire.OpBalance, ProcessingCode: wire.PCBalance, PAN: c.PAN, STAN: pad6(stanSeq), TID: "T1", MID: "M1"}
			d := e.Decide(bal, t0)
			require.Equal(t, want, d.Response.ResponseCode)
			require.Nil(t, d.Response.Balance, "no balance for a refused card")
			a, _ := e.Account(c.PAN)
			require.Equal(t, c.Balance, a.Balance)
			require.Zero(t, a.Held)
		})
	}
}

// A wrong PIN is answered 55 until the card's tries are used up, then 75,
// even for the right PIN; a right PIN in between starts the count again.
func TestEngine_PINTries(t *testing.T) {
	codes := func(e *Engine, pins ...string) []string {
		var out []string
		for _, pin := range pins {
			req := sale(wrongPINPAN, 100)
			if pin != "" {
				req = withPIN(t, req, pin)
			}
			out = append(out, e.Decide(req, t0).Response.ResponseCode)
		}
		return out
	}
	t.Run("55 twice, then 75 from the third wrong try, then 75 for the right PIN", func(t *testing.T) {
		e := newEngine(t)
		require.Equal(t, []string{"55", "55", "75", "75"}, codes(e, "9999", "9999", "9999", "1234"))
		a, _ := e.Account(wrongPINPAN)
		require.Equal(t, 3, a.PINFails)
		require.Equal(t, "00", e.Decide(sale(approvePAN, 100), t0).Response.ResponseCode, "another card is not blocked")
	})
	t.Run("a right PIN starts the count again", func(t *testing.T) {
		e := newEngine(t)
		require.Equal(t, []string{"55", "00", "55", "55", "75"}, codes(e, "9999", "1234", "9999", "9999", "9999"))
	})
	t.Run("the policy's number of tries", func(t *testing.T) {
		require.Equal(t, []string{"75"}, codes(newEngine(t, func(p *Policies) { p.PINTries = 1 }), "9999"))
		require.Equal(t, []string{"55", "55", "55", "55", "75"}, codes(newEngine(t, func(p *Policies) { p.PINTries = 5 }), "9999", "9999", "9999", "9999", "9999"))
	})
	t.Run("no PIN block, no PIN check", func(t *testing.T) {
		e := newEngine(t)
		require.Equal(t, []string{"55", "00"}, codes(e, "9999", ""))
	})
	t.Run("a PIN block that does not decrypt is a wrong try", func(t *testing.T) {
		e := newEngine(t)
		req := sale(wrongPINPAN, 100)
		req.PINBlock = []byte{1, 2, 3}
		require.Equal(t, "55", e.Decide(req, t0).Response.ResponseCode)
		a, _ := e.Account(wrongPINPAN)
		require.Equal(t, 1, a.PINFails)
	})
	t.Run("a balance inquiry checks the PIN too", func(t *testing.T) {
		e := newEngine(t)
		stanSeq++
		bal := &wire.Txn{MTI: "0200", Op: wire.OpBalance, ProcessingCode: wire.PCBalance, PAN: wrongPINPAN, STAN: pad6(stanSeq), TID: "T1", MID: "M1"}
		require.Equal(t, "55", e.Decide(withPIN(t, bal, "9999"), t0).Response.ResponseCode)
		a, _ := e.Account(wrongPINPAN)
		require.Equal(t, 1, a.PINFails)
	})
	t.Run("a reset clears the tries", func(t *testing.T) {
		e := newEngine(t)
		require.Equal(t, []string{"55", "55", "75"}, codes(e, "9999", "9999", "9999"))
		e.Reset()
		require.Equal(t, []string{"00"}, codes(e, "1234"))
	})
}

// The limits count the card's standing sales and completions of the UTC
// day (daily) or at one merchant in the window (velocity): not declined,
// voided or reversed ones, not pre-authorisations, not refunds.
func TestEngine_LimitsCountWhatStands(t *testing.T) {
	code := func(e *Engine, req *wire.Txn, now time.Time) string {
		t.Helper()
		d := e.Decide(req, now)
		return d.Response.ResponseCode
	}
	t.Run("the per-transaction limit: the limit itself goes, a cent more does not; pre-authorisations too", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.MaxAmount = 50000 })
		require.Equal(t, "00", code(e, sale(approvePAN, 50000), t0))
		require.Equal(t, "61", code(e, sale(approvePAN, 50001), t0))
		require.Equal(t, "61", code(e, preauth(50001), t0))
		require.Equal(t, "00", code(e, preauth(50000), t0))
	})
	t.Run("limits bind debits, not refunds", func(t *testing.T) {
		e := newEngine(t)
		rrn := e.Decide(sale(approvePAN, 100000), t0).Response.RRN
		p := DefaultPolicies()
		p.MaxAmount, p.DailyAmount, p.DailyCount = 500, 500, 1
		require.NoError(t, e.SetPolicies(p))
		require.Equal(t, "00", code(e, refOf(wire.OpRefund, rrn, 80000), t0))
	})
	t.Run("a voided sale gives its amount back to the daily limit", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.DailyAmount = 1000 })
		rrn := e.Decide(sale(approvePAN, 600), t0).Response.RRN
		require.Equal(t, "61", code(e, sale(approvePAN, 600), t0))
		require.Equal(t, "00", code(e, refOf(wire.OpVoid, rrn, 600), t0))
		require.Equal(t, "00", code(e, sale(approvePAN, 600), t0))
	})
	t.Run("a declined sale does not count", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.DailyCount = 1 })
		require.Equal(t, "51", code(e, sale(lowPAN, 9000), t0))
		require.Equal(t, "00", code(e, sale(lowPAN, 100), t0))
		require.Equal(t, "65", code(e, sale(lowPAN, 100), t0))
	})
	t.Run("a pre-authorisation does not count, its completion does", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.DailyCount = 1 })
		rrn := e.Decide(preauth(1000), t0).Response.RRN
		require.Equal(t, "00", code(e, preauth(1000), t0), "a second pre-authorisation")
		c := refOf(wire.OpCompletion, rrn, 1000)
		c.ProcessingCode, c.Condition = wire.PCPurchase, wire.CondPreAuth
		require.Equal(t, "00", code(e, c, t0))
		require.Equal(t, "65", code(e, sale(approvePAN, 100), t0), "the completion was the day's one")
	})
	t.Run("the day is the UTC day", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.DailyCount = 1 })
		night := time.Date(2026, 11, 22, 23, 59, 59, 0, time.UTC)
		require.Equal(t, "00", code(e, sale(approvePAN, 100), night))
		require.Equal(t, "00", code(e, sale(approvePAN, 100), night.Add(time.Second)), "a new day at midnight")
		require.Equal(t, "65", code(e, sale(approvePAN, 100), night.Add(2*time.Second)))
		cst := time.FixedZone("CST", 8*3600)
		require.Equal(t, "65", code(e, sale(approvePAN, 100), time.Date(2026, 11, 24, 2, 0, 0, 0, cst)), "18:00 UTC of the same day, 02:00 the next day in Beijing")
	})
	t.Run("velocity counts one card at one merchant within the window", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.VelocityCount = 1; p.VelocityWindow = 10 * time.Minute })
		require.Equal(t, "00", code(e, sale(approvePAN, 100), t0))
		require.Equal(t, "00", code(e, at(sale(approvePAN, 100), "T2", "M2"), t0), "another merchant")
		require.Equal(t, "00", code(e, sale(lowPAN, 100), t0), "another card")
		require.Equal(t, "59", code(e, at(sale(approvePAN, 100), "T9", "M1"), t0.Add(9*time.Minute+59*time.Second)), "the same merchant on another terminal")
		require.Equal(t, "00", code(e, sale(approvePAN, 100), t0.Add(10*time.Minute+time.Second)), "the first sale left the window")
	})
}

// Retransmissions that are not sales: an advice or a refund repeated is
// acknowledged again whatever the duplicate policy, never booked twice; a
// balance inquiry is never a duplicate; after the batch is settled the
// same key is a new request.
func TestEngine_DuplicatesBeyondSales(t *testing.T) {
	t.Run("an advice repeat is acknowledged 00 under policy 94, debited once", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.Duplicate = Duplicate94 })
		start := balOf(t, e, approvePAN)
		adv := sale(approvePAN, 700)
		adv.MTI, adv.Op = "0220", wire.OpAdvice
		require.Equal(t, "00", e.Decide(adv, t0).Response.ResponseCode)
		again := *adv
		again.MTI = "0221"
		d := e.Decide(&again, t0)
		require.Equal(t, "0230", d.Response.MTI)
		require.Equal(t, "00", d.Response.ResponseCode)
		require.Equal(t, KindDuplicate, d.Notes[0].Kind)
		require.Equal(t, start-700, balOf(t, e, approvePAN))
	})
	t.Run("a refund repeat is acknowledged under policy 19, refunded once", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.Duplicate = Duplicate19 })
		start := balOf(t, e, approvePAN)
		rrn := e.Decide(sale(approvePAN, 1000), t0).Response.RRN
		r := refOf(wire.OpRefund, rrn, 300)
		first := e.Decide(r, t0)
		require.Equal(t, "00", first.Response.ResponseCode)
		again := e.Decide(r, t0)
		require.Equal(t, "00", again.Response.ResponseCode)
		require.Equal(t, first.Response.RRN, again.Response.RRN)
		require.Equal(t, start-700, balOf(t, e, approvePAN))
	})
	t.Run("a balance inquiry repeated is answered again", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.Duplicate = Duplicate94 })
		stanSeq++
		bal := &wire.Txn{MTI: "0200", Op: wire.OpBalance, ProcessingCode: wire.PCBalance, PAN: approvePAN, STAN: pad6(stanSeq), TID: "T1", MID: "M1"}
		for range 2 {
			d := e.Decide(bal, t0)
			require.Equal(t, "00", d.Response.ResponseCode)
			require.Empty(t, d.Notes)
		}
	})
	t.Run("after the batch is settled the same key is a new request", func(t *testing.T) {
		e := newEngine(t)
		start := balOf(t, e, approvePAN)
		s := sale(approvePAN, 1000)
		e.Decide(s, t0)
		require.Equal(t, "00", settleBatch(e, wire.Totals{DebitCount: 1, DebitAmount: 1000}, t0).Response.ResponseCode)
		d := e.Decide(s, t0)
		require.Equal(t, "00", d.Response.ResponseCode)
		require.Empty(t, d.Notes, "not a duplicate")
		require.Equal(t, start-2000, balOf(t, e, approvePAN))
	})
}

// A reversal matches its original exactly (TID, MTI class, STAN, and the
// DE7, card and amount it names); what it cannot match is an orphan, and
// the original stands.
func TestEngine_ReversalMatchesExactly(t *testing.T) {
	for name, change := range map[string]func(*wire.Txn){
		"another terminal": func(r *wire.Txn) { r.TID = "T2" },
		"another amount":   func(r *wire.Txn) { r.Amount++ },
		"another card":     func(r *wire.Txn) { r.PAN = "4111111111111111" },
		"another DE7":      func(r *wire.Txn) { r.Original.TransmissionTime = "1122095959" },
		"another STAN":     func(r *wire.Txn) { r.Original.STAN = "999999" },
		"another merchant": func(r *wire.Txn) { r.MID = "M2" },
	} {
		t.Run(name, func(t *testing.T) {
			e := newEngine(t)
			start := balOf(t, e, approvePAN)
			s := sale(approvePAN, 1000)
			e.Decide(s, t0)
			rev := reversalOf(s, "98")
			orig := *rev.Original
			rev.Original = &orig
			change(rev)
			d := e.Decide(rev, t0)
			require.Equal(t, "00", d.Response.ResponseCode)
			require.Equal(t, StatusOrphan, d.Record.Status, d.Why)
			require.Equal(t, start-1000, balOf(t, e, approvePAN), "the sale stands")
			require.Equal(t, StatusApproved, e.Snapshot().Records[0].Status)
		})
	}
}

// A reversal after the original left the open books (a cut-over or a
// settled batch) follows the late-reversal policy: 00 undoes it with a
// late-reversal note; 12, 25 or C3 refuse it and nothing moves. A
// reversal advice cannot be refused.
func TestEngine_LateReversalPolicy(t *testing.T) {
	closers := map[string]func(e *Engine) time.Time{
		"after the cut-over": func(e *Engine) time.Time {
			e.Advance(d0.Add(24 * time.Hour))
			return d0.Add(24 * time.Hour)
		},
		"after the batch settled": func(e *Engine) time.Time {
			require.Equal(t, "00", settleBatch(e, wire.Totals{DebitCount: 1, DebitAmount: 1000}, d0.Add(time.Hour)).Response.ResponseCode)
			return d0.Add(2 * time.Hour)
		},
	}
	for how, closeBooks := range closers {
		for _, policy := range []string{"00", "12", "25", "C3"} {
			t.Run(how+", policy "+policy, func(t *testing.T) {
				e := contracted(t, func(p *Policies) { p.LateReversal = policy })
				start := balOf(t, e, approvePAN)
				s := sale(approvePAN, 1000)
				require.Equal(t, "00", e.Decide(s, d0).Response.ResponseCode)
				now := closeBooks(e)
				d := e.Decide(reversalOf(s, "98"), now)
				require.Equal(t, policy, d.Response.ResponseCode, d.Why)
				sold := e.Snapshot().Records[0]
				if policy == "00" {
					require.Equal(t, []Note{{KindLate, "reversal of settled record 1: adjustment due on the next settlement"}}, d.Notes)
					require.Equal(t, start, balOf(t, e, approvePAN), "the card is credited")
					require.Equal(t, StatusReversed, sold.Status)
					require.True(t, sold.Late)
					return
				}
				require.Empty(t, d.Notes)
				require.Equal(t, start-1000, balOf(t, e, approvePAN), "nothing moves")
				require.Equal(t, StatusApproved, sold.Status)
				require.False(t, sold.Late)
			})
		}
	}
	t.Run("a late reversal advice is acknowledged and applied whatever the policy", func(t *testing.T) {
		e := contracted(t, func(p *Policies) { p.LateReversal = "12" })
		start := balOf(t, e, approvePAN)
		s := sale(approvePAN, 1000)
		e.Decide(s, d0)
		e.Advance(d0.Add(24 * time.Hour))
		adv := reversalOf(s, "98")
		adv.MTI, adv.Op = "0420", wire.OpReversalAdvice
		d := e.Decide(adv, d0.Add(24*time.Hour))
		require.Equal(t, "0430", d.Response.MTI)
		require.Equal(t, "00", d.Response.ResponseCode)
		require.Equal(t, KindLate, d.Notes[0].Kind)
		require.Equal(t, start, balOf(t, e, approvePAN))
	})
}

// Reversals of refunds and completions undo exactly them.
func TestEngine_ReversalOfRefundsAndCompletions(t *testing.T) {
	t.Run("a refund reversed is taken back, and the sale may be refunded again", func(t *testing.T) {
		e := newEngine(t)
		start := balOf(t, e, approvePAN)
		rrn := e.Decide(sale(approvePAN, 1000), t0).Response.RRN
		r := refOf(wire.OpRefund, rrn, 400)
		require.Equal(t, "00", e.Decide(r, t0).Response.ResponseCode)
		require.Equal(t, start-600, balOf(t, e, approvePAN))
		require.Equal(t, "00", e.Decide(reversalOf(r, "98"), t0).Response.ResponseCode)
		require.Equal(t, start-1000, balOf(t, e, approvePAN))
		require.Zero(t, e.Snapshot().Records[0].Refunded)
		require.Equal(t, "00", e.Decide(refOf(wire.OpRefund, rrn, 1000), t0).Response.ResponseCode, "the whole sale is refundable again")
		require.Equal(t, start, balOf(t, e, approvePAN))
	})
	t.Run("a completion reversed credits the card and puts the hold back", func(t *testing.T) {
		e := newEngine(t)
		start := balOf(t, e, approvePAN)
		rrn := e.Decide(preauth(10000), t0).Response.RRN
		c := refOf(wire.OpCompletion, rrn, 8000)
		c.ProcessingCode, c.Condition = wire.PCPurchase, wire.CondPreAuth
		require.Equal(t, "00", e.Decide(c, t0).Response.ResponseCode)
		a, _ := e.Account(approvePAN)
		require.Equal(t, start-8000, a.Balance)
		require.Zero(t, a.Held, "the completion consumed the hold")
		require.Equal(t, StatusCompleted, e.Snapshot().Records[0].Status)
		require.Equal(t, "00", e.Decide(reversalOf(c, "98"), t0).Response.ResponseCode)
		a, _ = e.Account(approvePAN)
		require.Equal(t, start, a.Balance)
		require.Equal(t, int64(10000), a.Held)
		require.Equal(t, StatusApproved, e.Snapshot().Records[0].Status, "the pre-authorisation stands again")
	})
}

// Voids, refunds, completions and pre-authorisation voids name an
// original; each rule that refuses one is answered with its code, and
// nothing moves (README, "What the acquirer does").
func TestEngine_ReferencedOperationRules(t *testing.T) {
	completion := func(rrn string, amount int64) *wire.Txn {
		c := refOf(wire.OpCompletion, rrn, amount)
		c.ProcessingCode, c.Condition = wire.PCPurchase, wire.CondPreAuth
		return c
	}
	preAuthVoid := func(rrn string, amount int64) *wire.Txn {
		v := refOf(wire.OpPreAuthVoid, rrn, amount)
		v.MTI, v.Condition = "0100", wire.CondPreAuth
		return v
	}
	soldRRN := func(e *Engine, amount int64) string {
		d := e.Decide(sale(approvePAN, amount), t0)
		require.Equal(t, "00", d.Response.ResponseCode)
		return d.Response.RRN
	}
	heldRRN := func(e *Engine, amount int64) string {
		d := e.Decide(preauth(amount), t0)
		require.Equal(t, "00", d.Response.ResponseCode)
		return d.Response.RRN
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, e *Engine) *wire.Txn
		want  string
		why   string
	}{
		// voids
		{"void of an unknown RRN", func(_ *testing.T, e *Engine) *wire.Txn { return refOf(wire.OpVoid, "999999999999", 1000) }, "25", "no sale with RRN"},
		{"void naming no original", func(_ *testing.T, e *Engine) *wire.Txn { soldRRN(e, 1000); return refOf(wire.OpVoid, "", 1000) }, "25", "names no original"},
		{"void naming a refund's RRN", func(_ *testing.T, e *Engine) *wire.Txn {
			r := e.Decide(refOf(wire.OpRefund, soldRRN(e, 1000), 100), t0)
			return refOf(wire.OpVoid, r.Response.RRN, 100)
		}, "25", "no sale with RRN"},
		{"void from another terminal", func(_ *testing.T, e *Engine) *wire.Txn {
			return at(refOf(wire.OpVoid, soldRRN(e, 1000), 1000), "T2", "M1")
		}, "12", "terminal T1"},
		{"second void", func(t *testing.T, e *Engine) *wire.Txn {
			rrn := soldRRN(e, 1000)
			require.Equal(t, "00", e.Decide(refOf(wire.OpVoid, rrn, 1000), t0).Response.ResponseCode)
			return refOf(wire.OpVoid, rrn, 1000)
		}, "12", "is voided"},
		{"void of a reversed sale", func(_ *testing.T, e *Engine) *wire.Txn {
			s := sale(approvePAN, 1000)
			rrn := e.Decide(s, t0).Response.RRN
			e.Decide(reversalOf(s, "98"), t0)
			return refOf(wire.OpVoid, rrn, 1000)
		}, "12", "is reversed"},
		{"void of a settled sale", func(t *testing.T, e *Engine) *wire.Txn {
			rrn := soldRRN(e, 1000)
			require.Equal(t, "00", settleBatch(e, wire.Totals{DebitCount: 1, DebitAmount: 1000}, t0).Response.ResponseCode)
			return refOf(wire.OpVoid, rrn, 1000)
		}, "12", "settled"},
		{"void of another amount", func(_ *testing.T, e *Engine) *wire.Txn { return refOf(wire.OpVoid, soldRRN(e, 1000), 999) }, "64", "differs"},
		{"void after a partial refund", func(_ *testing.T, e *Engine) *wire.Txn {
			rrn := soldRRN(e, 1000)
			e.Decide(refOf(wire.OpRefund, rrn, 1), t0)
			return refOf(wire.OpVoid, rrn, 1000)
		}, "12", "partly refunded"},
		// refunds
		{"refund of nothing", func(_ *testing.T, e *Engine) *wire.Txn { return refOf(wire.OpRefund, soldRRN(e, 1000), 0) }, "13", "without an amount"},
		{"refund of a voided sale", func(t *testing.T, e *Engine) *wire.Txn {
			rrn := soldRRN(e, 1000)
			require.Equal(t, "00", e.Decide(refOf(wire.OpVoid, rrn, 1000), t0).Response.ResponseCode)
			return refOf(wire.OpRefund, rrn, 100)
		}, "12", "is voided"},
		{"refund of a reversed sale", func(_ *testing.T, e *Engine) *wire.Txn {
			s := sale(approvePAN, 1000)
			rrn := e.Decide(s, t0).Response.RRN
			e.Decide(reversalOf(s, "98"), t0)
			return refOf(wire.OpRefund, rrn, 100)
		}, "12", "is reversed"},
		{"refund naming a pre-authorisation", func(_ *testing.T, e *Engine) *wire.Txn { return refOf(wire.OpRefund, heldRRN(e, 1000), 100) }, "25", "no sale with RRN"},
		{"refund over what remains", func(_ *testing.T, e *Engine) *wire.Txn { return refOf(wire.OpRefund, soldRRN(e, 1000), 1001) }, "64", "remaining 10.00"},
		// completions
		{"completion of an unknown RRN", func(_ *testing.T, e *Engine) *wire.Txn { return completion("999999999999", 1000) }, "25", "no preauth"},
		{"completion of another merchant's pre-authorisation", func(_ *testing.T, e *Engine) *wire.Txn {
			return at(completion(heldRRN(e, 1000), 1000), "T1", "M2")
		}, "12", "merchant M1"},
		{"second completion", func(t *testing.T, e *Engine) *wire.Txn {
			rrn := heldRRN(e, 1000)
			require.Equal(t, "00", e.Decide(completion(rrn, 1000), t0).Response.ResponseCode)
			return completion(rrn, 500)
		}, "12", "is completed"},
		{"completion of a voided pre-authorisation", func(t *testing.T, e *Engine) *wire.Txn {
			rrn := heldRRN(e, 1000)
			require.Equal(t, "00", e.Decide(preAuthVoid(rrn, 1000), t0).Response.ResponseCode)
			return completion(rrn, 1000)
		}, "12", "is voided"},
		{"completion of nothing", func(_ *testing.T, e *Engine) *wire.Txn { return completion(heldRRN(e, 1000), 0) }, "13", "without an amount"},
		{"completion naming a sale", func(_ *testing.T, e *Engine) *wire.Txn { return completion(soldRRN(e, 1000), 1000) }, "25", "no preauth"},
		// pre-authorisation voids
		{"pre-authorisation void of another amount", func(_ *testing.T, e *Engine) *wire.Txn { return preAuthVoid(heldRRN(e, 1000), 900) }, "64", "differs"},
		{"pre-authorisation void after its completion", func(t *testing.T, e *Engine) *wire.Txn {
			rrn := heldRRN(e, 1000)
			require.Equal(t, "00", e.Decide(completion(rrn, 1000), t0).Response.ResponseCode)
			return preAuthVoid(rrn, 1000)
		}, "12", "is completed"},
		{"pre-authorisation void after its reversal", func(_ *testing.T, e *Engine) *wire.Txn {
			pa := preauth(1000)
			rrn := e.Decide(pa, t0).Response.RRN
			e.Decide(reversalOf(pa, "98"), t0)
			return preAuthVoid(rrn, 1000)
		}, "22", "reversed"},
		{"pre-authorisation void of an unknown RRN", func(_ *testing.T, e *Engine) *wire.Txn { return preAuthVoid("999999999999", 1000) }, "25", "no preauth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t)
			req := tt.setup(t, e)
			before := e.Snapshot()
			acct, _ := e.Account(approvePAN)
			d := e.Decide(req, t0)
			require.Equal(t, tt.want, d.Response.ResponseCode, d.Why)
			require.Contains(t, d.Why, tt.why)
			require.Equal(t, StatusDeclined, d.Record.Status)
			require.Empty(t, d.Response.RRN)
			after, _ := e.Account(approvePAN)
			require.Equal(t, acct.Balance, after.Balance, "nothing moves")
			require.Equal(t, acct.Held, after.Held)
			now := e.Snapshot()
			for i, r := range before.Records {
				require.Equal(t, r.Status, now.Records[i].Status, "record %d untouched", r.ID)
				require.Equal(t, r.Refunded, now.Records[i].Refunded)
			}
		})
	}
}

// What the README's table says of the other requests: advices cannot be
// declined, a balance inquiry books nothing, a magic amount is a sale's.
func TestEngine_AdvicesInquiriesAndMagic(t *testing.T) {
	t.Run("an offline advice of a lost card is booked and debited", func(t *testing.T) {
		e := newEngine(t)
		const lost = "6200000000000401"
		start := balOf(t, e, lost)
		adv := sale(lost, 999905) // a magic amount, too
		adv.MTI, adv.Op = "0220", wire.OpAdvice
		d := e.Decide(adv, t0)
		require.Equal(t, "0230", d.Response.MTI)
		require.Equal(t, "00", d.Response.ResponseCode, d.Why)
		require.Equal(t, start-999905, balOf(t, e, lost))
	})
	t.Run("an advice of an unknown card is acknowledged, nothing posted", func(t *testing.T) {
		e := newEngine(t)
		adv := sale("6200000000001300", 500)
		adv.MTI, adv.Op = "0220", wire.OpAdvice
		d := e.Decide(adv, t0)
		require.Equal(t, "00", d.Response.ResponseCode)
		require.Empty(t, e.Snapshot().Postings)
	})
	t.Run("a balance inquiry answers the available balance and books nothing", func(t *testing.T) {
		e := newEngine(t)
		require.Equal(t, "00", e.Decide(preauth(2500), t0).Response.ResponseCode)
		records := len(e.Snapshot().Records)
		stanSeq++
		bal := &wire.Txn{MTI: "0200", Op: wire.OpBalance, ProcessingCode: wire.PCBalance, PAN: approvePAN, STAN: pad6(stanSeq), TID: "T1", MID: "M1"}
		d := e.Decide(bal, t0)
		require.Equal(t, "00", d.Response.ResponseCode)
		require.NotNil(t, d.Response.Balance)
		require.Equal(t, int64(1_000_000-2500), *d.Response.Balance, "the balance less the hold")
		require.Equal(t, "156", d.Response.Currency)
		require.Nil(t, d.Record)
		require.Len(t, e.Snapshot().Records, records)
	})
	t.Run("magic amounts: a code of the catalogue, on sales and pre-authorisations", func(t *testing.T) {
		e := newEngine(t)
		const unlimited = "6200000000009998"
		for amount, want := range map[int64]string{999951: "51", 999991: "91", 999994: "94", 999907: "00", 999900: "00", 1999951: "00"} {
			require.Equal(t, want, e.Decide(sale(unlimited, amount), t0).Response.ResponseCode, amount)
		}
		require.Equal(t, "96", e.Decide(preauth(999996), t0).Response.ResponseCode)
	})
	t.Run("a request without a terminal is a format error", func(t *testing.T) {
		e := newEngine(t)
		r := sale(approvePAN, 100)
		r.TID = ""
		d := e.Decide(r, t0)
		require.Equal(t, "30", d.Response.ResponseCode)
		require.Contains(t, d.Why, "DE41")
		require.Empty(t, e.Snapshot().Records)
	})
	t.Run("an unknown merchant without auto-registration is 03", func(t *testing.T) {
		book := cards.Builtin()
		book.Terminals = []cards.Terminal{{TID: "T1", MID: "M1", Status: cards.TerminalActive}}
		p := DefaultPolicies()
		p.AutoRegister = false
		e, err := NewEngine(book, p)
		require.NoError(t, err)
		d := e.Decide(sale(approvePAN, 100), t0)
		require.Equal(t, "03", d.Response.ResponseCode)
		require.Contains(t, d.Why, "merchant M1 unknown")
	})
}
