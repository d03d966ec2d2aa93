package scenarios

import (
	"context"
	"strings"
	"testing"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func TestCatalog_Runs(t *testing.T) {
	for _, profile := range wire.ProfileNames() {
		cat, err := CatalogFor(profile)
		require.NoError(t, err)
		require.NotEmpty(t, cat)
		for _, s := range cat {
			t.Run(profile+"/"+s.Name, func(t *testing.T) {
				t.Parallel()
				res := Run(context.Background(), s, Options{Speed: 20, Profile: profile})
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
