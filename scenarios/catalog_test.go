package scenarios

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCatalog_Runs(t *testing.T) {
	all, err := Catalog()
	require.NoError(t, err)
	require.NotEmpty(t, all)
	for _, profile := range []string{"iso87", "cup"} {
		for _, s := range all {
			if !s.Supports(profile) {
				continue
			}
			t.Run(profile+"/"+s.Name, func(t *testing.T) {
				t.Parallel()
				res := Run(context.Background(), s, Options{Speed: 20, Profile: profile})
				require.Empty(t, res.Error)
				for _, f := range res.Failures {
					t.Error(f.String())
				}
				require.True(t, res.Passed)
			})
		}
	}
}
