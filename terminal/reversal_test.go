package terminal_test

import (
	"net"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// The reversal rules of DOMAIN.md section 2, against a script host: what
// the terminal keeps and what it sends, message by message.

func TestReversal_RecordIsSavedBeforeTheRequestLeaves(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	type atHost struct {
		req *wire.Txn
		st  terminal.State
		err error
	}
	seen := make(chan atHost, 1)
	h := startScriptHost(t, func(req *wire.Txn, n int) *wire.Txn {
		if req.MTI == "0200" && n == 0 {
			// what a power cut now would leave: the state directory as
			// the host reads the request
			st, err := terminal.ReadState(dir)
			seen <- atHost{req, st, err}
		}
		return answer(req, "00")
	})
	term := newTerminal(t, h.addr, dir, patient)
	res, err := term.Sale(t.Context(), terminal.Request{Amount: 1234})
	require.NoError(t, err)
	got := <-seen // sent before the answer the sale waited for
	require.NoError(t, got.err)
	p := got.st.Pending
	require.NotNil(t, p, "R2: the record is in the state directory before the request reaches the host")
	require.Equal(t, got.req.STAN, p.Request.STAN)
	require.Equal(t, res.STAN, p.Request.STAN)
	require.Equal(t, wire.ReasonNoResponse, p.Reason, "until an answer comes, the reason is that none came")
	require.Equal(t, int64(1234), p.Request.Amount)
	require.Equal(t, "0200", p.Request.MTI)
	require.Zero(t, p.Attempts)
	require.NotEmpty(t, got.req.Track2, "the request carried track data")
	require.NotEmpty(t, got.req.PINBlock, "and a PIN block")
	require.Empty(t, p.Request.Track2, "the record keeps no track data")
	require.Empty(t, p.Request.PINBlock, "nor the PIN block")
	require.Nil(t, term.State().Pending, "R5: the approval cleared it")
}

func TestReversal_Reasons(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		script  hostScript
		req     terminal.Request
		short   bool // the first terminal waits 300 ms for an answer
		outcome terminal.Outcome
		reason  string
	}{
		{"98 when no answer comes in time", silentTo("0200", 1, approveAll), terminal.Request{Amount: 100}, true,
			terminal.NoResponse, wire.ReasonNoResponse},
		{"98 when the host hangs up before answering", hangUpOn("0200", 1, approveAll), terminal.Request{Amount: 100}, false,
			terminal.NoResponse, wire.ReasonNoResponse},
		{"96 when approved and the terminal could not complete", approveAll,
			terminal.Request{Amount: 100, PowerCut: terminal.PowerCutAfterResponse}, false, terminal.PowerCut, wire.ReasonIncomplete},
		{"06 when the answer does not match the request", alterFirst("0200", "00", func(r *wire.Txn) { r.Amount++ }),
			terminal.Request{Amount: 100}, false, terminal.InvalidResponse, wire.ReasonOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := startScriptHost(t, tt.script)
			term := scriptTerminal(t, h, func(c *terminal.Config) {
				if tt.short {
					c.Timeout = 300 * time.Millisecond
				}
			})
			res, err := term.Sale(t.Context(), tt.req)
			require.Error(t, err)
			require.Equal(t, tt.outcome, res.Outcome)
			require.True(t, res.ReversalPending)
			orig := h.next(t)
			require.Equal(t, "0200", orig.MTI)

			term, st := restart(t, term, patient)
			require.NotNil(t, st.Pending)
			require.Equal(t, tt.reason, st.Pending.Reason, "R3")
			res, err = term.Sale(t.Context(), terminal.Request{Amount: 200})
			require.NoError(t, err)
			require.Len(t, res.ReversalsSent, 1)
			require.Equal(t, tt.reason, res.ReversalsSent[0].Reason)

			rev := h.next(t)
			require.Equal(t, "0400", rev.MTI)
			require.Equal(t, tt.reason, rev.ResponseCode, "R3: the reason goes in DE39")
			require.Equal(t, &wire.Original{MTI: "0200", STAN: orig.STAN, TransmissionTime: orig.TransmissionTime,
				AcquirerID: "00000000000", ForwarderID: "00000000000"}, rev.Original, "iso87: DE90 names the original")
			require.Equal(t, orig.ProcessingCode, rev.ProcessingCode)
			require.Equal(t, orig.PAN, rev.PAN)
			require.Equal(t, orig.Amount, rev.Amount)
			require.Equal(t, orig.TID, rev.TID)
			require.Equal(t, orig.MID, rev.MID)
			require.Empty(t, rev.Track2, "a reversal carries no track data")
			require.Empty(t, rev.PINBlock, "nor a PIN block")
			require.Equal(t, "0200", h.next(t).MTI, "then the new sale")
			h.drained(t)
		})
	}
}

func TestReversal_AnswerMustMatchTheRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rc      string
		alter   func(*wire.Txn)
		outcome terminal.Outcome
		reason  string // of the record kept; "" when none is
	}{
		{"every field echoed: accepted", "00", func(*wire.Txn) {}, terminal.Approved, ""},
		{"MTI other than the request's + 10", "00", func(r *wire.Txn) { r.MTI = "0230" }, terminal.InvalidResponse, wire.ReasonOther},
		{"DE3 differs", "00", func(r *wire.Txn) { r.ProcessingCode = "010000" }, terminal.InvalidResponse, wire.ReasonOther},
		{"DE4 differs", "00", func(r *wire.Txn) { r.Amount++ }, terminal.InvalidResponse, wire.ReasonOther},
		{"DE4 missing", "00", func(r *wire.Txn) { r.Amount, r.HasAmount = 0, false }, terminal.InvalidResponse, wire.ReasonOther},
		{"DE41 differs", "00", func(r *wire.Txn) { r.TID = "OTHER001" }, terminal.InvalidResponse, wire.ReasonOther},
		{"DE42 differs on an approval", "00", func(r *wire.Txn) { r.MID = "OTHER0000000001" }, terminal.InvalidResponse, wire.ReasonOther},
		{"DE42 is not compared on a decline", "05", func(r *wire.Txn) { r.MID = "OTHER0000000001" }, terminal.Declined, ""},
		{"DE39 missing", "", func(*wire.Txn) {}, terminal.InvalidResponse, wire.ReasonOther},
		{"DE11 differs: another request's answer, none for this one", "00", func(r *wire.Txn) { r.STAN = "999999" },
			terminal.NoResponse, wire.ReasonNoResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := startScriptHost(t, alterFirst("0200", tt.rc, tt.alter))
			term := scriptTerminal(t, h, func(c *terminal.Config) {
				if tt.outcome == terminal.NoResponse {
					c.Timeout = 300 * time.Millisecond // it never matches: the timeout ends the wait
				}
			})
			res, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
			require.Equal(t, tt.outcome, res.Outcome, "%v", err)
			switch tt.outcome {
			case terminal.InvalidResponse:
				require.ErrorIs(t, err, terminal.ErrInvalidResponse)
			case terminal.NoResponse:
				require.ErrorIs(t, err, terminal.ErrNoResponse)
				require.Equal(t, []terminal.LateResponse{{MTI: "0210", STAN: "999999", ResponseCode: "00"}}, term.LateResponses())
			}
			p := term.State().Pending
			require.Equal(t, tt.reason != "", res.ReversalPending)
			if tt.reason == "" {
				require.Nil(t, p, "R5: a valid answer clears the record")
				return
			}
			require.NotNil(t, p, "R4: an answer that does not match keeps the record")
			require.Equal(t, res.STAN, p.Request.STAN)
			require.Equal(t, tt.reason, p.Reason)
			require.Empty(t, term.State().Log, "nothing logged")
		})
	}
}

func TestReversal_AnyValidAnswerClearsTheRecord(t *testing.T) {
	t.Parallel()
	for _, rc := range []string{"00", "05", "51", "91", "96"} {
		t.Run(rc, func(t *testing.T) {
			t.Parallel()
			h := startScriptHost(t, alterFirst("0200", rc, func(*wire.Txn) {}))
			term := scriptTerminal(t, h)
			res, _ := term.Sale(t.Context(), terminal.Request{Amount: 100})
			require.Equal(t, rc, res.ResponseCode)
			require.False(t, res.ReversalPending)
			require.Nil(t, term.State().Pending, "R5")
			res, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
			require.NoError(t, err)
			require.Empty(t, res.ReversalsSent)
			require.Equal(t, []string{"0200", "0200"}, h.nextMTIs(t, 2), "no 0400 in between")
			h.drained(t)
		})
	}
}

func TestReversal_SentBeforeTheNextTransaction(t *testing.T) {
	t.Parallel()
	t.Run("up to N+1 times, the repeats as 0401 with the same STAN; a decline completes it", func(t *testing.T) {
		t.Parallel()
		h := startScriptHost(t, hangUpOn("0200", 1, hangUpOn("0400", 1, hangUpOn("0401", 1, codeFor("0401", "25", approveAll)))))
		term := scriptTerminal(t, h, func(c *terminal.Config) { c.ReversalRetries = 2 })
		first, err := term.Sale(t.Context(), terminal.Request{Amount: 4000})
		require.ErrorIs(t, err, terminal.ErrNoResponse)
		res, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.NoError(t, err)
		require.False(t, res.ReversalDropped)
		rev := res.ReversalsSent[0].STAN
		require.Equal(t, []terminal.ReversalSent{
			{MTI: "0400", STAN: rev, OriginalSTAN: first.STAN, Reason: "98", Outcome: terminal.NoResponse},
			{MTI: "0401", STAN: rev, OriginalSTAN: first.STAN, Reason: "98", Outcome: terminal.NoResponse},
			{MTI: "0401", STAN: rev, OriginalSTAN: first.STAN, Reason: "98", Outcome: terminal.Declined, ResponseCode: "25"},
		}, res.ReversalsSent)
		require.Nil(t, term.State().Pending, "R6: any response code completes the reversal")

		require.Equal(t, "0200", h.next(t).MTI)
		for i, mti := range []string{"0400", "0401", "0401"} {
			r := h.next(t)
			require.Equal(t, mti, r.MTI, "attempt %d", i+1)
			require.Equal(t, rev, r.STAN, "attempt %d keeps the reversal's STAN", i+1)
			require.Equal(t, first.STAN, r.Original.STAN)
		}
		sale := h.next(t)
		require.Equal(t, "0200", sale.MTI, "the sale only after the reversal")
		require.Equal(t, res.STAN, sale.STAN)
		h.drained(t)
	})

	for _, rc := range []string{"00", "12", "25", "96"} {
		t.Run("completed by "+rc, func(t *testing.T) {
			t.Parallel()
			h := startScriptHost(t, hangUpOn("0200", 1, codeFor("0400", rc, approveAll)))
			term := scriptTerminal(t, h)
			_, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
			require.ErrorIs(t, err, terminal.ErrNoResponse)
			res, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
			require.NoError(t, err)
			require.Len(t, res.ReversalsSent, 1)
			want := terminal.Declined
			if rc == "00" {
				want = terminal.Approved
			}
			require.Equal(t, want, res.ReversalsSent[0].Outcome)
			require.Equal(t, rc, res.ReversalsSent[0].ResponseCode)
			require.Nil(t, term.State().Pending)
		})
	}

	tests := []struct {
		name string
		run  func(*terminal.Terminal) (*terminal.Result, error)
		mti  string
	}{
		{"before a settlement", func(term *terminal.Terminal) (*terminal.Result, error) { return term.Settle(t.Context()) }, "0500"},
		{"before a balance inquiry", func(term *terminal.Terminal) (*terminal.Result, error) {
			return term.Balance(t.Context(), terminal.Request{})
		}, "0200"},
		{"before a void", func(term *terminal.Terminal) (*terminal.Result, error) {
			return term.Void(t.Context(), terminal.Request{RRN: "100000000001", Amount: 100})
		}, "0200"},
	}
	for _, tt := range tests {
		t.Run(tt.name+", not before an echo", func(t *testing.T) {
			t.Parallel()
			h := startScriptHost(t, hangUpOn("0200", 1, approveAll))
			term := scriptTerminal(t, h)
			_, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
			require.ErrorIs(t, err, terminal.ErrNoResponse)
			require.Equal(t, "0200", h.next(t).MTI)
			_, err = term.Echo(t.Context())
			require.NoError(t, err)
			require.Equal(t, "0800", h.next(t).MTI, "an echo goes alone")
			require.NotNil(t, term.State().Pending)
			res, err := tt.run(term)
			require.NoError(t, err)
			require.Len(t, res.ReversalsSent, 1)
			require.Equal(t, []string{"0400", tt.mti}, h.nextMTIs(t, 2))
			require.Nil(t, term.State().Pending)
			h.drained(t)
		})
	}
}

func TestReversal_WhenRetriesAreExhausted(t *testing.T) {
	t.Parallel()
	// every reversal attempt is hung up on, but the third (the blocked
	// terminal's next try)
	script := hangUpOn("0200", 1, hangUpOn("0400", 1, hangUpOn("0401", 1, approveAll)))

	t.Run("drop: the record goes, the cashier is told, the sale goes on", func(t *testing.T) {
		t.Parallel()
		h := startScriptHost(t, script)
		term := scriptTerminal(t, h, func(c *terminal.Config) { c.ReversalRetries, c.WhenExhausted = 1, terminal.ExhaustedDrop })
		_, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.ErrorIs(t, err, terminal.ErrNoResponse)
		res, err := term.Sale(t.Context(), terminal.Request{Amount: 200})
		require.NoError(t, err)
		require.Equal(t, terminal.Approved, res.Outcome)
		require.Len(t, res.ReversalsSent, 2, "N+1 attempts")
		require.True(t, res.ReversalDropped)
		require.False(t, res.ReversalPending)
		require.Equal(t, "REVERSAL FAILED, CALL SUPPORT / APPROVED", res.Display)
		require.Equal(t, "冲正不成功，请与客服联系 / 交易成功", res.DisplayZH)
		require.Nil(t, term.State().Pending)
		require.Equal(t, []string{"0200", "0400", "0401", "0200"}, h.nextMTIs(t, 4))

		res, err = term.Sale(t.Context(), terminal.Request{Amount: 300})
		require.NoError(t, err)
		require.Empty(t, res.ReversalsSent, "dropped for good")
		require.False(t, res.ReversalDropped)
		require.Equal(t, "0200", h.next(t).MTI)
		h.drained(t)
	})

	t.Run("block: no transaction until a reversal gets through, one more try each time", func(t *testing.T) {
		t.Parallel()
		h := startScriptHost(t, script)
		term := scriptTerminal(t, h, func(c *terminal.Config) { c.ReversalRetries, c.WhenExhausted = 1, terminal.ExhaustedBlock })
		first, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.ErrorIs(t, err, terminal.ErrNoResponse)
		res, err := term.Sale(t.Context(), terminal.Request{Amount: 200})
		require.ErrorIs(t, err, terminal.ErrBlocked)
		require.Equal(t, terminal.Blocked, res.Outcome)
		require.Len(t, res.ReversalsSent, 2)
		require.True(t, res.ReversalPending)
		require.Equal(t, "冲正未完成，请与客服联系", res.DisplayZH)
		p := term.State().Pending
		require.NotNil(t, p)
		require.Equal(t, first.STAN, p.Request.STAN)
		require.Equal(t, 2, p.Attempts)

		res, err = term.Sale(t.Context(), terminal.Request{Amount: 300})
		require.NoError(t, err)
		require.Len(t, res.ReversalsSent, 1, "one more try")
		require.Equal(t, "00", res.ReversalsSent[0].ResponseCode)
		require.Nil(t, term.State().Pending)
		require.Equal(t, []string{"0200", "0400", "0401", "0401", "0200"}, h.nextMTIs(t, 5),
			"the blocked sale never went out")
		h.drained(t)
	})
}

func TestReversal_Immediate(t *testing.T) {
	t.Parallel()
	immediate := func(c *terminal.Config) { c.ImmediateReversal = true }

	t.Run("delivered right after the failure", func(t *testing.T) {
		t.Parallel()
		h := startScriptHost(t, hangUpOn("0200", 1, approveAll))
		term := scriptTerminal(t, h, immediate)
		res, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.ErrorIs(t, err, terminal.ErrNoResponse)
		require.Equal(t, terminal.NoResponse, res.Outcome, "the sale still failed")
		require.False(t, res.ReversalPending)
		require.Len(t, res.ReversalsSent, 1)
		rs := res.ReversalsSent[0]
		require.Equal(t, res.STAN, rs.OriginalSTAN)
		require.Equal(t, "98", rs.Reason)
		require.Equal(t, terminal.Approved, rs.Outcome)
		require.NotNil(t, res.Receipt.Reversal, "the slip names the reversal")
		require.Equal(t, rs.STAN, res.Receipt.Reversal.STAN)
		require.Nil(t, term.State().Pending)
		require.Equal(t, []string{"0200", "0400"}, h.nextMTIs(t, 2))

		res, err = term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.NoError(t, err)
		require.Empty(t, res.ReversalsSent)
		require.Equal(t, "0200", h.next(t).MTI)
		h.drained(t)
	})

	t.Run("its N+1 attempts at once; then pending for the next transaction", func(t *testing.T) {
		t.Parallel()
		h := startScriptHost(t, hangUpOn("0200", 1, hangUpOn("0400", 1, hangUpOn("0401", 1, approveAll))))
		term := scriptTerminal(t, h, immediate, func(c *terminal.Config) { c.ReversalRetries, c.WhenExhausted = 1, terminal.ExhaustedBlock })
		res, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.ErrorIs(t, err, terminal.ErrNoResponse)
		require.Equal(t, terminal.NoResponse, res.Outcome, "the sale's outcome, not the reversal's")
		require.True(t, res.ReversalPending)
		require.Len(t, res.ReversalsSent, 2)
		require.Equal(t, terminal.NoResponse, res.ReversalsSent[1].Outcome)
		require.Equal(t, 2, term.State().Pending.Attempts)

		res, err = term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.NoError(t, err)
		require.Len(t, res.ReversalsSent, 1)
		require.Equal(t, "0401", res.ReversalsSent[0].MTI)
		require.Equal(t, []string{"0200", "0400", "0401", "0401", "0200"}, h.nextMTIs(t, 5))
		h.drained(t)
	})
}

func TestReversal_NewTransactionKeepsItsOwnSTAN(t *testing.T) {
	t.Parallel()
	t.Run("iso87: the reversal and the new sale each take the next STAN", func(t *testing.T) {
		t.Parallel()
		h := startScriptHost(t, hangUpOn("0200", 1, approveAll))
		term := scriptTerminal(t, h)
		first, _ := term.Sale(t.Context(), terminal.Request{Amount: 100})
		res, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.NoError(t, err)
		require.Equal(t, "000001", first.STAN)
		require.Equal(t, "000002", res.ReversalsSent[0].STAN, "the reversal's own STAN, taken first")
		require.Equal(t, "000003", res.STAN, "R10")
		var stans []string
		for range 3 {
			stans = append(stans, h.next(t).STAN)
		}
		require.Equal(t, []string{"000001", "000002", "000003"}, stans)
	})
	t.Run("cup: the reversal is the original's copy, the new sale has a STAN of its own", func(t *testing.T) {
		t.Parallel()
		a := startAcquirer(t, acquirer.WithProfile(wire.CUP), acquirer.WithHandler(dropFirst("0200", 1)))
		term := newTerminal(t, a.Addr(), t.TempDir(), patient, func(c *terminal.Config) { c.Profile, c.AutoSignOn = wire.CUP, true })
		_, err := term.SignOn(t.Context())
		require.NoError(t, err)
		// signed on already: the short timeout is the dropped answer's alone
		term, _ = restart(t, term, func(c *terminal.Config) { c.Timeout = 300 * time.Millisecond })
		first, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.ErrorIs(t, err, terminal.ErrNoResponse)
		term, _ = restart(t, term, patient)
		res, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.NoError(t, err)
		require.Len(t, res.ReversalsSent, 1)
		require.Equal(t, first.STAN, res.ReversalsSent[0].STAN, "cup: same DE11 as the original")
		require.NotEqual(t, first.STAN, res.STAN, "R10")
		require.Greater(t, res.STAN, first.STAN)
		ins := a.Journal().List(acquirer.Filter{Kind: acquirer.KindIn})
		var got [][2]string
		for _, e := range ins {
			if e.MTI != "0800" {
				got = append(got, [2]string{e.MTI, e.STAN})
			}
		}
		require.Equal(t, [][2]string{{"0200", first.STAN}, {"0400", first.STAN}, {"0200", res.STAN}}, got)
	})
}

func TestReversal_AdvicesAreRetransmittedNeverReversed(t *testing.T) {
	t.Parallel()
	t.Run("an unanswered refund goes again as 0221 with its STAN", func(t *testing.T) {
		t.Parallel()
		h := startScriptHost(t, hangUpOn("0220", 1, hangUpOn("0221", 1, approveAll)))
		term := scriptTerminal(t, h, func(c *terminal.Config) { c.AdviceRetries = 2 })
		var pending bool
		terminal.OnSave(term, func(s terminal.State) { pending = pending || s.Pending != nil })
		res, err := term.Refund(t.Context(), terminal.Request{RRN: "000000000999", Amount: 500})
		require.NoError(t, err)
		require.Equal(t, terminal.Approved, res.Outcome)
		require.False(t, pending, "R1: a refund is never reversible, not even while in flight")
		var got [][2]string
		for range 3 {
			r := h.next(t)
			got = append(got, [2]string{r.MTI, r.STAN})
		}
		require.Equal(t, [][2]string{{"0220", res.STAN}, {"0221", res.STAN}, {"0221", res.STAN}}, got)
		h.drained(t)
	})
	t.Run("never answered: no reversal then or before the next sale", func(t *testing.T) {
		t.Parallel()
		h := startScriptHost(t, hangUpOn("0220", 1, hangUpOn("0221", 1, approveAll)))
		term := scriptTerminal(t, h, func(c *terminal.Config) { c.AdviceRetries = 1 })
		res, err := term.Refund(t.Context(), terminal.Request{RRN: "000000000999", Amount: 500})
		require.ErrorIs(t, err, terminal.ErrNoResponse)
		require.False(t, res.ReversalPending)
		require.Nil(t, term.State().Pending)
		res, err = term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.NoError(t, err)
		require.Empty(t, res.ReversalsSent)
		require.Equal(t, []string{"0220", "0221", "0200"}, h.nextMTIs(t, 3), "R11: retried AdviceRetries times, never a 0400")
		h.drained(t)
	})
}

func TestReversal_RetransmitsTheSameSTAN(t *testing.T) {
	t.Parallel()
	retransmit := func(c *terminal.Config) { c.Retransmits = 1 }
	t.Run("answered the second time: approved, nothing to reverse", func(t *testing.T) {
		t.Parallel()
		h := startScriptHost(t, hangUpOn("0200", 1, approveAll))
		term := scriptTerminal(t, h, retransmit)
		res, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.NoError(t, err)
		require.Nil(t, term.State().Pending)
		one, two := h.next(t), h.next(t)
		require.Equal(t, "0200", two.MTI, "the same message, not a repeat MTI")
		require.Equal(t, res.STAN, one.STAN)
		require.Equal(t, one.STAN, two.STAN)
		require.Equal(t, one.TransmissionTime, two.TransmissionTime)
		require.Equal(t, one.Amount, two.Amount)
		h.drained(t)
	})
	t.Run("never answered: one record for both", func(t *testing.T) {
		t.Parallel()
		h := startScriptHost(t, hangUpOn("0200", 2, approveAll))
		term := scriptTerminal(t, h, retransmit)
		first, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.ErrorIs(t, err, terminal.ErrNoResponse)
		require.Equal(t, first.STAN, term.State().Pending.Request.STAN)
		res, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.NoError(t, err)
		require.Len(t, res.ReversalsSent, 1)
		require.Equal(t, first.STAN, res.ReversalsSent[0].OriginalSTAN)
		require.Equal(t, []string{"0200", "0200", "0400", "0200"}, h.nextMTIs(t, 4))
		h.drained(t)
	})
}

func TestReversal_NothingForARequestThatNeverLeft(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())

	h := startScriptHost(t, approveAll)
	term := newTerminal(t, closed, t.TempDir(), patient)
	res, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
	require.ErrorIs(t, err, terminal.ErrRefused)
	require.False(t, res.ReversalPending)
	require.Nil(t, res.Receipt, "nothing went out: no slip")

	term, st := restart(t, term, func(c *terminal.Config) { c.Host = h.addr })
	require.Nil(t, st.Pending)
	res, err = term.Sale(t.Context(), terminal.Request{Amount: 100})
	require.NoError(t, err)
	require.Empty(t, res.ReversalsSent)
	require.Equal(t, "0200", h.next(t).MTI, "the new sale alone")
	h.drained(t)
}
