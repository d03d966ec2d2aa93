package faults

import (
	"slices"
	"strings"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
	"github.com/posim/posim/yamlx"
)

// Rule is one acquirer fault: when it fires, its pipeline handles the
// request instead of the default (process, respond). First match wins.
type Rule struct {
	ID string `yaml:"id" json:"id"`
	// Profiles limits the rule to these dialects (default: all).
	Profiles []string `yaml:"profiles" json:"profiles,omitempty"`
	When     When     `yaml:"when" json:"when"`
	Do       []Action `yaml:"do" json:"do"`
}

// When selects the requests a rule applies to: decoded fields combined with
// and/or/not, then counters, probability and a time window.
type When struct {
	MTI            string       `yaml:"mti" json:"mti,omitempty"`
	Op             string       `yaml:"op" json:"op,omitempty"`
	ProcessingCode string       `yaml:"processing_code" json:"processing_code,omitempty"`
	Amount         *AmountMatch `yaml:"amount" json:"amount,omitempty"`
	PAN            string       `yaml:"pan" json:"pan,omitempty"`
	Card           string       `yaml:"card" json:"card,omitempty"`
	BIN            string       `yaml:"bin" json:"bin,omitempty"`
	TID            string       `yaml:"tid" json:"tid,omitempty"`
	MID            string       `yaml:"mid" json:"mid,omitempty"`
	STAN           string       `yaml:"stan" json:"stan,omitempty"`
	EntryMode      string       `yaml:"entry_mode" json:"entry_mode,omitempty"`
	Currency       string       `yaml:"currency" json:"currency,omitempty"`
	And            []When       `yaml:"and" json:"and,omitempty"`
	Or             []When       `yaml:"or" json:"or,omitempty"`
	Not            *When        `yaml:"not" json:"not,omitempty"`

	// Nth fires on the Nth matching request only (1-based).
	Nth int `yaml:"nth" json:"nth,omitempty"`
	// Times fires at most this many times.
	Times int `yaml:"times" json:"times,omitempty"`
	// After skips the first After matching requests.
	After int `yaml:"after" json:"after,omitempty"`
	// Every fires on every Every-th matching request.
	Every int `yaml:"every" json:"every,omitempty"`
	// Probability fires with this probability, drawn from the rule's own
	// random stream (derived from the seed and the rule id).
	Probability *float64 `yaml:"probability" json:"probability,omitempty"`
	// Scope keeps the counters per connection, terminal, merchant or
	// globally (the default).
	Scope string `yaml:"scope" json:"scope,omitempty"`
	// Window limits the rule to a period of scenario time after the start.
	Window *Window `yaml:"window" json:"window,omitempty"`
}

// AmountMatch matches DE4: exactly Equal, or within [Min, Max].
type AmountMatch struct {
	Equal string `yaml:"equal" json:"equal,omitempty"`
	Min   string `yaml:"min" json:"min,omitempty"`
	Max   string `yaml:"max" json:"max,omitempty"`
}

// Window is a period of scenario time, measured from the scenario's start.
type Window struct {
	From  yamlx.Duration  `yaml:"from" json:"from"`
	Until *yamlx.Duration `yaml:"until" json:"until,omitempty"`
}

// appliesTo reports whether something limited to profiles applies under
// profile p (no profiles: all of them).
func appliesTo(profiles []string, p string) bool {
	return len(profiles) == 0 || slices.Contains(profiles, p)
}

func scopeKey(scope string, x Exchange) string {
	switch scope {
	case "connection":
		return x.ConnID()
	case "terminal":
		return x.Request().TID
	case "merchant":
		return x.Request().MID
	}
	return ""
}

// triggered counts a matching request and reports whether the rule's
// counters, probability and window let it fire.
func (r *compiled) triggered(env *Env, x Exchange) bool {
	if !matchWhen(r.When, x.Request(), env.Cards) {
		return false
	}
	if w := r.When.Window; w != nil && env.Elapsed != nil {
		el := env.Elapsed()
		if el < w.From.D() || (w.Until != nil && el >= w.Until.D()) {
			return false
		}
	}
	k := scopeKey(r.When.Scope, x)
	r.seen[k]++
	n := r.seen[k]
	w := r.When
	switch {
	case w.Nth > 0 && n != w.Nth:
		return false
	case w.After > 0 && n <= w.After:
		return false
	case w.Every > 0 && (n-w.After)%w.Every != 0:
		return false
	case w.Times > 0 && r.fired[k] >= w.Times:
		return false
	}
	return w.Probability == nil || r.rng.Float64() < *w.Probability
}

// matchWhen matches the decoded fields of a request.
func matchWhen(w When, t *wire.Txn, book *cards.Book) bool {
	eq := func(want, got string) bool { return want == "" || want == got }
	if !eq(w.MTI, t.MTI) || !eq(w.Op, string(t.Op)) || !eq(w.ProcessingCode, t.ProcessingCode) ||
		!eq(w.PAN, t.PAN) || !eq(w.TID, t.TID) || !eq(w.MID, t.MID) || !eq(w.STAN, t.STAN) ||
		!eq(w.EntryMode, t.EntryMode) || !eq(w.Currency, t.Currency) {
		return false
	}
	if w.BIN != "" && !strings.HasPrefix(t.PAN, w.BIN) {
		return false
	}
	if w.Card != "" {
		c, ok := book.ByAlias(w.Card)
		if !ok || c.PAN != t.PAN {
			return false
		}
	}
	if a := w.Amount; a != nil {
		if !t.HasAmount {
			return false
		}
		if a.Equal != "" {
			if v, _ := wire.ParseAmount(a.Equal); v != t.Amount {
				return false
			}
		}
		if a.Min != "" {
			if v, _ := wire.ParseAmount(a.Min); t.Amount < v {
				return false
			}
		}
		if a.Max != "" {
			if v, _ := wire.ParseAmount(a.Max); t.Amount > v {
				return false
			}
		}
	}
	for _, sub := range w.And {
		if !matchWhen(sub, t, book) {
			return false
		}
	}
	if len(w.Or) > 0 {
		any := false
		for _, sub := range w.Or {
			if matchWhen(sub, t, book) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	if w.Not != nil && matchWhen(*w.Not, t, book) {
		return false
	}
	return true
}
