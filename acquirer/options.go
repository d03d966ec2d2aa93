package acquirer

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
)

// Options configure an Acquirer. Start from DefaultOptions.
type Options struct {
	Profile  wire.Profile
	Framer   wire.Framer // nil: the profile's default framing
	Cards    *cards.Book
	Policies Policies
	Journal  Journal
	Logger   *slog.Logger
	Clock    func() time.Time
	Handler  Handler
	// TMK is the terminal master key (hex) sign-on keys are encrypted under
	// (cup); MACAlg is cup or x9.19.
	TMK    string
	MACAlg string
	// Engine, when set, is used instead of a new one (Cards and Policies are
	// then ignored): an acquirer restarted with its state kept.
	Engine *Engine
	// Retain and RetainPostings bound a new engine's ledger (see
	// Engine.SetRetention); 0 keeps everything.
	Retain, RetainPostings int
	// Dump, when set, receives every message received and sent field by
	// field (card data masked); writes are serialised.
	Dump io.Writer
	// Record, when set, receives every message received and sent
	// (posim acquirer --record).
	Record Recorder
	// Replay, when set, answers requests like a recorded host before the
	// engine is asked (posim acquirer --replay).
	Replay Replayer
	// MaxConns bounds the open connections; one more is closed at once
	// (0: no bound). IdleTimeout closes a connection that completes no
	// frame for that long, a silent or slowloris one (0: never).
	MaxConns    int
	IdleTimeout time.Duration
	// TLS, when set, makes the ISO link TLS (mTLS when it requires client
	// certificates).
	TLS *tls.Config
	// ConnLog, when set, receives the connection open and close entries
	// instead of the journal, so that connection churn cannot push the
	// transactions out of a bounded journal.
	ConnLog Journal
}

// WithLimits bounds the open connections and closes idle ones (0: no
// bound, never).
func WithLimits(maxConns int, idle time.Duration) Option {
	return func(o *Options) error {
		if maxConns < 0 || idle < 0 {
			return errors.New("connection limits must not be negative")
		}
		o.MaxConns, o.IdleTimeout = maxConns, idle
		return nil
	}
}

// WithTLS serves the ISO link over TLS with cfg.
func WithTLS(cfg *tls.Config) Option {
	return func(o *Options) error {
		o.TLS = cfg
		return nil
	}
}

// WithConnectionLog journals connection open and close entries to j
// instead of the journal.
func WithConnectionLog(j Journal) Option {
	return func(o *Options) error {
		o.ConnLog = j
		return nil
	}
}

// Recorder receives every message the acquirer receives (dir "request")
// and sends (dir "response"); prefix is the TPDU and header of the
// dialect's framing (nil without), raw the frame sent (nil for a request,
// whose TPDU the framing has already read). recording.Writer is one.
type Recorder interface {
	Message(dir, conn string, prefix []byte, m *iso8583.Message, raw []byte) error
}

// Replayer answers requests like a recorded host (recording.Replayer is
// one): the answer (nil: the recorded host never answered) and why; ok
// false leaves the request to the engine.
type Replayer interface {
	Answer(req *wire.Txn) (resp *wire.Txn, why string, ok bool)
}

// WithRecord records every message received and sent to r.
func WithRecord(r Recorder) Option {
	return func(o *Options) error {
		o.Record = r
		return nil
	}
}

// WithReplay answers requests like a recorded host: r first, the engine
// for what r leaves.
func WithReplay(r Replayer) Option {
	return func(o *Options) error {
		o.Replay = r
		return nil
	}
}

// Option changes Options; it may refuse a value.
type Option func(*Options) error

// DefaultOptions returns the defaults: profile iso87, the built-in test cards,
// DefaultPolicies, an in-memory journal, no logging, the system clock and the
// DefaultHandler.
func DefaultOptions() Options {
	return Options{
		Profile:  wire.ISO87,
		Cards:    cards.Builtin(),
		Policies: DefaultPolicies(),
		Logger:   slog.New(slog.DiscardHandler),
		Clock:    time.Now,
		Handler:  DefaultHandler,
		TMK:      wire.TestTMK,
		MACAlg:   wire.MACCUP,
	}
}

// WithKeys sets the terminal master key (hex) and the MAC algorithm (cup
// or x9.19) of the cup profile.
func WithKeys(tmk, macAlg string) Option {
	return func(o *Options) error {
		if _, _, err := wire.IssueKeys(tmk, wire.KeysSingle, 0); err != nil {
			return err
		}
		if macAlg != wire.MACCUP && macAlg != wire.MACX919 {
			return fmt.Errorf("MAC algorithm %q: want cup or x9.19", macAlg)
		}
		o.TMK, o.MACAlg = tmk, macAlg
		return nil
	}
}

// WithProfile sets the dialect.
func WithProfile(p wire.Profile) Option {
	return func(o *Options) error {
		if p == nil {
			return errors.New("profile is nil")
		}
		o.Profile = p
		return nil
	}
}

// WithDump writes every message received and sent, field by field (card
// data masked), to w.
func WithDump(w io.Writer) Option {
	return func(o *Options) error {
		o.Dump = &wire.SyncWriter{W: w}
		return nil
	}
}

// WithFramer overrides the profile's framing (for example to change the
// largest frame accepted).
func WithFramer(f wire.Framer) Option {
	return func(o *Options) error { o.Framer = f; return nil }
}

// WithCards seeds the ledger with book instead of the built-in cards.
func WithCards(book *cards.Book) Option {
	return func(o *Options) error {
		if book == nil {
			return errors.New("cards book is nil")
		}
		o.Cards = book
		return nil
	}
}

// WithPolicies sets the policies.
func WithPolicies(p Policies) Option {
	return func(o *Options) error {
		if err := p.Validate(); err != nil {
			return err
		}
		o.Policies = p
		return nil
	}
}

// WithJournal sets the journal store.
func WithJournal(j Journal) Option {
	return func(o *Options) error { o.Journal = j; return nil }
}

// WithLogger sets the logger; every message in and out is one line.
func WithLogger(l *slog.Logger) Option {
	return func(o *Options) error {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		o.Logger = l
		return nil
	}
}

// WithClock sets the clock the engine decides by.
func WithClock(now func() time.Time) Option {
	return func(o *Options) error {
		if now == nil {
			return errors.New("clock is nil")
		}
		o.Clock = now
		return nil
	}
}

// WithEngine reuses an engine and its ledger, as a restarted host keeps its
// database.
func WithEngine(e *Engine) Option {
	return func(o *Options) error {
		if e == nil {
			return errors.New("engine is nil")
		}
		o.Engine = e
		return nil
	}
}

// WithRetention bounds the ledger of long-running hosts and load runs: at
// most records transactions and postings account movements are kept, the
// oldest forgotten. 0 keeps everything (the default).
func WithRetention(records, postings int) Option {
	return func(o *Options) error {
		if records < 0 || postings < 0 {
			return errors.New("retention must not be negative")
		}
		o.Retain, o.RetainPostings = records, postings
		return nil
	}
}

// WithHandler sets the handler every request goes through.
func WithHandler(h Handler) Option {
	return func(o *Options) error {
		if h == nil {
			return errors.New("handler is nil")
		}
		o.Handler = h
		return nil
	}
}

// Log attribute keys used by the acquirer and the terminal.
const (
	KeyMTI  = "mti"
	KeySTAN = "stan"
	KeyTID  = "tid"
	KeyMID  = "mid"
	KeyRC   = "rc"
	KeyPAN  = "pan"
	KeyConn = "conn"
)
