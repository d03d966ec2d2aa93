package faults

import (
	"context"
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

func TestUpstream_AnIssuerAnsweringJustInTimeIsProcessed(t *testing.T) {
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"},
		playOn(t, "[{upstream: {latency: 5s, timeout: 5s}}]", newFake()))
}

func TestUpstream_EndsWithTheConnection(t *testing.T) {
	f, _ := pipeline(t, "[{upstream: {latency: 1h, timeout: 2h}}]")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	x := newFake()
	f.Serve(ctx, x)
	require.Empty(t, x.Events())
}

func TestUpstream_ASlowIssuerIsJournalled(t *testing.T) {
	f, j := pipeline(t, "[{upstream: {latency: 9s, timeout: 5s}}]")
	f.Serve(t.Context(), newFake())
	require.Equal(t, "rule r: issuer silent for 5s (upstream timeout): answered 68; its late approval is reversed upstream", j.List(faultsOnly)[0].Detail)
}
