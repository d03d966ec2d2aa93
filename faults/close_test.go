package faults

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClose_BeforeRespondCutsWithoutAnAnswer(t *testing.T) {
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "close"}, playOn(t, "[process, close]", newFake()))
}

func TestClose_AfterRespondAnswersThenResets(t *testing.T) {
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042", "reset"},
		playOn(t, "[process, {close: {at: after_respond, mode: rst}}]", newFake()))
}

func TestClose_OnReceiveNeverReachesTheHost(t *testing.T) {
	require.Equal(t, []string{"close"}, playOn(t, "[{close: {at: on_receive}}]", newFake()))
}

func TestClose_OnReceiveAfterProcessIsRefused(t *testing.T) {
	errs := checkPipeline(t, "[process, {close: {at: on_receive}}]", "")
	require.Len(t, errs, 1)
	require.Contains(t, errs[0], "close at on_receive comes after process")
}

func TestClose_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[process, {close: {at: later}}]", "")[0], "want on_receive, before_respond or after_respond")
	require.Contains(t, checkPipeline(t, "[process, {close: {mode: slam}}]", "")[0], "want fin or rst")
}

func TestClose_AfterRespondDoesNotAnswerTwice(t *testing.T) {
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 05 stan 000042", "close"},
		playOn(t, `[process, {respond: {de39: "05"}}, {close: {at: after_respond}}]`, newFake()))
}

func TestClose_JournalsWhatItDid(t *testing.T) {
	f, j := pipeline(t, "[process, {close: {mode: rst}}]")
	x := newFake()
	f.Serve(t.Context(), x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "reset"}, x.Events())
	require.Equal(t, "rule r: close(before_respond,rst)", j.List(faultsOnly)[0].Detail)
}
