package faults

import (
	"testing"
	"time"

	"github.com/posim/posim/yamlx"
	"github.com/stretchr/testify/require"
)

func TestDelay_WaitsThenAnswers(t *testing.T) {
	f, j := pipeline(t, "[process, {delay: 2s}]")
	x := newFake()
	start := time.Now()
	f.Serve(t.Context(), x)
	require.GreaterOrEqual(t, time.Since(start), 2*time.Millisecond, "2s at speed 1000")
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"}, x.Events())
	require.Equal(t, "rule r: delay 2s", j.List(faultsOnly)[0].Detail)
}

func TestDelay_DrawsFromTheRulesSeededStream(t *testing.T) {
	d := &DelaySpec{Distribution: "uniform", Min: yamlx.Duration(time.Second), Max: yamlx.Duration(2 * time.Second)}
	f1, _ := pipeline(t, "[process]")
	f2, _ := pipeline(t, "[process]")
	for range 5 {
		a, b := d.draw(f1.rules[0]), d.draw(f2.rules[0])
		require.Equal(t, a, b, "same seed, same rule id: same draws")
		require.True(t, a >= time.Second && a < 2*time.Second, a)
	}
}

func TestDelay_EndsWhenTheConnectionEnds(t *testing.T) {
	f, _ := pipeline(t, "[process, {delay: 1h}]")
	x := newFake()
	ctx, cancel := contextCancelled()
	cancel()
	f.Serve(ctx, x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000"}, x.Events(), "no answer after the connection ended")
}

func TestDelay_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[process, {delay: {distribution: uniform, min: 2s, max: 1s}}]", "")[0], "max is below min")
	require.Contains(t, checkPipeline(t, "[process, {delay: {distribution: normal}}]", "")[0], "needs a positive mean")
	require.Contains(t, checkPipeline(t, "[process, {delay: {distribution: pareto}}]", "")[0], "want fixed, uniform")
}
