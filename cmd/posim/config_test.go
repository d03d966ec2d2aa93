package main

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// Each command checks its flags in its config before it starts anything:
// a bad value gets its exit code and a message naming the flag, and no
// listener, fleet or scenario is started (the commands here would
// otherwise run until stopped).
func TestCLI_ConfigRefusesBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"load: no terminals", []string{"load", "--terminals", "0"}, 2, "--terminals: want 1 to 100000"},
		{"load: zero duration", []string{"load", "--duration", "0s"}, 2, "--duration and --timeout must be positive"},
		{"load: negative rate", []string{"load", "--rate", "-1"}, 2, "--rate, --warmup and --rounds not negative"},
		{"load: scenario with a target", []string{"load", "--scenario", "black-hole", "--target", "127.0.0.1:1"}, 2, "leave out --target"},
		{"load: unknown operation in the mix", []string{"load", "--mix", "sale=1,dance=1"}, 2, `unknown operation "dance"`},
		{"load: an operation the fleet does not send", []string{"load", "--mix", "preauth=1"}, 2, "posim load does not send"},
		{"load: report kind", []string{"load", "--report", "pdf:x.pdf"}, 2, "want html:PATH"},
		{"load: profile", []string{"load", "--profile", "x25"}, 2, "unknown profile"},
		{"load: target address", []string{"load", "--target", "nowhere"}, 2, "--target \"nowhere\": want HOST:PORT"},
		{"load: tid prefix too long", []string{"load", "--tid-prefix", "ABCDEFGH"}, 2, "--tid-prefix"},
		{"load: pan fails Luhn", []string{"load", "--pan", "4111111111111112"}, 2, "pass the Luhn check"},
		{"load: tls without a target", []string{"load", "--tls"}, 1, "--tls needs --target"},
		{"acquirer: listen address", []string{"acquirer", "--listen", "8583"}, 2, "--listen"},
		{"acquirer: control address", []string{"acquirer", "--control", "x"}, 2, "--control"},
		{"acquirer: max frame", []string{"acquirer", "--max-frame", "8"}, 2, "--max-frame 8: want 16 to 65535"},
		{"acquirer: export without data", []string{"acquirer", "--export", "-"}, 1, "--export needs --data"},
		{"acquirer: scenario with data", []string{"acquirer", "--scenario", "black-hole", "--data", t.TempDir()}, 1, "--data keeps the books"},
		{"run: jobs", []string{"run", "--catalog", "--jobs", "0"}, 2, "--jobs must be at least 1"},
		{"run: speed", []string{"run", "--catalog", "--speed", "0"}, 2, "--speed"},
		{"run: report kind", []string{"run", "--catalog", "--report", "pdf:x.pdf"}, 2, `kind "pdf"`},
		{"run: tid", []string{"run", "--catalog", "--tid", "TOOLONGTID"}, 2, "--tid"},
		{"run: state without target", []string{"run", "--catalog", "--state", t.TempDir()}, 2, "--state goes with --target"},
		{"run: jobs with a target", []string{"run", "--catalog", "--target", "127.0.0.1:1", "--jobs", "2"}, 2, "one after another"},
		{"run: profile", []string{"run", "--catalog", "--profile", "x25"}, 2, "unknown profile"},
		{"proxy: no upstream", []string{"proxy"}, 1, "proxy needs --upstream"},
		{"proxy: upstream address", []string{"proxy", "--upstream", "x"}, 2, "--upstream"},
		{"proxy: host timeout", []string{"proxy", "--upstream", "127.0.0.1:1", "--host-timeout", "0s"}, 2, "--host-timeout"},
		{"proxy: record-clear without record", []string{"proxy", "--upstream", "127.0.0.1:1", "--record-clear"}, 1, "--record-clear needs --record"},
		{"proxy: profile", []string{"proxy", "--upstream", "127.0.0.1:1", "--profile", "x25"}, 2, "unknown profile"},
		{"proxy: a scenario that does not exist", []string{"proxy", "--upstream", "127.0.0.1:1", "--scenario", "no-such-scenario"}, 2, "no-such-scenario"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := posim(t, tt.args...)
			require.Equal(t, tt.code, code, errOut)
			require.Contains(t, errOut, tt.msg)
		})
	}
}

// posim terminal has one subcommand per operation of the catalogue, with
// the flags of the arguments it takes and no others, and refuses to run
// one without what it needs, naming the flags.
func TestCLI_TerminalCommandsComeFromTheCatalogue(t *testing.T) {
	root := newRoot(io.Discard, io.Discard)
	term, _, err := root.Find([]string{"terminal"})
	require.NoError(t, err)
	var subs []string
	for _, c := range term.Commands() {
		subs = append(subs, c.Name())
	}
	flagsOf := map[terminal.Arg][]string{
		terminal.ArgAmount: {"amount"}, terminal.ArgCard: {"card", "pan"}, terminal.ArgPIN: {"pin", "no-pin"},
		terminal.ArgChip: {"card-response", "fallback"}, terminal.ArgRRN: {"rrn"}, terminal.ArgAuthCode: {"auth-code"},
		terminal.ArgSTAN: {"stan"},
	}
	for _, op := range terminal.Operations() {
		require.Contains(t, subs, op.Command())
		sub, _, err := root.Find([]string{"terminal", op.Command()})
		require.NoError(t, err)
		require.Equal(t, op.Short, sub.Short)
		for a, flags := range flagsOf {
			for _, fl := range flags {
				require.Equal(t, op.TakesArg(a), sub.Flags().Lookup(fl) != nil, "%s --%s", op.Command(), fl)
			}
		}
		for _, common := range []string{"bad-mac", "field"} {
			require.NotNil(t, sub.Flags().Lookup(common), "%s --%s", op.Command(), common)
		}
		if missing := op.Missing(func(terminal.Arg) bool { return false }); missing != nil {
			code, _, errOut := posim(t, "terminal", op.Command(), "--state", t.TempDir())
			require.Equal(t, 1, code, errOut)
			require.Contains(t, errOut, op.Command()+" needs --"+strings.ReplaceAll(string(missing[0]), "_", "-"))
		}
	}
	code, _, errOut := posim(t, "terminal")
	require.Equal(t, 1, code)
	for _, c := range terminalCommands() {
		require.Contains(t, errOut, c)
	}
}

// The --profile help of every command lists the registry's dialects.
func TestCLI_ProfileHelpListsTheRegistry(t *testing.T) {
	for _, name := range []string{"acquirer", "terminal", "run", "proxy", "load", "demo", "bench"} {
		cmd, _, err := newRoot(io.Discard, io.Discard).Find([]string{name})
		require.NoError(t, err)
		fl := cmd.Flags().Lookup("profile")
		if fl == nil {
			fl = cmd.PersistentFlags().Lookup("profile")
		}
		require.NotNil(t, fl, name)
		require.Equal(t, wire.Default.Name(), fl.DefValue, name)
		for _, p := range wire.ProfileNames() {
			require.Contains(t, fl.Usage, p, name)
		}
	}
	require.True(t, slices.Contains(keyedDialects(), wire.CUP.Name()))
	require.False(t, slices.Contains(keyedDialects(), wire.ISO87.Name()))
}
