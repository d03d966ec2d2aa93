package terminal_test

import (
	"context"
	"testing"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func dialect(p wire.Profile) func(*terminal.Config) {
	return func(c *terminal.Config) {
		c.Profile = p
		c.AutoSignOn = p.Capabilities().WorkingKeys
	}
}

// An offline sale is in the batch as soon as the terminal approves it; its
// advice books it at the host, which cannot decline it, and the batch
// settles balanced.
func TestOfflineSale_AnsweredIsBookedAndSettles(t *testing.T) {
	t.Parallel()
	for _, p := range []wire.Profile{wire.ISO87, wire.CUP} {
		t.Run(p.Name(), func(t *testing.T) {
			a := startAcquirer(t, acquirer.WithProfile(p))
			term := newTerminal(t, a.Addr(), t.TempDir(), patient, dialect(p))
			before := balance(t, a, "approve")
			res, err := term.OfflineSale(t.Context(), terminal.Request{Amount: 8800})
			require.NoError(t, err)
			require.Equal(t, terminal.Approved, res.Outcome)
			require.False(t, res.ReversalPending, "an advice is never reversed")
			require.NotNil(t, res.Receipt)
			require.Equal(t, "OFFLINE SALE", res.Receipt.Type)
			require.Equal(t, before-8800, balance(t, a, "approve"))
			st := term.State()
			require.Len(t, st.Log, 1)
			require.Equal(t, wire.OpOfflineSale, st.Log[0].Op)
			set, err := term.Settle(t.Context())
			require.NoError(t, err)
			require.True(t, set.Settlement.Balanced)
			require.Equal(t, 1, set.Settlement.Terminal.DebitCount+set.Settlement.Terminal.ForeignDebitCount)
		})
	}
}

// 离线交易未入账: an offline sale whose advice never reaches the host is
// retransmitted (0221) and never reversed; it stays in the terminal's batch,
// so the settlement is out of balance, the batch upload carries it, and
// the host finds it in the terminal's figures alone. The card was never
// debited: the merchant is not paid for goods already handed over.
func TestOfflineSale_LostAdviceIsTheTerminalsAlone(t *testing.T) {
	t.Parallel()
	for _, p := range []wire.Profile{wire.ISO87, wire.CUP} {
		t.Run(p.Name(), func(t *testing.T) {
			lose := acquirer.HandlerFunc(func(ctx context.Context, x *acquirer.Exchange) {
				if x.Request.MTI == "0220" || x.Request.MTI == "0221" {
					return // the advice never reaches the host's books
				}
				acquirer.DefaultHandler.Handle(ctx, x)
			})
			a := startAcquirer(t, acquirer.WithProfile(p), acquirer.WithHandler(lose))
			dir := t.TempDir()
			term := newTerminal(t, a.Addr(), dir, giveUpSoon, dialect(p))
			before := balance(t, a, "approve")
			res, err := term.OfflineSale(t.Context(), terminal.Request{Amount: 8800})
			require.ErrorIs(t, err, terminal.ErrNoResponse)
			require.Equal(t, terminal.NoResponse, res.Outcome)
			require.False(t, res.ReversalPending, "an advice is never reversed")
			require.Empty(t, res.ReversalsSent)
			require.Equal(t, "OFFLINE SALE", res.Receipt.Type, "the slip is the offline approval's")
			var sent []string
			for _, e := range a.Journal().List(acquirer.Filter{Kind: acquirer.KindIn}) {
				if e.MTI == "0220" || e.MTI == "0221" {
					sent = append(sent, e.MTI)
				}
			}
			require.Equal(t, []string{"0220", "0221", "0221", "0221"}, sent, "sent, then repeated three times (R11)")
			require.Equal(t, before, balance(t, a, "approve"), "never booked, never debited")
			stan := term.State().Log[0].STAN

			term, _ = restart(t, term, patient, dialect(p))
			set, err := term.Settle(t.Context())
			require.NoError(t, err)
			require.False(t, set.Settlement.Balanced)
			require.Equal(t, 1, set.Settlement.Uploaded, "the upload carries it")
			settles := a.Engine().Snapshot().Settlements
			require.NotEmpty(t, settles)
			d := settles[len(settles)-1].Discrepancies
			require.Len(t, d, 1)
			require.Equal(t, "terminal_only", d[0].Kind)
			require.Equal(t, stan, d[0].STAN)
			require.Equal(t, int64(8800), d[0].TerminalAmount)
		})
	}
}
