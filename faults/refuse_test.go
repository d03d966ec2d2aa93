package faults

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
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

func TestRefuse_ThePeriodIsScenarioTime(t *testing.T) {
	var rule Rule
	require.NoError(t, yaml.Unmarshal([]byte("id: r\ndo: [{refuse: {for: 30s}}]"), &rule))
	var after []time.Duration
	f, err := Compile([]Rule{rule}, &Env{Speed: 10, After: func(d time.Duration, fn func()) { after = append(after, d); fn() }})
	require.NoError(t, err)
	x := newFake()
	f.Serve(t.Context(), x)
	require.Equal(t, []time.Duration{3 * time.Second}, after, "30s at speed 10")
	require.Equal(t, []string{"refuse", "resume"}, x.Events())
}

func TestRefuse_WhereTheHostCannotBeTakenOffItIsJournalled(t *testing.T) {
	f, j := pipeline(t, "[{refuse: {for: 30s}}]")
	x := newFake()
	x.noRefuse = true
	f.Serve(t.Context(), x)
	require.Empty(t, x.Events(), "nothing answered, nothing closed")
	es := j.List(faultsOnly)
	require.Len(t, es, 2)
	require.Equal(t, "rule r: refuse: "+ErrNotHere.Error(), es[1].Detail)
}
