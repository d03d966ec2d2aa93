package faults

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMutate_AfterProcessCorruptsTheAnswer(t *testing.T) {
	x := newFake()
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000043"}, playOn(t, "[process, {mutate: [stan, amount]}]", x))
	require.Equal(t, int64(1001), x.sent[0].Amount)
	require.Equal(t, "000042", x.req.STAN, "the request is untouched")
}

func TestMutate_BeforeProcessCorruptsWhatTheHostReceives(t *testing.T) {
	x := newFake()
	require.Equal(t, "process 0200 stan 000042 amount 1001", playOn(t, "[{mutate: amount}, process]", x)[0])
}

func TestMutate_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[process, {mutate: [colour]}]", "")[0], `unknown field "colour"`)
	require.Contains(t, checkPipeline(t, "[{mutate: [rrn]}, process]", "")[0], "mutate rrn before process would corrupt the request")
	require.Empty(t, checkPipeline(t, "[{mutate: [amount]}, process]", ""))
}
