package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/store"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// host is an acquirer keeping its books in dir.
type host struct {
	a *acquirer.Acquirer
	s *store.Store
	n int // ops replayed at start
}

func start(t *testing.T, dir string, p wire.Profile) *host {
	t.Helper()
	j := acquirer.NewRingJournal(1000)
	a, err := acquirer.New(acquirer.WithProfile(p), acquirer.WithJournal(j))
	require.NoError(t, err)
	s, err := store.Open(dir, store.SyncNormal)
	require.NoError(t, err)
	n, err := s.Replay(a.Engine())
	require.NoError(t, err)
	require.NoError(t, s.KeepJournal(j))
	a.Engine().SetChangeLog(s)
	require.NoError(t, a.Listen("127.0.0.1:0"))
	h := &host{a: a, s: s, n: n}
	t.Cleanup(func() { h.stop() })
	return h
}

func (h *host) stop() {
	h.a.Close()
	h.s.Close()
}

func books(t *testing.T, e *acquirer.Engine) string {
	t.Helper()
	data, err := json.Marshal(struct {
		L acquirer.Snapshot
		D []acquirer.Dispute
		B []acquirer.Line
	}{e.Snapshot(), e.Disputes(), e.Lines()})
	require.NoError(t, err)
	return string(data)
}

func newTerminal(t *testing.T, p wire.Profile, addr, state string) *terminal.Terminal {
	t.Helper()
	cfg := terminal.DefaultConfig()
	cfg.Host, cfg.Profile, cfg.StateDir, cfg.Timeout = addr, p, state, 5*time.Second
	cfg.AutoSignOn = p.Capabilities().WorkingKeys
	term, err := terminal.New(cfg)
	require.NoError(t, err)
	return term
}

// A host restarted on its data directory continues where it stopped: the
// same books, a void and a refund of sales made before the restart, no
// RRN reissued and, under cup, the terminal's working keys still good.
func TestStore_RestartContinuesTheBooks(t *testing.T) {
	for _, p := range []wire.Profile{wire.ISO87, wire.CUP} {
		t.Run(p.Name(), func(t *testing.T) {
			dir, state := t.TempDir(), t.TempDir()
			ctx := context.Background()
			h := start(t, dir, p)
			term := newTerminal(t, p, h.a.Addr(), state)
			var rrns []string
			for _, amt := range []int64{1000, 2500, 999} {
				r, err := term.Sale(ctx, terminal.Request{Card: "approve", Amount: amt})
				require.NoError(t, err)
				rrns = append(rrns, r.RRN)
			}
			_, err := term.Sale(ctx, terminal.Request{Card: "insufficient-funds", Amount: 100})
			require.Error(t, err)
			r, err := term.Refund(ctx, terminal.Request{Card: "approve", Amount: 500, RRN: rrns[1]})
			require.NoError(t, err)
			require.Equal(t, terminal.Approved, r.Outcome)
			before := books(t, h.a.Engine())
			term.Close()

			inBefore := len(h.a.Journal().List(acquirer.Filter{Kind: acquirer.KindIn}))
			h.stop()
			h = start(t, dir, p)
			require.Positive(t, h.n)
			require.Len(t, h.a.Journal().List(acquirer.Filter{Kind: acquirer.KindIn}), inBefore, "the journal came back")
			require.Equal(t, before, books(t, h.a.Engine()), "the same books after the restart")
			term = newTerminal(t, p, h.a.Addr(), state)
			defer term.Close()
			v, err := term.Void(ctx, terminal.Request{Card: "approve", RRN: rrns[0]})
			require.NoError(t, err, "a sale of before the restart can be voided")
			require.Equal(t, terminal.Approved, v.Outcome)
			s, err := term.Sale(ctx, terminal.Request{Card: "approve", Amount: 100})
			require.NoError(t, err)
			require.NotContains(t, rrns, s.RRN, "no RRN reissued")
			require.Greater(t, s.RRN, rrns[len(rrns)-1])
		})
	}
}

func TestStore_RefusesANewerSchema(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir, "")
	require.NoError(t, err)
	require.NoError(t, s.Close())
	db, err := sql.Open("sqlite", filepath.Join(dir, store.File))
	require.NoError(t, err)
	_, err = db.Exec(`PRAGMA user_version = 99`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, err = store.Open(dir, "")
	require.ErrorContains(t, err, "schema version 99")
	_, err = store.Open(t.TempDir(), "sometimes")
	require.ErrorContains(t, err, `data sync "sometimes"`)
}

func TestStore_AppendAfterCloseFails(t *testing.T) {
	s, err := store.Open(t.TempDir(), "")
	require.NoError(t, err)
	wait := s.Append(acquirer.Change{Kind: acquirer.ChangeReset})
	require.NoError(t, wait())
	require.NoError(t, s.Close())
	require.ErrorIs(t, s.Append(acquirer.Change{Kind: acquirer.ChangeReset})(), store.ErrClosed)
}
