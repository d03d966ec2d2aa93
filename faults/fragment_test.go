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
