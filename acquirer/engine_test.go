package acquirer

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/emv"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func newEngine(t *testing.T, tweak ...func(*Policies)) *Engine {
	t.Helper()
	p := DefaultPolicies()
	for _, f := range tweak {
		f(&p)
	}
	book := cards.Builtin()
	book.Merchants = []cards.Merchant{{MID: "FROZEN", Status: cards.MerchantFrozen}, {MID: "LIMITED", Status: cards.MerchantRestricted}}
	book.Terminals = []cards.Terminal{{TID: "GONE", Status: cards.TerminalDeregistered}}
	e, err := NewEngine(book, p)
	require.NoError(t, err)
	return e
}

var stanSeq int

func sale(pan string, amount int64) *wire.Txn {
	stanSeq++
	return &wire.Txn{MTI: "0200", Op: wire.OpSale, ProcessingCode: wire.PCPurchase, PAN: pan, Amount: amount, HasAmount: true,
		STAN: pad6(stanSeq), TransmissionTime: "1122100000", TID: "T1", MID: "M1", Currency: "156"}
}

func pad6(n int) string { return fmt.Sprintf("%06d", n) }

const (
	approvePAN = "6200000000000005"
	lowPAN     = "6200000000000203"
)

func TestEngine_SaleDecisions(t *testing.T) {
	tests := []struct {
		name  string
		req   func() *wire.Txn
		tweak func(*Policies)
		want  string
	}{
		{"approves a good card", func() *wire.Txn { return sale(approvePAN, 100) }, nil, "00"},
		{"51 over the balance", func() *wire.Txn { return sale(lowPAN, 5001) }, nil, "51"},
		{"approves up to the balance", func() *wire.Txn { return sale(lowPAN, 5000) }, nil, "00"},
		{"13 zero amount", func() *wire.Txn { return sale(approvePAN, 0) }, nil, "13"},
		{"30 missing amount", func() *wire.Txn { r := sale(approvePAN, 0); r.HasAmount = false; return r }, nil, "30"},
		{"30 missing STAN", func() *wire.Txn { r := sale(approvePAN, 1); r.STAN = ""; return r }, nil, "30"},
		{"14 Luhn failure", func() *wire.Txn { return sale("6200000000000006", 100) }, nil, "14"},
		{"14 unknown card of a known issuer", func() *wire.Txn { return sale("6200000000001300", 100) }, nil, "14"},
		{"15 unknown issuer", func() *wire.Txn { return sale("4000000000000002", 100) }, nil, "15"},
		{"41 lost", func() *wire.Txn { return sale("6200000000000401", 100) }, nil, "41"},
		{"43 stolen", func() *wire.Txn { return sale("6200000000000500", 100) }, nil, "43"},
		{"05 blocked", func() *wire.Txn { return sale("6200000000000302", 100) }, nil, "05"},
		{"54 expired", func() *wire.Txn { return sale("6200000000001102", 100) }, nil, "54"},
		{"54 wrong expiry", func() *wire.Txn { r := sale(approvePAN, 100); r.Expiry = "2912"; return r }, nil, "54"},
		{"03 frozen merchant", func() *wire.Txn { r := sale(approvePAN, 100); r.MID = "FROZEN"; return r }, nil, "03"},
		{"58 restricted merchant", func() *wire.Txn { r := sale(approvePAN, 100); r.MID = "LIMITED"; return r }, nil, "58"},
		{"97 deregistered terminal", func() *wire.Txn { r := sale(approvePAN, 100); r.TID = "GONE"; return r }, nil, "97"},
		{"97 unknown terminal without auto-registration", func() *wire.Txn { return sale(approvePAN, 100) }, func(p *Policies) { p.AutoRegister = false }, "97"},
		{"61 over the per-transaction limit", func() *wire.Txn { return sale(approvePAN, 50001) }, func(p *Policies) { p.MaxAmount = 50000 }, "61"},
		{"magic amount 9999.05", func() *wire.Txn { return sale(approvePAN, 999905) }, nil, "05"},
		{"magic amounts off", func() *wire.Txn { return sale(approvePAN, 999905) }, func(p *Policies) { p.MagicAmounts = false }, "00"},
		{"9999.00 is not magic", func() *wire.Txn { return sale(approvePAN, 999900) }, nil, "00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tweaks []func(*Policies)
			if tt.tweak != nil {
				tweaks = append(tweaks, tt.tweak)
			}
			e := newEngine(t, tweaks...)
			d := e.Decide(tt.req(), t0)
			require.NotNil(t, d.Response)
			require.Equal(t, tt.want, d.Response.ResponseCode, d.Why)
			require.Equal(t, "0210", d.Response.MTI)
		})
	}
}

func TestEngine_DailyLimitsAndVelocity(t *testing.T) {
	t.Run("daily count 65", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.DailyCount = 2 })
		codes := []string{}
		for range 3 {
			codes = append(codes, e.Decide(sale(approvePAN, 100), t0).Response.ResponseCode)
		}
		require.Equal(t, []string{"00", "00", "65"}, codes)
		// the next day starts again
		require.Equal(t, "00", e.Decide(sale(approvePAN, 100), t0.Add(24*time.Hour)).Response.ResponseCode)
	})
	t.Run("daily amount 61", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.DailyAmount = 1000 })
		require.Equal(t, "00", e.Decide(sale(approvePAN, 600), t0).Response.ResponseCode)
		require.Equal(t, "61", e.Decide(sale(approvePAN, 600), t0).Response.ResponseCode)
	})
	t.Run("velocity 59, reversed sales do not count", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.VelocityCount = 2; p.VelocityWindow = 10 * time.Minute })
		first := sale(approvePAN, 100)
		require.Equal(t, "00", e.Decide(first, t0).Response.ResponseCode)
		require.Equal(t, "00", e.Decide(sale(approvePAN, 100), t0.Add(time.Minute)).Response.ResponseCode)
		require.Equal(t, "59", e.Decide(sale(approvePAN, 100), t0.Add(2*time.Minute)).Response.ResponseCode)
		e.Decide(reversalOf(first, "98"), t0.Add(3*time.Minute))
		require.Equal(t, "00", e.Decide(sale(approvePAN, 100), t0.Add(4*time.Minute)).Response.ResponseCode)
		require.Equal(t, "00", e.Decide(sale(approvePAN, 100), t0.Add(20*time.Minute)).Response.ResponseCode, "outside the window")
	})
}

func reversalOf(orig *wire.Txn, reason string) *wire.Txn {
	stanSeq++
	r := wire.ISO87.Reversal(orig, reason, pad6(stanSeq), t0)
	return r
}

func TestEngine_Reversals(t *testing.T) {
	bal := func(e *Engine) int64 { a, _ := e.Account(approvePAN); return a.Balance }

	t.Run("reverses an approved sale once", func(t *testing.T) {
		e := newEngine(t)
		start := bal(e)
		s := sale(approvePAN, 1000)
		e.Decide(s, t0)
		rev := reversalOf(s, "98")
		require.Equal(t, "00", e.Decide(rev, t0).Response.ResponseCode)
		require.Equal(t, start, bal(e))
		rep := wire.ISO87.Repeat(rev)
		d := e.Decide(rep, t0)
		require.Equal(t, "0410", d.Response.MTI)
		require.Equal(t, "00", d.Response.ResponseCode)
		require.Equal(t, start, bal(e), "no second credit")
	})
	t.Run("repeat policy 22", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.ReversalRepeat = "22" })
		s := sale(approvePAN, 1000)
		e.Decide(s, t0)
		rev := reversalOf(s, "98")
		e.Decide(rev, t0)
		require.Equal(t, "22", e.Decide(wire.ISO87.Repeat(rev), t0).Response.ResponseCode)
	})
	t.Run("unknown original is an orphan answered 00, or 25", func(t *testing.T) {
		e := newEngine(t)
		d := e.Decide(reversalOf(sale(approvePAN, 1000), "98"), t0)
		require.Equal(t, "00", d.Response.ResponseCode)
		require.Equal(t, StatusOrphan, d.Record.Status)
		require.Equal(t, StatusOrphan, d.Record.Status, d.Why)
		e = newEngine(t, func(p *Policies) { p.ReversalUnknown = "25" })
		require.Equal(t, "25", e.Decide(reversalOf(sale(approvePAN, 1000), "98"), t0).Response.ResponseCode)
	})
	t.Run("an original arriving after its reversal is undone at once", func(t *testing.T) {
		e := newEngine(t)
		start := bal(e)
		s := sale(approvePAN, 1000)
		require.Equal(t, "00", e.Decide(reversalOf(s, "98"), t0).Response.ResponseCode)
		d := e.Decide(s, t0)
		require.Equal(t, "00", d.Response.ResponseCode)
		require.Equal(t, start, bal(e), "no debit stays")
		snap := e.Snapshot()
		require.Equal(t, StatusApproved, snap.Records[0].Status, "the orphan is now matched")
		require.Equal(t, StatusReversed, snap.Records[1].Status)
	})
	t.Run("declined original: nothing to undo", func(t *testing.T) {
		e := newEngine(t)
		s := sale(lowPAN, 900000)
		require.Equal(t, "51", e.Decide(s, t0).Response.ResponseCode)
		a0, _ := e.Account(lowPAN)
		require.Equal(t, "00", e.Decide(reversalOf(s, "98"), t0).Response.ResponseCode)
		a1, _ := e.Account(lowPAN)
		require.Equal(t, a0.Balance, a1.Balance)
		e = newEngine(t, func(p *Policies) { p.ReversalDeclined = "12" })
		e.Decide(s, t0)
		require.Equal(t, "12", e.Decide(reversalOf(s, "98"), t0).Response.ResponseCode)
	})
	t.Run("reversing a void reinstates the sale", func(t *testing.T) {
		e := newEngine(t)
		start := bal(e)
		s := sale(approvePAN, 1000)
		rrn := e.Decide(s, t0).Response.RRN
		stanSeq++
		v := &wire.Txn{MTI: "0200", Op: wire.OpVoid, ProcessingCode: wire.PCVoid, PAN: approvePAN, Amount: 1000, HasAmount: true,
			STAN: pad6(stanSeq), TransmissionTime: "1122100001", TID: "T1", MID: "M1", RRN: rrn}
		require.Equal(t, "00", e.Decide(v, t0).Response.ResponseCode)
		require.Equal(t, start, bal(e))
		require.Equal(t, "00", e.Decide(reversalOf(v, "98"), t0).Response.ResponseCode)
		require.Equal(t, start-1000, bal(e), "the sale stands again")
		snap := e.Snapshot()
		require.Equal(t, StatusApproved, snap.Records[0].Status)
		require.Equal(t, StatusReversed, snap.Records[1].Status)
	})
	t.Run("never answers 94", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.Duplicate = Duplicate94 })
		s := sale(approvePAN, 1000)
		e.Decide(s, t0)
		rev := reversalOf(s, "98")
		for range 3 {
			require.Equal(t, "00", e.Decide(rev, t0).Response.ResponseCode)
		}
	})
	t.Run("reversal advice cannot be declined", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.ReversalUnknown = "25" })
		r := reversalOf(sale(approvePAN, 1000), "98")
		r.MTI, r.Op = "0420", wire.OpReversalAdvice
		d := e.Decide(r, t0)
		require.Equal(t, "0430", d.Response.MTI)
		require.Equal(t, "00", d.Response.ResponseCode)
	})
	t.Run("without DE90 is a format error", func(t *testing.T) {
		e := newEngine(t)
		r := reversalOf(sale(approvePAN, 1000), "98")
		r.Original = nil
		require.Equal(t, "30", e.Decide(r, t0).Response.ResponseCode)
	})
	t.Run("pre-auth reversed, then completion declined 22", func(t *testing.T) {
		e := newEngine(t)
		stanSeq++
		pa := &wire.Txn{MTI: "0100", Op: wire.OpPreAuth, ProcessingCode: wire.PCPreAuth, PAN: approvePAN, Amount: 5000, HasAmount: true,
			STAN: pad6(stanSeq), TransmissionTime: "1122100000", TID: "T1", MID: "M1", Condition: wire.CondPreAuth}
		rrn := e.Decide(pa, t0).Response.RRN
		a, _ := e.Account(approvePAN)
		require.Equal(t, int64(5000), a.Held)
		e.Decide(reversalOf(pa, "98"), t0)
		a, _ = e.Account(approvePAN)
		require.Zero(t, a.Held, "hold released")
		stanSeq++
		c := &wire.Txn{MTI: "0200", Op: wire.OpCompletion, ProcessingCode: wire.PCPurchase, PAN: approvePAN, Amount: 5000, HasAmount: true,
			STAN: pad6(stanSeq), TransmissionTime: "1122100002", TID: "T1", MID: "M1", Condition: wire.CondPreAuth, RRN: rrn}
		require.Equal(t, "22", e.Decide(c, t0).Response.ResponseCode)
	})
}

func TestEngine_Duplicates(t *testing.T) {
	for _, tc := range []struct{ policy, want string }{{DuplicateReplay, "00"}, {Duplicate94, "94"}, {Duplicate19, "19"}} {
		t.Run(tc.policy, func(t *testing.T) {
			e := newEngine(t, func(p *Policies) { p.Duplicate = tc.policy })
			s := sale(approvePAN, 1000)
			first := e.Decide(s, t0)
			second := e.Decide(s, t0)
			require.Equal(t, tc.want, second.Response.ResponseCode)
			if tc.policy == DuplicateReplay {
				require.Equal(t, first.Response.RRN, second.Response.RRN)
			}
			require.Len(t, e.Snapshot().Records, 1, "booked once")
		})
	}
	t.Run("a reused STAN with other content is 94", func(t *testing.T) {
		e := newEngine(t)
		s := sale(approvePAN, 1000)
		e.Decide(s, t0)
		other := *s
		other.Amount = 2000
		require.Equal(t, "94", e.Decide(&other, t0).Response.ResponseCode)
	})
	t.Run("the key is TID, MID, STAN, MTI class and DE7", func(t *testing.T) {
		e := newEngine(t)
		s := sale(approvePAN, 1000)
		e.Decide(s, t0)
		repeat := *s
		repeat.MTI = "0201"
		d := e.Decide(&repeat, t0)
		require.NotEmpty(t, d.Notes, "a repeat (0201) is a duplicate")
		require.Equal(t, KindDuplicate, d.Notes[0].Kind)
		later := *s
		later.TransmissionTime = "1122100001"
		require.Empty(t, e.Decide(&later, t0).Notes, "another DE7 is a new request")
		other := *s
		other.MID = "M2"
		require.Empty(t, e.Decide(&other, t0).Notes, "another merchant is a new request")
		require.Len(t, e.Snapshot().Records, 3)
		// the newest booking of a key answers its retransmissions
		require.Equal(t, int64(2), e.Decide(&later, t0).Record.ID)
	})
}

func TestEngine_UnknownAndNetwork(t *testing.T) {
	e := newEngine(t)
	d := e.Decide(&wire.Txn{MTI: "0600", STAN: "000001", TID: "T1"}, t0)
	require.Equal(t, "0610", d.Response.MTI)
	require.Equal(t, "12", d.Response.ResponseCode)
	d = e.Decide(&wire.Txn{MTI: "0200", ProcessingCode: "990000", STAN: "000001", TID: "T1"}, t0)
	require.Equal(t, "12", d.Response.ResponseCode)
	d = e.Decide(&wire.Txn{MTI: "0210", STAN: "000001", TID: "T1"}, t0)
	require.Nil(t, d.Response, "a stray response is not answered")
	d = e.Decide(&wire.Txn{MTI: "0800", Op: wire.OpSignOn, NetworkCode: wire.NetSignOn, STAN: "000001", TID: "T1"}, t0)
	require.Equal(t, "00", d.Response.ResponseCode)
	require.True(t, e.Snapshot().Terminals[1].SignedOn)
}

func TestEngine_RefundLimits(t *testing.T) {
	e := newEngine(t)
	s := sale(approvePAN, 1000)
	rrn := e.Decide(s, t0).Response.RRN
	refund := func(amount int64, rrn string) string {
		stanSeq++
		r := &wire.Txn{MTI: "0220", Op: wire.OpRefund, ProcessingCode: wire.PCRefund, PAN: approvePAN, Amount: amount, HasAmount: true,
			STAN: pad6(stanSeq), TransmissionTime: "1122100003", TID: "T1", MID: "M1", RRN: rrn}
		return e.Decide(r, t0).Response.ResponseCode
	}
	require.Equal(t, "00", refund(600, rrn))
	require.Equal(t, "64", refund(500, rrn), "only 4.00 remains refundable")
	require.Equal(t, "00", refund(400, rrn))
	require.Equal(t, "25", refund(100, "000000000000"))
}

func TestPolicies_Validate(t *testing.T) {
	require.NoError(t, DefaultPolicies().Validate())
	p := DefaultPolicies()
	p.Duplicate = "ignore"
	require.ErrorContains(t, p.Validate(), "duplicate")
	p = DefaultPolicies()
	p.VelocityCount, p.VelocityWindow = 2, 0
	require.Error(t, p.Validate())
}

func TestYYMM(t *testing.T) {
	require.Equal(t, "2601", yymm(time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)))
	require.Equal(t, "0912", yymm(time.Date(2009, 12, 31, 23, 0, 0, 0, time.UTC)))
}

func TestRRNAndAuthCode(t *testing.T) {
	e := newEngine(t)
	now := time.Date(2026, 2, 3, 7, 0, 0, 0, time.UTC)
	require.Equal(t, fmt.Sprintf("%012d", now.UnixMicro()%rrnSpace), e.nextRRN(now), "the clock in microseconds")
	require.Equal(t, fmt.Sprintf("%012d", now.UnixMicro()%rrnSpace+1), e.nextRRN(now), "one more when the clock has not moved")
	require.Equal(t, fmt.Sprintf("%06d", (42*7919+104729)%1_000_000), authCode(42))
	require.Len(t, authCode(1<<40), 6)
	require.Equal(t, "000", string(appendDigits(nil, 0, 3)))
	require.Equal(t, "12345", string(appendDigits(nil, 12345, 3)), "never truncates")
}

func TestEngine_Retention(t *testing.T) {
	e := newEngine(t)
	e.SetRetention(3, 2)
	start, _ := e.Account(approvePAN)
	var sales []*wire.Txn
	for i := range 5 {
		s := sale(approvePAN, int64(100+i))
		sales = append(sales, s)
		require.Equal(t, "00", e.Decide(s, t0).Response.ResponseCode)
	}
	snap := e.Snapshot()
	require.Len(t, snap.Records, 3, "the oldest records are forgotten")
	require.Equal(t, []int64{3, 4, 5}, []int64{snap.Records[0].ID, snap.Records[1].ID, snap.Records[2].ID}, "IDs keep counting")
	require.Len(t, snap.Postings, 2)

	// a kept sale is reversed as usual; a forgotten one is an orphan
	d := e.Decide(reversalOf(sales[4], "98"), t0)
	require.Equal(t, "00", d.Response.ResponseCode)
	require.Equal(t, StatusReversed, e.byID(5).Status())
	d = e.Decide(reversalOf(sales[0], "98"), t0)
	require.Equal(t, "00", d.Response.ResponseCode)
	require.Equal(t, StatusOrphan, d.Record.Status, d.Why)
	acct, _ := e.Account(approvePAN)
	require.Equal(t, start.Balance-100-101-102-103, acct.Balance, "only the kept sale was credited back")

	// a retransmission of a forgotten sale is booked anew (and, as its
	// orphan reversal is waiting, reversed at once); a second one is
	// recognised as a duplicate
	d = e.Decide(sales[0], t0)
	require.Equal(t, "00", d.Response.ResponseCode)
	require.Equal(t, KindOrphan, d.Notes[0].Kind)
	d = e.Decide(sales[0], t0)
	require.Equal(t, KindDuplicate, d.Notes[0].Kind)
	require.Nil(t, e.byID(1))
	require.Len(t, e.Snapshot().Records, 3)
}

func TestOrigKey(t *testing.T) {
	keys := map[origK]string{}
	for _, c := range [][3]string{
		{"T1", "0200", "000001"}, {"T1", "0200", "000002"}, {"T2", "0200", "000001"}, {"T1", "0400", "000001"},
		{"T1\x00", "0200", "000001"}, {"T1", "0200", "00001"}, {"", "0200", "000001"},
		{"A-VERY-LONG-TERMINAL-ID", "0200", "000001"}, {"A-VERY-LONG-TERMINAL-IE", "0200", "000001"},
		{"T1", "0200", "12345678901234"}, {"T1", "0200", "12345678901235"},
	} {
		k := origKey(c[0], c[1], c[2])
		require.NotContains(t, keys, k, "%q collides with %q", c, keys[k])
		keys[k] = fmt.Sprint(c)
	}
	require.Equal(t, origKey("T1", "0200", "000001"), origKey("T1", "0201", "000001"), "a repeat is the same original")
	require.Equal(t, origKey("A-VERY-LONG-TERMINAL-ID", "0200", "1"), origKey("A-VERY-LONG-TERMINAL-ID", "0201", "1"))
}

// A duplicate (same terminal, merchant, STAN, DE7, card, amount and
// processing code) is answered with the original's answer, field for
// field: approved or declined, with a host's receipt fields (cup), with a
// chip card's issuer data. The ledger keeps the outcome, not the answer.
func TestEngine_DuplicateReplaysTheOriginalAnswer(t *testing.T) {
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	chipSale := func() *wire.Txn { return chipSaleATC(t, 7) }
	for name, c := range map[string]struct {
		req  func() *wire.Txn
		keys bool
		code string
	}{
		"approved":                    {req: func() *wire.Txn { return sale(approvePAN, 100) }, code: "00"},
		"declined":                    {req: func() *wire.Txn { return sale(lowPAN, 1_000_000) }, code: "51"},
		"approved with receipt (cup)": {req: func() *wire.Txn { return sale(approvePAN, 100) }, keys: true, code: "00"},
		"chip approved":               {req: chipSale, code: "00"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEngine(t)
			if c.keys {
				e = cupEngine(t)
				require.Equal(t, "00", e.Decide(signOn("T1", "000001"), now).Response.ResponseCode)
			}
			req := c.req()
			first := e.Decide(req, now)
			require.Equal(t, c.code, first.Response.ResponseCode, first.Why)
			want := *first.Response
			again := *req
			dup := e.Decide(&again, now.Add(time.Minute))
			require.Contains(t, dup.Why, "duplicate")
			require.Equal(t, &want, dup.Response)
			if name == "chip approved" {
				require.NotEmpty(t, dup.Response.ICC, "the issuer's answer to the card, again")
			}
		})
	}
}

// Retention forgets the oldest record from every index, also when newer
// records share its TID, MTI class and STAN (a STAN reused on other days):
// the chain of the newer ones stays whole, the forgotten one is in no index.
func TestLedger_ForgetKeepsIndexesWhole(t *testing.T) {
	e := newEngine(t)
	e.SetRetention(2, 2)
	var ids []int64
	for day := range 4 {
		s := sale(approvePAN, int64(100+day))
		s.STAN, s.TransmissionTime = "000777", fmt.Sprintf("11%02d100000", 20+day)
		d := e.Decide(s, t0.Add(time.Duration(day)*24*time.Hour))
		require.Equal(t, "00", d.Response.ResponseCode, d.Why)
		ids = append(ids, d.Record.ID)
		var chain []int64
		for r := range e.l.originals(origKey("T1", "0200", "000777")) {
			chain = append(chain, r.ID)
		}
		want := []int64{ids[len(ids)-1]}
		if len(ids) > 1 {
			want = append(want, ids[len(ids)-2])
		}
		require.Equal(t, want, chain, "newest first, the forgotten ones gone")
	}
	for _, id := range ids[:2] {
		require.Nil(t, e.l.record(id))
	}
	for _, r := range e.Snapshot().Records {
		require.Equal(t, r.ID, e.original(r.RRN).ID, "found by its RRN")
	}
	require.Len(t, e.l.byRRN, 2)
	require.Equal(t, ids[2:], slices.Collect(e.l.byPAN[approvePAN].all()))
}

// chipSaleATC is a sale of 12.34 on the chip test card with its ARQC
// computed by the card's key at the application transaction counter atc.
func chipSaleATC(t *testing.T, atc int) *wire.Txn {
	t.Helper()
	req := sale(propChipPAN, 1234)
	req.EntryMode, req.CardSeq = "052", "001"
	l := emv.List{}.
		Set(emv.TagAmount, []byte{0, 0, 0, 0, 0x12, 0x34}).Set(emv.TagAmountOther, make([]byte, 6)).
		Set(emv.TagCountry, []byte{0x01, 0x56}).Set(emv.TagTVR, make([]byte, 5)).
		Set(emv.TagCurrency, []byte{0x01, 0x56}).Set(emv.TagDate, []byte{0x26, 0x01, 0x15}).
		Set(emv.TagType, []byte{0}).Set(emv.TagUN, []byte{1, 2, 3, 4}).Set(emv.TagAIP, []byte{0x7C, 0}).
		Set(emv.TagATC, []byte{byte(atc >> 8), byte(atc)}).Set(emv.TagIAD, []byte{0x07, 0x01, 0x01, 0x03, 0xA0, 0, 0, 1})
	mk, err := emv.ICCMasterKey((&cards.Chip{}).IMK(), propChipPAN, "01")
	require.NoError(t, err)
	ac, _, err := emv.ApplicationCryptogram(mk, l)
	require.NoError(t, err)
	req.ICC = l.Set(emv.TagCryptogram, ac).Bytes()
	return req
}

// The issuer keeps each chip card's last application transaction counter:
// the same cryptogram sent again from another terminal (a cloned card, a
// recorded message replayed; not a retransmission, which the duplicate
// rule answers) is declined, as is a counter that did not move or jumped
// further than the card's window; the counter moving on is approved.
func TestEngine_ChipCounterReplayIsDeclined(t *testing.T) {
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	e := newEngine(t)
	first := chipSaleATC(t, 7)
	d := e.Decide(first, now)
	require.Equal(t, "00", d.Response.ResponseCode, d.Why)

	clone := *first
	clone.TID, clone.STAN = "T2", "900001" // the same ARQC from another terminal
	d = e.Decide(&clone, now)
	require.Equal(t, "05", d.Response.ResponseCode)
	require.Contains(t, d.Why, "ATC 7 not above 7")
	require.Contains(t, d.Why, "cloned card")

	older := chipSaleATC(t, 6)
	d = e.Decide(older, now)
	require.Equal(t, "05", d.Response.ResponseCode, d.Why)

	far := chipSaleATC(t, 7+cards.DefaultATCWindow+1)
	d = e.Decide(far, now)
	require.Equal(t, "05", d.Response.ResponseCode)
	require.Contains(t, d.Why, "ahead of 7")

	next := chipSaleATC(t, 8)
	d = e.Decide(next, now)
	require.Equal(t, "00", d.Response.ResponseCode, d.Why)
	a, _ := e.Account(propChipPAN)
	before, _ := newEngine(t).Account(propChipPAN)
	require.Equal(t, before.Balance-2*1234, a.Balance, "two sales debited, the replays nothing")
}
