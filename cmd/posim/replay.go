package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/posim/posim/recording"
	"github.com/posim/posim/wire"
	"github.com/spf13/cobra"
)

type replayFlags struct {
	target, profile, cards string
	tmk, mac, pinKey       string
	ignore                 []string
	timeout                time.Duration
	json                   bool
	specFlags
}

func newReplayCmd() *cobra.Command {
	var f replayFlags
	cmd := &cobra.Command{
		Use:   "replay FILE",
		Short: "Resend a recording's terminal side to a host and report every difference in the answers",
		Long: `Resend the terminal side of a recording (posim proxy --record or posim acquirer --record)
to a host, one connection per recorded connection and each request after the previous
one's answer, and compare every answer with the recorded one field by field.

A masked recording gets its card data back from the card book (the built-in test cards and
--cards): a masked PAN whose first six and last four digits name exactly one card. Under a
dialect with working keys (cup), the working keys of the replayed sign-on are opened with
--tmk and later requests are signed with them. Fields a host fills afresh each time (--ignore,
by default 7, 12, 13, 15, 37, 38, 62, 64 and 128) are not compared.

Exit codes: 0 every answer the same, 4 some differ, 2 a recording that does not read,
3 a host that cannot be reached.`,
		Example: `  posim replay traffic.jsonl --target 127.0.0.1:8583
  posim replay traffic.jsonl --target 10.0.0.5:8583 --profile cup --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runReplay(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "", "the host to resend to, host:port (required)")
	fl.StringVar(&f.profile, "profile", wire.Default.Name(), "dialect of the recording: "+strings.Join(wire.ProfileNames(), " or "))
	f.specFlags.add(fl)
	fl.StringVar(&f.cards, "cards", "", "YAML file of extra cards, to restore the card data of a masked recording")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long each answer is awaited")
	fl.StringVar(&f.tmk, "tmk", wire.TestTMK, "cup: terminal master key (hex) that opens the working keys of the replayed sign-on")
	fl.StringVar(&f.mac, "mac", wire.MACCUP, "cup: MAC algorithm, cup or x9.19")
	fl.StringVar(&f.pinKey, "pin-key", wire.TestPINKey, "iso87: PIN key (hex) restored PINs are encrypted under")
	fl.StringSliceVar(&f.ignore, "ignore", intsToStrings(recording.DefaultIgnore), "answer fields not compared (field numbers, or none)")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON")
	return cmd
}

func intsToStrings(ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.Itoa(id)
	}
	return out
}

func runReplay(cmd *cobra.Command, f replayFlags, file string) error {
	if f.target == "" {
		return usageErr("replay needs --target HOST:PORT, the host to resend to")
	}
	if err := checkAddr("--target", f.target); err != nil {
		return err
	}
	if f.timeout <= 0 {
		return invalid(fmt.Errorf("--timeout %s: must be positive", f.timeout))
	}
	ignore := []int{}
	for _, s := range f.ignore {
		if s == "none" {
			continue
		}
		id, err := strconv.Atoi(s)
		if err != nil || id < 0 || id > 128 {
			return invalid(fmt.Errorf("--ignore %q: want field numbers 0 to 128, or none", s))
		}
		ignore = append(ignore, id)
	}
	profile, err := loadProfile(f.profile)
	if err != nil {
		return err
	}
	if f.spec != "" {
		if profile, err = f.customProfile("", ""); err != nil {
			return err
		}
	}
	book, err := loadCards(f.cards)
	if err != nil {
		return err
	}
	entries, err := recording.Load(file)
	if err != nil {
		return invalid(err)
	}
	rep, err := recording.Resend(cmd.Context(), entries, recording.ResendConfig{Target: f.target, Profile: profile, Framer: profile.Framer(),
		Cards: book, Timeout: f.timeout, TMK: f.tmk, MACAlg: f.mac, PINKey: f.pinKey, Ignore: ignore})
	if err != nil && rep == nil {
		return invalid(err)
	}
	if err != nil {
		return runtimeErr(err)
	}
	out := cmd.OutOrStdout()
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return runtimeErr(err)
		}
	} else {
		fmt.Fprintf(out, "posim replay %s to %s: %d requests, %d answered as recorded, %d differ\n", file, f.target, len(rep.Outcomes), rep.Same, rep.Differ)
		for _, o := range rep.Outcomes {
			verdict := "same"
			if !o.Same {
				verdict = "DIFFERS"
			}
			fmt.Fprintf(out, "line %-4d %-4s %s STAN %s  recorded %-9s now %-9s %s\n", o.Line, o.Conn, o.MTI, o.STAN, o.Recorded, o.Got, verdict)
			for _, d := range o.Differences {
				name := d.Name
				if d.Field > 0 {
					name = fmt.Sprintf("DE%d %s", d.Field, d.Name)
				}
				fmt.Fprintf(out, "    %s: %s → %s\n", strings.TrimSpace(name), d.Recorded, d.Now)
			}
			for _, n := range o.Notes {
				fmt.Fprintf(out, "    note: %s\n", n)
			}
		}
	}
	if rep.Differ > 0 {
		return &exitError{code: exitExpected, err: errors.New("replay: " + strconv.Itoa(rep.Differ) + " answers differ from the recording"), silent: f.json}
	}
	return nil
}
