package faults

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRefuse_DownThenBackAfterThePeriod(t *testing.T) {
	x := newFake()
	require.Equal(t, []string{"refuse"}, playOn(t, "[{refuse: {for: 30s}}]", x))
	select {
	case <-x.resumed:
	case <-time.After(10 * time.Second):
		t.Fatal("never resumed")
	}
}

func TestRefuse_CloseModeClosesThisConnection(t *testing.T) {
	require.Equal(t, []string{"close"}, playOn(t, "[{refuse: {for: 30s, mode: close}}]", newFake()))
}

func TestRefuse_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[{refuse: {for: 0s}}]", "")[0], "positive duration")
	require.Contains(t, checkPipeline(t, "[{refuse: {for: 1s, mode: nap}}]", "")[0], "want down or close")
}
