package faults

import (
	"fmt"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
)

// fee_anomaly: a back-office fault on the transaction's settlement line.

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

// AnomalySpec is a back-office fault attached to the request a rule fires
// on (after process): fee_anomaly: {kind: wrong_rate, rate: "1.00%"}.
type AnomalySpec struct {
	Kind   string `yaml:"kind" json:"kind"`
	Rate   string `yaml:"rate" json:"rate,omitempty"`
	Amount string `yaml:"amount" json:"amount,omitempty"`
	Days   int    `yaml:"days" json:"days,omitempty"`
}

func (a AnomalySpec) anomaly() (acquirer.Anomaly, error) {
	an := acquirer.Anomaly{Kind: a.Kind, Days: a.Days}
	switch a.Kind {
	case acquirer.AnomalyWrongRate:
		ppm, err := wire.ParseRate(a.Rate)
		if err != nil {
			return an, err
		}
		an.PPM = ppm
	case acquirer.AnomalyActivationFee:
		amt, err := wire.ParseAmount(a.Amount)
		if err != nil {
			return an, fmt.Errorf("activation fee amount: %w", err)
		}
		an.Amount = amt
	case acquirer.AnomalyCapIgnored, acquirer.AnomalyLateFee, acquirer.AnomalyFeeOnReversed, acquirer.AnomalyDelayPayout:
	default:
		return an, fmt.Errorf("fee_anomaly kind %q: want wrong_rate, cap_ignored, activation_fee, late_fee, fee_on_reversed or delay_payout", a.Kind)
	}
	return an, nil
}
