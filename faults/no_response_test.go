package faults

import (
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
