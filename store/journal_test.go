package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// keep opens dir and makes a journal of size n that keeps its entries
// there, restored from what the directory holds.
func keep(t *testing.T, dir string, n int) (*acquirer.MemJournal, func()) {
	t.Helper()
	s := open(t, dir)
	j := acquirer.NewRingJournal(n)
	require.NoError(t, s.KeepJournal(j))
	return j, func() { require.NoError(t, s.Close()) }
}

func entry(i int) acquirer.Entry {
	return acquirer.Entry{
		Time: t0.Add(time.Duration(i) * time.Second), Kind: acquirer.KindIn, Conn: "c1", MTI: "0200", Op: "sale",
		STAN: fmt.Sprintf("%06d", i), TID: "T1", MID: "M1", PAN: "620000******0005", Amount: wire.Money(1000 + i),
		RC: "00", RRN: fmt.Sprintf("%012d", i), MAC: i%2 == 0, Detail: "détail 详情", RecordID: int64(i),
	}
}

func TestStore_JournalRoundTrips(t *testing.T) {
	dir := t.TempDir()
	j, closeStore := keep(t, dir, 100)
	for i := 1; i <= 5; i++ {
		j.Append(entry(i))
	}
	written := j.List(acquirer.Filter{})
	require.Len(t, written, 5)
	closeStore()

	j, closeStore = keep(t, dir, 100)
	require.Equal(t, written, j.List(acquirer.Filter{}), "every field, in order")
	require.Equal(t, int64(6), j.Append(entry(6)).Seq, "sequence numbers continue")
	closeStore()

	t.Run("a smaller journal takes the newest entries", func(t *testing.T) {
		j, closeStore := keep(t, dir, 3)
		defer closeStore()
		var seqs []int64
		for _, e := range j.List(acquirer.Filter{}) {
			seqs = append(seqs, e.Seq)
		}
		require.Equal(t, []int64{4, 5, 6}, seqs)
	})
}

// A journal reset forgets what the directory kept: the next start
// restores only what came after it.
func TestStore_JournalResetForgets(t *testing.T) {
	dir := t.TempDir()
	j, closeStore := keep(t, dir, 100)
	for i := 1; i <= 3; i++ {
		j.Append(entry(i))
	}
	closeStore()

	j, closeStore = keep(t, dir, 100)
	require.Equal(t, 3, j.Len())
	j.Reset()
	j.Append(entry(4))
	closeStore()

	j, closeStore = keep(t, dir, 100)
	defer closeStore()
	got := j.List(acquirer.Filter{})
	require.Len(t, got, 1)
	require.Equal(t, "000004", got[0].STAN)
	require.Equal(t, int64(4), got[0].Seq, "numbers are not reused after a reset")
}

// A journal kept by a closed directory stays usable in memory: a late
// entry costs a journal line, never a panic.
func TestStore_JournalAfterClose(t *testing.T) {
	j, closeStore := keep(t, t.TempDir(), 10)
	closeStore()
	require.NotPanics(t, func() {
		for i := range 3 {
			j.Append(entry(i))
		}
		j.Reset()
		j.Append(entry(3))
	})
	require.Equal(t, 1, j.Len())
}
