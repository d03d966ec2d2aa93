package acquirer

import (
	"errors"
	"fmt"
	"time"

	"github.com/posim/posim/wire"
)

// Dispute stages.
const (
	DisputeRetrieval      = "retrieval"
	DisputeChargeback     = "chargeback"
	DisputeRepresented    = "represented"
	DisputeWon            = "won"  // the merchant's representment succeeded
	DisputeLost           = "lost" // the chargeback stands
	DisputeSecond         = "second_chargeback"
	RetrievalWindow       = 120 * 24 * time.Hour // to raise a retrieval or chargeback after the sale
	RepresentmentDeadline = 20 * 24 * time.Hour  // for the acquirer to answer a chargeback
)

// Dispute is the life of one disputed transaction after clearing.
type Dispute struct {
	Record       int64     `json:"record"`
	STAN         string    `json:"stan"`
	MID          string    `json:"mid"`
	Reason       string    `json:"reason,omitempty"` // e.g. 4515 cardholder denies the transaction
	Stage        string    `json:"stage"`
	Amount       int64     `json:"amount"`
	Fee          int64     `json:"fee,omitempty"`
	Retrieved    time.Time `json:"retrieved,omitempty"`
	ChargedBack  time.Time `json:"charged_back,omitempty"`
	Represented  time.Time `json:"represented,omitempty"`
	SecondCharge time.Time `json:"second_charge,omitempty"`
}

// ErrDispute is wrapped by every refused dispute action.
var ErrDispute = errors.New("dispute refused")

// saleBySTAN returns the newest sale or completion of a terminal (any
// terminal when tid is empty) with a STAN.
func (e *Engine) saleBySTAN(tid, stan string) *booking {
	for r := range e.l.records.backward() {
		if r.STAN() == stan && (tid == "" || r.TID() == tid) && (r.Op() == wire.OpSale || r.Op() == wire.OpCompletion) {
			return r
		}
	}
	return nil
}

// disputeFor finds the dispute of a sale, opening one for a sale that can
// be disputed: approved, cleared (its batch settled or its business day
// closed) and not wholly given back. A reversed, voided, declined or
// uncleared sale has nothing to dispute.
func (e *Engine) disputeFor(tid, stan string, now time.Time) (*booking, *Dispute, error) {
	e.advance(now) // a cut-over due by now clears the day's sales first
	r := e.saleBySTAN(tid, stan)
	if r == nil {
		return nil, nil, fmt.Errorf("%w: no sale with STAN %s", ErrDispute, stan)
	}
	d := e.bo.disputes[r.ID]
	if d != nil && d.Stage != "" && d.Stage != DisputeRetrieval {
		return r, d, nil // money has moved: the dispute goes on by its stages
	}
	// nothing has moved yet: the sale must still be one to dispute, for
	// what remains of it now (it may have been refunded or reversed since
	// a retrieval)
	switch {
	case r.Status() != StatusApproved:
		return nil, nil, fmt.Errorf("%w: the sale with STAN %s is %s: there is nothing to dispute", ErrDispute, stan, r.Status())
	case !r.closed():
		return nil, nil, fmt.Errorf("%w: the sale with STAN %s was never cleared: there is nothing to dispute", ErrDispute, stan)
	case r.remaining() <= 0:
		return nil, nil, fmt.Errorf("%w: the sale with STAN %s was refunded in full: there is nothing to dispute", ErrDispute, stan)
	}
	if d == nil {
		if e.bo.disputes == nil {
			e.bo.disputes = map[int64]*Dispute{}
		}
		d = &Dispute{Record: r.ID, STAN: r.STAN(), MID: r.MID()}
		e.bo.disputes[r.ID] = d
	}
	d.Amount = r.remaining()
	return r, d, nil
}

// disputePost moves a dispute's amount on the cardholder's account: a
// chargeback gives the card back what the merchant is debited, a won
// representment takes it again.
func (e *Engine) disputePost(r *booking, amount int64, kind string, now time.Time) {
	r.ChargedBack += amount
	if a := e.l.accounts[r.PAN()]; a != nil {
		e.l.post(now, a, amount, kind, r)
	}
}

// disputeLine posts a dispute movement on the merchant's account, on the
// business day of now.
func (e *Engine) disputeLine(r *booking, now time.Time, rule string, gross, fee int64, note string) {
	e.addLine(Line{Day: day(now), Record: r.ID, STAN: r.STAN(), MID: r.MID(), PAN: r.MaskedPAN(), Gross: gross, Rule: rule,
		Fee: fee, ExpectedFee: fee, Net: gross - fee, PayoutDate: day(now), ExpectedPayoutDate: day(now), Status: LineAdjusted, Note: note},
		Contract{})
}

// Retrieval records a retrieval request (a copy of the receipt asked for),
// allowed within 120 days of the transaction.
func (e *Engine) Retrieval(tid, stan string, now time.Time) (Dispute, error) {
	wait := noWait
	defer func() { _ = wait() }()
	e.mu.Lock()
	defer e.mu.Unlock()
	wait = e.logChange(Change{Kind: ChangeRetrieval, At: now, TID: tid, STAN: stan})
	r, d, err := e.disputeFor(tid, stan, now)
	if err != nil {
		return Dispute{}, err
	}
	if now.Sub(r.Time()) > RetrievalWindow {
		return *d, fmt.Errorf("%w: retrieval %d days after the sale, past the 120-day limit", ErrDispute, int(now.Sub(r.Time()).Hours()/24))
	}
	d.Stage, d.Retrieved = DisputeRetrieval, now
	return *d, nil
}

// Chargeback debits the merchant the sale's amount and a chargeback fee,
// with a reason code; allowed within 120 days of the transaction.
func (e *Engine) Chargeback(tid, stan, reason string, fee int64, now time.Time) (Dispute, error) {
	wait := noWait
	defer func() { _ = wait() }()
	e.mu.Lock()
	defer e.mu.Unlock()
	wait = e.logChange(Change{Kind: ChangeChargeback, At: now, TID: tid, STAN: stan, Reason: reason, Fee: fee})
	r, d, err := e.disputeFor(tid, stan, now)
	if err != nil {
		return Dispute{}, err
	}
	switch {
	case now.Sub(r.Time()) > RetrievalWindow:
		return *d, fmt.Errorf("%w: chargeback %d days after the sale, past the 120-day limit", ErrDispute, int(now.Sub(r.Time()).Hours()/24))
	case d.Stage != "" && d.Stage != DisputeRetrieval:
		return *d, fmt.Errorf("%w: STAN %s is already charged back (%s)", ErrDispute, stan, d.Stage)
	}
	d.Stage, d.Reason, d.Fee, d.ChargedBack = DisputeChargeback, reason, fee, now
	e.disputeLine(r, now, "chargeback "+reason, -d.Amount, fee, "chargeback "+reason+": the merchant is debited")
	e.disputePost(r, d.Amount, "chargeback", now)
	return *d, nil
}

// Represent answers a chargeback for the merchant, within 20 days of it.
// When won is true the merchant is re-credited.
func (e *Engine) Represent(tid, stan string, won bool, now time.Time) (Dispute, error) {
	wait := noWait
	defer func() { _ = wait() }()
	e.mu.Lock()
	defer e.mu.Unlock()
	wait = e.logChange(Change{Kind: ChangeRepresent, At: now, TID: tid, STAN: stan, Won: won})
	r, d, err := e.disputeFor(tid, stan, now)
	if err != nil {
		return Dispute{}, err
	}
	switch {
	case d.Stage != DisputeChargeback:
		return *d, fmt.Errorf("%w: no open chargeback on STAN %s", ErrDispute, stan)
	case now.Sub(d.ChargedBack) > RepresentmentDeadline:
		d.Stage = DisputeLost
		return *d, fmt.Errorf("%w: representment %d days after the chargeback, past the 20-day deadline: the chargeback stands",
			ErrDispute, int(now.Sub(d.ChargedBack).Hours()/24))
	}
	d.Represented = now
	if !won {
		d.Stage = DisputeLost
		return *d, nil
	}
	d.Stage = DisputeWon
	e.disputeLine(r, now, "representment won", d.Amount, 0, "representment won: the merchant is re-credited")
	e.disputePost(r, -d.Amount, "representment", now)
	return *d, nil
}

// SecondChargeback charges a won representment back again; debit cards
// have no second chargeback.
func (e *Engine) SecondChargeback(tid, stan string, now time.Time) (Dispute, error) {
	wait := noWait
	defer func() { _ = wait() }()
	e.mu.Lock()
	defer e.mu.Unlock()
	wait = e.logChange(Change{Kind: ChangeSecondChargeback, At: now, TID: tid, STAN: stan})
	r, d, err := e.disputeFor(tid, stan, now)
	if err != nil {
		return Dispute{}, err
	}
	if a := e.l.accounts[r.PAN()]; a == nil || a.Card.CardType() == "debit" {
		return *d, fmt.Errorf("%w: no second chargeback for debit cards", ErrDispute)
	}
	if d.Stage != DisputeWon {
		return *d, fmt.Errorf("%w: a second chargeback follows a won representment", ErrDispute)
	}
	// the sale may have been refunded or reversed since the representment
	amount := min(d.Amount, r.remaining())
	if r.Status() != StatusApproved || amount <= 0 {
		return *d, fmt.Errorf("%w: the sale with STAN %s is %s and was given back since the representment: there is nothing to charge back", ErrDispute, stan, r.Status())
	}
	d.Stage, d.SecondCharge = DisputeSecond, now
	e.disputeLine(r, now, "second chargeback", -amount, 0, "second chargeback: the merchant is debited again")
	e.disputePost(r, amount, "second chargeback", now)
	return *d, nil
}

// Disputes returns every dispute.
func (e *Engine) Disputes() []Dispute {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Dispute
	for r := range e.l.records.all(0) {
		if d := e.bo.disputes[r.ID]; d != nil {
			out = append(out, *d)
		}
	}
	return out
}
