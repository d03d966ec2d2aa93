package scenarios

import (
	"fmt"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
)

// BackOfficeSetup configures the acquirer's back office: the daily
// cut-over and the merchants' contracts.
type BackOfficeSetup struct {
	// Cutover is the time of day the business day closes, "23:00".
	Cutover   string         `yaml:"cutover" json:"cutover,omitempty"`
	Contracts []ContractSpec `yaml:"contracts" json:"contracts,omitempty"`
}

// ContractSpec is a merchant contract as written in a scenario.
type ContractSpec struct {
	MID           string      `yaml:"mid" json:"mid"`
	Debit         FeeRuleSpec `yaml:"debit" json:"debit"`
	Credit        FeeRuleSpec `yaml:"credit" json:"credit"`
	ActivationFee string      `yaml:"activation_fee" json:"activation_fee,omitempty"`
	Cycle         string      `yaml:"cycle" json:"cycle,omitempty"` // D0 or T+1 (default)
	Hold          bool        `yaml:"hold" json:"hold,omitempty"`
	// Holidays (YYYY-MM-DD) roll a T+1 payout forward, as weekends do.
	Holidays []string `yaml:"holidays" json:"holidays,omitempty"`
	// Rebate makes the fee "deduct now, rebate later": the part of the fee
	// above this rule comes back After the business day (default 30d).
	Rebate *RebateSpec `yaml:"rebate" json:"rebate,omitempty"`
}

// RebateSpec is a rebated rate and when the rebate is paid.
type RebateSpec struct {
	Rate  string   `yaml:"rate" json:"rate"`
	After Duration `yaml:"after" json:"after,omitempty"`
}

// FeeRuleSpec is a fee rule as written: rates like "0.60%", amounts like
// "20.00".
type FeeRuleSpec struct {
	Kind     string     `yaml:"kind" json:"kind,omitempty"` // rate (default), tiered_fixed, tiered_rate
	Rate     string     `yaml:"rate" json:"rate,omitempty"`
	Floor    string     `yaml:"floor" json:"floor,omitempty"`
	Cap      string     `yaml:"cap" json:"cap,omitempty"`
	Rounding string     `yaml:"rounding" json:"rounding,omitempty"`
	Tiers    []TierSpec `yaml:"tiers" json:"tiers,omitempty"`
}

// TierSpec is one band of a tiered rule.
type TierSpec struct {
	UpTo string `yaml:"up_to" json:"up_to,omitempty"`
	Fee  string `yaml:"fee" json:"fee,omitempty"`
	Rate string `yaml:"rate" json:"rate,omitempty"`
}

func optAmount(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	return wire.ParseAmount(s)
}

func (f FeeRuleSpec) rule() (acquirer.FeeRule, error) {
	r := acquirer.FeeRule{Kind: f.Kind, Rounding: f.Rounding}
	var err error
	switch f.Kind {
	case "", "rate", "tiered_fixed", "tiered_rate":
	default:
		return r, fmt.Errorf("fee kind %q: want rate, tiered_fixed or tiered_rate", f.Kind)
	}
	switch f.Rounding {
	case "", "half_up", "up", "down":
	default:
		return r, fmt.Errorf("rounding %q: want half_up, up or down", f.Rounding)
	}
	if f.Rate != "" {
		if r.PPM, err = wire.ParseRate(f.Rate); err != nil {
			return r, err
		}
	}
	if r.Floor, err = optAmount(f.Floor); err != nil {
		return r, fmt.Errorf("floor: %w", err)
	}
	if r.Cap, err = optAmount(f.Cap); err != nil {
		return r, fmt.Errorf("cap: %w", err)
	}
	for _, t := range f.Tiers {
		var tier acquirer.Tier
		if tier.UpTo, err = optAmount(t.UpTo); err != nil {
			return r, fmt.Errorf("tier up_to: %w", err)
		}
		if tier.Fee, err = optAmount(t.Fee); err != nil {
			return r, fmt.Errorf("tier fee: %w", err)
		}
		if t.Rate != "" {
			if tier.PPM, err = wire.ParseRate(t.Rate); err != nil {
				return r, err
			}
		}
		r.Tiers = append(r.Tiers, tier)
	}
	return r, nil
}

// contracts turns the setup into the acquirer's cut-over time and contracts.
func (b BackOfficeSetup) contracts() (time.Duration, []acquirer.Contract, error) {
	cut := 23 * time.Hour
	if b.Cutover != "" {
		t, err := time.Parse("15:04", b.Cutover)
		if err != nil {
			return 0, nil, fmt.Errorf("cutover %q: want HH:MM", b.Cutover)
		}
		cut = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	}
	var out []acquirer.Contract
	for _, c := range b.Contracts {
		if c.MID == "" {
			return 0, nil, fmt.Errorf("contract without a mid")
		}
		debit, err := c.Debit.rule()
		if err != nil {
			return 0, nil, fmt.Errorf("contract %s debit: %w", c.MID, err)
		}
		credit, err := c.Credit.rule()
		if err != nil {
			return 0, nil, fmt.Errorf("contract %s credit: %w", c.MID, err)
		}
		act, err := optAmount(c.ActivationFee)
		if err != nil {
			return 0, nil, fmt.Errorf("contract %s activation_fee: %w", c.MID, err)
		}
		cycle := c.Cycle
		if cycle == "" {
			cycle = "T+1"
		}
		if cycle != "D0" && cycle != "T+1" {
			return 0, nil, fmt.Errorf("contract %s: cycle %q: want D0 or T+1", c.MID, c.Cycle)
		}
		for _, h := range c.Holidays {
			if _, err := time.Parse("2006-01-02", h); err != nil {
				return 0, nil, fmt.Errorf("contract %s: holiday %q: want YYYY-MM-DD", c.MID, h)
			}
		}
		ct := acquirer.Contract{MID: c.MID, Debit: debit, Credit: credit, ActivationFee: act, Cycle: cycle, Hold: c.Hold, Holidays: c.Holidays}
		if c.Rebate != nil {
			ppm, err := wire.ParseRate(c.Rebate.Rate)
			if err != nil {
				return 0, nil, fmt.Errorf("contract %s rebate: %w", c.MID, err)
			}
			ct.Rebate = &acquirer.FeeRule{PPM: ppm}
			ct.RebateAfter = c.Rebate.After.D()
		}
		out = append(out, ct)
	}
	return cut, out, nil
}

// FeeExpect pins the fee reconciliation report.
type FeeExpect struct {
	// Deviations is how many deviations the report lists.
	Deviations *int `yaml:"deviations" json:"deviations,omitempty"`
	// Items are deviations that must be listed.
	Items []DeviationExpect `yaml:"items" json:"items,omitempty"`
}

// DeviationExpect is one expected deviation.
type DeviationExpect struct {
	STAN   int    `yaml:"stan" json:"stan,omitempty"`
	Kind   string `yaml:"kind" json:"kind"` // fee, deduction, payout_date
	Amount string `yaml:"amount" json:"amount,omitempty"`
	Rule   string `yaml:"rule" json:"rule,omitempty"`
}

// LineExpect is one expected merchant settlement line, by STAN.
type LineExpect struct {
	STAN   int    `yaml:"stan" json:"stan,omitempty"`
	Rule   string `yaml:"rule" json:"rule,omitempty"`
	Gross  string `yaml:"gross" json:"gross,omitempty"`
	Fee    string `yaml:"fee" json:"fee,omitempty"`
	Net    string `yaml:"net" json:"net,omitempty"`
	Status string `yaml:"status" json:"status,omitempty"`
	Payout string `yaml:"payout" json:"payout,omitempty"` // YYYY-MM-DD
}

// StatementExpect pins a merchant statement.
type StatementExpect struct {
	MID       string `yaml:"mid" json:"mid"`
	Day       string `yaml:"day" json:"day"`
	NetPayout string `yaml:"net_payout" json:"net_payout,omitempty"`
	Fees      string `yaml:"fees" json:"fees,omitempty"`
	Held      *bool  `yaml:"held" json:"held,omitempty"`
	// Returned is what of the day's payouts the merchant's bank returned.
	Returned string `yaml:"returned" json:"returned,omitempty"`
	// MerchantBalance is the merchant's balance at the acquirer at the end
	// of the scenario; Review whether it is under review.
	MerchantBalance string `yaml:"merchant_balance" json:"merchant_balance,omitempty"`
	Review          *bool  `yaml:"review" json:"review,omitempty"`
}
