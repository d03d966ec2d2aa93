package faults

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNoResponse_AfterProcessTheHostBookedAndTheTerminalNeverHears(t *testing.T) {
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000"}, playOn(t, "[process, no_response]", newFake()))
}

func TestNoResponse_ThenCloseAfterTheHold(t *testing.T) {
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "close"}, playOn(t, "[process, {no_response: {hold: 5s, then: close}}]", newFake()))
}

func TestNoResponse_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[process, {no_response: {then: slam}}]", "")[0], "want keep or close")
}

func TestNoResponse_CountsAsADrop(t *testing.T) {
	f, _ := pipeline(t, "[process, no_response]")
	require.True(t, f.Stats()[0].Drops)
}

func TestNoResponse_KeepLeavesTheConnectionOpen(t *testing.T) {
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000"}, playOn(t, "[process, {no_response: {hold: 1s, then: keep}}]", newFake()))
}

func TestNoResponse_ACloseAfterTheConnectionEndedIsNotAttempted(t *testing.T) {
	f, _ := pipeline(t, "[process, {no_response: {hold: 1h, then: close}}]")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	x := newFake()
	f.Serve(ctx, x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000"}, x.Events())
}

func TestNoResponse_BeforeProcessNothingIsBooked(t *testing.T) {
	require.Empty(t, playOn(t, "[no_response]", newFake()))
	require.Empty(t, checkPipeline(t, "[no_response]", ""), "it answers: with silence")
}
