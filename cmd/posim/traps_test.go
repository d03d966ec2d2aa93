package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Each trap a new user fell into gets its documented exit code and a
// message naming the flag.
func TestCLI_BadInputIsNamed(t *testing.T) {
	state := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"terminal", "sale", "--host", "localhost", "--amount", "1.00", "--state", state}, 2, "--host"},
		{[]string{"terminal", "sale", "--host", "127.0.0.1:99999", "--amount", "1.00", "--state", state}, 2, "port"},
		{[]string{"terminal", "sale", "--currency", "abc", "--amount", "1.00", "--state", state}, 2, "--currency"},
		{[]string{"terminal", "sale", "--framing", "ascii9", "--amount", "1.00", "--state", state}, 2, "--framing"},
		{[]string{"run", "--speed", "1e9", "baseline-sale"}, 2, "--speed"},
		{[]string{"run", "--speed", "0.001", "baseline-sale"}, 2, "--speed"},
		{[]string{"demo", "--speed", "5000", "--no-browser"}, 2, "--speed"},
		{[]string{"acquirer", "--listen", "nowhere"}, 2, "--listen"},
		{[]string{"proxy", "--upstream", "host-without-port"}, 2, "--upstream"},
		{[]string{"replay", "x.jsonl", "--target", "bad"}, 2, "--target"},
		{[]string{"load", "--target", "bad:port"}, 2, "--target"},
	} {
		code, out, errOut := posim(t, tc.args...)
		require.Equal(t, tc.code, code, "%v: %s%s", tc.args, out, errOut)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
	}
}

func TestCLI_NothingToReverseSaysSo(t *testing.T) {
	code, out, _ := posim(t, "terminal", "reversal", "--host", deadAddr(t), "--json", "--state", t.TempDir())
	require.Equal(t, 2, code, out)
	require.Contains(t, out, `"display": "NOTHING TO REVERSE"`)
}

func TestCLI_UnwritableReportIsRefusedBeforeTheRun(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	code, out, errOut := posim(t, "run", "--report", "junit:"+filepath.Join(blocker, "sub", "j.xml"), "baseline-sale")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--report")
	require.NotContains(t, out, "passed", "refused before anything ran")

	nested := filepath.Join(t.TempDir(), "new", "dir", "r.json")
	code, _, errOut = posim(t, "run", "--report", "json:"+nested, "baseline-sale") // nothing in it waits: real time
	require.Equal(t, 0, code, errOut)
	require.FileExists(t, nested, "its directory was created")
}

// A run stuck in a long repeat (a million sales: hours) stops within a
// second of SIGTERM, with exit 3 and its reports written.
func TestCLI_RunStopsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	scenario := filepath.Join(dir, "long.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte(`name: long
title: {en: "a million sales"}
steps:
  - sale: {card: unlimited, amount: "1.00"}
    repeat: 1000000
  - wait: 1h
`), 0o644))
	junit := filepath.Join(dir, "j.xml")
	cmd := exec.Command(os.Args[0], "run", "--speed", "1", "--report", "junit:"+junit, scenario)
	cmd.Env = append(os.Environ(), "POSIM_TEST_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	// the run is under way once it has said so
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, line, "posim run:")
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	start := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err = cmd.Wait()
	took := time.Since(start)
	require.Error(t, err)
	require.Equal(t, 3, cmd.ProcessState.ExitCode())
	require.Less(t, took, 10*time.Second, "stopped promptly (a second is the aim; the bound leaves room for a loaded machine, and the sales left would take hours)")
	data, rerr := os.ReadFile(junit)
	require.NoError(t, rerr)
	require.True(t, strings.Contains(string(data), "<testsuite"), "the report was written")
}

func TestCLI_TerminalStateAndReset(t *testing.T) {
	state := t.TempDir()
	code, out, _ := posim(t, "terminal", "sale", "--host", silent(t), "--amount", "25.00", "--timeout", "300ms", "--json", "--state", state)
	require.Equal(t, 3, code, out)
	code, out, errOut := posim(t, "terminal", "state", "--state", state)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "stan       000001")
	require.Contains(t, out, "pending    reversal of 0200 STAN 000001 25.00 card 620000******0005")
	code, out, _ = posim(t, "terminal", "state", "--state", state, "--json")
	require.Equal(t, 0, code)
	require.Contains(t, out, `"amount": "25.00"`)

	code, _, errOut = posim(t, "terminal", "reset", "--state", state)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "is pending")
	code, _, errOut = posim(t, "terminal", "reset", "--state", state, "--yes")
	require.Equal(t, 0, code, errOut)
	code, out, _ = posim(t, "terminal", "state", "--state", state)
	require.Equal(t, 0, code)
	require.Contains(t, out, "pending    no reversal")
	require.Contains(t, out, "stan       000000")

	// each operation shows only its own flags
	_, out, _ = posim(t, "terminal", "echo", "--help")
	require.NotContains(t, out, "--amount")
	_, out, _ = posim(t, "terminal", "sale", "--help")
	require.Contains(t, out, "--amount")
	require.NotContains(t, out, "--rrn")
}

func TestCLI_FlagsWithoutEffectAreWarnedAbout(t *testing.T) {
	_, _, errOut := posim(t, "terminal", "echo", "--host", deadAddr(t), "--tpdu", "6000010000", "--connect-timeout", "1s", "--state", t.TempDir())
	require.Contains(t, errOut, "--tpdu has no effect under --profile iso87")
	_, _, errOut = posim(t, "acquirer", "--listen", "nowhere", "--seed", "3")
	require.Contains(t, errOut, "--seed has no effect without --scenario")
}
