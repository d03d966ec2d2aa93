package faults

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
	"github.com/posim/posim/yamlx"
)

// Report receives one problem found in rules, at the line it is on.
type Report func(line int, format string, a ...any)

// Scopes a rule's counters may be kept in.
var scopes = []string{"global", "connection", "terminal", "merchant"}

// CheckWhen checks a rule's trigger: its fields, counters, probability
// and scope. Card aliases are looked up in book.
func CheckWhen(w When, book *cards.Book, line int, report Report) {
	if w.MTI != "" && (len(w.MTI) != 4 || strings.Trim(w.MTI, "0123456789") != "") {
		report(line, "when.mti %q: want four digits", w.MTI)
	}
	if w.Op != "" && !slices.Contains(wire.OpNames(), w.Op) {
		report(line, "when.op %q: want one of %s", w.Op, strings.Join(wire.OpNames(), ", "))
	}
	if w.Card != "" {
		if _, ok := book.ByAlias(w.Card); !ok {
			report(line, "when.card %q is not a card alias (known: %s)", w.Card, strings.Join(book.Aliases(), ", "))
		}
	}
	if a := w.Amount; a != nil {
		for _, s := range []string{a.Equal, a.Min, a.Max} {
			if s == "" {
				continue
			}
			if _, err := wire.ParseAmount(s); err != nil {
				report(line, "when.amount: %v", err)
			}
		}
	}
	if w.Scope != "" && !slices.Contains(scopes, w.Scope) {
		report(line, "when.scope %q: want global, connection, terminal or merchant", w.Scope)
	}
	if p := w.Probability; p != nil && (*p < 0 || *p > 1) {
		report(line, "when.probability %v: want 0 to 1", *p)
	}
	if w.Nth < 0 || w.Times < 0 || w.After < 0 || w.Every < 0 {
		report(line, "when: nth, times, after and every must not be negative")
	}
	for _, sub := range w.And {
		CheckWhen(sub, book, line, report)
	}
	for _, sub := range w.Or {
		CheckWhen(sub, book, line, report)
	}
	if w.Not != nil {
		CheckWhen(*w.Not, book, line, report)
	}
}

// checker is what a primitive's check sees: its rule, its place in the
// pipeline and where the rules run.
type checker struct {
	report Report
	rule   Rule
	line   int
	where  string
	// state before this primitive
	processed, answered bool
	// answers: this primitive answers the terminal (its registration's
	// answers, which its check may change by its arguments).
	answers bool
}

// errorf reports a problem on the primitive's line.
func (c *checker) errorf(format string, a ...any) { c.report(c.line, format, a...) }

// only reports why when the rules run elsewhere than where.
func (c *checker) only(where, why string) bool {
	if c.where != "" && c.where != where {
		c.errorf("rule %q: %s", c.rule.ID, why)
		return false
	}
	return true
}

// CheckPipeline checks a rule's actions one by one, for where the rules
// run (WhereAcquirer, WhereProxy, or "" for either), then the pipeline as
// a whole: nothing after an action that ends it, and never an answer
// invented without a response code. line is the rule's.
func CheckPipeline(r Rule, line int, where string, report Report) {
	if len(r.Do) == 0 {
		report(line, "rule %q: do is empty (use process for the default behaviour)", r.ID)
	}
	c := &checker{report: report, rule: r, where: where}
	ended := ""
	for _, a := range r.Do {
		def := registry[a.Name]
		c.line = a.Line
		if ended != "" {
			c.errorf("rule %q: %s comes after %s, which ends the pipeline: it would never run", r.ID, a, ended)
		}
		c.answers = def.answers
		if a.prim != nil {
			a.prim.check(c)
		}
		c.processed = c.processed || def.processes
		c.answered = c.answered || c.answers
		if def.ends {
			ended = a.String()
		}
	}
	if !c.answered && !c.processed && len(r.Do) > 0 {
		report(line, "rule %q neither processes nor answers: add process, or respond: {de39: ...}", r.ID)
	}
}

// Check checks rules for where they will run (WhereAcquirer or
// WhereProxy): primitives that make no sense there are refused, each
// error naming file and line. A parser has checked everything else.
func Check(file string, rules []Rule, where string) error {
	var errs []error
	report := func(line int, format string, a ...any) {
		errs = append(errs, &yamlx.FileError{File: file, Line: line, Msg: fmt.Sprintf(format, a...)})
	}
	for _, r := range rules {
		line := 0
		if len(r.Do) > 0 {
			line = r.Do[0].Line
		}
		CheckPipeline(r, line, where, report)
	}
	return errors.Join(errs...)
}
