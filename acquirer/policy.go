package acquirer

import (
	"fmt"
	"time"

	"github.com/posim/posim/wire"
)

// Duplicate policies: what the host answers to a retransmitted request it has
// already processed (same TID, MID, STAN, MTI and DE7 in the open batch).
const (
	DuplicateReplay = "replay" // resend the original response (the safe answer)
	Duplicate94     = "94"     // duplicate transmission
	Duplicate19     = "19"     // re-enter transaction (one host family)
)

// Policies are the acquirer's configurable behaviours. The zero value is not
// useful; start from DefaultPolicies. Amounts are in minor units; a zero limit
// means "no limit".
type Policies struct {
	// Duplicate is replay, 94 or 19.
	Duplicate string `yaml:"duplicate" json:"duplicate"`
	// ReversalUnknown answers a reversal whose original was never seen: 00
	// (and an ORPHAN journal entry) or 25.
	ReversalUnknown string `yaml:"reversal_unknown" json:"reversal_unknown"`
	// ReversalRepeat answers a reversal of an original already reversed: 00
	// (no second credit) or 22.
	ReversalRepeat string `yaml:"reversal_repeat" json:"reversal_repeat"`
	// ReversalDeclined answers a reversal of a declined original: 00 or 12.
	ReversalDeclined string `yaml:"reversal_declined" json:"reversal_declined"`
	// LateReversal answers a reversal of an original already settled: 00 (a
	// LATE_REVERSAL exception), 12, 25 or C3.
	LateReversal string `yaml:"late_reversal" json:"late_reversal"`
	// CompletionTolerance is how far, in per cent, a completion may exceed
	// its pre-authorisation; nil takes the dialect's (cup 15, iso87 0).
	CompletionTolerance *int `yaml:"completion_tolerance" json:"completion_tolerance,omitempty"`
	// Unsigned answers a request from a terminal that has not signed on,
	// under a dialect with working keys (cup): 77 (sign on again), A0 or 99.
	Unsigned string `yaml:"unsigned" json:"unsigned"`
	// ARQCFailure answers a chip request whose ARQC is not the card's
	// (the issuer recomputes it from the chip card's keys): 05 by
	// default, or any other decline code.
	ARQCFailure string `yaml:"arqc_failure" json:"arqc_failure"`
	// Fallback answers a chip card read as a swipe (DE22 80x): approve,
	// or a decline code (05, 57, ...).
	Fallback string `yaml:"fallback" json:"fallback"`

	// MaxAmount is the per-transaction limit (61).
	MaxAmount int64 `yaml:"-" json:"max_amount"`
	// DailyAmount is the per-card daily cumulative amount limit (61).
	DailyAmount int64 `yaml:"-" json:"daily_amount"`
	// DailyCount is the per-card daily count limit (65).
	DailyCount int `yaml:"daily_count" json:"daily_count"`
	// VelocityCount is how many approved sales one card may make at one
	// merchant within VelocityWindow; the next is declined 59. 0 disables.
	VelocityCount  int           `yaml:"velocity_count" json:"velocity_count"`
	VelocityWindow time.Duration `yaml:"velocity_window" json:"velocity_window"`
	// PINTries is how many wrong PINs a card takes before 75.
	PINTries int `yaml:"pin_tries" json:"pin_tries"`
	// PINKey is the hex TDES key PIN blocks are encrypted under.
	PINKey string `yaml:"pin_key" json:"-"`
	// MagicAmounts turns on the documented magic amounts (9999.NN → code NN).
	MagicAmounts bool `yaml:"magic_amounts" json:"magic_amounts"`
	// AutoRegister accepts terminals and merchants the ledger does not know.
	AutoRegister bool `yaml:"auto_register" json:"auto_register"`
	// RefundOverBalance is what a refund of a sale already settled gets
	// when the merchant's balance at the acquirer cannot cover it: allow
	// (the balance goes negative, the merchant owes) or a decline code
	// (51 by convention: the payer of a refund, the merchant, lacks the
	// funds; the terminal shows 商户余额不足).
	RefundOverBalance string `yaml:"refund_over_balance" json:"refund_over_balance"`
	// CardTypeRefused answers a card a merchant may not take (its
	// refuse list: credit, foreign): 57 (not permitted to cardholder)
	// or 58 (not permitted to terminal).
	CardTypeRefused string `yaml:"card_type_refused" json:"card_type_refused"`
	// Review puts a merchant under review (payouts held) after a run of
	// declines; nil: never.
	Review *ReviewRule `yaml:"review" json:"review,omitempty"`
	// MACKey is how a sign-on under key set 003 or 004 delivers the MAC
	// key (wire.MACKeySingle, the default, as most hosts send it: 8 bytes
	// and 8 zero bytes; or wire.MACKeyDouble); a terminal's own entry
	// (cards.Terminal.MACKey) wins.
	MACKey string `yaml:"mac_key" json:"mac_key,omitempty"`
	// TransportKey (hex, cup) is the key a master key download (0800 with
	// 60.3 350) sends the terminal master key under; empty: the host
	// refuses such downloads (40).
	TransportKey string `yaml:"transport_key" json:"transport_key,omitempty"`
}

// DefaultPolicies returns the documented defaults: duplicates replayed,
// reversals of unknown, repeated, declined and settled originals answered 00,
// no amount limits, no velocity rule, three PIN tries, magic amounts on,
// unknown terminals and merchants accepted.
func DefaultPolicies() Policies {
	return Policies{
		Duplicate:         DuplicateReplay,
		ReversalUnknown:   "00",
		ReversalRepeat:    "00",
		ReversalDeclined:  "00",
		LateReversal:      "00",
		Unsigned:          "77",
		ARQCFailure:       "05",
		Fallback:          "approve",
		VelocityWindow:    10 * time.Minute,
		PINTries:          3,
		PINKey:            "0123456789ABCDEFFEDCBA9876543210",
		MagicAmounts:      true,
		AutoRegister:      true,
		RefundOverBalance: RefundAllow,
		CardTypeRefused:   "57",
		MACKey:            wire.MACKeySingle,
	}
}

// Validate reports the first policy that holds a value it does not allow.
func (p Policies) Validate() error {
	check := func(name, v string, allowed ...string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return fmt.Errorf("policy %s: %q is not one of %v", name, v, allowed)
	}
	for _, err := range []error{
		check("duplicate", p.Duplicate, DuplicateReplay, Duplicate94, Duplicate19),
		check("reversal_unknown", p.ReversalUnknown, "00", "25"),
		check("reversal_repeat", p.ReversalRepeat, "00", "22"),
		check("reversal_declined", p.ReversalDeclined, "00", "12"),
		check("late_reversal", p.LateReversal, "00", "12", "25", "C3"),
		check("unsigned", p.Unsigned, "77", "A0", "99"),
		check("card_type_refused", p.CardTypeRefused, "57", "58"),
	} {
		if err != nil {
			return err
		}
	}
	for name, v := range map[string]string{"arqc_failure": p.ARQCFailure, "fallback": p.Fallback, "refund_over_balance": p.RefundOverBalance} {
		if (name == "fallback" && v == "approve") || (name == "refund_over_balance" && v == RefundAllow) {
			continue
		}
		if _, ok := wire.LookupCode(v); !ok || v == "00" {
			return fmt.Errorf("policy %s: %q is not a decline code", name, v)
		}
	}
	if err := wire.CheckMACKeyLayout(p.MACKey); err != nil {
		return fmt.Errorf("policy mac_key: %w", err)
	}
	if p.TransportKey != "" {
		if _, err := wire.WrapMasterKey(p.TransportKey, wire.TestTMK); err != nil {
			return fmt.Errorf("policy transport_key: %w", err)
		}
	}
	switch {
	case p.MaxAmount < 0 || p.DailyAmount < 0 || p.DailyCount < 0 || p.VelocityCount < 0:
		return fmt.Errorf("policy limits must not be negative")
	case p.VelocityCount > 0 && p.VelocityWindow <= 0:
		return fmt.Errorf("policy velocity_window must be positive when velocity_count is set")
	case p.PINTries < 1:
		return fmt.Errorf("policy pin_tries must be at least 1")
	case p.CompletionTolerance != nil && (*p.CompletionTolerance < 0 || *p.CompletionTolerance > 100):
		return fmt.Errorf("policy completion_tolerance %d: want 0 to 100 (per cent)", *p.CompletionTolerance)
	case p.Review != nil && (p.Review.Declines < 0 || p.Review.Declines >= 100):
		return fmt.Errorf("policy review.declines %d: want a per cent from 0 to 99 (more than this share of declines puts a merchant under review)", p.Review.Declines)
	case p.Review != nil && p.Review.Over < 1:
		return fmt.Errorf("policy review.over %d: want how many of a merchant's last answers count (at least 1)", p.Review.Over)
	}
	return nil
}
