package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// posim bench starts the three servers in processes of their own (here the
// test binary stands in for posim), drives each, and reports every figure
// and both ratios; it asserts nothing about speed.
func TestCLI_Bench(t *testing.T) {
	benchEnv = []string{"POSIM_TEST_MAIN=1"}
	t.Cleanup(func() { benchEnv = nil })
	for _, profile := range wire.ProfileNames() {
		out := filepath.Join(t.TempDir(), "bench.json")
		code, stdout, stderr := posim(t, "bench", "--profile", profile, "--terminals", "2", "--duration", "600ms", "--rounds", "2",
			"--warmup", "0s", "--limits", "--json", out)
		require.Equal(t, 0, code, stdout+stderr)
		require.Contains(t, stdout, "acquirer/moov: server CPU per transaction")
		require.Contains(t, stdout, "acquirer/echo: server CPU per transaction")
		data, err := os.ReadFile(out)
		require.NoError(t, err)
		var rep BenchReport
		require.NoError(t, json.Unmarshal(data, &rep))
		require.Len(t, rep.Servers, 3)
		for _, s := range rep.Servers {
			require.Positive(t, s.Responses, "%s %s", profile, s.Name)
			require.Zero(t, s.Errors, "%s %s", profile, s.Name)
			require.Positive(t, s.ServerCPU, "%s %s: CPU read from /proc", profile, s.Name)
		}
		require.Positive(t, rep.CPUvsMoov)
		require.Positive(t, rep.ThroughputVsEcho)
	}
	code, _, stderr := posim(t, "bench", "--rounds", "0")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "--rounds")
}
