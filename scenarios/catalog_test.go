package scenarios

import (
	"context"
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
	var names []string
	for _, s := range all {
		names = append(names, s.Name)
		require.Equal(t, "catalog/"+s.Name+".yaml", s.File)
		one, err := FromCatalog(s.Name)
		require.NoError(t, err)
		require.Equal(t, s, one, "FromCatalog reads the same file")
	}
	require.True(t, slices.IsSorted(names), "sorted by name: %v", names)
}

func TestCatalogFor_OnlyWhatRunsUnderTheProfile(t *testing.T) {
	all, err := Catalog()
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, profile := range wire.ProfileNames() {
		list, err := CatalogFor(profile)
		require.NoError(t, err)
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
	iso, err := CatalogFor("iso87")
	require.NoError(t, err)
	for _, s := range iso {
		require.NotEqual(t, "header-mismatch-after-upgrade", s.Name, "a cup-only scenario")
	}
}

func TestCatalogSource(t *testing.T) {
	data, err := CatalogSource("baseline-sale")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(data), "name: baseline-sale\n"), "the file as written")

	_, err = CatalogSource("no-such-failure")
	all, _ := Catalog()
	var names []string
	for _, s := range all {
		names = append(names, s.Name)
	}
	require.EqualError(t, err, `no catalogue scenario "no-such-failure" (known: `+strings.Join(names, ", ")+")")
	_, err = FromCatalog("no-such-failure")
	require.ErrorContains(t, err, `no catalogue scenario "no-such-failure"`)
}
