package posimtest_test

import (
	"sync"
	"testing"

	"github.com/posim/posim/posimtest"
	"github.com/posim/posim/scenarios"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// catalogSpeed is the speed a catalogue scenario plays at in the tests (as
// in package scenarios' own catalogue test): 6, where the catalogue's 30 s
// terminal timeout lasts 5 s, above a loaded 2-core machine's scheduling
// jitter under the race detector, also on the steps whose answers do come;
// slower for the two scenarios that time something against that timeout,
// so that the gap is 5 s too (late-response's answer comes 10 s after the
// terminal gave up, upstream-timeout-68's host answers 20 s before it
// would).
func catalogSpeed(s *scenarios.Scenario) float64 {
	switch s.Name {
	case "late-response":
		return 2
	case "upstream-timeout-68":
		return 4
	case "maintenance-window":
		// its wait ends 1 s of scenario time after the host comes back up,
		// on a timer of its own: at 6 that left 167 ms, at 3 it leaves 333
		// ms (the scenario itself needs a host_up after its wait)
		return 3
	}
	return 6
}

// Every catalogue scenario, its host built by posimtest, its steps and
// expectations played against it: posimtest serves a scenario exactly as
// posim run does (one constructor, scenarios.NewHost). A scenario's
// dialects play at once: the runs wait on their timers, not on the CPU,
// and -parallel bounds the scenarios, not the runs.
func TestCatalog_ThroughPosimtest(t *testing.T) {
	t.Parallel()
	type dialect struct {
		profile string
		s       *scenarios.Scenario
	}
	var names []string
	dialects := map[string][]dialect{}
	for _, profile := range wire.ProfileNames() {
		cat, err := scenarios.CatalogFor(profile)
		require.NoError(t, err)
		for _, s := range cat {
			if dialects[s.Name] == nil {
				names = append(names, s.Name)
			}
			dialects[s.Name] = append(dialects[s.Name], dialect{profile, s}) // parsed once per profile: the runs share nothing
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ds := dialects[name]
			results := make([]*scenarios.Result, len(ds))
			var wg sync.WaitGroup
			for i, d := range ds {
				speed := catalogSpeed(d.s)
				host := posimtest.NewAcquirer(t, posimtest.Scenario(name), posimtest.Speed(speed),
					posimtest.Profile(d.profile), posimtest.StartAt(scenarios.Epoch))
				wg.Go(func() {
					results[i] = scenarios.Run(t.Context(), d.s, scenarios.Options{Speed: speed, Profile: d.profile, Host: host.Host})
				})
			}
			wg.Wait()
			for i, d := range ds {
				t.Run(d.profile, func(t *testing.T) {
					require.Empty(t, results[i].Error)
					for _, f := range results[i].Failures {
						t.Error(f.String())
					}
				})
			}
		})
	}
}
