package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/posim/posim/wire"
	"github.com/spf13/cobra"
)

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "posim",
		Short: "ISO 8583 POS terminal emulator and acquirer simulator that reproduces real merchant failures",
		Long: `posim simulates a POS terminal and an acquiring host that speak ISO 8583 over TCP,
and makes them misbehave the way real systems do: lost and late responses, reversals,
duplicates, risk declines, out-of-balance settlement.

Exit codes: 0 success (terminal: approved), 1 usage error, 2 invalid input (a flag's
value, an address that is not HOST:PORT, a file that does not read, a terminal state that
says no), 3 runtime failure (no response, connection refused, port busy, a run stopped by
Ctrl-C or SIGTERM), 4 expectation failed (terminal: declined by the host).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionText(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	var cpuProfile string
	var stopProfile func()
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof reads it)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkCommonFlags(cmd); err != nil {
			return err
		}
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return runtimeErr(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return runtimeErr(err)
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		return nil
	}
	root.PersistentPostRun = func(*cobra.Command, []string) {
		if stopProfile != nil {
			stopProfile()
		}
	}
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(
		newAcquirerCmd(),
		newTerminalCmd(),
		newRunCmd(),
		newValidateCmd(),
		newDecodeCmd(),
		newProxyCmd(),
		newReplayCmd(),
		newCertsCmd(),
		newCatalogCmd(),
		newDemoCmd(),
		newStatementCmd(),
		newLoadCmd(),
		newBaselineCmd(),
		newBenchCmd(),
		newVersionCmd(),
	)
	return root
}

// checkCommonFlags validates the flags several commands share, whatever
// the command, and warns about flags that have no effect in the
// combination given.
func checkCommonFlags(cmd *cobra.Command) error {
	fl := cmd.Flags()
	get := func(name string) (string, bool) {
		f := fl.Lookup(name)
		if f == nil {
			return "", false
		}
		return f.Value.String(), f.Changed
	}
	if v, changed := get("framing"); changed && cmd.Name() != "decode" {
		if _, err := wire.Framing(v, "", ""); err != nil {
			return invalid(fmt.Errorf("--framing: %w", err))
		}
		if spec, _ := get("spec"); spec == "" {
			fmt.Fprintln(cmd.ErrOrStderr(), "posim: warning: --framing has no effect without --spec (a profile brings its own framing)")
		}
	}
	warn := func(format string, a ...any) {
		fmt.Fprintf(cmd.ErrOrStderr(), "posim: warning: "+format+"\n", a...)
	}
	if name, _ := get("profile"); cmd.Name() != "decode" {
		// what only a dialect with TPDU framing and working keys uses
		if p, err := wire.ProfileByName(name); err == nil && !p.Capabilities().TPDU && !p.Capabilities().WorkingKeys {
			for _, flag := range []string{"tpdu", "header", "tmk", "transport-key", "mac", "mac-key", "key-set", "mismatch", "header-match", "unsigned"} {
				if _, changed := get(flag); changed {
					warn("--%s has no effect under --profile %s (it is for %s)", flag, name, strings.Join(keyedDialects(), ", "))
				}
			}
		}
	}
	if sc, _ := get("scenario"); sc == "" && (cmd.Name() == "acquirer" || cmd.Name() == "proxy") {
		for _, name := range []string{"speed", "seed"} {
			if _, changed := get(name); changed {
				warn("--%s has no effect without --scenario", name)
			}
		}
	}
	if v, changed := get("currency"); changed {
		if err := checkCurrency("--currency", v); err != nil {
			return err
		}
	}
	if _, changed := get("record-clear"); changed {
		if rec, _ := get("record"); rec == "" {
			return usageErr("--record-clear needs --record FILE")
		}
	}
	return nil
}

// flagError maps pflag errors: a value that does not parse is invalid input
// (2); an unknown flag or a missing value is a usage error (1).
func flagError(cmd *cobra.Command, err error) error {
	if strings.Contains(err.Error(), "invalid argument") {
		return invalid(err)
	}
	return usageErr("%v (see %s --help)", err, cmd.CommandPath())
}

// newLogger returns a logger for a command's stderr in the chosen format.
func newLogger(w io.Writer, format string, verbose bool) (*slog.Logger, error) {
	level := "info"
	if verbose {
		level = "debug"
	}
	return newLevelLogger(w, format, level)
}

// newLevelLogger logs at a named level: debug, info (a line per message),
// warn or error.
func newLevelLogger(w io.Writer, format, levelName string) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(levelName)); err != nil {
		return nil, invalid(errorf("--log-level %q: want debug, info, warn or error", levelName))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, invalid(errorf("--log-format %q: want text or json", format))
}
