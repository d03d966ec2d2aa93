package acquirer

import (
	"errors"
	"fmt"
	"time"

	"github.com/posim/posim/wire"
)

// Kinds of Op.
const (
	OpDecide            = "decide"
	OpReset             = "reset"
	OpSetPolicies       = "set_policies"
	OpSetContracts      = "set_contracts"
	OpAdvance           = "advance"
	OpMarkAnomaly       = "mark_anomaly"
	OpRetrieval         = "retrieval"
	OpChargeback        = "chargeback"
	OpRepresent         = "represent"
	OpSecondChargeback  = "second_chargeback"
	OpSettlementAccount = "settlement_account"
)

// Op is one change to the books as a durable store keeps it: a request
// decided, a reset, new policies or contracts, a cut-over, a dispute step.
// The engine is deterministic given its inputs and their times, so the ops
// replayed in order on an engine built as the first one was rebuild its
// books exactly: records, postings, holds, RRN and authorisation-code
// sequences, working keys, back office and disputes.
type Op struct {
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
	// Req is the request decided (OpDecide), as it arrived.
	Req *wire.Txn `json:"req,omitempty"`
	// Policies and PINKey (OpSetPolicies; the key is not in the policies'
	// JSON).
	Policies *Policies `json:"policies,omitempty"`
	PINKey   string    `json:"pin_key,omitempty"`
	// Cutover and Contracts (OpSetContracts).
	Cutover   time.Duration `json:"cutover,omitempty"`
	Contracts []Contract    `json:"contracts,omitempty"`
	// Record and Anomaly (OpMarkAnomaly).
	Record  int64    `json:"record,omitempty"`
	Anomaly *Anomaly `json:"anomaly,omitempty"`
	// the disputed sale and the step's arguments
	TID    string `json:"tid,omitempty"`
	STAN   string `json:"stan,omitempty"`
	Reason string `json:"reason,omitempty"`
	Fee    int64  `json:"fee,omitempty"`
	Won    bool   `json:"won,omitempty"`
	// MID and Reason (the status) of OpSettlementAccount.
	MID string `json:"mid,omitempty"`
}

// OpLog keeps the engine's ops. Append is called under the engine's lock,
// in the order the ops apply, and must not wait for I/O: it returns a
// function that waits until the op is durable.
type OpLog interface {
	Append(op Op) (wait func() error)
}

func noWait() error { return nil }

// SetOpLog makes the engine hand every change to l before it answers; nil
// stops it. Set it after replaying what l kept.
func (e *Engine) SetOpLog(l OpLog) {
	e.mu.Lock()
	e.oplog = l
	e.mu.Unlock()
}

// logOp appends op to the op log; e.mu is held.
func (e *Engine) logOp(op Op) func() error {
	if e.oplog == nil {
		return noWait
	}
	return e.oplog.Append(op)
}

// ErrOp: an op that cannot be replayed.
var ErrOp = errors.New("op cannot be replayed")

// Replay applies one op kept by an op log, as it applied the first time.
// Replay ops in order, on an engine built as the first one was, before
// SetOpLog.
func (e *Engine) Replay(op Op) error {
	switch op.Kind {
	case OpDecide:
		if op.Req == nil {
			return fmt.Errorf("%w: decide without a request", ErrOp)
		}
		e.Decide(op.Req, op.At)
	case OpReset:
		e.Reset()
	case OpSetPolicies:
		if op.Policies == nil {
			return fmt.Errorf("%w: set_policies without policies", ErrOp)
		}
		p := *op.Policies
		p.PINKey = op.PINKey
		return e.SetPolicies(p)
	case OpSetContracts:
		return e.SetContracts(op.Cutover, op.Contracts)
	case OpAdvance:
		e.Advance(op.At)
	case OpMarkAnomaly:
		if op.Anomaly == nil {
			return fmt.Errorf("%w: mark_anomaly without an anomaly", ErrOp)
		}
		e.MarkAnomaly(op.Record, *op.Anomaly)
	case OpRetrieval:
		_, _ = e.Retrieval(op.TID, op.STAN, op.At)
	case OpChargeback:
		_, _ = e.Chargeback(op.TID, op.STAN, op.Reason, op.Fee, op.At)
	case OpRepresent:
		_, _ = e.Represent(op.TID, op.STAN, op.Won, op.At)
	case OpSecondChargeback:
		_, _ = e.SecondChargeback(op.TID, op.STAN, op.At)
	case OpSettlementAccount:
		_, _ = e.SetSettlementAccount(op.MID, op.Reason, op.At)
	default:
		return fmt.Errorf("%w: unknown kind %q", ErrOp, op.Kind)
	}
	return nil
}
