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

func TestTruncate_MoreBytesThanTheFrameHasSendsHalf(t *testing.T) {
	x := newFake()
	playOn(t, "[process, {truncate: {bytes: 1000}}]", x)
	full, _ := x.Frame(x.answer)
	require.Equal(t, full[:len(full)/2], x.raw[0])
}

func TestTruncate_AnAnswerThatCannotBeFramedIsJournalledNotSent(t *testing.T) {
	f, j := pipeline(t, "[process, truncate]")
	x := newFake()
	x.noFrame = true
	f.Serve(t.Context(), x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000"}, x.Events())
	require.Equal(t, "rule r: truncate: cannot encode", j.List(faultsOnly)[0].Detail)
}
