package scenarios

import "fmt"

// fee_anomaly: a back-office fault on the transaction's settlement line
// (AnomalySpec, in backoffice.go, is its argument).

// ActFee is the name of the fee_anomaly primitive: a back-office fault.
const ActFee = "fee_anomaly"

func init() {
	register(primitiveDef{name: ActFee, doc: "a back-office fault on this transaction's settlement line (wrong_rate, uncapped, late_fee ...)",
		new: func() primitive { return &AnomalySpec{} }})
}

func (s *AnomalySpec) check(c *checker) {
	c.only(WhereAcquirer, "fee_anomaly marks posim's own books; a proxy keeps none")
	if _, err := s.anomaly(); err != nil {
		c.errorf("%v", err)
	}
	if !c.processed {
		c.errorf("fee_anomaly marks a booked transaction: put process before it")
	}
}

func (s *AnomalySpec) run(p *pipe) bool {
	an, err := s.anomaly()
	if err != nil {
		return true // refused by the validator already
	}
	id, err := p.x.MarkAnomaly(an)
	if err != nil {
		p.fault("fee_anomaly: " + err.Error())
		return true
	}
	p.fault("back-office anomaly " + an.Kind + " on record " + fmt.Sprint(id))
	return true
}

func (s *AnomalySpec) String() string { return "fee_anomaly(" + s.Kind + ")" }
