package acquirer

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
)

// d0 is a Thursday; its business day closes at 23:00 and pays T+1.
var d0 = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

func contracted(t *testing.T, tweak ...func(*Policies)) *Engine {
	t.Helper()
	e := newEngine(t, tweak...)
	require.NoError(t, e.SetContracts(23*time.Hour, []Contract{{MID: "M1", Debit: FeeRule{PPM: 6000, Cap: 2000}, Cycle: "T+1"}}))
	return e
}

func TestMerchant_PayoutReturnedThenPaidAgain(t *testing.T) {
	e := contracted(t)
	d := e.Decide(sale(approvePAN, 100000), d0)
	e.MarkAnomaly(d.Record.ID, Anomaly{Kind: AnomalyPayoutReturned, Reason: ReturnWrongAccount})
	e.Advance(d0.Add(24 * time.Hour)) // the day closes: a line of 994.00, payable Friday
	require.Equal(t, int64(99400), e.Balance("M1").Pending)
	e.Advance(d0.Add(48 * time.Hour)) // Friday's payout comes back
	l := e.Lines()[0]
	require.Equal(t, LineReturned, l.Status)
	require.Contains(t, l.Note, "结算卡信息有误")
	b := e.Balance("M1")
	require.Equal(t, MerchantBalance{MID: "M1", Returned: 99400, Balance: 99400}, b, "the money is the merchant's again")

	// a second sale's payout comes back too while the account stays wrong
	e.Decide(sale(approvePAN, 10000), d0.Add(48*time.Hour))
	e.Advance(d0.Add(5 * 24 * time.Hour))
	require.Equal(t, int64(99400+9940), e.Balance("M1").Returned)

	rp, err := e.SetSettlementAccount("M1", AccountCorrected, d0.Add(5*24*time.Hour)) // Tuesday
	require.NoError(t, err)
	require.Equal(t, int64(99400+9940), rp.Net)
	require.Equal(t, "re-payout", rp.Rule)
	require.Equal(t, "2026-01-21", rp.PayoutDate)
	require.Equal(t, int64(99400+9940), e.Balance("M1").Pending, "returned, now pending again: counted once")
	for _, l := range e.Lines()[:2] {
		require.Equal(t, rp.ID, l.RepaidBy)
	}
	e.Advance(d0.Add(7 * 24 * time.Hour))
	require.Equal(t, LinePaid, e.Lines()[2].Status)
	require.Equal(t, int64(0), e.Balance("M1").Balance)

	st := e.Statement("M1", "2026-01-15")
	require.Equal(t, int64(99400), st.Returned)
	var text strings.Builder
	require.NoError(t, WriteStatement(&text, st))
	require.Contains(t, text.String(), "returned 994.00")
	require.Contains(t, text.String(), "[paid again by line 3]")
	require.Contains(t, text.String(), "merchant balance 0.00")

	again, err := e.SetSettlementAccount("M1", AccountCorrected, d0.Add(7*24*time.Hour))
	require.NoError(t, err)
	require.Zero(t, again.ID, "nothing left to pay again")
}

func TestMerchant_SettlementAccountRefusals(t *testing.T) {
	e := newEngine(t)
	_, err := e.SetSettlementAccount("M1", AccountCorrected, d0)
	require.ErrorIs(t, err, ErrBackOffice, "no contracts, no payouts")
	e = contracted(t)
	_, err = e.SetSettlementAccount("M1", "lost", d0)
	require.ErrorContains(t, err, `"lost"`)
	// a wrong account set by hand returns the next payout
	_, err = e.SetSettlementAccount("M1", ReturnClosedAccount, d0)
	require.NoError(t, err)
	e.Decide(sale(approvePAN, 5000), d0)
	e.Advance(d0.Add(48 * time.Hour))
	require.Equal(t, LineReturned, e.Lines()[0].Status)
	require.Contains(t, e.Lines()[0].Note, "销户")
}

func TestMerchant_RefundOfASettledSaleIsTakenFromTheBalance(t *testing.T) {
	t.Run("declined when the policy says so and the balance cannot cover it", func(t *testing.T) {
		e := contracted(t, func(p *Policies) { p.RefundOverBalance = "51" })
		d := e.Decide(sale(approvePAN, 100000), d0)
		e.Advance(d0.Add(48 * time.Hour)) // settled and paid
		require.Zero(t, e.Balance("M1").Balance)
		before := balOf(t, e, approvePAN)
		r := e.Decide(refOf(wire.OpRefund, d.Record.RRN, 30000), d0.Add(48*time.Hour))
		require.Equal(t, "51", r.Response.ResponseCode, r.Why)
		require.Contains(t, r.Why, "商户余额不足")
		require.Equal(t, before, balOf(t, e, approvePAN), "nothing moves")

		e.Decide(sale(approvePAN, 50000), d0.Add(48*time.Hour))
		r = e.Decide(refOf(wire.OpRefund, d.Record.RRN, 30000), d0.Add(48*time.Hour))
		require.Equal(t, "00", r.Response.ResponseCode, r.Why)
		require.Equal(t, int64(20000), e.Balance("M1").Balance)
	})
	t.Run("allowed by default: the balance goes negative", func(t *testing.T) {
		e := contracted(t)
		d := e.Decide(sale(approvePAN, 100000), d0)
		e.Advance(d0.Add(48 * time.Hour))
		r := e.Decide(refOf(wire.OpRefund, d.Record.RRN, 30000), d0.Add(48*time.Hour))
		require.Equal(t, "00", r.Response.ResponseCode)
		require.Equal(t, int64(-30000), e.Balance("M1").Balance)
	})
	t.Run("a refund in the open day nets against its sale", func(t *testing.T) {
		e := contracted(t, func(p *Policies) { p.RefundOverBalance = "51" })
		d := e.Decide(sale(approvePAN, 100000), d0)
		r := e.Decide(refOf(wire.OpRefund, d.Record.RRN, 30000), d0)
		require.Equal(t, "00", r.Response.ResponseCode)
		require.Equal(t, int64(70000), e.Balance("M1").Open)
	})
}

func TestMerchant_CardTypeRestrictions(t *testing.T) {
	const creditPAN, visaPAN = "6250940000000019", "4111111111111111"
	newRefusing := func(refuse []string, tweak ...func(*Policies)) *Engine {
		p := DefaultPolicies()
		for _, f := range tweak {
			f(&p)
		}
		book := cards.Builtin()
		book.Merchants = []cards.Merchant{{MID: "M1", Status: cards.MerchantActive, Refuse: refuse}}
		e, err := NewEngine(book, p)
		require.NoError(t, err)
		return e
	}
	e := newRefusing([]string{cards.RefuseCredit})
	d := e.Decide(sale(creditPAN, 100), t0)
	require.Equal(t, "57", d.Response.ResponseCode, d.Why)
	require.Contains(t, d.Why, "credit")
	require.Equal(t, "00", e.Decide(sale(approvePAN, 100), t0).Response.ResponseCode, "debit cards still go")

	e = newRefusing([]string{cards.RefuseCredit}, func(p *Policies) { p.CardTypeRefused = "58" })
	require.Equal(t, "58", e.Decide(sale(creditPAN, 100), t0).Response.ResponseCode)

	e = newRefusing([]string{cards.RefuseForeign})
	require.Equal(t, "57", e.Decide(sale(visaPAN, 100), t0).Response.ResponseCode)
	require.Equal(t, "00", e.Decide(sale(creditPAN, 100), t0).Response.ResponseCode, "a domestic credit card goes")

	p := DefaultPolicies()
	p.CardTypeRefused = "05"
	require.ErrorContains(t, p.Validate(), "card_type_refused")
}

func TestMerchant_ReviewAfterARunOfDeclines(t *testing.T) {
	e := contracted(t, func(p *Policies) { p.Review = &ReviewRule{Declines: 30, Over: 10} })
	for range 6 {
		require.Equal(t, "00", e.Decide(sale(approvePAN, 10000), d0).Response.ResponseCode)
	}
	e.Advance(d0.Add(24 * time.Hour)) // six pending lines
	var notes []Note
	for range 3 {
		d := e.Decide(sale("6200000000000104", 10000), d0.Add(24*time.Hour))
		require.Equal(t, "51", d.Response.ResponseCode)
		notes = append(notes, d.Notes...)
	}
	require.Empty(t, notes, "3 of 9: not yet ten answers")
	d := e.Decide(sale("6200000000000104", 10000), d0.Add(24*time.Hour))
	require.Len(t, d.Notes, 1, "4 of 10 is over 30 %")
	require.Equal(t, KindReview, d.Notes[0].Kind)
	require.True(t, e.Balance("M1").Review)
	for _, l := range e.Lines() {
		require.Equal(t, LineHeld, l.Status, "payouts held")
	}
	e.Advance(d0.Add(72 * time.Hour))
	require.Equal(t, int64(6*9940), e.Balance("M1").Held, "held lines are never paid")
	d = e.Decide(sale("6200000000000104", 10000), d0.Add(72*time.Hour))
	require.Empty(t, d.Notes, "put under review once")

	p := DefaultPolicies()
	p.Review = &ReviewRule{Declines: 30}
	require.ErrorContains(t, p.Validate(), "review.over")
}

// The settlement account's changes are kept by the op log: replayed, they
// rebuild the same lines.
func TestMerchant_SettlementAccountReplays(t *testing.T) {
	log := &memLog{}
	e := contracted(t)
	e.SetChangeLog(log)
	d := e.Decide(sale(approvePAN, 100000), d0)
	e.MarkAnomaly(d.Record.ID, Anomaly{Kind: AnomalyPayoutReturned, Reason: ReturnNameMismatch})
	e.Advance(d0.Add(48 * time.Hour))
	_, err := e.SetSettlementAccount("M1", AccountCorrected, d0.Add(48*time.Hour))
	require.NoError(t, err)

	require.Equal(t, ChangeSettlementAccount, log.ops[len(log.ops)-1].Kind)
	again := contracted(t)
	for _, op := range log.ops {
		require.NoError(t, again.Replay(op))
	}
	require.Equal(t, e.Lines(), again.Lines())
	require.Equal(t, e.Balance("M1"), again.Balance("M1"))
}
