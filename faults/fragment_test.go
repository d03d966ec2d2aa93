package faults

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFragment_SendsTheWholeFrameInPieces(t *testing.T) {
	x := newFake()
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "raw 8", "raw 8", "raw 8"},
		playOn(t, "[process, {fragment: {parts: 3, gap: 1s}}]", x))
	full, _ := x.Frame(x.answer)
	require.Equal(t, full, bytes.Join(x.raw, nil))
}

func TestFragment_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[process, {fragment: {parts: -2}}]", "")[0], "must not be negative")
}

func TestFragment_DefaultsToTwoParts(t *testing.T) {
	x := newFake()
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "raw 12", "raw 12"}, playOn(t, "[process, fragment]", x))
	full, _ := x.Frame(x.answer)
	require.Equal(t, full, bytes.Join(x.raw, nil))
}

func TestFragment_AnAnswerThatCannotBeFramedIsJournalledNotSent(t *testing.T) {
	f, j := pipeline(t, "[process, fragment]")
	x := newFake()
	x.noFrame = true
	f.Serve(t.Context(), x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000"}, x.Events())
	require.Equal(t, "rule r: fragment: cannot encode", j.List(faultsOnly)[0].Detail)
}
