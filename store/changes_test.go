package store_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/store"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func open(t *testing.T, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(dir, store.SyncNormal)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func engine(t *testing.T) *acquirer.Engine {
	t.Helper()
	e, err := acquirer.NewEngine(cards.Builtin(), acquirer.DefaultPolicies())
	require.NoError(t, err)
	return e
}

func sale(stan int, pan string, amount int64) *wire.Txn {
	return &wire.Txn{MTI: "0200", Op: wire.OpSale, ProcessingCode: wire.PCPurchase, PAN: pan, Amount: amount, HasAmount: true,
		STAN: fmt.Sprintf("%06d", stan), TransmissionTime: "1122100000", TID: "T1", MID: "M1", Currency: "156"}
}

// within waits for wait, at most a few seconds.
func within(t *testing.T, wait func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("still waiting for the change to be kept")
		return nil
	}
}

// exec runs a statement on the store's database from a connection of its
// own, as another process would.
func exec(t *testing.T, dir, query string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, store.File))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(query, args...)
	require.NoError(t, err)
}

// An engine rebuilt from a reopened directory has the books of the one
// that made the changes: each change kept once, in order, and the
// numbering continues after a restart.
func TestStore_ReopenReplaysExactlyTheChanges(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	first := engine(t)
	first.SetChangeLog(s)
	for i, pan := range []string{"6200000000000005", "6200000000000104", "6200000000000203", "6200000000000005"} {
		d := first.Decide(sale(i+1, pan, 2500), t0.Add(time.Duration(i)*time.Minute))
		require.NoError(t, d.Durable())
	}
	require.Equal(t, int64(4), s.Ops())
	require.NoError(t, s.Close())

	s = open(t, dir)
	require.Equal(t, int64(4), s.Ops())
	second := engine(t)
	n, err := s.Replay(second)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	require.Equal(t, books(t, first), books(t, second))

	second.SetChangeLog(s)
	require.NoError(t, second.Decide(sale(5, "6200000000000005", 100), t0.Add(time.Hour)).Durable())
	first.SetChangeLog(nil)
	first.Decide(sale(5, "6200000000000005", 100), t0.Add(time.Hour))
	require.NoError(t, s.Close())

	s = open(t, dir)
	third := engine(t)
	n, err = s.Replay(third)
	require.NoError(t, err)
	require.Equal(t, 5, n, "the change after the restart is kept as the fifth")
	require.Equal(t, books(t, first), books(t, third))
}

func TestStore_CloseCommitsWhatIsQueued(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir, store.SyncFull)
	require.NoError(t, err)
	var waits []func() error
	for i := range 300 {
		waits = append(waits, s.Append(acquirer.Change{Kind: acquirer.ChangeAdvance, At: t0.Add(time.Duration(i) * time.Second)}))
	}
	require.NoError(t, s.Close())
	for i, wait := range waits {
		require.NoError(t, within(t, wait), "change %d", i)
	}
	require.NoError(t, s.Close(), "a second Close is harmless")
	require.ErrorIs(t, s.Append(acquirer.Change{Kind: acquirer.ChangeReset})(), store.ErrClosed)

	s = open(t, dir)
	require.Equal(t, int64(300), s.Ops())
	n, err := s.Replay(engine(t))
	require.NoError(t, err)
	require.Equal(t, 300, n)
}

// Terminals append from their own goroutines: every change is kept once.
func TestStore_ConcurrentAppends(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	const writers, each = 8, 40
	errs := make(chan error, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- s.Append(acquirer.Change{Kind: acquirer.ChangeAdvance, At: t0.Add(time.Duration(w*each+i) * time.Second)})()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int64(writers*each), s.Ops())
	require.NoError(t, s.Close())
	s = open(t, dir)
	n, err := s.Replay(engine(t))
	require.NoError(t, err)
	require.Equal(t, writers*each, n)
}

// Once a commit fails the books in memory run ahead of the disk: the
// store refuses every later change rather than keep a hole.
func TestStore_ACommitFailureStopsTheStore(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	require.NoError(t, s.Append(acquirer.Change{Kind: acquirer.ChangeReset})())
	// another writer takes the next change's number
	exec(t, dir, `INSERT INTO ops (first, last, body) VALUES (2, 2, '')`)
	err := s.Append(acquirer.Change{Kind: acquirer.ChangeReset})()
	require.ErrorContains(t, err, "data directory "+dir)
	later := s.Append(acquirer.Change{Kind: acquirer.ChangeReset})()
	require.Equal(t, err, later, "every later change fails with the first failure")
}

func TestStore_ReplayNamesTheDataDirectoryOfABadRow(t *testing.T) {
	for _, tc := range []struct{ name, body, msg string }{
		{"a row that is not JSON", `{"kind": "reset"`, "op 2 does not read"},
		{"a change of an unknown kind", `{"kind": "mystery"}`, `op 2: change cannot be replayed: unknown kind "mystery"`},
		{"a decision without its request", `{"kind": "decide"}`, "op 2: change cannot be replayed: decide without a request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir)
			require.NoError(t, s.Append(acquirer.Change{Kind: acquirer.ChangeReset})())
			require.NoError(t, s.Close())
			exec(t, dir, `INSERT INTO ops (first, last, body) VALUES (2, 2, ?)`, []byte(tc.body))

			s = open(t, dir)
			n, err := s.Replay(engine(t))
			require.ErrorContains(t, err, "data directory "+dir+": "+tc.msg)
			require.Equal(t, 1, n, "the good change before it was applied")
		})
	}
}

func TestOpen_Refuses(t *testing.T) {
	t.Run("a data directory that is a file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(path, nil, 0o600))
		_, err := store.Open(path, "")
		require.ErrorContains(t, err, "data directory")
	})
	t.Run("a database file that is not SQLite", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, store.File), []byte("not a database, not at all, but long enough to look"), 0o600))
		_, err := store.Open(dir, "")
		require.ErrorContains(t, err, "data directory "+dir)
	})
}

func TestOpen_KeepsTheFilesPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := open(t, dir)
	require.Equal(t, dir, s.Dir())
	st, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), st.Mode().Perm())
	st, err = os.Stat(filepath.Join(dir, store.File))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the books hold masked PANs and working keys")
}

func TestStore_Meta(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	v, err := s.Meta("profile")
	require.NoError(t, err)
	require.Empty(t, v, "not set")
	require.NoError(t, s.SetMeta("profile", "iso87"))
	require.NoError(t, s.SetMeta("profile", "cup"))
	require.NoError(t, s.Close())
	s = open(t, dir)
	v, err = s.Meta("profile")
	require.NoError(t, err)
	require.Equal(t, "cup", v, "the last value, after a restart")
}

func TestExport(t *testing.T) {
	e := engine(t)
	e.Decide(sale(1, "6200000000000005", 1234), t0)
	data, err := store.Export(e)
	require.NoError(t, err)
	var out struct {
		Exported time.Time         `json:"exported"`
		Ledger   acquirer.Snapshot `json:"ledger"`
		Lines    []acquirer.Line   `json:"lines"`
		Disputes json.RawMessage   `json:"disputes"`
	}
	require.NoError(t, json.Unmarshal(data, &out))
	require.WithinDuration(t, time.Now(), out.Exported, time.Minute)
	require.Len(t, out.Ledger.Records, 1)
	want, err := json.Marshal(e.Snapshot())
	require.NoError(t, err)
	got, err := json.Marshal(out.Ledger)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got))
}
