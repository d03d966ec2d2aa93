package load

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func startEcho(t *testing.T, p wire.Profile) *Echo {
	t.Helper()
	e, err := StartEcho("127.0.0.1:0", p)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e
}

// echoFleets dials fleets of 1, 2, 3 ... terminals to an echo server: a
// result tells which fleet it is by its number of terminals.
func echoFleets(t *testing.T, n int) []*Fleet {
	t.Helper()
	e := startEcho(t, wire.ISO87)
	var out []*Fleet
	for i := range n {
		f, err := Dial(Options{Target: e.Addr(), Terminals: i + 1, SkipSignOn: true, TIDPrefix: string(rune('A' + i))})
		require.NoError(t, err)
		t.Cleanup(f.Close)
		out = append(out, f)
	}
	return out
}

// Alternate measures the fleets in rounds whose order turns round every
// other time, wraps only the measured runs (not the warm-ups), and returns
// the results in the fleets' order; an error ends it, and a cancelled
// context ends it after the round under way.
func TestAlternate(t *testing.T) {
	errStop := errors.New("stop")
	for _, tc := range []struct {
		name      string
		rounds    int
		stopAt    int // the measured run, from 1, at which around fails
		cancelAt  int // the measured run, from 1, after which ctx is cancelled
		wantOrder []int
		wantErr   error
	}{
		{name: "four rounds turn round every other time", rounds: 4, wantOrder: []int{0, 1, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0}},
		{name: "no rounds is one round", rounds: 0, wantOrder: []int{0, 1, 2}},
		{name: "an error ends the rounds at once", rounds: 4, stopAt: 5, wantOrder: []int{0, 1, 2, 2, 1}, wantErr: errStop},
		{name: "a cancelled context ends them after the round under way", rounds: 4, cancelAt: 4, wantOrder: []int{0, 1, 2, 2, 1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fleets := echoFleets(t, 3)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var order []int
			d := 10 * time.Millisecond * time.Duration(max(tc.rounds, 1))
			res, err := Alternate(ctx, fleets, d, 5*time.Millisecond, tc.rounds, func(i int, run func() error) error {
				order = append(order, i)
				if len(order) == tc.stopAt {
					return errStop
				}
				err := run()
				if len(order) == tc.cancelAt {
					cancel()
				}
				return err
			})
			require.Equal(t, tc.wantOrder, order)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Nil(t, res)
				return
			}
			require.NoError(t, err)
			require.Len(t, res, 3)
			for i, r := range res {
				require.Equal(t, i+1, r.Terminals, "results in the fleets' order")
				require.Positive(t, r.Duration)
				require.LessOrEqual(t, r.Duration, d.Seconds()+1e-9, "the measured rounds only, no warm-up")
			}
		})
	}
}

// Compare is Alternate of two: the first result is the first fleet's.
func TestCompare_ResultsInTheFleetsOrder(t *testing.T) {
	fleets := echoFleets(t, 2)
	ra, rb, err := Compare(t.Context(), fleets[0], fleets[1], 40*time.Millisecond, 0, 2)
	require.NoError(t, err)
	require.Equal(t, 1, ra.Terminals)
	require.Equal(t, 2, rb.Terminals)
	require.Positive(t, ra.Responses)
	require.Positive(t, rb.Responses)
}

// Measure reports the measured run, not the warm-up before it.
func TestMeasure_LeavesTheWarmupOut(t *testing.T) {
	f := echoFleets(t, 1)[0]
	r, err := Measure(t.Context(), f, 20*time.Millisecond, 100*time.Millisecond)
	require.NoError(t, err)
	require.Positive(t, r.Duration)
	require.LessOrEqual(t, r.Duration, 0.020)
}
