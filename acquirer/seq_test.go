package acquirer

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// A seq holds what a slice would, whatever is pushed and dropped.
func TestSeq_ActsAsASlice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s seq[int]
		var want []int
		next := 0
		for range rapid.IntRange(0, 60).Draw(t, "steps") {
			if rapid.Bool().Draw(t, "push") {
				for range rapid.IntRange(1, 3*seqBlock).Draw(t, "pushes") {
					s.push(next)
					want = append(want, next)
					next++
				}
			} else {
				k := rapid.IntRange(0, len(want)+2).Draw(t, "drop")
				s.dropFront(k)
				want = want[min(k, len(want)):]
			}
			if s.len() != len(want) {
				t.Fatalf("len %d, want %d", s.len(), len(want))
			}
			if got := slices.Collect(s.all()); !slices.Equal(got, want) && len(want) > 0 {
				t.Fatalf("all: %v, want %v", got[:min(5, len(got))], want[:min(5, len(want))])
			}
			back := slices.Collect(s.backward())
			slices.Reverse(back)
			if !slices.Equal(back, want) && len(want) > 0 {
				t.Fatal("backward is not all reversed")
			}
			if len(s.blocks) > len(want)/seqBlock+2 {
				t.Fatalf("%d blocks for %d values: emptied blocks kept", len(s.blocks), len(want))
			}
		}
	})
	var none *seq[int64]
	if none.len() != 0 || len(slices.Collect(none.backward())) != 0 {
		t.Fatal("a nil seq holds nothing")
	}
}

func TestDropID_Anywhere(t *testing.T) {
	var s seq[int64]
	for i := range int64(5) {
		s.push(i + 1)
	}
	dropID(&s, 1)
	dropID(&s, 4)
	dropID(&s, 9)
	if got := slices.Collect(s.all()); !slices.Equal(got, []int64{2, 3, 5}) {
		t.Fatal(got)
	}
}
