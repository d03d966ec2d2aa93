package acquirer

import (
	"encoding/json"

	"github.com/posim/posim/wire"
)

// The books' amounts are minor units (int64) inside the engine and decimal
// strings ("12.34") in JSON: what the control API, the exports and the
// reports show. Each type below has one JSON form, a struct that embeds
// the type's own fields and shadows its amounts with wire.Money (the outer
// field wins in encoding/json); MarshalJSON and UnmarshalJSON convert
// through it. Reading also takes the minor-unit numbers older files hold.

type (
	plainRecord      Record
	plainPosting     Posting
	plainDiscrepancy Discrepancy
	plainLine        Line
	plainDeviation   Deviation
	plainStatement   Statement
	plainDispute     Dispute
)

type recordJSON struct {
	plainRecord
	Amount      wire.Money `json:"amount"`
	Refunded    wire.Money `json:"refunded,omitempty"`
	Credited    wire.Money `json:"credited,omitempty"`
	ChargedBack wire.Money `json:"charged_back,omitempty"`
}

// MarshalJSON writes the record with its amounts as decimal strings.
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(recordJSON{plainRecord(r), wire.Money(r.Amount), wire.Money(r.Refunded), wire.Money(r.Credited), wire.Money(r.ChargedBack)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Record) UnmarshalJSON(data []byte) error {
	var v recordJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*r = Record(v.plainRecord)
	r.Amount, r.Refunded, r.Credited, r.ChargedBack = int64(v.Amount), int64(v.Refunded), int64(v.Credited), int64(v.ChargedBack)
	return nil
}

type postingJSON struct {
	plainPosting
	Amount wire.Money `json:"amount"`
}

// MarshalJSON writes the posting with its amount as a decimal string.
func (p Posting) MarshalJSON() ([]byte, error) {
	return json.Marshal(postingJSON{plainPosting(p), wire.Money(p.Amount)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Posting) UnmarshalJSON(data []byte) error {
	var v postingJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*p = Posting(v.plainPosting)
	p.Amount = int64(v.Amount)
	return nil
}

type discrepancyJSON struct {
	plainDiscrepancy
	HostAmount     wire.Money `json:"host_amount"`
	TerminalAmount wire.Money `json:"terminal_amount"`
}

// MarshalJSON writes the discrepancy with its amounts as decimal strings.
func (d Discrepancy) MarshalJSON() ([]byte, error) {
	return json.Marshal(discrepancyJSON{plainDiscrepancy(d), wire.Money(d.HostAmount), wire.Money(d.TerminalAmount)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Discrepancy) UnmarshalJSON(data []byte) error {
	var v discrepancyJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*d = Discrepancy(v.plainDiscrepancy)
	d.HostAmount, d.TerminalAmount = int64(v.HostAmount), int64(v.TerminalAmount)
	return nil
}

type lineJSON struct {
	plainLine
	Gross              wire.Money `json:"gross"`
	Fee                wire.Money `json:"fee"`
	ExpectedFee        wire.Money `json:"expected_fee"`
	Deductions         wire.Money `json:"deductions"`
	ExpectedDeductions wire.Money `json:"expected_deductions"`
	Net                wire.Money `json:"net"`
}

// MarshalJSON writes the line with its amounts as decimal strings.
func (l Line) MarshalJSON() ([]byte, error) {
	return json.Marshal(lineJSON{plainLine(l), wire.Money(l.Gross), wire.Money(l.Fee), wire.Money(l.ExpectedFee),
		wire.Money(l.Deductions), wire.Money(l.ExpectedDeductions), wire.Money(l.Net)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (l *Line) UnmarshalJSON(data []byte) error {
	var v lineJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*l = Line(v.plainLine)
	l.Gross, l.Fee, l.ExpectedFee, l.Deductions = int64(v.Gross), int64(v.Fee), int64(v.ExpectedFee), int64(v.Deductions)
	l.ExpectedDeductions, l.Net = int64(v.ExpectedDeductions), int64(v.Net)
	return nil
}

type deviationJSON struct {
	plainDeviation
	Amount wire.Money `json:"amount"`
}

// MarshalJSON writes the deviation with its amount as a decimal string.
func (d Deviation) MarshalJSON() ([]byte, error) {
	return json.Marshal(deviationJSON{plainDeviation(d), wire.Money(d.Amount)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Deviation) UnmarshalJSON(data []byte) error {
	var v deviationJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*d = Deviation(v.plainDeviation)
	d.Amount = int64(v.Amount)
	return nil
}

type statementJSON struct {
	plainStatement
	Sales      wire.Money `json:"sales"`
	Refunds    wire.Money `json:"refunds"`
	Fees       wire.Money `json:"fees"`
	Deductions wire.Money `json:"deductions"`
	NetPayout  wire.Money `json:"net_payout"`
}

// MarshalJSON writes the statement with its amounts as decimal strings.
func (s Statement) MarshalJSON() ([]byte, error) {
	return json.Marshal(statementJSON{plainStatement(s), wire.Money(s.Sales), wire.Money(s.Refunds), wire.Money(s.Fees),
		wire.Money(s.Deductions), wire.Money(s.NetPayout)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Statement) UnmarshalJSON(data []byte) error {
	var v statementJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*s = Statement(v.plainStatement)
	s.Sales, s.Refunds, s.Fees, s.Deductions, s.NetPayout = int64(v.Sales), int64(v.Refunds), int64(v.Fees), int64(v.Deductions), int64(v.NetPayout)
	return nil
}

type disputeJSON struct {
	plainDispute
	Amount wire.Money `json:"amount"`
	Fee    wire.Money `json:"fee,omitempty"`
}

// MarshalJSON writes the dispute with its amounts as decimal strings.
func (d Dispute) MarshalJSON() ([]byte, error) {
	return json.Marshal(disputeJSON{plainDispute(d), wire.Money(d.Amount), wire.Money(d.Fee)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Dispute) UnmarshalJSON(data []byte) error {
	var v disputeJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*d = Dispute(v.plainDispute)
	d.Amount, d.Fee = int64(v.Amount), int64(v.Fee)
	return nil
}
