package posimtest_test

import (
	"testing"

	"github.com/posim/posim/posimtest"
	"github.com/posim/posim/scenarios"
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
	}
	return 6
}

// Every catalogue scenario, its host built by posimtest, its steps and
// expectations played against it: posimtest serves a scenario exactly as
// posim run does (one constructor, scenarios.NewHost).
func TestCatalog_ThroughPosimtest(t *testing.T) {
	for _, profile := range []string{"iso87", "cup"} {
		cat, err := scenarios.CatalogFor(profile)
		require.NoError(t, err)
		for _, s := range cat {
			t.Run(profile+"/"+s.Name, func(t *testing.T) {
				t.Parallel()
				speed := catalogSpeed(s)
				host := posimtest.NewAcquirer(t, posimtest.Scenario(s.Name), posimtest.Speed(speed),
					posimtest.Profile(profile), posimtest.StartAt(scenarios.Epoch))
				res := scenarios.Run(t.Context(), s, scenarios.Options{Speed: speed, Profile: profile, Host: host.Host})
				require.Empty(t, res.Error)
				for _, f := range res.Failures {
					t.Error(f.String())
				}
			})
		}
	}
}
