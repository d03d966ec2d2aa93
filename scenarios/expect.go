package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
)

func (r *run) fail(step int, op string, line int, what string, expected, actual any) {
	r.res.Failures = append(r.res.Failures, Failure{
		Scenario: r.s.Name, Step: step, Op: op, Line: line, What: what,
		Expected: fmt.Sprint(expected), Actual: fmt.Sprint(actual),
	})
}

func (r *run) checkStep(i int, st Step, sr StepResult) {
	e := st.Expect
	f := func(what string, want, got any) { r.fail(i+1, st.Op, st.Line, what, want, got) }
	res := sr.res
	if res == nil {
		f("result", "an operation result", "none (this step runs no operation)")
		return
	}
	if e.Outcome != "" && e.Outcome != string(res.Outcome) {
		f("outcome", e.Outcome, res.Outcome)
	}
	if e.ResponseCode != "" && e.ResponseCode != res.ResponseCode {
		f("response_code", e.ResponseCode, orNone(res.ResponseCode))
	}
	if e.ReversalPending != nil && *e.ReversalPending != res.ReversalPending {
		f("reversal_pending", *e.ReversalPending, res.ReversalPending)
	}
	if e.ReversalsSent != nil && *e.ReversalsSent != len(res.ReversalsSent) {
		f("reversals_sent", *e.ReversalsSent, len(res.ReversalsSent))
	}
	if e.ReversalReason != "" {
		var reasons []string
		for _, rs := range res.ReversalsSent {
			reasons = append(reasons, rs.Reason)
		}
		if len(reasons) == 0 || reasons[0] != e.ReversalReason {
			f("reversal_reason", e.ReversalReason, orNone(strings.Join(reasons, ",")))
		}
	}
	if e.ReversalDropped != nil && *e.ReversalDropped != res.ReversalDropped {
		f("reversal_dropped", *e.ReversalDropped, res.ReversalDropped)
	}
	if e.Display != "" && !strings.Contains(res.Display, e.Display) && !strings.Contains(res.DisplayZH, e.Display) {
		f("display", "text containing "+strconv.Quote(e.Display), strconv.Quote(res.Display))
	}
	if e.LateResponses != nil {
		got := len(r.term.LateResponses())
		if got != *e.LateResponses {
			f("late_responses", *e.LateResponses, got)
		}
	}
	if e.Balance != "" && e.Balance != res.Balance {
		f("balance", e.Balance, orNone(res.Balance))
	}
	if e.ARQCVerified != nil || e.ARPCVerified != nil || e.SecondAC != "" || e.ScriptResult != "" {
		r.checkChip(e, res.Chip, f)
	}
	if e.Receipt != nil {
		r.checkReceipt(e.Receipt, res.Receipt, f)
	}
	if se := e.Settlement; se != nil {
		if res.Settlement == nil {
			f("settlement", "a settlement result", "none")
			return
		}
		if se.Balanced != nil && *se.Balanced != res.Settlement.Balanced {
			f("settlement.balanced", *se.Balanced, res.Settlement.Balanced)
		}
		if se.Uploaded != nil && *se.Uploaded != res.Settlement.Uploaded {
			f("settlement.uploaded", *se.Uploaded, res.Settlement.Uploaded)
		}
		if se.TCUploaded != nil && *se.TCUploaded != res.Settlement.TCUploaded {
			f("settlement.tc_uploaded", *se.TCUploaded, res.Settlement.TCUploaded)
		}
	}
}

// checkReceipt checks a step's receipt, and its numbers against the
// acquirer's books when posim's acquirer keeps them.
func (r *run) checkReceipt(e *ReceiptExpect, rc *terminal.Receipt, f func(what string, want, got any)) {
	if rc == nil {
		f("receipt", "a receipt", "none")
		return
	}
	if e.Trace != 0 && rc.Trace != r.stan(e.Trace) {
		f("receipt trace", r.stan(e.Trace), rc.Trace)
	}
	if e.RRN != nil && *e.RRN != (rc.RRN != "") {
		f("receipt rrn", *e.RRN, orNone(rc.RRN))
	}
	if e.AuthCode != nil && *e.AuthCode != (rc.AuthCode != "") {
		f("receipt auth code", *e.AuthCode, orNone(rc.AuthCode))
	}
	if e.Reversed != nil && *e.Reversed != (rc.Reversal != nil && rc.Reversal.Outcome == terminal.Approved) {
		got := "none"
		if rc.Reversal != nil {
			got = string(rc.Reversal.Outcome)
		}
		f("receipt reversal", *e.Reversed, got)
	}
	if rc.RRN == "" || r.opts.Target != "" {
		return
	}
	for _, rec := range r.engine.Snapshot().Records {
		if rec.RRN != rc.RRN {
			continue
		}
		if rec.STAN != rc.Trace || rec.AuthCode != rc.AuthCode {
			f("receipt against the acquirer's record", "trace "+rc.Trace+" auth "+rc.AuthCode, "trace "+rec.STAN+" auth "+rec.AuthCode)
		}
		return
	}
	f("receipt rrn in the acquirer's books", rc.RRN, "no record")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// failer reports one broken expectation of the end state.
type failer func(what string, want, got any)

// checkEnd checks the end state the scenario expects.
func (r *run) checkEnd() {
	e := r.s.Expect
	f := func(what string, want, got any) { r.fail(0, "", 0, what, want, got) }
	if r.opts.Target != "" {
		// someone else's host: only what the terminal knows can be checked
		r.checkTerminal(e.Terminal, f)
		return
	}
	snap := r.engine.Snapshot()
	ins := r.journal.List(acquirer.Filter{Kind: acquirer.KindIn})
	r.checkRecords(e.Records, snap.Records, f)
	checkReceived(e, ins, f)
	checkWithin(e.Within, ins, f)
	r.checkJournal(e.Journal, f)
	r.checkBalances(e, f)
	r.checkSettlement(e.Settlement, snap.Settlements, f)
	r.checkTerminal(e.Terminal, f)
	r.checkBackOffice(e, f)
}

// checkRecords finds each expected record in the ledger (by STAN, MTI and
// op) and compares the fields given.
func (r *run) checkRecords(want []RecordExpect, records []acquirer.Record, f failer) {
	for _, want := range want {
		stan := r.stan(want.STAN)
		var rec *acquirer.Record
		for i := range records {
			c := &records[i]
			if (want.STAN == 0 || c.STAN == stan) && (want.MTI == "" || c.MTI == want.MTI) && (want.Op == "" || string(c.Op) == want.Op) {
				rec = c
				break
			}
		}
		what := fmt.Sprintf("record stan %d", want.STAN)
		if want.STAN == 0 {
			what = "first " + want.Op + " record"
		}
		if rec == nil {
			f(what, "booked by the acquirer", "no such record")
			continue
		}
		if want.Status != "" && want.Status != rec.Status {
			f(what+" status", want.Status, rec.Status)
		}
		if want.Reason != "" && want.Reason != rec.Reason {
			f(what+" reason", want.Reason, orNone(rec.Reason))
		}
		if want.TCUploaded != nil && *want.TCUploaded != rec.TCUploaded {
			f(what+" tc_uploaded", *want.TCUploaded, rec.TCUploaded)
		}
		if want.RC != "" && want.RC != rec.ResponseCode {
			f(what+" rc", want.RC, rec.ResponseCode)
		}
		if want.Amount != "" {
			if amt, _ := wire.ParseAmount(want.Amount); amt != rec.Amount {
				f(what+" amount", want.Amount, wire.FormatAmount(rec.Amount))
			}
		}
	}
}

// checkReceived counts the messages the acquirer received: by MTI, the
// reversals, and their order.
func checkReceived(e Expect, ins []acquirer.Entry, f failer) {
	if len(e.Received) > 0 {
		counts := map[string]int{}
		for _, in := range ins {
			counts[in.MTI]++
		}
		for _, mti := range slices.Sorted(maps.Keys(e.Received)) {
			if counts[mti] != e.Received[mti] {
				f("received "+mti, e.Received[mti], counts[mti])
			}
		}
	}
	if e.Reversals != nil {
		n := 0
		for _, in := range ins {
			if strings.HasPrefix(in.MTI, "040") || strings.HasPrefix(in.MTI, "042") {
				n++
			}
		}
		if n != *e.Reversals {
			f("reversal messages received", *e.Reversals, n)
		}
	}
	if len(e.Order) > 0 {
		// network management (08xx) counts only when the expectation
		// names some: a sign-on the runner made for the scenario (cup)
		// is not part of the story
		network := slices.ContainsFunc(e.Order, func(m string) bool { return strings.HasPrefix(m, "08") })
		var got []string
		for _, in := range ins {
			if network || !strings.HasPrefix(in.MTI, "08") {
				got = append(got, in.MTI)
			}
		}
		if strings.Join(got, " ") != strings.Join(e.Order, " ") {
			f("order of messages received", strings.Join(e.Order, " "), orNone(strings.Join(got, " ")))
		}
	}
}

// checkWithin checks how long after one message another arrived.
func checkWithin(within []WithinExpect, ins []acquirer.Entry, f failer) {
	for _, w := range within {
		var after, at time.Time
		for _, in := range ins {
			if after.IsZero() && in.MTI == w.After {
				after = in.Time
				continue
			}
			if !after.IsZero() && in.MTI == w.MTI {
				at = in.Time
				break
			}
		}
		what := fmt.Sprintf("%s within %s after %s", w.MTI, w.Max, w.After)
		switch {
		case after.IsZero() || at.IsZero():
			f(what, "both received", "missing")
		case at.Sub(after) > w.Max.D():
			f(what, "at most "+w.Max.String(), at.Sub(after).Round(time.Millisecond).String())
		}
	}
}

// checkJournal counts journal entries by kind.
func (r *run) checkJournal(want map[string]int, f failer) {
	for _, kind := range slices.Sorted(maps.Keys(want)) {
		got := len(r.journal.List(acquirer.Filter{Kind: kind}))
		if got != want[kind] {
			f("journal "+kind+" entries", want[kind], got)
		}
	}
}

// checkBalances compares card balances and holds at the acquirer.
func (r *run) checkBalances(e Expect, f failer) {
	for _, m := range []struct {
		what string
		want map[string]string
		held bool
	}{{"balance", e.Balances, false}, {"held", e.Held, true}} {
		for _, alias := range slices.Sorted(maps.Keys(m.want)) {
			c, _ := r.book.ByAlias(alias)
			acc, ok := r.engine.Account(c.PAN)
			want, _ := wire.ParseAmount(m.want[alias])
			got := acc.Balance
			if m.held {
				got = acc.Held
			}
			if !ok || got != want {
				f(m.what+" of "+alias, wire.FormatAmount(want), wire.FormatAmount(got))
			}
		}
	}
}

// checkSettlement checks the number of settlements and the last one.
func (r *run) checkSettlement(se *SettlementExpect, settlements []acquirer.Settlement, f failer) {
	if se == nil {
		return
	}
	if se.Count != nil && *se.Count != len(settlements) {
		f("settlements", *se.Count, len(settlements))
	}
	if len(settlements) == 0 {
		if se.Balanced != nil || se.Discrepancies != nil {
			f("settlement", "a settled batch", "none")
		}
	} else {
		last := settlements[len(settlements)-1]
		if se.Balanced != nil && *se.Balanced != last.Balanced {
			f("settlement balanced", *se.Balanced, last.Balanced)
		}
		if se.Discrepancies != nil {
			r.checkDiscrepancies(*se.Discrepancies, last.Discrepancies)
		}
	}
}

// checkBackOffice checks the back office: the fee report, settlement
// lines and merchant statements.
func (r *run) checkBackOffice(e Expect, f failer) {
	r.checkFees(e.Fees, f)
	r.checkLines(e.Lines, f)
	r.checkStatements(e.Statements, f)
}

// checkFees checks the fee reconciliation report.
func (r *run) checkFees(fe *FeeExpect, f failer) {
	if fe == nil {
		return
	}
	report := r.engine.FeeReport()
	if fe.Deviations != nil && *fe.Deviations != len(report) {
		var got []string
		for _, d := range report {
			got = append(got, fmt.Sprintf("%s stan %s %s→%s", d.Kind, d.STAN, d.Expected, d.Applied))
		}
		f("fee report deviations", *fe.Deviations, fmt.Sprintf("%d (%s)", len(report), orNone(strings.Join(got, "; "))))
	}
	for _, want := range fe.Items {
		found := false
		for _, d := range report {
			if d.Kind != want.Kind || (want.STAN != 0 && d.STAN != r.stan(want.STAN)) {
				continue
			}
			if want.Amount != "" && d.Amount != signedAmount(want.Amount) {
				continue
			}
			if want.Rule != "" && !strings.Contains(d.Rule, want.Rule) {
				continue
			}
			found = true
		}
		if !found {
			f(fmt.Sprintf("fee report %s deviation for stan %d", want.Kind, want.STAN), want.Amount+" "+want.Rule, "not flagged")
		}
	}
}

// checkLines finds each expected settlement line and compares it.
func (r *run) checkLines(want []LineExpect, f failer) {
	lines := r.engine.Lines()
	for _, want := range want {
		var line *acquirer.Line
		for i := range lines {
			if (want.STAN == 0 || lines[i].STAN == r.stan(want.STAN)) && (want.Rule == "" || strings.Contains(lines[i].Rule, want.Rule)) {
				line = &lines[i]
			}
		}
		what := fmt.Sprintf("settlement line stan %d", want.STAN)
		if line == nil {
			f(what, "a line", "none")
			continue
		}
		for _, c := range []struct {
			name, want string
			got        int64
		}{{"gross", want.Gross, line.Gross}, {"fee", want.Fee, line.Fee}, {"net", want.Net, line.Net}} {
			if c.want == "" {
				continue
			}
			if signedAmount(c.want) != c.got {
				f(what+" "+c.name, c.want, wire.FormatAmount(c.got))
			}
		}
		if want.Status != "" && want.Status != line.Status {
			f(what+" status", want.Status, line.Status)
		}
		if want.Payout != "" && want.Payout != line.PayoutDate {
			f(what+" payout date", want.Payout, line.PayoutDate)
		}
	}
}

// checkStatements checks merchant statements.
func (r *run) checkStatements(want []StatementExpect, f failer) {
	for _, want := range want {
		st := r.engine.Statement(want.MID, want.Day)
		what := "statement " + want.MID + " " + want.Day
		if want.NetPayout != "" {
			if signedAmount(want.NetPayout) != st.NetPayout {
				f(what+" net payout", want.NetPayout, wire.FormatAmount(st.NetPayout))
			}
		}
		if want.Fees != "" {
			if w, _ := wire.ParseAmount(want.Fees); w != st.Fees {
				f(what+" fees", want.Fees, wire.FormatAmount(st.Fees))
			}
		}
		if want.Held != nil && *want.Held != st.Held {
			f(what+" held", *want.Held, st.Held)
		}
		if want.Returned != "" && signedAmount(want.Returned) != st.Returned {
			f(what+" returned", want.Returned, wire.FormatAmount(st.Returned))
		}
		if want.MerchantBalance != "" && signedAmount(want.MerchantBalance) != st.Balance.Balance {
			f(what+" merchant balance", want.MerchantBalance, wire.FormatAmount(st.Balance.Balance))
		}
		if want.Review != nil && *want.Review != st.Balance.Review {
			f(what+" merchant under review", *want.Review, st.Balance.Review)
		}
	}
}

func (r *run) checkTerminal(te *TerminalExpect, f failer) {
	if te != nil {
		st := r.term.State()
		if te.PendingReversal != nil && *te.PendingReversal != (st.Pending != nil) {
			f("terminal pending reversal", *te.PendingReversal, st.Pending != nil)
		}
		// a state carried over from earlier scenarios counts from where
		// this one began: the entries it logged in the open batch, and the
		// batch as if it had begun at 1
		log := len(st.Log)
		if st.Batch == r.batchAtStart {
			log -= r.logAtStart
		}
		if te.Log != nil && *te.Log != log {
			f("terminal log entries", *te.Log, log)
		}
		if batch := st.Batch - r.batchAtStart + 1; te.Batch != nil && *te.Batch != batch {
			f("terminal batch", *te.Batch, batch)
		}
	}
}

func (r *run) checkDiscrepancies(want []DiscrepancyExpect, got []acquirer.Discrepancy) {
	describe := func(kind, stan string, amount, terminal int64) string {
		s := fmt.Sprintf("%s stan %s %s", kind, stan, wire.FormatAmount(amount))
		if kind == acquirer.AmountMismatch {
			s += " (terminal " + wire.FormatAmount(terminal) + ")"
		}
		return s
	}
	var gotS, wantS []string
	for _, d := range got {
		amt := d.HostAmount
		if d.Kind == acquirer.TerminalOnly {
			amt = d.TerminalAmount
		}
		gotS = append(gotS, describe(d.Kind, strings.TrimLeft(d.STAN, "0"), amt, d.TerminalAmount))
	}
	match := len(want) == len(got)
	for i, w := range want {
		amt, _ := wire.ParseAmount(w.Amount)
		term, _ := wire.ParseAmount(w.TerminalAmount)
		wantS = append(wantS, describe(w.Kind, strings.TrimLeft(r.stan(w.STAN), "0"), amt, term))
		if !match {
			continue
		}
		g := got[i]
		gAmt := g.HostAmount
		if g.Kind == acquirer.TerminalOnly {
			gAmt = g.TerminalAmount
		}
		if g.Kind != w.Kind || (w.STAN != 0 && g.STAN != r.stan(w.STAN)) || (w.Amount != "" && gAmt != amt) ||
			(w.TerminalAmount != "" && g.TerminalAmount != term) {
			match = false
		}
	}
	if !match {
		r.fail(0, "", 0, "settlement discrepancies", orNone(strings.Join(wantS, "; ")), orNone(strings.Join(gotS, "; ")))
	}
}

// signedAmount parses an amount that may be negative ("-6.00").
func signedAmount(s string) int64 {
	v, _ := wire.ParseAmount(strings.TrimPrefix(s, "-"))
	if strings.HasPrefix(s, "-") {
		return -v
	}
	return v
}

// checkChip checks a step's chip outcomes.
func (r *run) checkChip(e *StepExpect, c *terminal.ChipResult, f func(what string, want, got any)) {
	if c == nil {
		f("chip", "a chip transaction", "none (the card has no chip, or it was swiped)")
		return
	}
	if e.ARQCVerified != nil && *e.ARQCVerified != c.ARQCVerified {
		f("arqc_verified", *e.ARQCVerified, c.ARQCVerified)
	}
	if e.ARPCVerified != nil && *e.ARPCVerified != c.ARPCVerified {
		f("arpc_verified", *e.ARPCVerified, c.ARPCVerified)
	}
	if e.SecondAC != "" && e.SecondAC != c.SecondAC {
		f("second_ac", e.SecondAC, orNone(c.SecondAC))
	}
	if e.ScriptResult != "" && e.ScriptResult != c.ScriptResult {
		f("script_result", e.ScriptResult, orNone(c.ScriptResult))
	}
}
