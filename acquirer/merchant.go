package acquirer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
)

// The merchant's side of the books: the balance the acquirer holds for a
// merchant, payouts returned by the merchant's bank (退票) and paid again
// once the settlement account is corrected, and the review a run of
// declines puts a merchant under. See the README's money rules.

// Returned-payout reasons (payout_returned).
const (
	ReturnWrongAccount  = "wrong_account"  // 结算卡信息有误: the bound card's number is wrong
	ReturnClosedAccount = "closed_account" // 结算账户已销户
	ReturnNameMismatch  = "name_mismatch"  // 户名不符
)

// ReturnReasons lists the reasons a payout can be returned for.
var ReturnReasons = []string{ReturnWrongAccount, ReturnClosedAccount, ReturnNameMismatch}

var returnText = map[string]string{
	ReturnWrongAccount:  "wrong settlement account (结算卡信息有误)",
	ReturnClosedAccount: "settlement account closed (结算账户已销户)",
	ReturnNameMismatch:  "account name does not match (户名不符)",
}

// LineReturned is the status of a line whose payout the merchant's bank
// sent back: the amount is again the merchant's balance at the acquirer.
const LineReturned = "returned"

// AnomalyPayoutReturned marks a transaction whose payout comes back: its
// merchant's settlement account is found wrong when its line is paid
// (Anomaly.Reason says why), and every payout to it is returned until the
// account is corrected.
const AnomalyPayoutReturned = "payout_returned"

// merchantBooks is what the back office keeps of one merchant besides its
// lines.
type merchantBooks struct {
	badAccount string // why payouts to its settlement account are returned ("": they are paid)
	review     []bool // its last answers, oldest first: true for a decline (decline-ratio rule)
	reviewed   bool   // under review: payouts held
}

func (e *Engine) merchant(mid string) *merchantBooks {
	if e.bo.merchants == nil {
		e.bo.merchants = map[string]*merchantBooks{}
	}
	m := e.bo.merchants[mid]
	if m == nil {
		m = &merchantBooks{}
		e.bo.merchants[mid] = m
	}
	return m
}

// pay pays the lines due by today, or returns them to the merchant's
// balance when its settlement account is wrong.
func (e *Engine) pay(today string) {
	for i := range e.bo.lines {
		l := &e.bo.lines[i]
		if l.Status != LinePending || l.PayoutDate > today {
			continue
		}
		if r := e.l.record(l.Record); r != nil {
			for _, an := range e.l.rareOf(r).anomalies {
				if m := e.merchant(l.MID); an.Kind == AnomalyPayoutReturned && m.badAccount == "" {
					m.badAccount = an.Reason // found wrong with this payout
				}
			}
		}
		if m := e.bo.merchants[l.MID]; m != nil && m.badAccount != "" && l.Net > 0 {
			l.Status = LineReturned
			l.Note = joinNote(l.Note, "payout returned: "+returnText[m.badAccount])
			continue
		}
		l.Status = LinePaid
	}
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// Settlement-account statuses (SetSettlementAccount): corrected, or one
// of ReturnReasons.
const AccountCorrected = "corrected"

// SetSettlementAccount changes what the back office knows of a merchant's
// settlement account at now: one of ReturnReasons makes every payout to it
// come back (退票) until it is corrected; corrected pays again what was
// returned, on a re-payout line due on the contract's next payout day,
// and returns that line (ID 0: nothing to pay again).
func (e *Engine) SetSettlementAccount(mid, status string, now time.Time) (Line, error) {
	if status != AccountCorrected && !slices.Contains(ReturnReasons, status) {
		return Line{}, fmt.Errorf("settlement account status %q: want %s or one of %v", status, AccountCorrected, ReturnReasons)
	}
	wait := noWait
	defer func() { _ = wait() }()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.bo.contracts == nil {
		return Line{}, fmt.Errorf("%w: no merchant contracts, so no payouts", ErrBackOffice)
	}
	wait = e.logChange(Change{Kind: ChangeSettlementAccount, At: now, MID: mid, Reason: status})
	e.advance(now)
	m := e.merchant(mid)
	if status != AccountCorrected {
		m.badAccount = status
		return Line{}, nil
	}
	m.badAccount = ""
	var sum int64
	var ids []string
	id := len(e.bo.lines) + 1
	for i := range e.bo.lines {
		l := &e.bo.lines[i]
		if l.MID == mid && l.Status == LineReturned && l.RepaidBy == 0 {
			sum += l.Net
			ids = append(ids, fmt.Sprint(l.ID))
			l.RepaidBy = id
		}
	}
	if sum == 0 {
		return Line{}, nil
	}
	c, ok := e.bo.contracts[mid]
	if !ok {
		c = Contract{MID: mid, Cycle: "T+1"}
	}
	payout := day(c.payoutDay(now))
	e.addLine(Line{Day: day(now), MID: mid, Rule: "re-payout", Net: sum, PayoutDate: payout, ExpectedPayoutDate: payout,
		Status: LinePending, Note: "re-payout of returned line " + strings.Join(ids, ", ") + " after the settlement account was corrected"}, c)
	return e.bo.lines[len(e.bo.lines)-1], nil
}

// ErrBackOffice: a back-office operation asked of a host without one.
var ErrBackOffice = errors.New("back office")

// MerchantBalance is what the acquirer holds for a merchant: its lines not
// yet paid (pending, held, returned and not paid again) and what its
// transactions of the open business day owe it. A refund of a sale already
// settled is taken from it.
type MerchantBalance struct {
	MID      string `json:"mid"`
	Pending  int64  `json:"pending"`  // lines waiting for their payout day
	Held     int64  `json:"held"`     // lines held (contract hold, review)
	Returned int64  `json:"returned"` // payouts the merchant's bank returned, not yet paid again
	Open     int64  `json:"open"`     // the open business day's transactions, net
	Balance  int64  `json:"balance"`  // the sum
	// Review says the merchant is under review after a run of declines.
	Review bool `json:"review,omitempty"`
}

// Balance returns the merchant's balance at the acquirer.
func (e *Engine) Balance(mid string) MerchantBalance {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.balance(mid)
}

func (e *Engine) balance(mid string) MerchantBalance {
	b := MerchantBalance{MID: mid}
	for _, l := range e.bo.lines {
		if l.MID != mid {
			continue
		}
		switch {
		case l.Status == LinePending:
			b.Pending += l.Net
		case l.Status == LineHeld:
			b.Held += l.Net
		case l.Status == LineReturned && l.RepaidBy == 0:
			b.Returned += l.Net
		}
	}
	for r := range e.l.records.all(0) {
		if !r.lined && r.MID() == mid {
			b.Open += r.owed()
		}
	}
	b.Balance = b.Pending + b.Held + b.Returned + b.Open
	if m := e.bo.merchants[mid]; m != nil {
		b.Review = m.reviewed
	}
	return b
}

// refundCovered checks a refund of a sale already settled against the
// merchant's balance, under the policy refund_over_balance: allow lets the
// balance go negative; a code declines the refund the balance cannot
// cover. It returns the code and why, or "" when the refund may go.
func (e *Engine) refundCovered(req *wire.Txn, orig *booking) (code, why string) {
	if e.pol.RefundOverBalance == RefundAllow || e.bo.contracts == nil || !orig.closed() {
		return "", ""
	}
	b := e.balance(req.MID)
	if b.Balance >= req.Amount {
		return "", ""
	}
	return e.pol.RefundOverBalance, fmt.Sprintf("merchant balance %s cannot cover the refund of %s of a settled sale (商户余额不足)",
		wire.FormatAmount(b.Balance), wire.FormatAmount(req.Amount))
}

// RefundAllow is the refund_over_balance policy that lets a refund of a
// settled sale take the merchant's balance below zero.
const RefundAllow = "allow"

// ReviewRule puts a merchant under review after a run of declines: more
// than Declines per cent of its last Over answers. Under review, its
// payouts are held.
type ReviewRule struct {
	Declines int `yaml:"declines" json:"declines"` // per cent
	Over     int `yaml:"over" json:"over"`         // answers in the window
}

// watch counts an answer to a merchant's financial request in the
// decline-ratio window and puts the merchant under review when the rule
// says so; it returns the note to journal, if any.
func (e *Engine) watch(mid string, declined bool) *Note {
	rule := e.pol.Review
	if rule == nil || rule.Over <= 0 || mid == "" {
		return nil
	}
	m := e.merchant(mid)
	if m.reviewed {
		return nil
	}
	m.review = append(m.review, declined)
	if len(m.review) > rule.Over {
		m.review = slices.Delete(m.review, 0, len(m.review)-rule.Over)
	}
	if len(m.review) < rule.Over {
		return nil
	}
	n := 0
	for _, d := range m.review {
		if d {
			n++
		}
	}
	if n*100 <= rule.Declines*rule.Over {
		return nil
	}
	m.reviewed = true
	for i := range e.bo.lines {
		if l := &e.bo.lines[i]; l.MID == mid && l.Status == LinePending {
			l.Status = LineHeld
			l.Note = joinNote(l.Note, "held: merchant under review")
		}
	}
	return &Note{KindReview, fmt.Sprintf("merchant %s under review: %d declines in its last %d answers (over %d %%); payouts held (持续拒收, 商户被调查)",
		mid, n, rule.Over, rule.Declines)}
}

// cardTypeRefused declines a card its merchant may not take (the
// merchant's refuse list: credit, foreign) with the policy's code (57 by
// default, or 58).
func (e *Engine) cardTypeRefused(req *wire.Txn, a *Account) (code, why string) {
	m, ok := e.l.merchants[req.MID]
	if !ok || len(m.Refuse) == 0 || a == nil {
		return "", ""
	}
	switch {
	case slices.Contains(m.Refuse, cards.RefuseCredit) && a.Card.CardType() == "credit":
		return e.pol.CardTypeRefused, "merchant " + req.MID + " may not take credit cards (credit acceptance suspended)"
	case slices.Contains(m.Refuse, cards.RefuseForeign) && wire.Foreign(req.PAN):
		return e.pol.CardTypeRefused, "merchant " + req.MID + " may not take foreign cards (" + wire.CardOrganisation(req.PAN) + ")"
	}
	return "", ""
}
