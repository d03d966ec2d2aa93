package acquirer

import (
	"errors"
	"fmt"
	"time"

	"github.com/posim/posim/wire"
)

// Kinds of Change.
const (
	ChangeDecide            = "decide"
	ChangeReset             = "reset"
	ChangeSetPolicies       = "set_policies"
	ChangeSetContracts      = "set_contracts"
	ChangeAdvance           = "advance"
	ChangeMarkAnomaly       = "mark_anomaly"
	ChangeRetrieval         = "retrieval"
	ChangeChargeback        = "chargeback"
	ChangeRepresent         = "represent"
	ChangeSecondChargeback  = "second_chargeback"
	ChangeSettlementAccount = "settlement_account"
)

// Change is one change to the books as a durable store keeps it: a request
// decided, a reset, new policies or contracts, a cut-over, a dispute step.
// The engine is deterministic given its inputs and their times, so the changes
// replayed in order on an engine built as the first one was rebuild its
// books exactly: records, postings, holds, RRN and authorisation-code
// sequences, working keys, back office and disputes.
type Change struct {
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
	// Req is the request decided (ChangeDecide), as it arrived.
	Req *wire.Txn `json:"req,omitempty"`
	// Policies and PINKey (ChangeSetPolicies; the key is not in the policies'
	// JSON).
	Policies *Policies `json:"policies,omitempty"`
	PINKey   string    `json:"pin_key,omitempty"`
	// Cutover and Contracts (ChangeSetContracts).
	Cutover   time.Duration `json:"cutover,omitempty"`
	Contracts []Contract    `json:"contracts,omitempty"`
	// Record and Anomaly (ChangeMarkAnomaly).
	Record  int64    `json:"record,omitempty"`
	Anomaly *Anomaly `json:"anomaly,omitempty"`
	// the disputed sale and the step's arguments
	TID    string `json:"tid,omitempty"`
	STAN   string `json:"stan,omitempty"`
	Reason string `json:"reason,omitempty"`
	Fee    int64  `json:"fee,omitempty"`
	Won    bool   `json:"won,omitempty"`
	// MID and Reason (the status) of ChangeSettlementAccount.
	MID string `json:"mid,omitempty"`
}

// ChangeLog keeps the engine's changes. Append is called under the engine's lock,
// in the order the changes apply, and must not wait for I/O: it returns a
// function that waits until the change is durable.
type ChangeLog interface {
	Append(c Change) (wait func() error)
}

func noWait() error { return nil }

// SetChangeLog makes the engine hand every change to l before it answers; nil
// stops it. Set it after replaying what l kept.
func (e *Engine) SetChangeLog(l ChangeLog) {
	e.mu.Lock()
	e.changes = l
	e.mu.Unlock()
}

// logChange appends a change to the change log; e.mu is held.
func (e *Engine) logChange(op Change) func() error {
	if e.changes == nil {
		return noWait
	}
	return e.changes.Append(op)
}

// ErrBadChange: a change that cannot be replayed.
var ErrBadChange = errors.New("change cannot be replayed")

// Replay applies one change kept by a change log, as it applied the first time.
// Replay changes in order, on an engine built as the first one was, before
// SetChangeLog.
func (e *Engine) Replay(op Change) error {
	switch op.Kind {
	case ChangeDecide:
		if op.Req == nil {
			return fmt.Errorf("%w: decide without a request", ErrBadChange)
		}
		e.Decide(op.Req, op.At)
	case ChangeReset:
		e.Reset()
	case ChangeSetPolicies:
		if op.Policies == nil {
			return fmt.Errorf("%w: set_policies without policies", ErrBadChange)
		}
		p := *op.Policies
		p.PINKey = op.PINKey
		return e.SetPolicies(p)
	case ChangeSetContracts:
		return e.SetContracts(op.Cutover, op.Contracts)
	case ChangeAdvance:
		e.Advance(op.At)
	case ChangeMarkAnomaly:
		if op.Anomaly == nil {
			return fmt.Errorf("%w: mark_anomaly without an anomaly", ErrBadChange)
		}
		e.MarkAnomaly(op.Record, *op.Anomaly)
	case ChangeRetrieval:
		_, _ = e.Retrieval(op.TID, op.STAN, op.At)
	case ChangeChargeback:
		_, _ = e.Chargeback(op.TID, op.STAN, op.Reason, op.Fee, op.At)
	case ChangeRepresent:
		_, _ = e.Represent(op.TID, op.STAN, op.Won, op.At)
	case ChangeSecondChargeback:
		_, _ = e.SecondChargeback(op.TID, op.STAN, op.At)
	case ChangeSettlementAccount:
		_, _ = e.SetSettlementAccount(op.MID, op.Reason, op.At)
	default:
		return fmt.Errorf("%w: unknown kind %q", ErrBadChange, op.Kind)
	}
	return nil
}
