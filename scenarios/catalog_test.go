package scenarios

import (
	"context"
	"io/fs"
	"slices"
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

func TestCatalog_SortedAndFromItsFiles(t *testing.T) {
	all, err := Catalog()
	require.NoError(t, err)
	for _, s := range all {
		require.Equal(t, "catalog/"+s.Name+".yaml", s.File)
		one, err := FromCatalog(s.Name)
		require.NoError(t, err)
		require.Equal(t, s, one, "FromCatalog reads the same file")
	}
	require.True(t, slices.IsSorted(scenarioNames(all)), "sorted by name: %v", scenarioNames(all))
}

func TestCatalogFor_OnlyWhatRunsUnderTheProfile(t *testing.T) {
	all, err := Catalog()
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, profile := range wire.ProfileNames() {
		list, err := CatalogFor(profile)
		require.NoError(t, err)
		if profile == "iso87" {
			require.NotContains(t, scenarioNames(list), "header-mismatch-after-upgrade", "a cup-only scenario")
		}
		for _, s := range list {
			require.True(t, s.Supports(profile), "%s under %s", s.Name, profile)
			seen[s.Name] = true
		}
		for _, s := range all {
			if s.Supports(profile) {
				require.Contains(t, list, s, "%s runs under %s", s.Name, profile)
			}
		}
	}
	require.Len(t, seen, len(all), "every catalogue scenario runs under some profile")
}

func TestCatalogSource(t *testing.T) {
	data, err := CatalogSource("baseline-sale")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(data), "name: baseline-sale\n"), "the file as written")

	_, err = CatalogSource("no-such-failure")
	// the files are named after their scenarios (TestCatalog_Complete)
	entries, _ := fs.ReadDir(catalogFS, "catalog")
	var known []string
	for _, e := range entries {
		known = append(known, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(known) // by name, as the catalogue lists itself
	require.EqualError(t, err, `no catalogue scenario "no-such-failure" (known: `+strings.Join(known, ", ")+")")
	_, err = FromCatalog("no-such-failure")
	require.ErrorContains(t, err, `no catalogue scenario "no-such-failure"`)
}

func scenarioNames(list []*Scenario) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.Name)
	}
	return out
}
