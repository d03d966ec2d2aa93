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

func TestDelay_Distributions(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec DelaySpec
		ok   func(d time.Duration) bool
	}{
		{"fixed", DelaySpec{Fixed: yamlx.Duration(3 * time.Second)}, func(d time.Duration) bool { return d == 3*time.Second }},
		{"uniform with max at min", DelaySpec{Distribution: "uniform", Min: yamlx.Duration(time.Second), Max: yamlx.Duration(time.Second)},
			func(d time.Duration) bool { return d == time.Second }},
		{"normal, never negative", DelaySpec{Distribution: "normal", Mean: yamlx.Duration(time.Millisecond), StdDev: yamlx.Duration(time.Second)},
			func(d time.Duration) bool { return d >= 0 }},
		{"exponential", DelaySpec{Distribution: "exponential", Mean: yamlx.Duration(time.Second)}, func(d time.Duration) bool { return d >= 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f1, _ := pipeline(t, "[process]")
			f2, _ := pipeline(t, "[process]")
			var distinct = map[time.Duration]bool{}
			for range 50 {
				a := tc.spec.draw(f1.rules[0])
				require.Equal(t, a, tc.spec.draw(f2.rules[0]), "same seed, same rule id: same draws")
				require.True(t, tc.ok(a), a)
				distinct[a] = true
			}
			if tc.spec.Distribution == "normal" || tc.spec.Distribution == "exponential" {
				require.Greater(t, len(distinct), 10, "drawn, not fixed")
			}
		})
	}
}

func TestDelay_AnotherRuleDrawsOtherDelays(t *testing.T) {
	d := &DelaySpec{Distribution: "exponential", Mean: yamlx.Duration(time.Second)}
	f := ruleSet(t, &Env{Seed: 1}, `[{id: a, do: [process]}, {id: b, do: [process]}]`)
	require.NotEqual(t, d.draw(f.rules[0]), d.draw(f.rules[1]))
}

func TestEnv_SpeedDividesScenarioTime(t *testing.T) {
	for _, tc := range []struct {
		speed float64
		want  time.Duration
	}{{0, 10 * time.Second}, {1, 10 * time.Second}, {10, time.Second}, {1000, 10 * time.Millisecond}, {0.5, 20 * time.Second}} {
		require.Equal(t, tc.want, (&Env{Speed: tc.speed}).scale(10*time.Second), "speed %v", tc.speed)
	}
}

func TestDelay_BeforeProcessHoldsTheRequestBack(t *testing.T) {
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"},
		playOn(t, "[{delay: 1s}, process]", newFake()))
}
