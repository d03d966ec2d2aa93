package faults

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTruncate_SendsTheFirstBytesOnly(t *testing.T) {
	x := newFake()
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "raw 5"}, playOn(t, "[process, {truncate: {bytes: 5}}]", x))
	require.Equal(t, "FRAME", string(x.raw[0]))
}

func TestTruncate_DefaultsToHalf(t *testing.T) {
	x := newFake()
	playOn(t, "[process, truncate]", x)
	full, _ := x.Frame(x.answer)
	require.Len(t, x.raw[0], len(full)/2)
}

func TestTruncate_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[process, {truncate: {bytes: -1}}]", "")[0], "must not be negative")
}
