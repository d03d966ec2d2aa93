package cards

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/posim/posim/emv"
)

// TestIMK is the issuer master key for application cryptograms of every
// emulated chip card: the test key of the known-answer tests published with
// pyemv (github.com/knovichikhin/pyemv, tests/test_ac_hsm.py), check value
// 08D7. The acquirer derives each card's key from it exactly as the
// terminal's emulated card does (package emv). It is a test key: never use
// it for anything real.
const TestIMK = "0123456789ABCDEFFEDCBA9876543210"

// Chip behaviours: what an emulated chip card does at its GENERATE AC
// commands.
const (
	// ChipApprove asks to go online (ARQC), then accepts the issuer's
	// approval (TC) when the ARPC verifies.
	ChipApprove = "approve"
	// ChipOfflineDecline refuses at the first GENERATE AC (AAC): the
	// terminal declines offline and sends nothing.
	ChipOfflineDecline = "offline-decline"
	// ChipAACAfterApproval goes online, then refuses the issuer's
	// approval at the second GENERATE AC (AAC): the terminal must reverse.
	ChipAACAfterApproval = "aac-after-approval"
	// ChipOnlinePIN asks for the cardholder's PIN, verified online.
	ChipOnlinePIN = "online-pin"
)

// ChipBehaviours lists the chip behaviours.
func ChipBehaviours() []string {
	return []string{ChipApprove, ChipOfflineDecline, ChipAACAfterApproval, ChipOnlinePIN}
}

// DefaultCVMLimit is the contactless amount (minor units) at or under which a
// card is tapped without cardholder verification: 1000.00, the UnionPay
// QuickPass (闪付) limit for CNY.
const DefaultCVMLimit = 100_000

// Chip is a card's chip: an EMV (PBOC) application whose keys derive from
// TestIMK with the card's number and sequence number.
type Chip struct {
	// PSN is the card (PAN) sequence number, two digits; default 01.
	PSN string `json:"psn" yaml:"psn"`
	// Behaviour is one of ChipBehaviours; default approve.
	Behaviour string `json:"behaviour" yaml:"behaviour"`
	// Contactless cards are tapped (DE22 07x) instead of inserted (05x).
	Contactless bool `json:"contactless,omitempty" yaml:"contactless"`
	// CVMLimit is the contactless amount over which the terminal asks for
	// the PIN (minor units); 0 takes DefaultCVMLimit.
	CVMLimit int64 `json:"cvm_limit,omitempty" yaml:"-"`
	// ATCWindow is how far ahead of the last application transaction
	// counter the issuer saw for the card a new one may be (transactions
	// the card made offline, or that never reached the issuer); 0 takes
	// DefaultATCWindow.
	ATCWindow int `json:"atc_window,omitempty" yaml:"atc_window"`
	// CVN is the cryptogram version the card writes in 9F10 and derives
	// its session keys by: "01" PBOC (UnionPay's, the default) or "05"
	// the EMV common session key derivation.
	CVN string `json:"cvn,omitempty" yaml:"cvn"`
}

// CryptogramVersion is the chip's cryptogram version as 9F10 carries it.
func (c *Chip) CryptogramVersion() byte {
	if c.CVN == "05" {
		return emv.CVNCSK
	}
	return emv.CVNPBOC
}

// DefaultATCWindow is the issuer's ATC window when a chip sets none.
const DefaultATCWindow = 100

// Window is the chip's ATC window.
func (c *Chip) Window() int {
	if c.ATCWindow > 0 {
		return c.ATCWindow
	}
	return DefaultATCWindow
}

// IMK returns the issuer master key of the chip's application keys.
func (c *Chip) IMK() []byte {
	k, _ := hex.DecodeString(TestIMK)
	return k
}

// Limit is the chip's contactless CVM limit.
func (c *Chip) Limit() int64 {
	if c.CVMLimit > 0 {
		return c.CVMLimit
	}
	return DefaultCVMLimit
}

// Validate checks the chip and fills its defaults.
func (c *Chip) Validate() error {
	if c.PSN == "" {
		c.PSN = "01"
	}
	if len(c.PSN) != 2 || !isDigits(c.PSN) {
		return fmt.Errorf("chip psn %q: want two digits, like 01", c.PSN)
	}
	switch c.CVN {
	case "", "01", "05": // empty: 01
	default:
		return fmt.Errorf("chip cvn %q: want 01 (PBOC, UnionPay) or 05 (EMV common session key)", c.CVN)
	}
	if c.ATCWindow < 0 || c.ATCWindow > 0xFFFF {
		return fmt.Errorf("chip atc_window %d: want 1 to 65535 (0 takes %d)", c.ATCWindow, DefaultATCWindow)
	}
	if c.Behaviour == "" {
		c.Behaviour = ChipApprove
	}
	for _, b := range ChipBehaviours() {
		if c.Behaviour == b {
			return nil
		}
	}
	return fmt.Errorf("chip behaviour %q: want one of %s", c.Behaviour, strings.Join(ChipBehaviours(), ", "))
}
