package terminal

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
)

// What the terminal does when a reversal has been sent N+1 times without an
// answer (docs/domain.md R7).
const (
	ExhaustedDrop  = "drop"  // delete the record, tell the cashier, carry on
	ExhaustedBlock = "block" // refuse new transactions until a reversal gets through
)

// Config configures a Terminal. Start from DefaultConfig.
type Config struct {
	// Host is the acquirer's address, host:port.
	Host string `yaml:"host"`
	// TLS, when set, makes the link to the host TLS (with a client
	// certificate for mTLS).
	TLS *tls.Config `yaml:"-"`
	// TID and MID identify the terminal and its merchant (DE41, DE42).
	TID string `yaml:"tid"`
	MID string `yaml:"mid"`
	// Profile is the dialect.
	Profile wire.Profile `yaml:"-"`
	// Framer overrides the profile's framing (for example the cup TPDU and
	// header); nil uses the profile's.
	Framer wire.Framer `yaml:"-"`
	// Timeout is how long the terminal waits for a response.
	Timeout time.Duration `yaml:"timeout"`
	// ConnectTimeout bounds the TCP connect.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// ReversalRetries is N: a pending reversal is sent up to N+1 times.
	ReversalRetries int `yaml:"reversal_retries"`
	// WhenExhausted is drop or block.
	WhenExhausted string `yaml:"when_exhausted"`
	// ImmediateReversal sends the reversal right after a failure (R8)
	// instead of before the next transaction.
	ImmediateReversal bool `yaml:"immediate_reversal"`
	// Retransmits is how many times an unanswered request is sent again
	// with the same STAN before the terminal gives up (0: never). Some
	// terminals do this; it is the trap of duplicate-after-lost-approval.
	Retransmits int `yaml:"retransmit"`
	// SkipTCUpload makes the terminal settle without uploading its chip
	// transactions' certificates (a fault: terminals that forget it leave
	// the host without proof the card accepted).
	SkipTCUpload bool `yaml:"skip_tc_upload"`
	// ChipDownload makes a terminal of a dialect with working keys (cup)
	// run its downloads (chip CA public keys and parameters, terminal
	// parameters, blacklist: Download) right after a sign-on whose answer
	// asks for them (the header's processing request), as CUP terminals do.
	ChipDownload bool `yaml:"chip_download"`
	// Dump, when set, receives every message sent and received field by
	// field (card data masked).
	Dump io.Writer `yaml:"-"`
	// WriteChunk, when positive, writes each frame in pieces of this many
	// bytes, WriteGap apart: a slow or fragmenting link (a fault).
	WriteChunk int           `yaml:"-"`
	WriteGap   time.Duration `yaml:"-"`
	// AdviceRetries is how many times an unanswered advice is retransmitted.
	AdviceRetries int `yaml:"advice_retries"`
	// StateDir keeps the state across restarts; empty keeps it in memory.
	StateDir string `yaml:"-"`
	// Currency is DE49 (156 = CNY).
	Currency string `yaml:"currency"`
	// Country is the terminal's country code (ISO 3166 numeric, 156 =
	// China): 9F1A of its chip data.
	Country string `yaml:"country"`
	// TMK is the terminal master key (cup): sign-on working keys arrive
	// encrypted under it. MACAlg is cup or x9.19; KeySet is the 60.3 code
	// of the sign-on: 001 (single length), 003 (double) or 004 (with a
	// track key).
	TMK string `yaml:"-"`
	// TransportKey (cup, hex) opens the master key a master key download
	// (MasterKey, 0800 60.3 350) brings; empty: the terminal has none.
	TransportKey string `yaml:"-"`
	MACAlg       string `yaml:"mac"`
	KeySet       string `yaml:"key_set"`
	// (The default key set is 003: double-length, triple-DES keys.)
	// Operator is the cashier's number (cup DE63.1 in sign-on and
	// settlement requests), three characters; default 001.
	Operator string `yaml:"operator"`
	// MerchantName is printed on receipts (商户名称).
	MerchantName string `yaml:"merchant_name"`
	// AutoSignOn signs on before a transaction when the terminal is not
	// signed on (or the host asked it to sign on again with A0, 77 or 99).
	AutoSignOn bool `yaml:"auto_signon"`
	// PINKey is the hex TDES key PIN blocks are encrypted under.
	PINKey string `yaml:"-"`
	// Cards resolves card aliases.
	Cards *cards.Book `yaml:"-"`
	// Logger receives one line per message in and out; default discards.
	Logger *slog.Logger `yaml:"-"`
	// Clock stamps DE7, DE12 and DE13.
	Clock func() time.Time `yaml:"-"`
}

// DefaultConfig returns the defaults: iso87, TID POSIM001, MID
// POSIM0000000001, a 30 s response timeout and 10 s connect timeout (CUP
// terminal defaults), 3 reversal retries then drop, 3 advice retries,
// currency 156, the test PIN key and the built-in cards.
func DefaultConfig() Config {
	return Config{
		Host:            "127.0.0.1:8583",
		TID:             "POSIM001",
		MID:             "POSIM0000000001",
		Profile:         wire.ISO87,
		Timeout:         30 * time.Second,
		ConnectTimeout:  10 * time.Second,
		ReversalRetries: 3,
		WhenExhausted:   ExhaustedDrop,
		AdviceRetries:   3,
		Currency:        "156",
		Country:         "156",
		PINKey:          wire.TestPINKey,
		TMK:             wire.TestTMK,
		MACAlg:          wire.MACCUP,
		KeySet:          wire.KeysDouble,
		Operator:        "001",
		MerchantName:    "POSIM TEST MERCHANT",
		Cards:           cards.Builtin(),
		Logger:          slog.New(slog.DiscardHandler),
		Clock:           time.Now,
	}
}

// Validate reports the first setting that is out of range.
func (c Config) Validate() error {
	switch {
	case c.Host == "":
		return errors.New("host is empty")
	case c.TID == "" || len(c.TID) > 8:
		return fmt.Errorf("tid %q: want 1 to 8 characters", c.TID)
	case len(c.MID) > 15:
		return fmt.Errorf("mid %q: want at most 15 characters", c.MID)
	case c.Profile == nil:
		return errors.New("profile is not set")
	case c.Timeout <= 0:
		return fmt.Errorf("timeout %s: must be positive", c.Timeout)
	case c.ConnectTimeout <= 0:
		return fmt.Errorf("connect timeout %s: must be positive", c.ConnectTimeout)
	case c.ReversalRetries < 0 || c.ReversalRetries > 9:
		return fmt.Errorf("reversal retries %d: want 0 to 9", c.ReversalRetries)
	case c.WhenExhausted != ExhaustedDrop && c.WhenExhausted != ExhaustedBlock:
		return fmt.Errorf("when exhausted %q: want drop or block", c.WhenExhausted)
	case c.Retransmits < 0 || c.Retransmits > 9:
		return fmt.Errorf("retransmits %d: want 0 to 9", c.Retransmits)
	case c.WriteChunk < 0 || c.WriteGap < 0:
		return fmt.Errorf("write chunk and gap must not be negative")
	case c.AdviceRetries < 0:
		return fmt.Errorf("advice retries %d: must not be negative", c.AdviceRetries)
	case len(c.Currency) != 3:
		return fmt.Errorf("currency %q: want a 3-digit ISO 4217 code such as 156", c.Currency)
	case c.Cards == nil:
		return errors.New("cards book is not set")
	}
	if c.MACAlg != wire.MACCUP && c.MACAlg != wire.MACX919 {
		return fmt.Errorf("MAC algorithm %q: want cup or x9.19", c.MACAlg)
	}
	if len(c.Country) != 3 || strings.Trim(c.Country, "0123456789") != "" {
		return fmt.Errorf("country %q: want a three-digit ISO 3166 code, like 156", c.Country)
	}
	if len(c.Operator) > 3 {
		return fmt.Errorf("operator %q: want at most 3 characters", c.Operator)
	}
	if c.KeySet != wire.KeysSingle && c.KeySet != wire.KeysDouble && c.KeySet != wire.KeysTrack {
		return fmt.Errorf("key set %q: want 001, 003 or 004", c.KeySet)
	}
	if _, _, err := wire.IssueKeys(c.TMK, wire.KeysSingle, 0); err != nil {
		return err
	}
	if c.TransportKey != "" {
		if _, err := wire.WrapMasterKey(c.TransportKey, wire.TestTMK); err != nil {
			return err
		}
	}
	if _, err := wire.ParsePINKey(c.PINKey); err != nil {
		return err
	}
	return nil
}
