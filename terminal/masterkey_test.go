package terminal_test

import (
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// testTransportKey is a test transport key, not the master key.
const testTransportKey = "FEDCBA98765432100123456789ABCDEF"

// A terminal loaded with a transport key only (its configured master key
// is not the host's) downloads the master key (0800 60.3 350), keeps it,
// and signs on and sells with it, MACs verifying both ways; a host
// without a transport key refuses the download 40, and a terminal whose
// transport key is not the host's finds the check value wrong and keeps
// nothing.
func TestMasterKey_DownloadThenSignOnWithIt(t *testing.T) {
	t.Parallel()
	start := func(tk string) *acquirer.Acquirer {
		pol := acquirer.DefaultPolicies()
		pol.TransportKey = tk
		a, err := acquirer.New(acquirer.WithProfile(wire.CUP), acquirer.WithPolicies(pol))
		require.NoError(t, err)
		require.NoError(t, a.Listen("127.0.0.1:0"))
		t.Cleanup(func() { a.Close() })
		return a
	}
	config := func(tk string) func(*terminal.Config) {
		return func(c *terminal.Config) {
			c.Profile, c.AutoSignOn, c.TransportKey = wire.CUP, true, tk
			c.TMK = "11111111111111112222222222222222" // not the host's
			c.Timeout, c.ConnectTimeout = 5*time.Second, 5*time.Second
		}
	}
	ctx := t.Context()

	a := start(testTransportKey)
	term := newTerminal(t, a.Addr(), t.TempDir(), config(testTransportKey))
	res, err := term.Sale(ctx, terminal.Request{Amount: 100})
	require.ErrorIs(t, err, terminal.ErrInvalidResponse, "the configured master key opens nothing the host sends")
	require.Equal(t, terminal.InvalidResponse, res.Outcome)
	res, err = term.MasterKey(ctx)
	require.NoError(t, err)
	require.Equal(t, terminal.Approved, res.Outcome)
	res, err = term.Sale(ctx, terminal.Request{Amount: 100})
	require.NoError(t, err)
	require.Equal(t, terminal.Approved, res.Outcome, "signed on with the downloaded master key")

	wrong := newTerminal(t, a.Addr(), t.TempDir(), config("0123456789ABCDEF0123456789ABCDEF"))
	res, err = wrong.MasterKey(ctx)
	require.ErrorIs(t, err, terminal.ErrInvalidResponse)
	require.ErrorContains(t, err, "terminal master key")
	require.Equal(t, terminal.InvalidResponse, res.Outcome)

	none := start("")
	refused := newTerminal(t, none.Addr(), t.TempDir(), config(testTransportKey))
	res, _ = refused.MasterKey(ctx)
	require.Equal(t, terminal.Declined, res.Outcome)
	require.Equal(t, "40", res.ResponseCode)

	noKey := newTerminal(t, a.Addr(), t.TempDir(), config(""))
	_, err = noKey.MasterKey(ctx)
	require.ErrorIs(t, err, terminal.ErrInvalidRequest)
}
