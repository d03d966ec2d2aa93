package terminal_test

import (
	"fmt"
	"testing"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// openBatch fills a terminal's batch with one of everything and returns
// the requests the host read for it, by STAN, and the transactions that
// count in the iso87 totals (and are uploaded), in log order: two sales, a
// completion and a refund. A pre-authorisation and a voided sale with its
// void count nowhere.
func openBatch(t *testing.T, h *scriptHost, term *terminal.Terminal) (map[string]*wire.Txn, []*terminal.Result) {
	t.Helper()
	ctx := t.Context()
	do := func(res *terminal.Result, err error) *terminal.Result {
		t.Helper()
		require.NoError(t, err)
		return res
	}
	s1 := do(term.Sale(ctx, terminal.Request{Amount: 1000}))
	s2 := do(term.Sale(ctx, terminal.Request{Amount: 2000}))
	hold := do(term.PreAuth(ctx, terminal.Request{Amount: 5000}))
	completion := do(term.Completion(ctx, terminal.Request{RRN: hold.RRN, Amount: 4000}))
	refund := do(term.Refund(ctx, terminal.Request{RRN: s1.RRN, Amount: 300}))
	s3 := do(term.Sale(ctx, terminal.Request{Amount: 700}))
	do(term.Void(ctx, terminal.Request{RRN: s3.RRN}))
	sent := map[string]*wire.Txn{}
	var mtis []string
	for range 7 {
		r := h.next(t)
		sent[r.STAN] = r
		mtis = append(mtis, r.MTI)
	}
	require.Equal(t, []string{"0200", "0200", "0100", "0200", "0220", "0200", "0200"}, mtis)
	require.Len(t, term.State().Log, 7)
	return sent, []*terminal.Result{s1, s2, completion, refund}
}

// the iso87 totals of openBatch: sales of 1000 and 2000 and a completion
// of 4000; a refund of 300
var openBatchTotals = wire.Totals{DebitCount: 3, DebitAmount: 7000, CreditCount: 1, CreditAmount: 300}

func TestSettle_TotalsFromTheLog(t *testing.T) {
	t.Parallel()
	h := startScriptHost(t, approveAll)
	term := scriptTerminal(t, h)
	openBatch(t, h, term)
	res, err := term.Settle(t.Context())
	require.NoError(t, err)
	require.Equal(t, terminal.Approved, res.Outcome)
	sr := res.Settlement
	require.True(t, sr.Balanced)
	require.Equal(t, "000001", sr.Batch)
	require.Equal(t, openBatchTotals, sr.Terminal)
	require.Zero(t, sr.Uploaded)

	req := h.next(t)
	require.Equal(t, "0500", req.MTI)
	require.Equal(t, wire.PCSettle, req.ProcessingCode)
	require.Equal(t, "000001", req.Batch)
	require.Equal(t, &openBatchTotals, req.Totals, "what the 0500 carries is the log's totals")
	h.drained(t)

	st := term.State()
	require.Equal(t, 2, st.Batch, "the batch number goes up by one")
	require.Empty(t, st.Log, "a new batch")
	require.Nil(t, st.Pending, "a settlement is not reversible")
	sale, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
	require.NoError(t, err)
	require.Equal(t, "000002", sale.Batch)
	require.Equal(t, "000002", h.next(t).Batch)
}

// settle95 answers the settlement 95 with the host's totals, then the
// trailer with after, and every other request 00.
func settle95(host, after wire.Totals, then hostScript) hostScript {
	return func(req *wire.Txn, seen int) *wire.Txn {
		switch {
		case req.MTI == "0500" && req.ProcessingCode == wire.PCSettle:
			resp := answer(req, "95")
			resp.Totals = &host
			return resp
		case req.MTI == "0500" && req.ProcessingCode == wire.PCSettleTrailer:
			resp := answer(req, "00")
			resp.Totals = &after
			return resp
		}
		return then(req, seen)
	}
}

func TestSettle_OutOfBalanceUploadsTheBatch(t *testing.T) {
	t.Parallel()
	host := wire.Totals{DebitCount: 2, DebitAmount: 3000}
	after := wire.Totals{DebitCount: 3, DebitAmount: 7000, CreditCount: 1, CreditAmount: 300}

	t.Run("one transaction a 0320 under iso87, then the trailer", func(t *testing.T) {
		t.Parallel()
		h := startScriptHost(t, settle95(host, after, approveAll))
		term := scriptTerminal(t, h)
		sent, counted := openBatch(t, h, term)
		res, err := term.Settle(t.Context())
		require.NoError(t, err)
		sr := res.Settlement
		require.False(t, sr.Balanced)
		require.Equal(t, len(counted), sr.Uploaded)
		require.Equal(t, openBatchTotals, sr.Terminal)
		require.Equal(t, &after, sr.Host, "the trailer's answer has the last word")

		require.Equal(t, "0500", h.next(t).MTI)
		for i, want := range counted {
			up := h.next(t)
			require.Equal(t, "0320", up.MTI, "upload %d", i+1)
			orig := sent[want.STAN]
			require.Equal(t, &wire.Original{MTI: orig.MTI, STAN: orig.STAN, TransmissionTime: orig.TransmissionTime,
				AcquirerID: "00000000000", ForwarderID: "00000000000"}, up.Original, "upload %d names its transaction", i+1)
			require.Equal(t, orig.ProcessingCode, up.ProcessingCode)
			require.Equal(t, orig.PAN, up.PAN)
			require.Equal(t, orig.Amount, up.Amount)
			require.Equal(t, want.RRN, up.RRN)
			require.Equal(t, want.AuthCode, up.AuthCode)
			require.NotEqual(t, orig.STAN, up.STAN, "an upload has a STAN of its own")
		}
		trailer := h.next(t)
		require.Equal(t, "0500", trailer.MTI)
		require.Equal(t, wire.PCSettleTrailer, trailer.ProcessingCode)
		require.Equal(t, &openBatchTotals, trailer.Totals)
		h.drained(t)
		require.Equal(t, 2, term.State().Batch)
		require.Empty(t, term.State().Log)
	})

	t.Run("an upload left unanswered leaves the batch open, to settle again", func(t *testing.T) {
		t.Parallel()
		h := startScriptHost(t, settle95(host, after, func(req *wire.Txn, seen int) *wire.Txn {
			if req.MTI == "0320" && seen == 1 {
				return hangUp
			}
			return answer(req, "00")
		}))
		term := scriptTerminal(t, h)
		openBatch(t, h, term)
		res, err := term.Settle(t.Context())
		require.ErrorIs(t, err, terminal.ErrNoResponse)
		require.Equal(t, terminal.NoResponse, res.Outcome)
		require.Equal(t, []string{"0500", "0320", "0320"}, h.nextMTIs(t, 3), "no trailer after a lost upload")
		st := term.State()
		require.Equal(t, 1, st.Batch, "the batch is still open")
		require.Len(t, st.Log, 7)

		res, err = term.Settle(t.Context())
		require.NoError(t, err)
		require.Equal(t, 4, res.Settlement.Uploaded, "all again")
		require.Equal(t, []string{"0500", "0320", "0320", "0320", "0320", "0500"}, h.nextMTIs(t, 6))
		h.drained(t)
		require.Equal(t, 2, term.State().Batch)
	})

	for _, tt := range []struct{ entries, messages int }{{8, 2}, {9, 3}} {
		t.Run(fmt.Sprintf("cup: %d transactions go in %d 0320s with the end of upload", tt.entries, tt.messages), func(t *testing.T) {
			t.Parallel()
			a := startAcquirer(t, acquirer.WithProfile(wire.CUP))
			term := newTerminal(t, a.Addr(), t.TempDir(), patient, func(c *terminal.Config) { c.Profile, c.AutoSignOn = wire.CUP, true })
			_, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
			require.NoError(t, err)
			require.NoError(t, term.Close())
			// sales the host never saw, in the terminal's log: out of balance
			dir := term.Config().StateDir
			st, err := terminal.ReadState(dir)
			require.NoError(t, err)
			for i := range tt.entries - 1 {
				e := st.Log[0]
				e.STAN, e.RRN = fmt.Sprintf("9%05d", i), ""
				st.Log = append(st.Log, e)
			}
			require.NoError(t, terminal.WriteState(dir, st))
			term, _ = restart(t, term)

			res, err := term.Settle(t.Context())
			require.NoError(t, err)
			require.False(t, res.Settlement.Balanced)
			require.Equal(t, tt.entries, res.Settlement.Uploaded)
			require.Equal(t, tt.messages, countKind(a, acquirer.KindIn, "0320"), "eight to a message, then the end of upload")
			settled := a.Engine().Snapshot().Settlements
			require.Len(t, settled, 1)
			require.Equal(t, tt.entries, settled[0].Uploaded, "the host read every one")
			require.Equal(t, 2, term.State().Batch)
		})
	}
}
