package acquirer

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRingJournal_KeepsNewest(t *testing.T) {
	j := NewRingJournal(3)
	var seen []int64
	j.OnAppend(func(e Entry) { seen = append(seen, e.Seq) })
	for i := 1; i <= 7; i++ {
		kind := KindIn
		if i%2 == 0 {
			kind = KindOut
		}
		j.Append(Entry{Kind: kind, STAN: strconv.Itoa(i)})
	}
	require.Equal(t, 3, j.Len())
	var stans []string
	for _, e := range j.List(Filter{}) {
		stans = append(stans, e.STAN)
	}
	require.Equal(t, []string{"5", "6", "7"}, stans, "oldest first, the oldest dropped")
	require.Len(t, j.List(Filter{Kind: KindIn}), 2)
	require.Equal(t, []int64{1, 2, 3, 4, 5, 6, 7}, seen, "every append is notified")

	j.Reset()
	require.Empty(t, j.List(Filter{}))
	e := j.Append(Entry{Kind: KindIn})
	require.Equal(t, int64(8), e.Seq, "sequence numbers continue after a reset")
}

func TestMemJournal_Unbounded(t *testing.T) {
	j := NewMemJournal()
	for range 1000 {
		j.Append(Entry{Kind: KindIn})
	}
	require.Equal(t, 1000, j.Len())
	require.Zero(t, j.Max())
	require.Equal(t, 5, NewRingJournal(5).Max())
}

// A filter's empty fields match everything; the others must all match.
func TestFilter_EveryFieldMustMatch(t *testing.T) {
	e := Entry{Kind: KindIn, TID: "T1", STAN: "000001", MTI: "0200", MID: "M1"}
	for _, c := range []struct {
		f    Filter
		want bool
	}{
		{Filter{}, true},
		{Filter{Kind: KindIn}, true},
		{Filter{Kind: KindOut}, false},
		{Filter{TID: "T1", STAN: "000001", MTI: "0200", Kind: KindIn}, true},
		{Filter{TID: "T2"}, false},
		{Filter{STAN: "000002"}, false},
		{Filter{MTI: "0210"}, false},
		{Filter{TID: "T1", MTI: "0400"}, false},
		{Filter{TID: "t1"}, false},
	} {
		require.Equal(t, c.want, c.f.match(e), "%+v", c.f)
	}
}

// A ring that wrapped lists the entries a filter keeps, oldest first,
// however far the head has gone round.
func TestRingJournal_FiltersAcrossTheWrap(t *testing.T) {
	j := NewRingJournal(4)
	for i := 1; i <= 10; i++ {
		tid := "T1"
		if i%2 == 0 {
			tid = "T2"
		}
		j.Append(Entry{Kind: KindIn, TID: tid, STAN: strconv.Itoa(i)})
		var want []int64
		for s := max(1, i-3); s <= i; s++ {
			if s%2 == 1 {
				want = append(want, int64(s))
			}
		}
		var got []int64
		for _, e := range j.List(Filter{TID: "T1"}) {
			got = append(got, e.Seq)
		}
		require.Equal(t, want, got, "after %d entries", i)
	}
}

// Restore brings back the newest entries kept by an earlier run: a ring
// takes its newest Max, and the sequence goes on after the last.
func TestMemJournal_Restore(t *testing.T) {
	kept := make([]Entry, 6)
	for i := range kept {
		kept[i] = Entry{Seq: int64(41 + i), Kind: KindIn, STAN: strconv.Itoa(41 + i)}
	}
	j := NewRingJournal(4)
	j.Restore(kept)
	var stans []string
	for _, e := range j.List(Filter{}) {
		stans = append(stans, e.STAN)
	}
	require.Equal(t, []string{"43", "44", "45", "46"}, stans)
	require.Equal(t, int64(47), j.Append(Entry{Kind: KindOut}).Seq)
	require.Equal(t, 4, j.Len(), "the ring still holds four")
	require.Equal(t, "44", j.List(Filter{})[0].STAN, "the oldest restored one dropped")

	all := NewMemJournal()
	all.Restore(kept)
	require.Len(t, all.List(Filter{}), 6)
	require.Equal(t, int64(47), all.Append(Entry{}).Seq)

	none := NewMemJournal()
	none.Restore(nil)
	require.Equal(t, int64(1), none.Append(Entry{}).Seq)
}

// A durable store sees every entry (after the sequence number is given)
// and forgets what it kept when the journal is reset.
func TestMemJournal_OnKeepAndForget(t *testing.T) {
	j := NewRingJournal(2)
	var kept []int64
	forgot := 0
	j.OnKeep(func(e Entry) { kept = append(kept, e.Seq) }, func() { forgot++ })
	notified := 0
	j.OnAppend(func(Entry) { notified++ })
	for range 3 {
		j.Append(Entry{Kind: KindIn})
	}
	require.Equal(t, []int64{1, 2, 3}, kept, "the store keeps what the ring drops")
	require.Equal(t, 3, notified)
	j.Reset()
	require.Equal(t, 1, forgot)
	j.OnAppend(nil)
	j.Append(Entry{})
	require.Equal(t, 3, notified, "a removed observer is not called")
	require.Equal(t, []int64{1, 2, 3, 4}, kept)
}
