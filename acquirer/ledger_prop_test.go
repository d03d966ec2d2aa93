package acquirer

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/emv"
	"github.com/posim/posim/wire"
	"pgregory.net/rapid"
)

// propChecks is how many random sequences TestLedger_MoneyIsNeverCreatedOrLost
// plays when neither -rapid.checks nor RAPID_CHECKS says otherwise: a few
// thousand in every `make test`. `go test ./acquirer -run Ledger
// -rapid.checks 100000` plays many more.
const propChecks = 2000

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := os.Getenv("RAPID_CHECKS") != ""
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "rapid.checks" })
	if !explicit {
		_ = flag.Set("rapid.checks", strconv.Itoa(propChecks))
	}
	os.Exit(m.Run())
}

// ledgerModel drives an engine with random sequences of everything that
// moves money and keeps what it sent, so that later steps can refer to it.
type ledgerModel struct {
	e     *Engine
	now   time.Time
	book  *cards.Book
	cup   bool             // the engine settles as cup does
	start map[string]int64 // card balances before the first step
	stans map[string]int   // per terminal
	sent  []*wire.Txn      // financial requests sent, in order
	rrns  []string         // RRNs the host gave approvals
	// reversals whose original was never sent: it may be sent later
	unsent []*wire.Txn
}

var propTerminals = []struct{ tid, mid string }{{"T1", "M1"}, {"T2", "M1"}, {"T3", "M2"}}

var propCards = []string{"6200000000000005", "4111111111111111", "6200000000000203", "6200000000000104", propChipPAN}

// propChipPAN is the built-in chip-approve card: its chip sales carry an
// ARQC the host verifies.
const propChipPAN = "6200000000002001"

func newLedgerModel(t *rapid.T) *ledgerModel { return newLedgerModelWith(t, nil) }

// newLedgerModelWith is newLedgerModel with every change kept by log from
// the engine's first moment.
func newLedgerModelWith(t *rapid.T, log ChangeLog) *ledgerModel {
	book := cards.Builtin()
	for _, tt := range propTerminals {
		book.Terminals = append(book.Terminals, cards.Terminal{TID: tt.tid, MID: tt.mid, Status: cards.TerminalActive})
	}
	e, err := NewEngine(book, DefaultPolicies())
	if err != nil {
		t.Fatal(err)
	}
	if log != nil {
		e.SetChangeLog(log)
	}
	contracts := []Contract{
		{MID: "M1", Debit: FeeRule{PPM: 6000, Cap: 2000}, Credit: FeeRule{PPM: 6000}, Cycle: "T+1", Holidays: []string{"2026-01-19"}},
		{MID: "M2", Debit: FeeRule{PPM: 5000}, Cycle: "D0"},
	}
	if err := e.SetContracts(23*time.Hour, contracts); err != nil {
		t.Fatal(err)
	}
	cup := rapid.Bool().Draw(t, "cup settlement")
	if cup {
		e.SetDialect(wire.CUP.Capabilities()) // voids counted, foreign cards apart
	}
	m := &ledgerModel{e: e, book: book, cup: cup, now: time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC), start: map[string]int64{}, stans: map[string]int{}}
	e.Advance(m.now)
	for _, pan := range propCards {
		a, _ := e.Account(pan)
		m.start[pan] = a.Balance
	}
	return m
}

func (m *ledgerModel) terminal(t *rapid.T) (tid, mid string) {
	tt := rapid.SampledFrom(propTerminals).Draw(t, "terminal")
	return tt.tid, tt.mid
}

// stan is the terminal's next trace number; now and then an old one comes
// round again (a terminal that wrapped, or was reset).
func (m *ledgerModel) stan(t *rapid.T, tid string) string {
	if m.stans[tid] > 0 && rapid.IntRange(0, 9).Draw(t, "reuse stan") == 0 {
		return pad6(rapid.IntRange(1, m.stans[tid]).Draw(t, "old stan"))
	}
	m.stans[tid]++
	return pad6(m.stans[tid])
}

func (m *ledgerModel) request(t *rapid.T, op wire.Op) *wire.Txn {
	tid, mid := m.terminal(t)
	mti, pc := pcFor(op)
	return &wire.Txn{MTI: mti, Op: op, ProcessingCode: pc, TID: tid, MID: mid, STAN: m.stan(t, tid),
		TransmissionTime: wire.TransmissionTimeOf(m.now), Currency: "156",
		PAN:    rapid.SampledFrom(propCards).Draw(t, "card"),
		Amount: rapid.Int64Range(1, 30000).Draw(t, "amount"), HasAmount: true}
}

func pcFor(op wire.Op) (mti, pc string) {
	switch op {
	case wire.OpPreAuth:
		return "0100", wire.PCPreAuth
	case wire.OpVoid:
		return "0200", wire.PCVoid
	case wire.OpRefund:
		return "0220", wire.PCRefund
	case wire.OpAdvice, wire.OpOfflineSale, wire.OpAdjust, wire.OpTip:
		return "0220", wire.PCPurchase
	case wire.OpPreAuthVoid:
		return "0100", wire.PCVoid
	case wire.OpCompletionVoid:
		return "0200", wire.PCVoid
	}
	return "0200", wire.PCPurchase
}

func (m *ledgerModel) decide(t *rapid.T, req *wire.Txn) Decision {
	d := m.e.Decide(req, m.now)
	if d.Response == nil {
		t.Fatalf("no response to %s %s", req.MTI, req.Op)
	}
	if d.Response.ResponseCode == "00" && d.Response.RRN != "" {
		m.rrns = append(m.rrns, d.Response.RRN)
	}
	if req.Op.Financial() {
		m.sent = append(m.sent, req)
	}
	return d
}

// referring builds a void, refund or completion of an earlier approval,
// now and then at another terminal or merchant, or for an unknown RRN.
func (m *ledgerModel) referring(t *rapid.T, op wire.Op) *wire.Txn {
	req := m.request(t, op)
	switch op {
	case wire.OpCompletion, wire.OpPreAuthVoid, wire.OpCompletionVoid:
		req.Condition = wire.CondPreAuth
	}
	if len(m.rrns) == 0 || rapid.IntRange(0, 19).Draw(t, "unknown rrn") == 0 {
		req.RRN = "999999999999"
		return req
	}
	req.RRN = rapid.SampledFrom(m.rrns).Draw(t, "rrn")
	for r := range m.e.l.records.all(0) {
		if r.RRN() == req.RRN && rapid.IntRange(0, 4).Draw(t, "other terminal") != 0 {
			req.TID, req.MID, req.PAN = r.TID(), r.MID(), r.PAN()
			if op == wire.OpVoid || op == wire.OpCompletionVoid || op == wire.OpPreAuthVoid || rapid.Bool().Draw(t, "whole amount") {
				req.Amount = r.Amount
			}
		}
	}
	return req
}

func (m *ledgerModel) Sale(t *rapid.T)    { m.decide(t, m.request(t, wire.OpSale)) }
func (m *ledgerModel) PreAuth(t *rapid.T) { m.decide(t, m.request(t, wire.OpPreAuth)) }
func (m *ledgerModel) Advice(t *rapid.T)  { m.decide(t, m.request(t, wire.OpAdvice)) }

// OfflineSale is a cup offline sale's advice (60.1 30): booked as an advice.
func (m *ledgerModel) OfflineSale(t *rapid.T) { m.decide(t, m.request(t, wire.OpOfflineSale)) }
func (m *ledgerModel) Void(t *rapid.T)        { m.decide(t, m.referring(t, wire.OpVoid)) }

// Adjust and Tip are cup advices that give an earlier offline sale (a tip:
// also a sale) a new amount (60.1 32, 34), named by DE61's trace at its
// terminal or now and then by RRN; now and then one that names nothing,
// another terminal's, or a new amount of zero, below or above the old.
func (m *ledgerModel) Adjust(t *rapid.T) { m.decide(t, m.adjusting(t, wire.OpAdjust)) }
func (m *ledgerModel) Tip(t *rapid.T)    { m.decide(t, m.adjusting(t, wire.OpTip)) }

func (m *ledgerModel) adjusting(t *rapid.T, op wire.Op) *wire.Txn {
	req := m.request(t, op)
	var origs []*wire.Txn
	for _, s := range m.sent {
		if s.Op == wire.OpSale || s.Op == wire.OpAdvice || s.Op == wire.OpOfflineSale {
			origs = append(origs, s)
		}
	}
	if len(origs) == 0 || rapid.IntRange(0, 9).Draw(t, "names nothing") == 0 {
		req.OrigRef = &wire.OrigRef{Batch: "000001", STAN: "999999"}
		return req
	}
	orig := rapid.SampledFrom(origs).Draw(t, "original")
	if rapid.IntRange(0, 4).Draw(t, "other terminal") != 0 {
		req.TID, req.MID, req.PAN = orig.TID, orig.MID, orig.PAN
	}
	req.OrigRef = &wire.OrigRef{Batch: orig.Batch, STAN: orig.STAN}
	if len(m.rrns) > 0 && rapid.IntRange(0, 4).Draw(t, "by rrn") == 0 {
		req.RRN = rapid.SampledFrom(m.rrns).Draw(t, "rrn")
	}
	req.Amount = max(0, orig.Amount+rapid.Int64Range(-orig.Amount, 5000).Draw(t, "change"))
	return req
}
func (m *ledgerModel) Refund(t *rapid.T) { m.decide(t, m.referring(t, wire.OpRefund)) }
func (m *ledgerModel) Completion(t *rapid.T) {
	m.decide(t, m.referring(t, wire.OpCompletion))
}
func (m *ledgerModel) PreAuthVoid(t *rapid.T)    { m.decide(t, m.referring(t, wire.OpPreAuthVoid)) }
func (m *ledgerModel) CompletionVoid(t *rapid.T) { m.decide(t, m.referring(t, wire.OpCompletionVoid)) }

// ChipSale is a chip sale whose ARQC is the card's, or now and then not
// (changed data, another card's key): only a verified one may debit.
func (m *ledgerModel) ChipSale(t *rapid.T) {
	req := m.request(t, wire.OpSale)
	req.PAN, req.EntryMode, req.CardSeq = propChipPAN, "052", "001"
	l := emv.List{}.
		Set(emv.TagAmount, numT(t, req.Amount)).Set(emv.TagAmountOther, make([]byte, 6)).
		Set(emv.TagCountry, []byte{0x01, 0x56}).Set(emv.TagTVR, make([]byte, 5)).
		Set(emv.TagCurrency, []byte{0x01, 0x56}).Set(emv.TagDate, []byte{0x26, 0x01, 0x15}).
		Set(emv.TagType, []byte{0}).Set(emv.TagUN, []byte{byte(m.stans[req.TID]), 2, 3, 4}).Set(emv.TagAIP, []byte{0x7C, 0}).
		Set(emv.TagATC, []byte{0, byte(rapid.IntRange(1, 200).Draw(t, "atc"))}).
		Set(emv.TagIAD, []byte{0x07, 0x01, 0x01, 0x03, 0xA0, 0, 0, 1})
	psn := "01"
	if rapid.IntRange(0, 4).Draw(t, "wrong key") == 0 {
		psn = "02"
	}
	mk, err := emv.ICCMasterKey((&cards.Chip{}).IMK(), propChipPAN, psn)
	if err != nil {
		t.Fatal(err)
	}
	ac, _, err := emv.ApplicationCryptogram(mk, l)
	if err != nil {
		t.Fatal(err)
	}
	req.ICC = l.Set(emv.TagCryptogram, ac).Bytes()
	before, _ := m.e.Account(propChipPAN)
	m.decide(t, req)
	after, _ := m.e.Account(propChipPAN)
	// (a retransmission of an earlier approval, same STAN and DE7, is
	// answered with that approval's copy: it moves nothing either)
	if psn != "01" && (after.Balance != before.Balance || after.Held != before.Held) {
		t.Fatalf("a chip sale with another card's ARQC moved money: balance %d -> %d", before.Balance, after.Balance)
	}
}

// ChipFollowUp sends a TC upload or a script advice for an earlier
// request (or one that never was): neither may move money.
func (m *ledgerModel) ChipFollowUp(t *rapid.T) {
	req := m.request(t, wire.OpTCUpload)
	req.MTI, req.ProcessingCode = "0320", wire.PCPurchase
	if rapid.Bool().Draw(t, "script advice") {
		req.Op, req.MTI, req.ProcessingCode = wire.OpScriptAdvice, "0620", ""
	}
	if len(m.sent) > 0 && rapid.IntRange(0, 4).Draw(t, "unknown original") != 0 {
		orig := rapid.SampledFrom(m.sent).Draw(t, "original")
		req.TID, req.MID, req.PAN, req.Amount = orig.TID, orig.MID, orig.PAN, orig.Amount
		req.Original = &wire.Original{MTI: orig.MTI, STAN: orig.STAN, TransmissionTime: orig.TransmissionTime}
	}
	req.ICC = emv.List{}.Set(emv.TagScriptResult, []byte{0x20, 0, 0, 0, 0}).Set(emv.TagCryptogram, make([]byte, 8)).Bytes()
	m.decide(t, req)
}

func numT(t *rapid.T, amount int64) []byte {
	b, err := emv.Numeric(strconv.FormatInt(amount, 10), 6)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Duplicate sends an earlier request again, as a terminal retransmits.
func (m *ledgerModel) Duplicate(t *rapid.T) {
	if len(m.sent) == 0 {
		t.Skip("nothing sent yet")
	}
	req := *rapid.SampledFrom(m.sent).Draw(t, "request")
	m.decide(t, &req)
}

// Reversal reverses an earlier request (on time, late, or again), or one
// that never arrived, whose original may then arrive after it.
func (m *ledgerModel) Reversal(t *rapid.T) {
	var orig *wire.Txn
	if len(m.sent) == 0 || rapid.IntRange(0, 5).Draw(t, "orphan") == 0 {
		switch op := rapid.SampledFrom([]wire.Op{wire.OpSale, wire.OpPreAuth, wire.OpVoid, wire.OpCompletion, wire.OpPreAuthVoid, wire.OpCompletionVoid}).Draw(t, "lost op"); op {
		case wire.OpVoid, wire.OpCompletion, wire.OpPreAuthVoid, wire.OpCompletionVoid:
			orig = m.referring(t, op)
		default:
			orig = m.request(t, op)
		}
		m.unsent = append(m.unsent, orig)
	} else {
		orig = rapid.SampledFrom(m.sent).Draw(t, "original")
	}
	m.stans[orig.TID]++
	rev := wire.ISO87.Reversal(orig, rapid.SampledFrom([]string{"98", "96", "06"}).Draw(t, "reason"), pad6(m.stans[orig.TID]), m.now)
	if rapid.IntRange(0, 4).Draw(t, "advice") == 0 {
		rev.MTI, rev.Op = "0420", wire.OpReversalAdvice
	}
	m.decide(t, rev)
}

// LateOriginal sends a request whose reversal went first.
func (m *ledgerModel) LateOriginal(t *rapid.T) {
	if len(m.unsent) == 0 {
		t.Skip("no reversal went ahead of its original")
	}
	i := rapid.IntRange(0, len(m.unsent)-1).Draw(t, "late original")
	req := m.unsent[i]
	m.unsent = append(m.unsent[:i], m.unsent[i+1:]...)
	m.decide(t, req)
}

// Settle closes a terminal's batch, with its totals right or wrong; out
// of balance, the terminal closes it with a trailer.
func (m *ledgerModel) Settle(t *rapid.T) {
	tid, mid := m.terminal(t)
	totals := m.e.totalsOf(m.e.open(tid))
	if rapid.IntRange(0, 3).Draw(t, "wrong totals") == 0 {
		totals.DebitAmount += rapid.Int64Range(1, 1000).Draw(t, "off by")
	}
	m.stans[tid]++
	req := &wire.Txn{MTI: "0500", Op: wire.OpSettle, ProcessingCode: wire.PCSettle, TID: tid, MID: mid, STAN: pad6(m.stans[tid]), Totals: &totals}
	d := m.decide(t, req)
	if d.Response.ResponseCode == "95" {
		m.stans[tid]++
		trailer := *req
		trailer.Op, trailer.ProcessingCode, trailer.STAN = wire.OpSettleTrailer, wire.PCSettleTrailer, pad6(m.stans[tid])
		m.decide(t, &trailer)
	}
}

// Advance moves the clock: seconds (within a velocity window), minutes,
// hours or days, through cut-overs.
func (m *ledgerModel) Advance(t *rapid.T) {
	if rapid.Bool().Draw(t, "seconds") {
		m.now = m.now.Add(time.Duration(rapid.Int64Range(1, 900).Draw(t, "seconds")) * time.Second)
	} else {
		m.now = m.now.Add(time.Duration(rapid.Int64Range(1, 4*24*60).Draw(t, "minutes")) * time.Minute)
	}
	m.e.Advance(m.now)
}

// Limits turns the daily and velocity limits on, off or to other values,
// low enough that sales meet them.
func (m *ledgerModel) Limits(t *rapid.T) {
	p := m.e.Policies()
	p.DailyAmount = rapid.SampledFrom([]int64{0, 20000, 60000}).Draw(t, "daily amount")
	p.DailyCount = rapid.IntRange(0, 6).Draw(t, "daily count")
	p.VelocityCount = rapid.IntRange(0, 4).Draw(t, "velocity count")
	p.VelocityWindow = time.Duration(rapid.IntRange(1, 30).Draw(t, "velocity minutes")) * time.Minute
	p.RefundOverBalance = rapid.SampledFrom([]string{RefundAllow, "51"}).Draw(t, "refund over balance")
	p.Review = rapid.SampledFrom([]*ReviewRule{nil, {Declines: 30, Over: 5}}).Draw(t, "review")
	if err := m.e.SetPolicies(p); err != nil {
		t.Fatal(err)
	}
}

// Payout makes a merchant's payouts come back (a marked sale, or its
// settlement account set wrong) or corrects its account.
func (m *ledgerModel) Payout(t *rapid.T) {
	_, mid := m.terminal(t)
	switch rapid.IntRange(0, 2).Draw(t, "payout") {
	case 0:
		if n := len(m.e.Snapshot().Records); n > 0 {
			id := m.e.Snapshot().Records[rapid.IntRange(0, n-1).Draw(t, "record")].ID
			m.e.MarkAnomaly(id, Anomaly{Kind: AnomalyPayoutReturned, Reason: ReturnWrongAccount})
		}
	case 1:
		_, _ = m.e.SetSettlementAccount(mid, rapid.SampledFrom(ReturnReasons).Draw(t, "reason"), m.now)
	case 2:
		_, _ = m.e.SetSettlementAccount(mid, AccountCorrected, m.now)
	}
}

// Dispute raises a retrieval, a chargeback, a representment or a second
// chargeback on a sale; the engine refuses what the rules do not allow.
func (m *ledgerModel) Dispute(t *rapid.T) {
	tid, _ := m.terminal(t)
	if m.stans[tid] == 0 {
		t.Skip("no sale at that terminal")
	}
	stan := pad6(rapid.IntRange(1, m.stans[tid]).Draw(t, "disputed stan"))
	switch rapid.IntRange(0, 3).Draw(t, "dispute") {
	case 0:
		_, _ = m.e.Retrieval(tid, stan, m.now)
	case 1:
		_, _ = m.e.Chargeback(tid, stan, "4515", rapid.Int64Range(0, 1500).Draw(t, "fee"), m.now)
	case 2:
		_, _ = m.e.Represent(tid, stan, rapid.Bool().Draw(t, "won"), m.now)
	case 3:
		_, _ = m.e.SecondChargeback(tid, stan, m.now)
	}
}

// Check asserts the money rules over the whole ledger; rapid runs it
// after every step.
func (m *ledgerModel) Check(t *rapid.T) {
	if err := checkLedger(m.e, m.start); err != nil {
		t.Fatal(err)
	}
	if err := checkRisk(m.e, m.now); err != nil {
		t.Fatal(err)
	}
	if err := checkPayouts(m.e); err != nil {
		t.Fatal(err)
	}
}

// checkPayouts checks that a returned payout is paid again exactly once:
// each re-payout line is the sum of the returned lines that name it, and
// only returned lines name one.
func checkPayouts(e *Engine) error {
	lines := e.Lines()
	repaid := map[int]int64{}
	for _, l := range lines {
		if l.RepaidBy == 0 {
			continue
		}
		if l.Status != LineReturned {
			return fmt.Errorf("line %d is %s but names re-payout line %d", l.ID, l.Status, l.RepaidBy)
		}
		repaid[l.RepaidBy] += l.Net
	}
	for _, l := range lines {
		if l.Rule == "re-payout" && repaid[l.ID] != l.Net {
			return fmt.Errorf("re-payout line %d pays %d, its returned lines come to %d", l.ID, l.Net, repaid[l.ID])
		}
		delete(repaid, l.ID)
	}
	for id := range repaid {
		return fmt.Errorf("returned lines name line %d, which is no re-payout", id)
	}
	return nil
}

// checkRisk checks the limits' running totals against a walk of every
// record (the way limits were checked before they had totals): for each
// card, the standing sales and completions of now's day, and at each
// merchant those within the velocity window.
func checkRisk(e *Engine, now time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	type cm struct{ pan, mid string }
	dayAmount, dayCount, recent := map[string]int64{}, map[string]int{}, map[cm]int{}
	y, mo, d := now.UTC().Date()
	dayStart := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	window := e.pol.VelocityWindow
	for r := range e.l.records.all(0) {
		if !r.live() || (r.Op() != wire.OpSale && r.Op() != wire.OpCompletion) {
			continue
		}
		if !r.Time().Before(dayStart) {
			dayAmount[r.PAN()] += r.Amount
			dayCount[r.PAN()]++
		}
		if now.Sub(r.Time()) < window {
			recent[cm{r.PAN(), r.MID()}]++
		}
	}
	for _, pan := range propCards {
		amount, count := e.l.risk.today(pan, now)
		if amount != dayAmount[pan] || count != dayCount[pan] {
			return fmt.Errorf("card %s: running daily totals %s in %d, its records %s in %d", wire.MaskPAN(pan),
				wire.FormatAmount(amount), count, wire.FormatAmount(dayAmount[pan]), dayCount[pan])
		}
		if e.pol.VelocityCount == 0 {
			continue
		}
		for _, mid := range []string{"M1", "M2"} {
			if got, want := e.l.risk.recent(pan, mid, now), recent[cm{pan, mid}]; got != want {
				return fmt.Errorf("card %s at %s: %d sales within %s by the running totals, %d by its records", wire.MaskPAN(pan), mid, got, window, want)
			}
		}
	}
	return nil
}

// checkLedger checks the money rules over the whole ledger of an engine
// whose cards started with the balances in start.
func checkLedger(e *Engine, start map[string]int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.l

	// money taken from cards equals money owed to merchants: what their
	// settlement lines paid, plus what is still to go on a line
	var taken, owed int64
	for _, pan := range startCards(start) {
		taken += start[pan] - l.accounts[pan].Balance
	}
	for _, ln := range e.bo.lines {
		owed += ln.Gross
	}
	for r := range l.records.all(0) {
		if l.accounts[r.PAN()] == nil {
			continue // an issuer outside the books
		}
		owed += r.owed() - r.linedGross
	}
	if taken != owed {
		return fmt.Errorf("cards paid %s, merchants are owed %s", wire.FormatAmount(taken), wire.FormatAmount(owed))
	}

	// no card is credited more than its original debited, nor debited more
	net := map[*booking]int64{} // what each original took from its card, net
	for lp := range l.postings.all() {
		p := l.posting(lp)
		r := l.record(p.Record)
		root := rootOf(l, r)
		if root == nil {
			return fmt.Errorf("posting %+v refers to no original", p)
		}
		net[root] -= p.Amount
	}
	for root, n := range net {
		if n < 0 || n > root.Amount {
			return fmt.Errorf("record %d (%s %s) took %s from its card, not within 0..%s\n%s", root.ID, root.Op(), root.Status(),
				wire.FormatAmount(n), wire.FormatAmount(root.Amount), history(l, root))
		}
	}

	// every record's status follows from its history
	held := map[string]int64{}
	refunded := map[int64]int64{}
	voids := map[int64]int{}
	reversals := map[int64]int{}
	completions := map[int64]int{}
	rrns := map[string]bool{}
	for r := range l.records.all(0) {
		if r.RRN() != "" {
			if rrns[r.RRN()] {
				return fmt.Errorf("RRN %s issued twice", r.RRN())
			}
			rrns[r.RRN()] = true
		}
		switch {
		case r.Op() == wire.OpPreAuth && r.Status() == StatusApproved:
			held[r.PAN()] += r.Amount
		case r.Op() == wire.OpRefund && r.Status() == StatusApproved:
			refunded[r.Original] += r.Amount
		case (r.Op() == wire.OpVoid || r.Op() == wire.OpCompletionVoid || r.Op() == wire.OpPreAuthVoid) && r.Status() == StatusApproved:
			voids[r.Original]++
		case r.Op() == wire.OpCompletion && r.live():
			completions[r.Original]++
		case (r.Op() == wire.OpReversal || r.Op() == wire.OpReversalAdvice) && r.Status() == StatusApproved && r.Original != 0:
			reversals[r.Original]++
		}
	}
	for _, pan := range startCards(start) {
		if a := l.accounts[pan]; a.Held != held[pan] {
			return fmt.Errorf("card %s holds %s, its approved pre-authorisations %s", a.masked, wire.FormatAmount(a.Held), wire.FormatAmount(held[pan]))
		}
	}
	for r := range l.records.all(0) {
		why := ""
		switch r.Status() {
		case StatusVoided:
			if voids[r.ID] != 1 || (r.Op() != wire.OpPreAuth && r.Credited != r.Amount) {
				why = fmt.Sprintf("%d standing voids, credited %d", voids[r.ID], r.Credited)
			}
		case StatusReversed:
			if reversals[r.ID] == 0 {
				why = "no reversal of it"
			}
		case StatusCompleted:
			// more than one only when a completion's void was reversed after
			// the pre-authorisation had been completed again: both debits stand
			if completions[r.ID] < 1 {
				why = fmt.Sprintf("%d standing completions", completions[r.ID])
			}
		case StatusApproved:
			if voids[r.ID]+reversals[r.ID]+completions[r.ID] != 0 || (r.Op() != wire.OpRefund && r.Credited != 0) {
				why = fmt.Sprintf("%d voids, %d reversals, credited %d", voids[r.ID], reversals[r.ID], r.Credited)
			}
		}
		if (r.Op() == wire.OpSale || r.Op() == wire.OpCompletion) && r.live() && r.Refunded != refunded[r.ID] {
			why = fmt.Sprintf("refunded %d, its standing refunds %d", r.Refunded, refunded[r.ID])
		}
		if why != "" {
			return fmt.Errorf("record %d (%s %s): status %s does not follow from its history: %s", r.ID, r.Op(), r.STAN(), r.Status(), why)
		}
	}

	// settlement totals equal the ledger: each terminal's open batch counts
	// what its records owe
	for _, tt := range propTerminals {
		var want int64
		for _, r := range e.open(tt.tid) {
			want += r.owed()
		}
		if tot := e.totalsOf(e.open(tt.tid)); tot.DebitAmount-tot.CreditAmount+tot.ForeignDebitAmount-tot.ForeignCreditAmount != want {
			return fmt.Errorf("terminal %s: open totals %+v, its records owe %s", tt.tid, tot, wire.FormatAmount(want))
		}
	}
	return nil
}

// startCards lists the cards of a start map in a stable order.
func startCards(start map[string]int64) []string {
	return slices.Sorted(maps.Keys(start))
}

// history describes what happened to an original, for a failure message.
func history(l *ledger, root *booking) string {
	var b strings.Builder
	for r := range l.records.all(0) {
		if rootOf(l, r) == root {
			fmt.Fprintf(&b, "  record %d: %s %s %s at %s stan %s, status %s, amount %d, credited %d, refunded %d, charged back %d, original %d, settled %v, lined %v\n",
				r.ID, r.MTI(), r.Op(), r.RRN(), r.TID(), r.STAN(), r.Status(), r.Amount, r.Credited, r.Refunded, r.ChargedBack, r.Original, r.Settled, r.lined)
		}
	}
	for lp := range l.postings.all() {
		if p := l.posting(lp); rootOf(l, l.record(p.Record)) == root {
			fmt.Fprintf(&b, "  posting %s %d by record %d\n", p.Kind, p.Amount, p.Record)
		}
	}
	return b.String()
}

// rootOf is the original a record's money belongs to: a sale, completion
// or advice itself; for a void or refund, its sale; for a reversal, the
// root of what it reversed.
func rootOf(l *ledger, r *booking) *booking {
	for r != nil {
		switch r.Op() {
		case wire.OpSale, wire.OpCompletion, wire.OpAdvice:
			return r
		}
		r = l.record(r.Original)
	}
	return nil
}

// memLog keeps ops as a durable store would: each one written as JSON and
// read back, so that what cannot survive the encoding is caught too.
type memLog struct{ ops []Change }

func (l *memLog) Append(op Change) func() error {
	data, err := json.Marshal(op)
	if err != nil {
		return func() error { return err }
	}
	var back Change
	if err := json.Unmarshal(data, &back); err != nil {
		return func() error { return err }
	}
	l.ops = append(l.ops, back)
	return noWait
}

// Whatever a sequence of requests, cut-overs and disputes did to the books,
// replaying its ops (as posim acquirer --data does on start) on an engine
// built the same way gives the same books.
func TestLedger_ReplayRebuildsTheBooks(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		log := &memLog{}
		m := newLedgerModelWith(t, log)
		t.Repeat(rapid.StateMachineActions(m))
		again, err := NewEngine(m.book, DefaultPolicies())
		if err != nil {
			t.Fatal(err)
		}
		if m.cup {
			again.SetDialect(wire.CUP.Capabilities())
		}
		for i, op := range log.ops {
			if err := again.Replay(op); err != nil {
				t.Fatalf("op %d (%s): %v", i+1, op.Kind, err)
			}
		}
		books := func(e *Engine) string {
			data, _ := json.Marshal(struct {
				L Snapshot
				B []Line
				D []Dispute
			}{e.Snapshot(), e.Lines(), e.Disputes()})
			return string(data)
		}
		if got, want := books(again), books(m.e); got != want {
			t.Fatalf("replayed books differ after %d ops:\n got %s\nwant %s", len(log.ops), got, want)
		}
	})
}

func TestLedger_MoneyIsNeverCreatedOrLost(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := newLedgerModel(t)
		t.Repeat(rapid.StateMachineActions(m))
	})
}
