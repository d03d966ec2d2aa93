package cards

import (
	"fmt"
	"sort"
)

// Card statuses an issuer may set, and the response code each produces.
const (
	StatusActive     = "active"
	StatusBlocked    = "blocked"       // 05 do not honor
	StatusLost       = "lost"          // 41
	StatusStolen     = "stolen"        // 43
	StatusPickUp     = "pickup"        // 04
	StatusFraud      = "fraud"         // 34
	StatusRestricted = "restricted"    // 62
	StatusNotAllowed = "not-permitted" // 57
	StatusAML        = "aml"           // 93
)

// StatusCodes maps each card status other than active to its DE39 code.
var StatusCodes = map[string]string{
	StatusBlocked:    "05",
	StatusLost:       "41",
	StatusStolen:     "43",
	StatusPickUp:     "04",
	StatusFraud:      "34",
	StatusRestricted: "62",
	StatusNotAllowed: "57",
	StatusAML:        "93",
}

// DefaultPIN is the PIN of every built-in card, and what the emulated
// cardholder types unless told otherwise.
const DefaultPIN = "1234"

// Card is one test card as the issuer knows it. Balance is in minor units.
type Card struct {
	Alias       string `json:"alias"`
	PAN         string `json:"pan"`
	Expiry      string `json:"expiry"` // YYMM
	PIN         string `json:"-"`      // the issuer's PIN; empty: no PIN check
	EnteredPIN  string `json:"-"`      // what the cardholder types at the terminal
	Balance     int64  `json:"balance"`
	Status      string `json:"status"`
	Description string `json:"description"`
	// Type is debit (default) or credit: merchant fees may differ.
	Type string `json:"type,omitempty"`
	// Chip is the card's chip; nil for a magnetic-stripe-only card.
	Chip *Chip `json:"chip,omitempty"`
}

// CardType returns the card's type, debit unless it says credit.
func (c Card) CardType() string {
	if c.Type == "credit" {
		return "credit"
	}
	return "debit"
}

// PINToEnter returns what the emulated cardholder types for this card.
func (c Card) PINToEnter() string {
	if c.EnteredPIN != "" {
		return c.EnteredPIN
	}
	return c.PIN
}

// Merchant statuses.
const (
	MerchantActive     = "active"
	MerchantFrozen     = "frozen"     // 03 invalid merchant
	MerchantRestricted = "restricted" // 58 not permitted to terminal
)

// Terminal statuses.
const (
	TerminalActive       = "active"
	TerminalDeregistered = "deregistered" // 97 terminal not registered
	TerminalRestricted   = "restricted"   // 58
)

// Merchant is a merchant account known to the acquirer.
type Merchant struct {
	MID    string `json:"mid" yaml:"mid"`
	Name   string `json:"name,omitempty" yaml:"name"`
	Status string `json:"status" yaml:"status"`
	// Refuse lists the cards the merchant may not take, as when a bank
	// suspends only its credit-card acceptance (暂停信用卡支付功能):
	// credit (credit cards), foreign (cards of an organisation other than
	// UnionPay). Debit and domestic cards are still taken.
	Refuse []string `json:"refuse,omitempty" yaml:"refuse"`
}

// Card kinds a merchant may be barred from (Merchant.Refuse).
const (
	RefuseCredit  = "credit"
	RefuseForeign = "foreign"
)

// Terminal is a terminal known to the acquirer.
type Terminal struct {
	TID    string `json:"tid" yaml:"tid"`
	MID    string `json:"mid,omitempty" yaml:"mid"`
	Status string `json:"status" yaml:"status"`
	// MACKey is how its sign-on delivers the MAC key under key set 003 or
	// 004: single (8 bytes and 8 zero bytes) or double; empty: the host's
	// policy.
	MACKey string `json:"mac_key,omitempty" yaml:"mac_key"`
}

// Book is a set of cards, merchants and terminals. Lookups are by alias and
// by PAN. A Book is not safe for concurrent mutation; read-only use is fine.
type Book struct {
	Cards     []Card
	Merchants []Merchant
	Terminals []Terminal
}

// ByAlias returns the card with the alias.
func (b *Book) ByAlias(alias string) (Card, bool) {
	for _, c := range b.Cards {
		if c.Alias == alias {
			return c, true
		}
	}
	return Card{}, false
}

// ByPAN returns the card with the PAN.
func (b *Book) ByPAN(pan string) (Card, bool) {
	for _, c := range b.Cards {
		if c.PAN == pan {
			return c, true
		}
	}
	return Card{}, false
}

// Aliases lists the card aliases in order.
func (b *Book) Aliases() []string {
	out := make([]string, 0, len(b.Cards))
	for _, c := range b.Cards {
		out = append(out, c.Alias)
	}
	sort.Strings(out)
	return out
}

// Merge returns a new book with other's entries added; an entry of other
// replaces one of b with the same alias, PAN, MID or TID.
func (b *Book) Merge(other *Book) *Book {
	out := &Book{}
	for _, c := range b.Cards {
		if _, dup := other.ByAlias(c.Alias); dup {
			continue
		}
		if _, dup := other.ByPAN(c.PAN); dup {
			continue
		}
		out.Cards = append(out.Cards, c)
	}
	out.Cards = append(out.Cards, other.Cards...)
	merch := map[string]bool{}
	for _, m := range other.Merchants {
		merch[m.MID] = true
	}
	for _, m := range b.Merchants {
		if !merch[m.MID] {
			out.Merchants = append(out.Merchants, m)
		}
	}
	out.Merchants = append(out.Merchants, other.Merchants...)
	term := map[string]bool{}
	for _, t := range other.Terminals {
		term[t.TID] = true
	}
	for _, t := range b.Terminals {
		if !term[t.TID] {
			out.Terminals = append(out.Terminals, t)
		}
	}
	out.Terminals = append(out.Terminals, other.Terminals...)
	return out
}

// Resolve turns an alias or a PAN into a card. A PAN that is not in the book
// yields a card with that PAN, the default PIN and no balance: the acquirer
// decides what it thinks of it.
func (b *Book) Resolve(aliasOrPAN string) (Card, error) {
	if c, ok := b.ByAlias(aliasOrPAN); ok {
		return c, nil
	}
	if c, ok := b.ByPAN(aliasOrPAN); ok {
		return c, nil
	}
	if isDigits(aliasOrPAN) && len(aliasOrPAN) >= 12 && len(aliasOrPAN) <= 19 {
		return Card{PAN: aliasOrPAN, Expiry: "3012", PIN: DefaultPIN}, nil
	}
	return Card{}, fmt.Errorf("unknown card %q: use a PAN or one of %v", aliasOrPAN, b.Aliases())
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
