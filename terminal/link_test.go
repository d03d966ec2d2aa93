package terminal_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/terminal"
	"github.com/stretchr/testify/require"
)

// answerAndClose is a host that answers each request and closes the
// connection at once, as many hosts do.
var answerAndClose = acquirer.HandlerFunc(func(_ context.Context, x *acquirer.Exchange) {
	if resp := x.Process(); resp != nil {
		_ = x.Respond(resp)
	}
	x.Conn.Close()
})

func TestTerminal_ReadsTheAnswerWrittenBeforeTheHostClosed(t *testing.T) {
	ctx := t.Context()
	a := startAcquirer(t, acquirer.WithHandler(answerAndClose))
	term := newTerminal(t, a.Addr(), t.TempDir())
	for i := range 10 {
		res, err := term.Sale(ctx, terminal.Request{Amount: 100})
		require.NoError(t, err, "sale %d", i+1)
		require.Equal(t, terminal.Approved, res.Outcome)
		require.False(t, res.ReversalPending)
		require.Empty(t, res.ReversalsSent)
	}
	require.Nil(t, term.State().Pending)
	require.Len(t, term.State().Log, 10)
	require.Empty(t, a.Journal().List(acquirer.Filter{Kind: acquirer.KindIn, MTI: "0400"}), "nothing reversed")
}

func TestTerminal_ReversalAttemptCountsOnlyWhenSent(t *testing.T) {
	t.Parallel() // the second case waits out answerTimeout
	t.Run("the host goes down: the reversal stays pending, no attempt counted", func(t *testing.T) {
		ctx := t.Context()
		a := startAcquirer(t, acquirer.WithHandler(cutFirst("0200", 1)))
		term := newTerminal(t, a.Addr(), t.TempDir(), func(c *terminal.Config) { c.ReversalRetries = 0 })
		_, err := term.Sale(ctx, terminal.Request{Amount: 100})
		require.ErrorIs(t, err, terminal.ErrNoResponse)
		a.Pause()
		res, err := term.Sale(ctx, terminal.Request{Amount: 100})
		require.ErrorIs(t, err, terminal.ErrRefused)
		require.True(t, res.ReversalPending)
		require.False(t, res.ReversalDropped)
		require.Empty(t, res.ReversalsSent)
		require.Zero(t, term.State().Pending.Attempts)

		require.NoError(t, a.Resume())
		res, err = term.Sale(ctx, terminal.Request{Amount: 100})
		require.NoError(t, err)
		require.Len(t, res.ReversalsSent, 1)
		require.Equal(t, "00", res.ReversalsSent[0].ResponseCode)
	})
	t.Run("down and up again: the reversal goes out on a new connection", func(t *testing.T) {
		// the answer is lost, not cut: the terminal times out and keeps
		// its connection, which the host's restart then drops
		ctx := t.Context()
		a := startAcquirer(t, acquirer.WithHandler(dropFirst("0200", 1)))
		term := newTerminal(t, a.Addr(), t.TempDir(), func(c *terminal.Config) { c.ReversalRetries = 0 })
		_, err := term.Sale(ctx, terminal.Request{Amount: 100})
		require.ErrorIs(t, err, terminal.ErrNoResponse)
		a.Pause() // drops the terminal's connection
		require.NoError(t, a.Resume())
		res, err := term.Sale(ctx, terminal.Request{Amount: 100})
		require.NoError(t, err)
		require.Len(t, res.ReversalsSent, 1)
		require.False(t, res.ReversalDropped)
		require.Len(t, a.Journal().List(acquirer.Filter{Kind: acquirer.KindIn, MTI: "0400"}), 1, "the host saw the 0400")
		recs := a.Engine().Snapshot().Records
		require.Equal(t, acquirer.StatusReversed, recs[0].Status)
	})
}

func TestTerminal_ClearsTheRecordAndLogsTheSaleInOneSave(t *testing.T) {
	ctx := t.Context()
	a := startAcquirer(t)
	term := newTerminal(t, a.Addr(), t.TempDir())
	var saved []terminal.State
	terminal.OnSave(term, func(s terminal.State) { saved = append(saved, s) })
	res, err := term.Sale(ctx, terminal.Request{Amount: 100})
	require.NoError(t, err)
	sent := false
	for i, s := range saved {
		pending := s.Pending != nil && s.Pending.Request.STAN == res.STAN
		logged := slices.ContainsFunc(s.Log, func(e terminal.LogEntry) bool { return e.STAN == res.STAN })
		sent = sent || pending
		require.False(t, sent && !pending && !logged, "save %d leaves the approved sale neither pending nor logged", i+1)
	}
	require.True(t, sent)
}

func TestTerminal_StateDirectory(t *testing.T) {
	t.Run("a second terminal on the same directory is refused", func(t *testing.T) {
		dir := t.TempDir()
		cfg := terminal.DefaultConfig()
		cfg.StateDir = dir
		first, err := terminal.New(cfg)
		require.NoError(t, err)
		_, err = terminal.New(cfg)
		require.ErrorIs(t, err, terminal.ErrStateLocked)
		require.ErrorContains(t, err, filepath.Join(dir, "lock"))
		require.NoError(t, first.Close())
		again, err := terminal.New(cfg)
		require.NoError(t, err, "free again once the first closed")
		require.NoError(t, again.Close())
	})
	t.Run("temporary files a crash left are removed", func(t *testing.T) {
		dir := t.TempDir()
		stale := filepath.Join(dir, ".state-123456")
		require.NoError(t, os.WriteFile(stale, []byte("{half"), 0o600))
		cfg := terminal.DefaultConfig()
		cfg.StateDir = dir
		term, err := terminal.New(cfg)
		require.NoError(t, err)
		defer term.Close()
		require.NoFileExists(t, stale)
	})
}
