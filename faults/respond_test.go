package faults

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRespond_OverridesTheProcessedAnswer(t *testing.T) {
	x := newFake()
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 05 stan 000042"}, playOn(t, `[process, {respond: {de39: "05"}}]`, x))
	require.Equal(t, "000000000007", x.sent[0].RRN, "the host's RRN stays")
}

func TestRespond_WithoutProcessBooksNothing(t *testing.T) {
	require.Equal(t, []string{"respond 0210 51 stan 000042"}, playOn(t, `[{respond: {de39: "51"}}]`, newFake()))
}

func TestRespond_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, `[{respond: {de40: "1"}}]`, "")[0], `unknown field "de40"`)
	require.Contains(t, checkPipeline(t, `[respond]`, "")[0], "responds without process")
	require.Empty(t, checkPipeline(t, `[process, respond]`, ""))
}
