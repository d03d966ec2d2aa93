package scenarios

import (
	"log/slog"
	"sync"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
)

// HostOptions tune a Host.
type HostOptions struct {
	// Seed overrides the scenario's seed when set.
	Seed *int64
	// Speed divides every fault duration; 0 means 1 (real time).
	Speed float64
	// Profile is the dialect; default iso87.
	Profile string
	// Logger receives the acquirer's message lines.
	Logger *slog.Logger
	// Extra options for the acquirer (for example WithFramer).
	Acquirer []acquirer.Option
	// JournalMax bounds the journal (the oldest entries dropped); 0 keeps
	// every entry.
	JournalMax int
	// Book, when set, adjusts the scenario's cards before the host starts
	// (a load run funds the card it sells on).
	Book func(*cards.Book)
}

// Host is a scenario's acquirer on its own: its setup and fault rules, for
// a POS that is not posim's terminal (your own software, or a Go test). It
// is safe for concurrent use; Close it when done.
type Host struct {
	*acquirer.Acquirer
	Book *cards.Book
	// Faults are the scenario's compiled rules, with their counts.
	Faults *Faults

	mu     sync.Mutex
	timers []*time.Timer
	closed bool
}

// scenarioBook returns the built-in cards merged with the scenario's own
// cards, merchants and terminals.
func scenarioBook(s *Scenario) (*cards.Book, error) {
	extra := &cards.Book{Merchants: s.Setup.Merchants, Terminals: s.Setup.Terminals}
	for _, cs := range s.Setup.Cards {
		c, err := cs.Card()
		if err != nil {
			return nil, err
		}
		extra.Cards = append(extra.Cards, c)
	}
	return cards.Builtin().Merge(extra), nil
}

// StartHost starts the scenario's acquirer on addr (e.g. "127.0.0.1:0").
func StartHost(s *Scenario, addr string, o HostOptions) (*Host, error) {
	if o.Speed <= 0 {
		o.Speed = 1
	}
	if o.Profile == "" {
		o.Profile = "iso87"
	}
	seed := s.Seed
	if o.Seed != nil {
		seed = *o.Seed
	}
	p, err := wire.ProfileByName(o.Profile)
	if err != nil {
		return nil, err
	}
	book, err := scenarioBook(s)
	if err != nil {
		return nil, err
	}
	if o.Book != nil {
		o.Book(book)
	}
	pol, err := Policies(s.Setup.Acquirer)
	if err != nil {
		return nil, err
	}
	h := &Host{Book: book}
	start := time.Now()
	journal := acquirer.NewRingJournal(o.JournalMax)
	var a *acquirer.Acquirer
	env := &Env{
		Seed: seed, Speed: o.Speed, Cards: book, Journal: journal, Now: time.Now, Logger: o.Logger, Profile: p.Name(),
		Elapsed:  func() time.Duration { return time.Duration(float64(time.Since(start)) * o.Speed) },
		Acquirer: func() *acquirer.Acquirer { return a },
		After: func(d time.Duration, fn func()) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if !h.closed {
				h.timers = append(h.timers, time.AfterFunc(d, fn))
			}
		},
	}
	faults, err := Compile(s.Rules, env)
	if err != nil {
		return nil, err
	}
	h.Faults = faults
	opts := append([]acquirer.Option{
		acquirer.WithProfile(p), acquirer.WithCards(book), acquirer.WithPolicies(pol),
		acquirer.WithJournal(journal), acquirer.WithHandler(faults),
	}, o.Acquirer...)
	if o.Logger != nil {
		opts = append(opts, acquirer.WithLogger(o.Logger))
	}
	if a, err = acquirer.New(opts...); err != nil {
		return nil, err
	}
	if err := a.Listen(addr); err != nil {
		return nil, err
	}
	h.Acquirer = a
	return h, nil
}

// Close stops the host and its pending timers.
func (h *Host) Close() error {
	h.mu.Lock()
	h.closed = true
	for _, t := range h.timers {
		t.Stop()
	}
	h.mu.Unlock()
	return h.Acquirer.Close()
}

// ControlLoader returns a loader for the acquirer's control API: PUT
// /scenario parses a scenario file and swaps in its rules and acquirer
// policies. Its cards, merchants and terminals are not loaded (the ledger
// stays as it is), nor are its steps run.
func ControlLoader(a *acquirer.Acquirer, o HostOptions) acquirer.ScenarioLoader {
	return func(name string, data []byte) (acquirer.Handler, *acquirer.Policies, error) {
		s, err := Parse(name, data)
		if err != nil {
			return nil, nil, err
		}
		pol, err := Policies(s.Setup.Acquirer)
		if err != nil {
			return nil, nil, err
		}
		speed := o.Speed
		if speed <= 0 {
			speed = 1
		}
		seed := s.Seed
		if o.Seed != nil {
			seed = *o.Seed
		}
		book, err := scenarioBook(s)
		if err != nil {
			return nil, nil, err
		}
		start := time.Now()
		f, err := Compile(s.Rules, &Env{
			Seed: seed, Speed: speed, Cards: book, Journal: a.Journal(), Now: a.Now, Logger: o.Logger,
			Elapsed:  func() time.Duration { return time.Duration(float64(time.Since(start)) * speed) },
			Acquirer: func() *acquirer.Acquirer { return a },
			After:    func(d time.Duration, fn func()) { time.AfterFunc(d, fn) },
		})
		if err != nil {
			return nil, nil, err
		}
		return f, &pol, nil
	}
}
