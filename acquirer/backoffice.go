package acquirer

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/posim/posim/wire"
)

// FeeRule is a merchant fee schedule for one card type. Rates are in parts
// per million of the amount (0.60 % = 6000); amounts in minor units; a zero
// floor or cap means none.
type FeeRule struct {
	Kind     string `json:"kind"` // rate (default), tiered_fixed, tiered_rate
	PPM      int64  `json:"ppm,omitempty"`
	Floor    int64  `json:"floor,omitempty"`
	Cap      int64  `json:"cap,omitempty"`
	Rounding string `json:"rounding,omitempty"` // half_up (default), up, down
	Tiers    []Tier `json:"tiers,omitempty"`
}

// Tier is one band of a tiered rule: amounts up to UpTo (0: no bound) pay
// Fee (tiered_fixed) or PPM (tiered_rate).
type Tier struct {
	UpTo int64 `json:"up_to"`
	Fee  int64 `json:"fee,omitempty"`
	PPM  int64 `json:"ppm,omitempty"`
}

func round(num, den int64, mode string) int64 {
	q, r := num/den, num%den
	switch mode {
	case "down":
		return q
	case "up":
		if r > 0 {
			return q + 1
		}
		return q
	}
	if 2*r >= den {
		return q + 1
	}
	return q
}

// Fee is what the rule charges on amount.
func (r FeeRule) Fee(amount int64) int64 {
	if amount <= 0 {
		return 0
	}
	ppm := r.PPM
	switch r.Kind {
	case "tiered_fixed":
		for _, t := range r.Tiers {
			if t.UpTo == 0 || amount <= t.UpTo {
				return t.Fee
			}
		}
		return 0
	case "tiered_rate":
		for _, t := range r.Tiers {
			if t.UpTo == 0 || amount <= t.UpTo {
				ppm = t.PPM
				break
			}
		}
	}
	fee := round(amount*ppm, 1_000_000, r.Rounding)
	if r.Floor > 0 && fee < r.Floor {
		fee = r.Floor
	}
	if r.Cap > 0 && fee > r.Cap {
		fee = r.Cap
	}
	return fee
}

// Describe names the rule for reports.
func (r FeeRule) Describe() string {
	switch r.Kind {
	case "tiered_fixed":
		return "tiered fixed"
	case "tiered_rate":
		return "tiered rate"
	}
	s := fmt.Sprintf("%s%%", trimZeros(fmt.Sprintf("%d.%04d", r.PPM/10000, r.PPM%10000)))
	if r.Floor > 0 {
		s += " floor " + wire.FormatAmount(r.Floor)
	}
	if r.Cap > 0 {
		s += " cap " + wire.FormatAmount(r.Cap)
	}
	return s
}

// trimZeros drops trailing zeros after the second decimal: 0.6000 → 0.60.
func trimZeros(s string) string {
	dot := len(s) - 5
	for len(s) > dot+3 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return s
}

// Contract is a merchant's acquiring contract.
type Contract struct {
	MID           string  `json:"mid"`
	Debit         FeeRule `json:"debit"`
	Credit        FeeRule `json:"credit"`
	ActivationFee int64   `json:"activation_fee,omitempty"` // one-off, on the first payout
	Cycle         string  `json:"cycle"`                    // D0 or T+1
	// Holidays are the days (YYYY-MM-DD) besides Saturdays and Sundays on
	// which no T+1 payout is made: it rolls forward to the next business day.
	Holidays []string `json:"holidays,omitempty"`
	Hold     bool     `json:"hold,omitempty"` // payouts held (risk review)
	// Rebate, when set, makes the fee "deduct now, rebate later": the full
	// fee is deducted from the payout and the part above the rebated rate
	// comes back RebateAfter later.
	Rebate      *FeeRule      `json:"rebate,omitempty"`
	RebateAfter time.Duration `json:"rebate_after,omitempty"`
}

// payoutDay is the day the lines of the business day closed at at are
// paid: that day under D0; under T+1 the next business day, skipping
// Saturdays, Sundays and the contract's holidays (T+1 from a Friday pays
// on Monday).
func (c Contract) payoutDay(at time.Time) time.Time {
	if c.Cycle == "D0" {
		return at
	}
	d := at.AddDate(0, 0, 1)
	for !c.businessDay(d) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

func (c Contract) businessDay(t time.Time) bool {
	switch t.UTC().Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return !slices.Contains(c.Holidays, day(t))
}

func (c Contract) rule(cardType string) FeeRule {
	if cardType == "credit" && (c.Credit.PPM > 0 || len(c.Credit.Tiers) > 0 || c.Credit.Kind != "") {
		return c.Credit
	}
	return c.Debit
}

// Anomaly kinds a scenario can inject into the back office.
const (
	AnomalyWrongRate     = "wrong_rate"      // a rate other than the contract's
	AnomalyCapIgnored    = "cap_ignored"     // the contract's cap not applied
	AnomalyActivationFee = "activation_fee"  // a one-off fee the contract does not have
	AnomalyLateFee       = "late_fee"        // the fee deducted a day after the payout
	AnomalyFeeOnReversed = "fee_on_reversed" // a fee on a reversed or voided sale
	AnomalyDelayPayout   = "delay_payout"    // paid later than the cycle
	// AnomalyPayoutReturned (merchant.go): the payout comes back.
)

// Anomaly is a back-office fault attached to one transaction.
type Anomaly struct {
	Kind   string `json:"kind"`
	PPM    int64  `json:"ppm,omitempty"`
	Amount int64  `json:"amount,omitempty"`
	Days   int    `json:"days,omitempty"`
	// Reason is why a payout_returned payout came back: wrong_account,
	// closed_account or name_mismatch.
	Reason string `json:"reason,omitempty"`
}

// Line statuses.
const (
	LinePending  = "pending"
	LineHeld     = "held"
	LinePaid     = "paid"
	LineAdjusted = "adjusted"
)

// Line is one merchant settlement line: a transaction of a business day.
type Line struct {
	ID                 int    `json:"id"`
	Day                string `json:"day"` // business day, YYYY-MM-DD
	Record             int64  `json:"record,omitempty"`
	STAN               string `json:"stan,omitempty"`
	MID                string `json:"mid"`
	PAN                string `json:"pan,omitempty"` // masked
	CardType           string `json:"card_type,omitempty"`
	Gross              int64  `json:"gross"`
	Rule               string `json:"rule"`
	Fee                int64  `json:"fee"`
	ExpectedFee        int64  `json:"expected_fee"`
	Deductions         int64  `json:"deductions"`
	ExpectedDeductions int64  `json:"expected_deductions"`
	Net                int64  `json:"net"`
	PayoutDate         string `json:"payout_date"`
	ExpectedPayoutDate string `json:"expected_payout_date"`
	Status             string `json:"status"`
	Note               string `json:"note,omitempty"`
	// RepaidBy is, for a returned line, the re-payout line that paid it
	// again once the settlement account was corrected.
	RepaidBy int `json:"repaid_by,omitempty"`
}

// Deviation is one line of the fee reconciliation report: what the
// contract says against what was applied.
type Deviation struct {
	Line     int    `json:"line"`
	STAN     string `json:"stan,omitempty"`
	MID      string `json:"mid"`
	Kind     string `json:"kind"` // fee, deduction, payout_date
	Rule     string `json:"rule"`
	Expected string `json:"expected"`
	Applied  string `json:"applied"`
	Amount   int64  `json:"amount"` // applied - expected (fees, deductions)
	Note     string `json:"note,omitempty"`
}

// backOffice is the business-day state, guarded by the engine's mutex.
type backOffice struct {
	cutover   time.Duration // time of day of the cut-over
	contracts map[string]Contract
	last      time.Time // last cut-over
	lines     []Line
	paidOnce  map[string]bool    // merchants that had their first line
	lateFees  map[string][]int64 // fees due on the next business day, by MID
	disputes  map[int64]*Dispute // by record
	merchants map[string]*merchantBooks
	rebates   []pendingRebate
}

type pendingRebate struct {
	due    time.Time
	line   int
	amount int64
}

// SetContracts installs merchant contracts and the daily cut-over time.
func (e *Engine) SetContracts(cutover time.Duration, contracts []Contract) error {
	for _, c := range contracts {
		if c.Cycle != "" && c.Cycle != "D0" && c.Cycle != "T+1" {
			return fmt.Errorf("contract %s: cycle %q: want D0 or T+1", c.MID, c.Cycle)
		}
		for _, h := range c.Holidays {
			if _, err := time.Parse("2006-01-02", h); err != nil {
				return fmt.Errorf("contract %s: holiday %q: want YYYY-MM-DD", c.MID, h)
			}
		}
	}
	wait := noWait
	defer func() { _ = wait() }()
	e.mu.Lock()
	defer e.mu.Unlock()
	wait = e.logChange(Change{Kind: ChangeSetContracts, Cutover: cutover, Contracts: contracts})
	if !e.bo.last.IsZero() && cutover != e.bo.cutover {
		// the next cut-over comes at the new time: the last one moves to
		// the newest moment at that time not after it, as advance starts
		y, m, d := e.bo.last.UTC().Date()
		last := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(cutover)
		if last.After(e.bo.last) {
			last = last.AddDate(0, 0, -1)
		}
		e.bo.last = last
	}
	e.bo.cutover = cutover
	e.bo.contracts = map[string]Contract{}
	for _, c := range contracts {
		e.bo.contracts[c.MID] = c
	}
	return nil
}

// MarkAnomaly attaches a back-office anomaly to a booked record; every
// anomaly attached to a record applies at its cut-over.
func (e *Engine) MarkAnomaly(record int64, a Anomaly) {
	wait := noWait
	defer func() { _ = wait() }()
	e.mu.Lock()
	defer e.mu.Unlock()
	wait = e.logChange(Change{Kind: ChangeMarkAnomaly, Record: record, Anomaly: &a})
	if r := e.byID(record); r != nil {
		e.l.more(r).anomalies = append(e.l.more(r).anomalies, a)
	}
}

// Advance runs every cut-over due up to now: the business day closes and
// its approved transactions become merchant settlement lines.
func (e *Engine) Advance(now time.Time) {
	wait := noWait
	defer func() { _ = wait() }()
	e.mu.Lock()
	defer e.mu.Unlock()
	wait = e.logChange(Change{Kind: ChangeAdvance, At: now})
	e.advance(now)
}

func (e *Engine) advance(now time.Time) {
	if e.bo.contracts == nil {
		return
	}
	if e.bo.last.IsZero() {
		y, m, d := now.UTC().Date()
		e.bo.last = time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(e.bo.cutover)
		if e.bo.last.After(now) {
			e.bo.last = e.bo.last.AddDate(0, 0, -1)
		}
		return
	}
	for next := e.bo.last.AddDate(0, 0, 1); !next.After(now); next = next.AddDate(0, 0, 1) {
		e.cutOver(next)
		e.bo.last = next
	}
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// cutOver closes the business day ending at at.
func (e *Engine) cutOver(at time.Time) {
	today := day(at)
	// lines paid on or before today's payout date (or returned)
	e.pay(today)
	var due []pendingRebate
	kept := e.bo.rebates[:0]
	for _, rb := range e.bo.rebates {
		if rb.due.After(at) {
			kept = append(kept, rb)
			continue
		}
		due = append(due, rb)
	}
	e.bo.rebates = kept
	for _, rb := range due {
		src := e.bo.lines[rb.line-1]
		e.addLine(Line{Day: today, Record: src.Record, STAN: src.STAN, MID: src.MID, PAN: src.PAN, Rule: "fee rebate",
			Fee: -rb.amount, ExpectedFee: -rb.amount, Net: rb.amount, PayoutDate: today, ExpectedPayoutDate: today,
			Status: LinePending, Note: fmt.Sprintf("rebate of line %d's fee above the rebated rate", src.ID)}, e.bo.contracts[src.MID])
	}
	// every record of the business day closes; what it owes its merchant
	// goes on a line. A record closed earlier whose debt changed since (a
	// late reversal, a reversed void) gets an adjustment line for the
	// difference.
	byMID := map[string][]*booking{}
	adjust := map[string][]*booking{}
	var mids []string
	addMID := func(mid string) {
		if _, ok := byMID[mid]; !ok {
			byMID[mid] = nil
			mids = append(mids, mid)
		}
	}
	for r := range e.l.records.all(0) {
		switch {
		case !r.lined:
			r.lined = true
			if r.Op().Settles() == 0 {
				continue
			}
			addMID(r.MID())
			byMID[r.MID()] = append(byMID[r.MID()], r)
		case r.owed() != r.linedGross:
			addMID(r.MID())
			adjust[r.MID()] = append(adjust[r.MID()], r)
		}
	}
	for mid := range e.bo.lateFees {
		addMID(mid)
	}
	sort.Strings(mids)
	for _, mid := range mids {
		c, ok := e.bo.contracts[mid]
		if !ok {
			c = Contract{MID: mid, Cycle: "T+1"}
		}
		payout := c.payoutDay(at)
		for _, late := range e.bo.lateFees[mid] {
			e.addLine(Line{Day: today, MID: mid, Rule: "late fee", Fee: late, Net: -late, PayoutDate: day(payout), ExpectedPayoutDate: day(payout),
				Status: LinePending, Note: "fee of an earlier line deducted late"}, c)
		}
		delete(e.bo.lateFees, mid)
		for _, r := range adjust[mid] {
			delta := r.owed() - r.linedGross
			r.linedGross += delta
			note := "adjustment: transaction settled on an earlier day, reversed after the cut-over"
			if delta > 0 {
				note = "adjustment: transaction settled on an earlier day, reinstated after the cut-over (its void or refund was reversed)"
			}
			e.addLine(Line{Day: today, Record: r.ID, STAN: r.STAN(), MID: mid, PAN: r.MaskedPAN(), Gross: delta, Rule: "late reversal",
				Net: delta, PayoutDate: day(payout), ExpectedPayoutDate: day(payout), Status: LineAdjusted, Note: note}, c)
		}
		for _, r := range byMID[mid] {
			e.lineFor(r, c, today, payout)
		}
	}
}

func (e *Engine) addLine(l Line, c Contract) {
	l.ID = len(e.bo.lines) + 1
	if m := e.bo.merchants[l.MID]; l.Status == LinePending && (c.Hold || m != nil && m.reviewed) {
		l.Status = LineHeld
	}
	e.bo.lines = append(e.bo.lines, l)
}

// lineFor books one transaction's line, with the contract's fee or an
// injected anomaly.
func (e *Engine) lineFor(r *booking, c Contract, today string, payout time.Time) {
	cardType := "debit"
	if a := e.l.accounts[r.PAN()]; a != nil {
		cardType = a.Card.CardType()
	}
	rule := c.rule(cardType)
	l := Line{Day: today, Record: r.ID, STAN: r.STAN(), MID: r.MID(), PAN: r.MaskedPAN(), CardType: cardType,
		Rule: rule.Describe(), PayoutDate: day(payout), ExpectedPayoutDate: day(payout), Status: LinePending}
	owed := r.owed()
	var notes []string
	if owed == 0 {
		if !slices.ContainsFunc(e.l.rareOf(r).anomalies, func(a Anomaly) bool { return a.Kind == AnomalyFeeOnReversed }) {
			return // reversed and voided sales pay nothing and are charged nothing
		}
		l.Fee = rule.Fee(r.Amount)
		notes = append(notes, "fee charged on a "+r.Status()+" sale")
	} else {
		l.Gross = owed
		r.linedGross = owed
		if owed > 0 {
			l.ExpectedFee = rule.Fee(owed)
		}
		l.Fee = l.ExpectedFee
	}
	if !e.bo.paidOnce[r.MID()] {
		if e.bo.paidOnce == nil {
			e.bo.paidOnce = map[string]bool{}
		}
		e.bo.paidOnce[r.MID()] = true
		l.ExpectedDeductions = c.ActivationFee
		l.Deductions = c.ActivationFee
	}
	// every anomaly marked on the record applies, in the order marked;
	// the late fee goes last, so that it defers the fee the others made
	late := false
	for _, an := range e.l.rareOf(r).anomalies {
		switch an.Kind {
		case AnomalyWrongRate:
			wrong := rule
			wrong.PPM, wrong.Kind = an.PPM, "rate"
			l.Fee = wrong.Fee(r.Amount)
			notes = append(notes, "rate "+wrong.Describe()+" applied")
		case AnomalyCapIgnored:
			uncapped := rule
			uncapped.Cap = 0
			l.Fee = uncapped.Fee(r.Amount)
			notes = append(notes, "cap ignored")
		case AnomalyActivationFee:
			l.Deductions += an.Amount
			notes = append(notes, "activation fee "+wire.FormatAmount(an.Amount)+" deducted")
		case AnomalyLateFee:
			late = true
		case AnomalyDelayPayout:
			payout = payout.AddDate(0, 0, max(an.Days, 1))
			l.PayoutDate = day(payout)
			notes = append(notes, "payout delayed")
		}
	}
	if late {
		if e.bo.lateFees == nil {
			e.bo.lateFees = map[string][]int64{}
		}
		e.bo.lateFees[r.MID()] = append(e.bo.lateFees[r.MID()], l.Fee)
		l.Fee = 0
		notes = append(notes, "fee deferred to the next business day")
	}
	l.Note = strings.Join(notes, "; ")
	l.Net = l.Gross - l.Fee - l.Deductions
	e.addLine(l, c)
	if c.Rebate != nil && l.Gross > 0 {
		if back := l.ExpectedFee - c.Rebate.Fee(l.Gross); back > 0 {
			after := c.RebateAfter
			if after <= 0 {
				after = 30 * 24 * time.Hour
			}
			due, _ := time.Parse("2006-01-02", today)
			e.bo.rebates = append(e.bo.rebates, pendingRebate{due: due.Add(after), line: len(e.bo.lines), amount: back})
		}
	}
}

// Lines returns the merchant settlement lines.
func (e *Engine) Lines() []Line {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Line(nil), e.bo.lines...)
}

// FeeReport compares every line with its contract and lists each deviation
// with the rule and the amount.
func (e *Engine) FeeReport() []Deviation {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Deviation
	for _, l := range e.bo.lines {
		if l.Fee != l.ExpectedFee {
			out = append(out, Deviation{Line: l.ID, STAN: l.STAN, MID: l.MID, Kind: "fee", Rule: l.Rule,
				Expected: wire.FormatAmount(l.ExpectedFee), Applied: wire.FormatAmount(l.Fee), Amount: l.Fee - l.ExpectedFee, Note: l.Note})
		}
		if l.Deductions != l.ExpectedDeductions {
			out = append(out, Deviation{Line: l.ID, STAN: l.STAN, MID: l.MID, Kind: "deduction", Rule: "contract deductions",
				Expected: wire.FormatAmount(l.ExpectedDeductions), Applied: wire.FormatAmount(l.Deductions), Amount: l.Deductions - l.ExpectedDeductions, Note: l.Note})
		}
		if l.PayoutDate != l.ExpectedPayoutDate {
			out = append(out, Deviation{Line: l.ID, STAN: l.STAN, MID: l.MID, Kind: "payout_date", Rule: "payout cycle",
				Expected: l.ExpectedPayoutDate, Applied: l.PayoutDate, Note: l.Note})
		}
	}
	return out
}

// Statement is a merchant's business day: what was sold, refunded and
// charged, and the net payout.
type Statement struct {
	MID        string `json:"mid"`
	Day        string `json:"day"`
	Sales      int64  `json:"sales"`
	Refunds    int64  `json:"refunds"`
	Fees       int64  `json:"fees"`
	Deductions int64  `json:"deductions"`
	NetPayout  int64  `json:"net_payout"`
	Held       bool   `json:"held"`
	// Returned is what of the day's payouts the merchant's bank sent back
	// (it is again the merchant's balance at the acquirer).
	Returned int64  `json:"returned,omitempty"`
	Lines    []Line `json:"lines"`
	// Balance is the merchant's balance at the acquirer when the
	// statement was made (not only the day's).
	Balance MerchantBalance `json:"merchant_balance"`
}

// Statement returns the merchant's statement for a business day.
func (e *Engine) Statement(mid, businessDay string) Statement {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Statement{MID: mid, Day: businessDay}
	for _, l := range e.bo.lines {
		if l.MID != mid || l.Day != businessDay {
			continue
		}
		if l.Gross > 0 {
			s.Sales += l.Gross
		} else {
			s.Refunds -= l.Gross
		}
		s.Fees += l.Fee
		s.Deductions += l.Deductions
		s.NetPayout += l.Net
		s.Held = s.Held || l.Status == LineHeld
		if l.Status == LineReturned {
			s.Returned += l.Net
		}
		s.Lines = append(s.Lines, l)
	}
	s.Balance = e.balance(mid)
	return s
}

// WriteStatement writes a statement as text.
func WriteStatement(w io.Writer, s Statement) error {
	var b strings.Builder
	fmt.Fprintf(&b, "merchant %s, business day %s\n", s.MID, s.Day)
	for _, l := range s.Lines {
		fmt.Fprintf(&b, "  line %-3d stan %-6s %-16s gross %10s fee %8s deductions %8s net %10s  %s, payout %s",
			l.ID, l.STAN, l.Rule, wire.FormatAmount(l.Gross), wire.FormatAmount(l.Fee), wire.FormatAmount(l.Deductions),
			wire.FormatAmount(l.Net), l.Status, l.PayoutDate)
		if l.Note != "" {
			fmt.Fprintf(&b, " (%s)", l.Note)
		}
		if l.RepaidBy != 0 {
			fmt.Fprintf(&b, " [paid again by line %d]", l.RepaidBy)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "sales %s, refunds %s, fees %s, deductions %s, net payout %s", wire.FormatAmount(s.Sales),
		wire.FormatAmount(s.Refunds), wire.FormatAmount(s.Fees), wire.FormatAmount(s.Deductions), wire.FormatAmount(s.NetPayout))
	if s.Held {
		b.WriteString(" (held)")
	}
	if s.Returned != 0 {
		fmt.Fprintf(&b, ", returned %s", wire.FormatAmount(s.Returned))
	}
	b.WriteString("\n")
	bal := s.Balance
	fmt.Fprintf(&b, "merchant balance %s: pending %s, held %s, returned %s, open day %s", wire.FormatAmount(bal.Balance),
		wire.FormatAmount(bal.Pending), wire.FormatAmount(bal.Held), wire.FormatAmount(bal.Returned), wire.FormatAmount(bal.Open))
	if bal.Review {
		b.WriteString(" (under review: payouts held)")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
