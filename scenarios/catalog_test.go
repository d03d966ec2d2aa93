package scenarios

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// catalogSpeed is the speed a catalogue scenario plays at in the tests.
// The catalogue's terminals wait 30 s for an answer, and in a scenario
// about a lost answer the same timeout guards the steps whose answers do
// come: at 6 it lasts 5 s, above a loaded 2-core machine's scheduling
// jitter under the race detector (at 20 it was 1.5 s, and answered steps
// timed out beside another make test). Two scenarios time something
// against that timeout and play slower, so that the gap is 5 s too:
// late-response's answer comes 10 s after the terminal gave up,
// upstream-timeout-68's host answers 20 s before it would. A scenario in
// which nothing waits takes no longer at any speed.
func catalogSpeed(s *Scenario) float64 {
	switch s.Name {
	case "late-response":
		return 2
	case "upstream-timeout-68":
		return 4
	}
	return 6
}

func TestCatalog_Runs(t *testing.T) {
	for _, profile := range []string{"iso87", "cup"} {
		cat, err := CatalogFor(profile)
		require.NoError(t, err)
		require.NotEmpty(t, cat)
		for _, s := range cat {
			t.Run(profile+"/"+s.Name, func(t *testing.T) {
				t.Parallel()
				res := Run(context.Background(), s, Options{Speed: catalogSpeed(s), Profile: profile})
				require.Empty(t, res.Error)
				for _, f := range res.Failures {
					t.Error(f.String())
				}
				require.True(t, res.Passed)
				if profile == "cup" && (s.Setup.Terminal.AutoSignOn == nil || *s.Setup.Terminal.AutoSignOn) {
					// signed on and MAC'd end to end
					signedOn := false
					for _, e := range res.Events {
						if e.Source != "acquirer" || e.Kind != "in" {
							continue
						}
						signedOn = signedOn || e.MTI == "0800"
						if strings.HasPrefix(e.MTI, "01") || strings.HasPrefix(e.MTI, "02") || strings.HasPrefix(e.MTI, "04") {
							require.True(t, signedOn, "%s %s before any sign-on", e.MTI, e.STAN)
							require.True(t, e.MAC, "%s %s without a MAC", e.MTI, e.STAN)
						}
					}
				}
			})
		}
	}
}
