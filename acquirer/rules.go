package acquirer

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
)

// RuleManager is a handler whose fault rules can be listed and changed one
// by one while it serves (faults.Faults is one): the control API's
// /rules, in the style of WireMock's stubs and toxiproxy's toxics.
type RuleManager interface {
	// RulesJSON lists the rules with their match and fire counters.
	RulesJSON() any
	// AddRule adds a rule written as a scenario's rules item (YAML or JSON).
	AddRule(data []byte) error
	// RemoveRule deletes a rule; EnableRule turns one on or off.
	RemoveRule(id string) error
	EnableRule(id string, on bool) error
}

// SetRuleFactory gives the control API what makes an empty rule set when a
// rule is added to an acquirer that has none (the default handler).
func (c *Control) SetRuleFactory(fn func() (Handler, error)) { c.newRules = fn }

// rules returns the acquirer's rule manager, making one when asked to.
func (c *Control) rules(create bool) (RuleManager, error) {
	if rm, ok := c.a.Handler().(RuleManager); ok {
		return rm, nil
	}
	if !create {
		return nil, nil
	}
	if c.newRules == nil {
		return nil, errors.New("this acquirer takes no rules")
	}
	h, err := c.newRules()
	if err != nil {
		return nil, err
	}
	rm, ok := h.(RuleManager)
	if !ok {
		return nil, errors.New("this acquirer's rule factory makes no rule set")
	}
	c.a.SetHandler(h)
	return rm, nil
}

func (c *Control) listRules(w http.ResponseWriter, r *http.Request) {
	if !onlyParams(w, r) {
		return
	}
	rm, _ := c.rules(false)
	if rm == nil {
		writeJSON(w, []any{})
		return
	}
	writeJSON(w, rm.RulesJSON())
}

func (c *Control) addRule(w http.ResponseWriter, r *http.Request) {
	if !onlyParams(w, r) {
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		http.Error(w, "a rule is at most 64 KiB", http.StatusRequestEntityTooLarge)
		return
	}
	rm, err := c.rules(true)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotImplemented)
		return
	}
	if err := rm.AddRule(data); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.a.journal.Append(Entry{Time: c.a.Now(), Kind: KindFault, Detail: "rule added through the control API"})
	w.WriteHeader(http.StatusCreated)
	writeJSON(w, rm.RulesJSON())
}

func (c *Control) deleteRule(w http.ResponseWriter, r *http.Request) {
	if !onlyParams(w, r) {
		return
	}
	rm, _ := c.rules(false)
	if rm == nil {
		http.Error(w, "no rule "+r.PathValue("id"), http.StatusNotFound)
		return
	}
	if err := rm.RemoveRule(r.PathValue("id")); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// patchRule answers PATCH /rules/{id} with {"enabled": true|false}.
func (c *Control) patchRule(w http.ResponseWriter, r *http.Request) {
	if !onlyParams(w, r) {
		return
	}
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Enabled == nil {
		http.Error(w, `want {"enabled": true} or {"enabled": false}`, http.StatusBadRequest)
		return
	}
	rm, _ := c.rules(false)
	if rm == nil {
		http.Error(w, "no rule "+r.PathValue("id"), http.StatusNotFound)
		return
	}
	if err := rm.EnableRule(r.PathValue("id"), *body.Enabled); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	writeJSON(w, rm.RulesJSON())
}

// verifyParams are what GET /verify counts by.
var verifyParams = []string{"mti", "tid", "mid", "stan", "op", "pan"}

// verify answers GET /verify?mti=0400&tid=X: how many such messages the
// acquirer received since its journal was last reset (within the
// journal's window), in the style of WireMock's verification.
func (c *Control) verify(w http.ResponseWriter, r *http.Request) {
	if !onlyParams(w, r, verifyParams...) {
		return
	}
	q := r.URL.Query()
	n := 0
	for _, e := range c.a.journal.List(Filter{Kind: KindIn, MTI: q.Get("mti"), TID: q.Get("tid"), STAN: q.Get("stan")}) {
		if (q.Get("mid") == "" || e.MID == q.Get("mid")) && (q.Get("op") == "" || e.Op == q.Get("op")) &&
			(q.Get("pan") == "" || e.PAN == q.Get("pan")) {
			n++
		}
	}
	match := map[string]string{}
	for _, k := range verifyParams {
		if v := q.Get(k); v != "" {
			match[k] = v
		}
	}
	writeJSON(w, map[string]any{"count": n, "match": match})
}

// onlyParams refuses query parameters other than allowed, naming them: a
// typo must not silently widen a query.
func onlyParams(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	var unknown []string
	for k := range r.URL.Query() {
		if !slices.Contains(allowed, k) && k != "token" {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return true
	}
	slices.Sort(unknown)
	http.Error(w, "unknown query parameter "+strings.Join(unknown, ", ")+" (known: "+strings.Join(allowed, ", ")+")", http.StatusBadRequest)
	return false
}
