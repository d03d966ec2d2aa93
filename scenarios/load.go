package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/faults"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/posim/posim/yamlx"
	"go.yaml.in/yaml/v3"
)

// LoadFile reads and validates one scenario file.
func LoadFile(path string) (*Scenario, error) {
	data, err := cards.ReadLimited(path, cards.MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	return Parse(path, data)
}

// LoadPaths loads the scenario files named, and every .yaml or .yml file in
// the directories named, in order (directories sorted by file name).
func LoadPaths(paths []string) ([]*Scenario, error) {
	var out []*Scenario
	var errs []error
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading scenarios: %w", err)
		}
		files := []string{p}
		if info.IsDir() {
			files = nil
			entries, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("reading scenarios: %w", err)
			}
			for _, e := range entries {
				if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
			sort.Strings(files)
		}
		for _, f := range files {
			s, err := LoadFile(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, s)
		}
	}
	return out, errors.Join(errs...)
}

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Parse decodes and validates a scenario; name is used in error messages.
func Parse(name string, data []byte) (*Scenario, error) {
	if len(data) > cards.MaxFileSize {
		return nil, &yamlx.FileError{File: name, Msg: fmt.Sprintf("%d bytes, more than the %d posim reads", len(data), cards.MaxFileSize)}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &yamlx.FileError{File: name, Msg: "the file is empty"}
		}
		return nil, yamlx.InFile(name, yamlx.Wrap(err))
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		return nil, &yamlx.FileError{File: name, Line: more.Line, Msg: "one scenario per file: a second YAML document starts here"}
	}
	s := &Scenario{File: name}
	if err := yamlx.Decode(&doc, s); err != nil {
		return nil, yamlx.InFile(name, err)
	}
	v := validator{file: name, root: doc.Content[0]}
	v.scenario(s)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return s, nil
}

type validator struct {
	file string
	root *yaml.Node
	errs []error
	// where the rules run (faults.WhereAcquirer, faults.WhereProxy); "" for both
	where string
}

func (v *validator) add(line int, format string, a ...any) {
	v.errs = append(v.errs, &yamlx.FileError{File: v.file, Line: line, Msg: fmt.Sprintf(format, a...)})
}

// lineOf returns the line of a key path under the root ("rules", 2, "when").
func (v *validator) lineOf(path ...any) int {
	n := v.root
	line := 1
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if n == nil || n.Kind != yaml.MappingNode {
				return line
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					line, next = n.Content[i].Line, n.Content[i+1]
				}
			}
			if next == nil {
				return line
			}
			n = next
		case int:
			if n == nil || n.Kind != yaml.SequenceNode || k >= len(n.Content) {
				return line
			}
			n = n.Content[k]
			line = n.Line
		}
	}
	return line
}

func (v *validator) scenario(s *Scenario) {
	if s.Name == "" {
		v.add(1, "name is required")
	} else if !nameRe.MatchString(s.Name) {
		v.add(v.lineOf("name"), "name %q: use lower-case letters, digits and dashes", s.Name)
	}
	if s.Title.EN == "" {
		v.add(v.lineOf("title"), "title.en is required")
	}
	if len(s.Steps) == 0 {
		v.add(v.lineOf("steps"), "a scenario needs at least one step")
	}
	v.profiles(s.Profiles, "profiles")
	book := v.book(s)
	v.setup(s)
	ids := map[string]int{}
	for i, r := range s.Rules {
		line := v.lineOf("rules", i)
		if r.ID == "" {
			v.add(line, "rule %d has no id", i+1)
		} else if prev, dup := ids[r.ID]; dup {
			v.add(line, "rule id %q already used at line %d", r.ID, prev)
		}
		ids[r.ID] = line
		v.profiles(r.Profiles, "rules", i, "profiles")
		faults.CheckWhen(r.When, book, v.lineOf("rules", i, "when"), v.add)
		faults.CheckPipeline(r, line, v.where, v.add)
	}
	for i, st := range s.Steps {
		v.profiles(st.Profiles, "steps", i, "profiles")
		v.step(s, i, st, book)
	}
	v.expect(s.Expect, book)
}

// profiles checks a list of profile names at the key path given: a name
// posim does not know would silently leave out what it limits.
func (v *validator) profiles(list []string, path ...any) {
	for i, p := range list {
		if _, err := wire.ProfileByName(p); err != nil && p != wire.CustomName {
			v.add(v.lineOf(append(path, i)...), "%v", err)
		}
	}
}

// book returns the cards the scenario can name: built-in plus its own.
func (v *validator) book(s *Scenario) *cards.Book {
	extra := &cards.Book{}
	for i, cs := range s.Setup.Cards {
		c, err := cs.Card()
		if err != nil {
			v.add(v.lineOf("setup", "cards", i), "%v", err)
			continue
		}
		extra.Cards = append(extra.Cards, c)
	}
	for i := range s.Setup.Merchants {
		if err := s.Setup.Merchants[i].Validate(); err != nil {
			v.add(v.lineOf("setup", "merchants", i), "%v", err)
		}
	}
	for i := range s.Setup.Terminals {
		if err := s.Setup.Terminals[i].Validate(); err != nil {
			v.add(v.lineOf("setup", "terminals", i), "%v", err)
		}
	}
	return cards.Builtin().Merge(extra)
}

func (v *validator) setup(s *Scenario) {
	if _, err := Policies(s.Setup.Acquirer); err != nil {
		v.add(v.lineOf("setup", "acquirer"), "%v", err)
	}
	ts := s.Setup.Terminal
	if w := ts.Reversal.WhenExhausted; w != "" && w != terminal.ExhaustedDrop && w != terminal.ExhaustedBlock {
		v.add(v.lineOf("setup", "terminal", "reversal"), "when_exhausted %q: want drop or block", w)
	}
	if r := ts.Reversal.Retries; r != nil && (*r < 0 || *r > 9) {
		v.add(v.lineOf("setup", "terminal", "reversal"), "retries %d: want 0 to 9", *r)
	}
	if ts.Timeout != nil && *ts.Timeout <= 0 {
		v.add(v.lineOf("setup", "terminal", "timeout"), "timeout must be positive")
	}
	if len(ts.TID) > 8 || len(ts.MID) > 15 {
		v.add(v.lineOf("setup", "terminal"), "tid is at most 8 characters, mid at most 15")
	}
	if bo := s.Setup.BackOffice; bo != nil {
		if _, _, err := bo.contracts(); err != nil {
			v.add(v.lineOf("setup", "backoffice"), "%v", err)
		}
	}
	as := s.Setup.Acquirer
	if _, err := cupFramer(ts.TPDU, ts.Header, ""); err != nil {
		v.add(v.lineOf("setup", "terminal"), "%v", err)
	}
	if _, err := cupFramer(as.TPDU, as.Header, ""); err != nil {
		v.add(v.lineOf("setup", "acquirer"), "%v", err)
	}
	if err := (&wire.TPDUFramer{}).SetHeaderMatch(as.HeaderMatch); err != nil {
		v.add(v.lineOf("setup", "acquirer", "header_match"), "%v", err)
	}
	if m := as.Mismatch; m != "" && m != wire.MismatchDiscard && m != wire.MismatchReject && m != wire.MismatchAccept {
		v.add(v.lineOf("setup", "acquirer", "mismatch"), "mismatch %q: want discard, reject or accept", m)
	}
	if w := ts.Write; w != nil && w.Chunk < 1 {
		v.add(v.lineOf("setup", "terminal", "write"), "write.chunk must be at least 1 byte")
	}
	if ts.Retransmit < 0 || ts.Retransmit > 9 {
		v.add(v.lineOf("setup", "terminal", "retransmit"), "retransmit %d: want 0 to 9", ts.Retransmit)
	}
}

// Policies turns an acquirer setup into policies.
func Policies(a AcquirerSetup) (acquirer.Policies, error) {
	p := acquirer.DefaultPolicies()
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&p.Duplicate, a.Duplicate)
	set(&p.ReversalUnknown, a.ReversalUnknown)
	set(&p.ReversalRepeat, a.ReversalRepeat)
	set(&p.ReversalDeclined, a.ReversalDeclined)
	set(&p.LateReversal, a.LateReversal)
	set(&p.Unsigned, a.Unsigned)
	set(&p.ARQCFailure, a.ARQCFailure)
	set(&p.Fallback, a.Fallback)
	set(&p.RefundOverBalance, a.RefundOverBalance)
	set(&p.CardTypeRefused, a.CardTypeRefused)
	set(&p.MACKey, a.MACKey)
	set(&p.TransportKey, a.TransportKey)
	p.Review = a.Review
	for _, l := range []struct {
		name, v string
		dst     *int64
	}{{"max_amount", a.Limits.MaxAmount, &p.MaxAmount}, {"daily_amount", a.Limits.DailyAmount, &p.DailyAmount}} {
		if l.v == "" {
			continue
		}
		amt, err := wire.ParseAmount(l.v)
		if err != nil {
			return p, fmt.Errorf("limits.%s: %w", l.name, err)
		}
		*l.dst = amt
	}
	p.DailyCount = a.Limits.DailyCount
	p.VelocityCount = a.Velocity.Count
	if a.Velocity.Window > 0 {
		p.VelocityWindow = a.Velocity.Window.D()
	}
	if a.PINTries != 0 {
		p.PINTries = a.PINTries
	}
	if a.MagicAmounts != nil {
		p.MagicAmounts = *a.MagicAmounts
	}
	if a.AutoRegister != nil {
		p.AutoRegister = *a.AutoRegister
	}
	return p, p.Validate()
}

var outcomes = []string{"approved", "declined", "no_response", "refused", "invalid_response", "blocked", "power_cut", "chip_declined"}

var powerCuts = []string{terminal.PowerCutAfterSend, terminal.PowerCutAfterResponse, terminal.PowerCutAfterClear}

func (v *validator) step(s *Scenario, i int, st Step, book *cards.Book) {
	line := st.Line
	a := st.Args
	if a.Amount != "" {
		if _, err := wire.ParseAmount(a.Amount); err != nil {
			v.add(line, "step %d: amount: %v", i+1, err)
		}
	}
	for _, card := range []string{a.Card, a.PAN} {
		if card == "" {
			continue
		}
		if _, err := book.Resolve(card); err != nil {
			v.add(line, "step %d: %v", i+1, err)
		}
	}
	if op, ok := terminal.Lookup(st.Op); ok {
		if missing := op.Missing(a.given); missing != nil {
			v.add(line, "step %d: %s needs %s", i+1, st.Op, argNames(missing))
		}
	}
	if w, ok := lookupWorld(st.Op); ok && w.check != nil {
		for _, problem := range w.check(st) {
			v.add(line, "step %d: %s", i+1, problem)
		}
	}
	if a.RRNOf != 0 && (a.RRNOf < 1 || a.RRNOf > i || !transactionStep(s.Steps[a.RRNOf-1].Op)) {
		v.add(line, "step %d: rrn_of %d must name an earlier transaction step", i+1, a.RRNOf)
	}
	if a.PowerCut != "" && !slices.Contains(powerCuts, a.PowerCut) {
		v.add(line, "step %d: power_cut %q: want %s", i+1, a.PowerCut, strings.Join(powerCuts, ", "))
	}
	if a.CardResponse != "" && !slices.Contains(terminal.CardResponses(), a.CardResponse) {
		v.add(line, "step %d: card_response %q: want %s", i+1, a.CardResponse, strings.Join(terminal.CardResponses(), ", "))
	}
	if e := st.Expect; e != nil {
		if e.Outcome != "" && !slices.Contains(outcomes, e.Outcome) {
			v.add(line, "step %d: expect.outcome %q: want %s", i+1, e.Outcome, strings.Join(outcomes, ", "))
		}
		if e.Balance != "" {
			if _, err := wire.ParseAmount(e.Balance); err != nil {
				v.add(line, "step %d: expect.balance: %v", i+1, err)
			}
		}
	}
}

// transactionStep reports whether a step kind is an operation of the
// terminal with arguments: one whose transaction a later step may name.
func transactionStep(kind string) bool {
	op, ok := terminal.Lookup(kind)
	return ok && !op.Bare()
}

func (v *validator) expect(e Expect, book *cards.Book) {
	for _, m := range []map[string]string{e.Balances, e.Held} {
		for alias, amt := range m {
			if _, ok := book.ByAlias(alias); !ok {
				v.add(v.lineOf("expect"), "expect: %q is not a card alias", alias)
			}
			if _, err := wire.ParseAmount(amt); err != nil {
				v.add(v.lineOf("expect"), "expect: %s: %v", alias, err)
			}
		}
	}
	for kind := range e.Journal {
		if !slices.Contains(journalKinds, kind) {
			v.add(v.lineOf("expect", "journal"), "expect.journal: unknown kind %q (known: %s)", kind, strings.Join(journalKinds, ", "))
		}
	}
	amounts := func(where string, list ...string) {
		for _, a := range list {
			if a == "" {
				continue
			}
			if _, err := wire.ParseAmount(strings.TrimPrefix(a, "-")); err != nil {
				v.add(v.lineOf("expect", where), "expect.%s: %v", where, err)
			}
		}
	}
	if e.Fees != nil {
		for _, it := range e.Fees.Items {
			amounts("fees", it.Amount)
		}
	}
	for _, l := range e.Lines {
		amounts("lines", l.Gross, l.Fee, l.Net)
	}
	for _, st := range e.Statements {
		amounts("statements", st.NetPayout, st.Fees, st.Returned, st.MerchantBalance)
	}
	for i, r := range e.Records {
		if r.STAN <= 0 && r.Op == "" {
			v.add(v.lineOf("expect", "records", i), "expect.records: give a stan or an op")
		}
		if _, err := wire.ParseAmount(r.Amount); r.Amount != "" && err != nil {
			v.add(v.lineOf("expect", "records", i), "expect.records: %v", err)
		}
	}
	if se := e.Settlement; se != nil && se.Discrepancies != nil {
		for i, d := range *se.Discrepancies {
			if _, err := wire.ParseAmount(d.Amount); d.Amount != "" && err != nil {
				v.add(v.lineOf("expect", "settlement", "discrepancies", i), "expect.settlement.discrepancies: %v", err)
			}
		}
	}
}

var journalKinds = []string{acquirer.KindIn, acquirer.KindOut, acquirer.KindDecision, acquirer.KindBadFrame, acquirer.KindDuplicate,
	acquirer.KindOrphan, acquirer.KindLate, acquirer.KindSettlement, acquirer.KindConnection, acquirer.KindFault, acquirer.KindUnsolicited, acquirer.KindReview}
