package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/store"
)

// dataSetup is what a data directory's books were built from: a restart
// must build its engine the same way for the kept ops to replay exactly.
type dataSetup struct {
	Profile string      `json:"profile"`
	TMK     string      `json:"tmk"`
	MAC     string      `json:"mac"`
	Retain  int         `json:"retain"`
	Cards   *cards.Book `json:"cards"`
}

// openData opens --data, checks that the engine is built as the
// directory's first one was, replays the kept ops into a's engine, keeps
// the journal and starts keeping every change. It returns the store and
// how many ops it replayed.
func openData(dir, sync string, a *acquirer.Acquirer, j *acquirer.MemJournal, setup dataSetup, pol acquirer.Policies) (*store.Store, int, error) {
	s, err := store.Open(dir, sync)
	if err != nil {
		return nil, 0, invalid(fmt.Errorf("--data: %w", err))
	}
	fail := func(err error) (*store.Store, int, error) { s.Close(); return nil, 0, err }
	want, err := json.Marshal(setup)
	if err != nil {
		return fail(runtimeErr(err))
	}
	had, err := s.Meta("setup")
	if err != nil {
		return fail(runtimeErr(err))
	}
	first := had == ""
	if first {
		if err := s.SetMeta("setup", string(want)); err != nil {
			return fail(runtimeErr(err))
		}
	} else if had != string(want) {
		var old dataSetup
		_ = json.Unmarshal([]byte(had), &old)
		return fail(invalid(fmt.Errorf("--data %s holds books built with other settings (%s): start with the same --profile, --cards, --tmk, --mac and --retain, or use a new directory", dir, setupDiff(old, setup))))
	}
	e := a.Engine()
	n, err := s.Replay(e)
	if err != nil {
		return fail(runtimeErr(err))
	}
	if err := s.KeepJournal(j); err != nil {
		return fail(runtimeErr(err))
	}
	e.SetChangeLog(s)
	// the policies of this start apply from here on; the kept ops replayed
	// under those in force when they were decided
	if first || !reflect.DeepEqual(e.Policies(), pol) {
		if err := e.SetPolicies(pol); err != nil {
			return fail(runtimeErr(err))
		}
	}
	return s, n, nil
}

// setupDiff names what differs between two setups.
func setupDiff(old, now dataSetup) string {
	switch {
	case old.Profile != now.Profile:
		return fmt.Sprintf("profile %s, not %s", old.Profile, now.Profile)
	case old.TMK != now.TMK || old.MAC != now.MAC:
		return "another terminal master key or MAC algorithm"
	case old.Retain != now.Retain:
		return fmt.Sprintf("--retain %d, not %d", old.Retain, now.Retain)
	}
	return "other cards"
}

// exportBooks writes the books of a's engine as JSON to path ("-":
// stdout).
func exportBooks(out io.Writer, path string, a *acquirer.Acquirer) error {
	data, err := store.Export(a.Engine())
	if err != nil {
		return runtimeErr(err)
	}
	if path == "-" {
		_, err = out.Write(append(data, '\n'))
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return runtimeErr(fmt.Errorf("--export: %w", err))
	}
	return nil
}
