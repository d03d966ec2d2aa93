package acquirer

import (
	"encoding/json"

	"github.com/posim/posim/wire"
)

// The books' amounts are minor units (int64) inside the engine and decimal
// strings ("12.34") in JSON: what the control API, the exports and the
// reports show. Each type below writes and reads its amounts so; reading
// also takes the minor-unit numbers older files hold (wire.Money).

// MarshalJSON writes the record with its amounts as decimal strings.
func (r Record) MarshalJSON() ([]byte, error) {
	type plain Record
	return json.Marshal(struct {
		plain
		Amount      wire.Money `json:"amount"`
		Refunded    wire.Money `json:"refunded,omitempty"`
		Credited    wire.Money `json:"credited,omitempty"`
		ChargedBack wire.Money `json:"charged_back,omitempty"`
	}{plain(r), wire.Money(r.Amount), wire.Money(r.Refunded), wire.Money(r.Credited), wire.Money(r.ChargedBack)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Record) UnmarshalJSON(data []byte) error {
	type plain Record
	var v struct {
		plain
		Amount      wire.Money `json:"amount"`
		Refunded    wire.Money `json:"refunded,omitempty"`
		Credited    wire.Money `json:"credited,omitempty"`
		ChargedBack wire.Money `json:"charged_back,omitempty"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*r = Record(v.plain)
	r.Amount, r.Refunded, r.Credited, r.ChargedBack = int64(v.Amount), int64(v.Refunded), int64(v.Credited), int64(v.ChargedBack)
	return nil
}

// MarshalJSON writes the posting with its amount as a decimal string.
func (p Posting) MarshalJSON() ([]byte, error) {
	type plain Posting
	return json.Marshal(struct {
		plain
		Amount wire.Money `json:"amount"`
	}{plain(p), wire.Money(p.Amount)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Posting) UnmarshalJSON(data []byte) error {
	type plain Posting
	var v struct {
		plain
		Amount wire.Money `json:"amount"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*p = Posting(v.plain)
	p.Amount = int64(v.Amount)
	return nil
}

// MarshalJSON writes the discrepancy with its amounts as decimal strings.
func (d Discrepancy) MarshalJSON() ([]byte, error) {
	type plain Discrepancy
	return json.Marshal(struct {
		plain
		HostAmount     wire.Money `json:"host_amount"`
		TerminalAmount wire.Money `json:"terminal_amount"`
	}{plain(d), wire.Money(d.HostAmount), wire.Money(d.TerminalAmount)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Discrepancy) UnmarshalJSON(data []byte) error {
	type plain Discrepancy
	var v struct {
		plain
		HostAmount     wire.Money `json:"host_amount"`
		TerminalAmount wire.Money `json:"terminal_amount"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*d = Discrepancy(v.plain)
	d.HostAmount, d.TerminalAmount = int64(v.HostAmount), int64(v.TerminalAmount)
	return nil
}

// MarshalJSON writes the line with its amounts as decimal strings.
func (l Line) MarshalJSON() ([]byte, error) {
	type plain Line
	return json.Marshal(struct {
		plain
		Gross              wire.Money `json:"gross"`
		Fee                wire.Money `json:"fee"`
		ExpectedFee        wire.Money `json:"expected_fee"`
		Deductions         wire.Money `json:"deductions"`
		ExpectedDeductions wire.Money `json:"expected_deductions"`
		Net                wire.Money `json:"net"`
	}{plain(l), wire.Money(l.Gross), wire.Money(l.Fee), wire.Money(l.ExpectedFee), wire.Money(l.Deductions),
		wire.Money(l.ExpectedDeductions), wire.Money(l.Net)})
}

// MarshalJSON writes the deviation with its amount as a decimal string.
func (d Deviation) MarshalJSON() ([]byte, error) {
	type plain Deviation
	return json.Marshal(struct {
		plain
		Amount wire.Money `json:"amount"`
	}{plain(d), wire.Money(d.Amount)})
}

// MarshalJSON writes the statement with its amounts as decimal strings.
func (s Statement) MarshalJSON() ([]byte, error) {
	type plain Statement
	return json.Marshal(struct {
		plain
		Sales      wire.Money `json:"sales"`
		Refunds    wire.Money `json:"refunds"`
		Fees       wire.Money `json:"fees"`
		Deductions wire.Money `json:"deductions"`
		NetPayout  wire.Money `json:"net_payout"`
	}{plain(s), wire.Money(s.Sales), wire.Money(s.Refunds), wire.Money(s.Fees), wire.Money(s.Deductions), wire.Money(s.NetPayout)})
}

// MarshalJSON writes the dispute with its amounts as decimal strings.
func (d Dispute) MarshalJSON() ([]byte, error) {
	type plain Dispute
	return json.Marshal(struct {
		plain
		Amount wire.Money `json:"amount"`
		Fee    wire.Money `json:"fee,omitempty"`
	}{plain(d), wire.Money(d.Amount), wire.Money(d.Fee)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (l *Line) UnmarshalJSON(data []byte) error {
	type plain Line
	var v struct {
		plain
		Gross              wire.Money `json:"gross"`
		Fee                wire.Money `json:"fee"`
		ExpectedFee        wire.Money `json:"expected_fee"`
		Deductions         wire.Money `json:"deductions"`
		ExpectedDeductions wire.Money `json:"expected_deductions"`
		Net                wire.Money `json:"net"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*l = Line(v.plain)
	l.Gross, l.Fee, l.ExpectedFee, l.Deductions = int64(v.Gross), int64(v.Fee), int64(v.ExpectedFee), int64(v.Deductions)
	l.ExpectedDeductions, l.Net = int64(v.ExpectedDeductions), int64(v.Net)
	return nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Statement) UnmarshalJSON(data []byte) error {
	type plain Statement
	var v struct {
		plain
		Sales      wire.Money `json:"sales"`
		Refunds    wire.Money `json:"refunds"`
		Fees       wire.Money `json:"fees"`
		Deductions wire.Money `json:"deductions"`
		NetPayout  wire.Money `json:"net_payout"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*s = Statement(v.plain)
	s.Sales, s.Refunds, s.Fees, s.Deductions, s.NetPayout = int64(v.Sales), int64(v.Refunds), int64(v.Fees), int64(v.Deductions), int64(v.NetPayout)
	return nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Deviation) UnmarshalJSON(data []byte) error {
	type plain Deviation
	var v struct {
		plain
		Amount wire.Money `json:"amount"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*d = Deviation(v.plain)
	d.Amount = int64(v.Amount)
	return nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Dispute) UnmarshalJSON(data []byte) error {
	type plain Dispute
	var v struct {
		plain
		Amount wire.Money `json:"amount"`
		Fee    wire.Money `json:"fee,omitempty"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*d = Dispute(v.plain)
	d.Amount, d.Fee = int64(v.Amount), int64(v.Fee)
	return nil
}
