package scenarios

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/posim/posim/wire"
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
	case "maintenance-window":
		// its wait ends 1 s of scenario time after the host comes back up,
		// on a timer of its own: at 6 that left 167 ms, at 3 it leaves 333
		// ms (the scenario itself needs a host_up after its wait)
		return 3
	}
	return 6
}

// dialectRun is a catalogue scenario under one of the profiles it runs under.
type dialectRun struct {
	profile string
	s       *Scenario
}

// catalogByDialect returns the catalogue's scenario names in order and, for
// each, the scenario under every profile it runs under (parsed once per
// profile: two runs share nothing).
func catalogByDialect(t *testing.T) ([]string, map[string][]dialectRun) {
	t.Helper()
	var names []string
	runs := map[string][]dialectRun{}
	for _, profile := range wire.ProfileNames() {
		cat, err := CatalogFor(profile)
		require.NoError(t, err)
		require.NotEmpty(t, cat)
		for _, s := range cat {
			if runs[s.Name] == nil {
				names = append(names, s.Name)
			}
			runs[s.Name] = append(runs[s.Name], dialectRun{profile, s})
		}
	}
	return names, runs
}

// Every catalogue scenario passes under every profile it runs under. A
// scenario's dialects play at once: the runs wait on their timers, not on
// the CPU, and -parallel bounds the scenarios, not the runs.
func TestCatalog_Runs(t *testing.T) {
	t.Parallel()
	names, runs := catalogByDialect(t)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			results := make([]*Result, len(runs[name]))
			var wg sync.WaitGroup
			for i, d := range runs[name] {
				wg.Go(func() {
					results[i] = Run(context.Background(), d.s, Options{Speed: catalogSpeed(d.s), Profile: d.profile})
				})
			}
			wg.Wait()
			for i, d := range runs[name] {
				t.Run(d.profile, func(t *testing.T) { checkCatalogRun(t, d, results[i]) })
			}
		})
	}
}

func checkCatalogRun(t *testing.T, d dialectRun, res *Result) {
	t.Helper()
	require.Empty(t, res.Error)
	for _, f := range res.Failures {
		t.Error(f.String())
	}
	require.True(t, res.Passed)
	if d.profile == "cup" && (d.s.Setup.Terminal.AutoSignOn == nil || *d.s.Setup.Terminal.AutoSignOn) {
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
