package posimtest_test

import (
	"testing"

	"github.com/posim/posim/posimtest"
	"github.com/posim/posim/scenarios"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// Every catalogue scenario, its host built by posimtest, its steps and
// expectations played against it: posimtest serves a scenario exactly as
// posim run does (one constructor, scenarios.NewHost).
func TestCatalog_ThroughPosimtest(t *testing.T) {
	for _, profile := range wire.ProfileNames() {
		cat, err := scenarios.CatalogFor(profile)
		require.NoError(t, err)
		for _, s := range cat {
			t.Run(profile+"/"+s.Name, func(t *testing.T) {
				t.Parallel()
				host := posimtest.NewAcquirer(t, posimtest.Scenario(s.Name), posimtest.Speed(20),
					posimtest.Profile(profile), posimtest.StartAt(scenarios.Epoch))
				res := scenarios.Run(t.Context(), s, scenarios.Options{Speed: 20, Profile: profile, Host: host.Host})
				require.Empty(t, res.Error)
				for _, f := range res.Failures {
					t.Error(f.String())
				}
			})
		}
	}
}
