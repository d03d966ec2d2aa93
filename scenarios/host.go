package scenarios

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/faults"
	"github.com/posim/posim/wire"
)

// HostOptions tune a Host. The zero value serves the scenario as written,
// on the wall clock.
type HostOptions struct {
	// Seed overrides the scenario's seed when set.
	Seed *int64
	// Speed divides every fault duration; 0 means 1 (real time).
	Speed float64
	// Profile is the dialect's name; default iso87.
	Profile string
	// Dialect, when set, is the dialect itself (a custom spec); it wins
	// over Profile.
	Dialect wire.Profile
	// Logger receives the acquirer's message lines.
	Logger *slog.Logger
	// Epoch is where the host's clock starts; its clock then runs at Speed
	// and moves forward on Advance. Zero starts it at the wall clock's now.
	// Scenario runs start it at the fixed Epoch, so that dates repeat.
	Epoch time.Time
	// Journal receives the host's journal; nil makes one that keeps the
	// newest JournalMax entries (0: every entry).
	Journal    acquirer.Journal
	JournalMax int
	// Retain bounds the ledger (see acquirer.Engine.SetRetention); 0 keeps
	// everything, which scenarios and back-office reports need.
	Retain int
	// MaxFrame is the largest frame accepted; 0 is the default.
	MaxFrame int
	// TPDU, Header, Mismatch and HeaderMatch (cup) replace the scenario's
	// own framing settings when set (hex; discard, reject or accept;
	// version or exact).
	TPDU, Header, Mismatch, HeaderMatch string
	// Framer, when set, replaces the framing altogether (a custom spec's).
	Framer wire.Framer
	// Book, when set, adjusts the scenario's cards before the host starts
	// (a load run funds the card it sells on).
	Book func(*cards.Book)
	// Acquirer holds further options for the acquirer (applied last).
	Acquirer []acquirer.Option
	// Timers own what rules loaded through the control API schedule
	// (ControlRules, ControlLoader): stop them when the acquirer stops.
	// Nil: the loaders make their own, which nothing stops.
	Timers *faults.Timers
}

// Host is a scenario's acquirer: its cards, merchants and terminals, its
// policies, its back office, its cup framing and its fault rules, on a
// clock of its own. Every way of serving a scenario builds it here: posim
// run and posim demo (through Run), posim acquirer --scenario, posim load
// --scenario, posimtest, and the control API's PUT /scenario (through
// ControlLoader). It is safe for concurrent use; Close it when done.
type Host struct {
	// Book is the cards, merchants and terminals the ledger was seeded from.
	Book *cards.Book
	// Faults are the scenario's compiled rules, with their counts.
	Faults *faults.Faults

	engine  *acquirer.Engine
	journal acquirer.Journal
	opts    []acquirer.Option // to build the acquirer again on a restart

	epoch    time.Time
	start    time.Time
	speed    float64
	advanced atomic.Int64

	mu     sync.Mutex
	acq    *acquirer.Acquirer
	timers faults.Timers // what the rules scheduled (a refuse's end)
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

// backOffice returns the scenario's back office, or nil when it has none.
func backOffice(s *Scenario) (*acquirer.BackOffice, error) {
	bo := s.Setup.BackOffice
	if bo == nil {
		return nil, nil
	}
	cut, contracts, err := bo.contracts()
	if err != nil {
		return nil, err
	}
	return &acquirer.BackOffice{Cutover: cut, Contracts: contracts}, nil
}

// hostFramer is the acquirer's framing: the options' own, else for cup the
// TPDU and header the scenario's acquirer expects, with the options'
// overrides.
func hostFramer(s *Scenario, p wire.Profile, o HostOptions) (wire.Framer, error) {
	if o.Framer != nil {
		return o.Framer, nil
	}
	// the length header: the profile's (a custom spec's may be ascii4),
	// with the largest frame asked for
	var base wire.Framer = wire.InnerFramer(p.Framer())
	if _, ok := base.(wire.Binary2); ok {
		base = wire.Binary2{MaxFrame: o.MaxFrame}
	}
	if !p.Capabilities().TPDU {
		return base, nil
	}
	as := s.Setup.Acquirer
	pick := func(override, own string) string {
		if override != "" {
			return override
		}
		return own
	}
	f, err := wire.NewTPDUFramer(base, pick(o.TPDU, as.TPDU), pick(o.Header, as.Header), pick(o.Mismatch, as.Mismatch))
	if err != nil {
		return nil, err
	}
	return f, f.SetHeaderMatch(pick(o.HeaderMatch, as.HeaderMatch))
}

// NewHost builds the acquirer a scenario describes, without listening: call
// Listen. Its clock starts now (see HostOptions.Epoch).
func NewHost(s *Scenario, o HostOptions) (*Host, error) {
	if o.Speed <= 0 {
		o.Speed = 1
	}
	if o.Profile == "" {
		o.Profile = wire.Default.Name()
	}
	seed := s.Seed
	if o.Seed != nil {
		seed = *o.Seed
	}
	p := o.Dialect
	if p == nil {
		var err error
		if p, err = wire.ProfileByName(o.Profile); err != nil {
			return nil, err
		}
	}
	if !s.Supports(p.Name()) {
		return nil, errors.New("scenario " + s.Name + " does not support profile " + p.Name())
	}
	if err := faults.Check(s.File, s.Rules, faults.WhereAcquirer); err != nil {
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
	bo, err := backOffice(s)
	if err != nil {
		return nil, err
	}
	framer, err := hostFramer(s, p, o)
	if err != nil {
		return nil, err
	}
	engine, err := acquirer.NewEngine(book, pol)
	if err != nil {
		return nil, err
	}
	engine.SetRetention(o.Retain, o.Retain)
	h := &Host{Book: book, engine: engine, journal: o.Journal, epoch: o.Epoch, start: time.Now(), speed: o.Speed}
	if h.journal == nil {
		h.journal = acquirer.NewRingJournal(o.JournalMax)
	}
	if h.epoch.IsZero() {
		h.epoch = h.start
	}
	if bo != nil {
		if err := engine.SetContracts(bo.Cutover, bo.Contracts); err != nil {
			return nil, err
		}
		engine.Advance(h.Now()) // the business day starts
	}
	h.Faults, err = faults.Compile(s.Rules, &faults.Env{
		Seed: seed, Speed: o.Speed, Cards: book, Journal: h.journal, Now: h.Now, Elapsed: h.Elapsed,
		Logger: o.Logger, Profile: p.Name(), Acquirer: h.Acquirer, After: h.timers.After,
	})
	if err != nil {
		return nil, err
	}
	h.opts = append([]acquirer.Option{
		acquirer.WithProfile(p), acquirer.WithFramer(framer), acquirer.WithEngine(engine),
		acquirer.WithJournal(h.journal), acquirer.WithClock(h.Now), acquirer.WithHandler(h.Faults),
		acquirer.WithLogger(o.Logger),
	}, o.Acquirer...)
	a, err := acquirer.New(h.opts...)
	if err != nil {
		return nil, err
	}
	h.acq = a
	return h, nil
}

// StartHost builds the scenario's acquirer and listens on addr (for example
// "127.0.0.1:0").
func StartHost(s *Scenario, addr string, o HostOptions) (*Host, error) {
	h, err := NewHost(s, o)
	if err != nil {
		return nil, err
	}
	if err := h.Listen(addr); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// Listen starts accepting on addr.
func (h *Host) Listen(addr string) error { return h.Acquirer().Listen(addr) }

// Acquirer returns the running acquirer (a new one after Restart).
func (h *Host) Acquirer() *acquirer.Acquirer {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.acq
}

// Engine returns the host's ledger and decisions; a restart keeps it.
func (h *Host) Engine() *acquirer.Engine { return h.engine }

// Journal returns the host's journal; a restart keeps it.
func (h *Host) Journal() acquirer.Journal { return h.journal }

// Addr returns the address the host listens on.
func (h *Host) Addr() string { return h.Acquirer().Addr() }

// Elapsed is scenario time since the host started: real time times the
// speed, plus every Advance.
func (h *Host) Elapsed() time.Duration {
	return time.Duration(float64(time.Since(h.start))*h.speed) + time.Duration(h.advanced.Load())
}

// Now is the host's clock: its epoch plus Elapsed.
func (h *Host) Now() time.Time { return h.epoch.Add(h.Elapsed()) }

// Advance moves the host's clock forward by d (an advance step: hours,
// days) and runs the cut-overs due.
func (h *Host) Advance(d time.Duration) {
	h.advanced.Add(int64(d))
	h.engine.Advance(h.Now())
}

// Restart stops the acquirer and starts a new one on the same address with
// the same ledger and journal, as a host process restarted on its database.
func (h *Host) Restart() error {
	h.mu.Lock()
	old := h.acq
	h.mu.Unlock()
	addr := old.Addr()
	old.Close()
	a, err := acquirer.New(h.opts...)
	if err != nil {
		return err
	}
	if err := a.Listen(addr); err != nil {
		return err
	}
	h.mu.Lock()
	h.acq = a
	h.mu.Unlock()
	return nil
}

// Close stops the host and what its rules scheduled. It is idempotent.
func (h *Host) Close() error {
	h.timers.Stop()
	return h.Acquirer().Close()
}

// controlEnv is the environment of rules loaded into a running acquirer
// through its control API; what they schedule is owned by o.Timers.
func controlEnv(a *acquirer.Acquirer, o HostOptions, seed int64, book *cards.Book) *faults.Env {
	speed := o.Speed
	if speed <= 0 {
		speed = 1
	}
	start := time.Now()
	return &faults.Env{
		Seed: seed, Speed: speed, Cards: book, Journal: a.Journal(), Now: a.Now, Logger: o.Logger, Profile: a.Profile().Name(),
		Elapsed:  func() time.Duration { return time.Duration(float64(time.Since(start)) * speed) },
		Acquirer: func() *acquirer.Acquirer { return a },
		After:    o.Timers.After,
	}
}

// ControlRules returns what makes an empty rule set for a running
// acquirer: rules added one by one through its control API (POST /rules),
// their card aliases those of the built-in cards.
func ControlRules(a *acquirer.Acquirer, o HostOptions) func() (acquirer.Handler, error) {
	if o.Timers == nil {
		o.Timers = &faults.Timers{}
	}
	return func() (acquirer.Handler, error) {
		var seed int64
		if o.Seed != nil {
			seed = *o.Seed
		}
		return faults.Compile(nil, controlEnv(a, o, seed, cards.Builtin()))
	}
}

// ControlLoader returns a loader for the acquirer's control API: PUT
// /scenario parses a scenario file and sets its rules, acquirer policies
// and back office on the running acquirer a, built as NewHost builds them.
// Its cards, merchants and terminals are not loaded (the ledger stays as
// it is), the listener keeps its framing, and its steps are not run.
func ControlLoader(a *acquirer.Acquirer, o HostOptions) acquirer.ScenarioLoader {
	if o.Timers == nil {
		o.Timers = &faults.Timers{}
	}
	return func(name string, data []byte) (acquirer.Setup, error) {
		s, err := Parse(name, data)
		if err != nil {
			return acquirer.Setup{}, err
		}
		if !s.Supports(a.Profile().Name()) {
			return acquirer.Setup{}, errors.New("scenario " + s.Name + " does not support profile " + a.Profile().Name())
		}
		if err := faults.Check(s.File, s.Rules, faults.WhereAcquirer); err != nil {
			return acquirer.Setup{}, err
		}
		pol, err := Policies(s.Setup.Acquirer)
		if err != nil {
			return acquirer.Setup{}, err
		}
		bo, err := backOffice(s)
		if err != nil {
			return acquirer.Setup{}, err
		}
		book, err := scenarioBook(s)
		if err != nil {
			return acquirer.Setup{}, err
		}
		seed := s.Seed
		if o.Seed != nil {
			seed = *o.Seed
		}
		f, err := faults.Compile(s.Rules, controlEnv(a, o, seed, book))
		if err != nil {
			return acquirer.Setup{}, err
		}
		return acquirer.Setup{Handler: f, Policies: &pol, BackOffice: bo}, nil
	}
}

// ProxyRules compiles a scenario's rules for posim proxy: checked for the
// proxy, card aliases (when.card) resolved against the scenario's cards,
// the scenario's seed unless env gives one.
func ProxyRules(s *Scenario, env faults.Env) (*faults.Faults, error) {
	if err := faults.Check(s.File, s.Rules, faults.WhereProxy); err != nil {
		return nil, err
	}
	book, err := scenarioBook(s)
	if err != nil {
		return nil, err
	}
	env.Cards = book
	if env.Seed == 0 {
		env.Seed = s.Seed
	}
	return faults.Compile(s.Rules, &env)
}
