package faults

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDiscard_TheHostNeverSeesIt(t *testing.T) {
	require.Empty(t, playOn(t, "[discard]", newFake()))
}

func TestDiscard_AfterProcessIsRefused(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[process, discard]", "")[0], "use no_response")
}

func TestDiscard_TheRuleFiresAndNothingElseHappens(t *testing.T) {
	f, j := pipeline(t, "[discard]")
	x := newFake()
	f.Serve(t.Context(), x)
	require.Empty(t, x.Events())
	require.Equal(t, "rule r: request discarded", j.List(faultsOnly)[0].Detail)
	st := f.Stats()[0]
	require.True(t, st.Drops, "the terminal waits for its timeout")
	require.Equal(t, 1, st.Fired)
}
