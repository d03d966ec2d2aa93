package faults

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUpstream_FastIssuerIsProcessed(t *testing.T) {
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"},
		playOn(t, "[{upstream: {latency: 1s, timeout: 5s}}]", newFake()))
}

func TestUpstream_SlowIssuerIsAnswered68WithoutBooking(t *testing.T) {
	require.Equal(t, []string{"respond 0210 68 stan 000042"}, playOn(t, "[{upstream: {latency: 9s, timeout: 5s}}]", newFake()))
}

func TestUpstream_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[{upstream: {latency: 1s}}]", "")[0], "positive timeout")
	require.Contains(t, checkPipeline(t, "[process, {upstream: {latency: 1s, timeout: 2s}}]", "")[0], "put it instead of process")
}
