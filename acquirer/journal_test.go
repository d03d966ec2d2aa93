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
