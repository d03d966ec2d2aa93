// Package posimtest starts posim's simulated acquirer inside a Go test, on
// 127.0.0.1 with a free port, optionally with a scenario's setup and fault
// rules, and lets the test assert on what the host received and booked.
//
//	host := posimtest.NewAcquirer(t, posimtest.Scenario("lost-response-reversal"))
//	// point the code under test at host.Addr() ...
//	require.Equal(t, 1, host.Received("0400"))
package posimtest

import (
	"os"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/scenarios"
	"github.com/posim/posim/wire"
)

// Option configures NewAcquirer.
type Option func(*config)

type config struct {
	scenario string
	opts     scenarios.HostOptions
}

// Scenario loads a catalogue scenario by name, or a scenario file by path;
// its setup (cards, merchants, terminals, policies) and rules apply. Its
// terminal steps do not run: the code under test is the terminal.
func Scenario(nameOrFile string) Option {
	return func(c *config) { c.scenario = nameOrFile }
}

// Speed divides the scenario's fault durations (delays, holds).
func Speed(n float64) Option {
	return func(c *config) { c.opts.Speed = n }
}

// Seed overrides the scenario's seed.
func Seed(n int64) Option {
	return func(c *config) { c.opts.Seed = &n }
}

// Profile sets the dialect: iso87 (the default) or cup.
func Profile(name string) Option {
	return func(c *config) { c.opts.Profile = name }
}

// StartAt starts the host's clock at t instead of now (scenarios.Epoch
// gives a scenario the dates its expectations name). The clock then runs
// at the scenario speed; Advance moves it on.
func StartAt(t time.Time) Option {
	return func(c *config) { c.opts.Epoch = t }
}

// Acquirer is a running simulated host: the scenario's host, built as
// posim run and posim acquirer --scenario build it. Its methods are safe
// for concurrent use; Advance moves its clock (cut-overs, payouts).
type Acquirer struct {
	*scenarios.Host
}

// NewAcquirer starts an acquirer on 127.0.0.1:0 and closes it when the test
// ends. Without options it approves the built-in test cards with the
// default policies.
func NewAcquirer(t testing.TB, opts ...Option) *Acquirer {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	s := &scenarios.Scenario{Name: "posimtest"}
	if c.scenario != "" {
		var err error
		s, err = load(c.scenario)
		if err != nil {
			t.Fatalf("posimtest: %v", err)
		}
	}
	c.opts.Journal = acquirer.NewMemJournal() // every entry, for Received and Entries
	h, err := scenarios.StartHost(s, "127.0.0.1:0", c.opts)
	if err != nil {
		t.Fatalf("posimtest: starting acquirer: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return &Acquirer{Host: h}
}

func load(nameOrFile string) (*scenarios.Scenario, error) {
	if _, err := os.Stat(nameOrFile); err == nil {
		return scenarios.LoadFile(nameOrFile)
	}
	return scenarios.FromCatalog(nameOrFile)
}

// Received counts the messages of an MTI the host received.
func (a *Acquirer) Received(mti string) int {
	return len(a.Journal().List(acquirer.Filter{Kind: acquirer.KindIn, MTI: mti}))
}

// Entries returns the journal entries of a kind ("in", "out", "decision",
// "fault", "orphan" ...), oldest first; "" returns every entry.
func (a *Acquirer) Entries(kind string) []acquirer.Entry {
	return a.Journal().List(acquirer.Filter{Kind: kind})
}

// Balance returns the balance of a card alias at the host, formatted like
// "995.00", or "" for an unknown alias.
func (a *Acquirer) Balance(alias string) string {
	c, ok := a.Book.ByAlias(alias)
	if !ok {
		return ""
	}
	acc, ok := a.Engine().Account(c.PAN)
	if !ok {
		return ""
	}
	return wire.FormatAmount(acc.Balance)
}

// Records returns the host's ledger records (PANs masked).
func (a *Acquirer) Records() []acquirer.Record {
	return a.Engine().Snapshot().Records
}
