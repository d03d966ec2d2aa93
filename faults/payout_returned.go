package faults

import (
	"fmt"
	"slices"
	"strings"

	"github.com/posim/posim/acquirer"
)

// payout_returned: a back-office fault: the merchant's bank returns the
// payout that carries this transaction (退票), because the settlement
// account is wrong; every payout to the merchant comes back until a
// settlement_account step corrects it.

// ActPayoutReturned is the name of the payout_returned primitive.
const ActPayoutReturned = "payout_returned"

// PayoutReturnedSpec is the argument of payout_returned: why the bank
// returned the payout.
type PayoutReturnedSpec struct {
	Reason string `yaml:"reason" json:"reason"` // wrong_account, closed_account, name_mismatch
}

func init() {
	register(primitiveDef{name: ActPayoutReturned, doc: "a back-office fault: the payout carrying this transaction is returned by the merchant's bank (wrong_account, closed_account, name_mismatch) until settlement_account corrects it",
		new: func() primitive { return &PayoutReturnedSpec{} }})
}

func (s *PayoutReturnedSpec) check(c *checker) {
	c.only(WhereAcquirer, "payout_returned marks posim's own books; a proxy keeps none")
	if !slices.Contains(acquirer.ReturnReasons, s.Reason) {
		c.errorf("payout_returned reason %q: want %s", s.Reason, strings.Join(acquirer.ReturnReasons, ", "))
	}
	if !c.processed {
		c.errorf("payout_returned marks a booked transaction: put process before it")
	}
}

func (s *PayoutReturnedSpec) run(p *pipe) bool {
	id, err := p.x.MarkAnomaly(acquirer.Anomaly{Kind: acquirer.AnomalyPayoutReturned, Reason: s.Reason})
	if err != nil {
		p.fault("payout_returned: " + err.Error())
		return true
	}
	p.fault(fmt.Sprintf("payout of record %d to be returned: %s", id, s.Reason))
	return true
}

func (s *PayoutReturnedSpec) String() string { return "payout_returned(" + s.Reason + ")" }
