package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Money is an amount in minor units that reads and writes JSON as a
// decimal string ("12.34", "-5.00"): what the control API and the reports
// show. It also reads a JSON number of minor units, as files written before
// it did.
type Money int64

// MarshalJSON writes the amount as a decimal string.
func (m Money) MarshalJSON() ([]byte, error) { return json.Marshal(FormatAmount(int64(m))) }

// UnmarshalJSON reads a decimal string, or a number of minor units.
func (m *Money) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		v, err := parseMoney(s)
		if err != nil {
			return err
		}
		*m = Money(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("amount: want a decimal string such as \"12.34\": %w", err)
	}
	*m = Money(n)
	return nil
}

// parseMoney reads a decimal amount of any size an int64 of minor units
// holds (ParseAmount is DE4's, bounded by its 12 digits), signed.
func parseMoney(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	whole, frac, dot := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if whole == "" || !allDigits(whole) || (dot && (len(frac) == 0 || len(frac) > 2)) {
		return 0, fmt.Errorf("amount %q: want a decimal such as 12.34", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (math.MaxInt64-99)/100 {
		return 0, fmt.Errorf("amount %q: not a decimal, or too large", s)
	}
	f, err := strconv.ParseUint(frac, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("amount %q: want a decimal such as 12.34", s)
	}
	v := w*100 + int64(f)
	if neg {
		v = -v
	}
	return v, nil
}

type (
	plainTotals Totals
	plainUpload Upload
)

// totalsJSON is Totals' JSON form: its amounts as Money (the outer fields
// win over the embedded ones in encoding/json).
type totalsJSON struct {
	plainTotals
	DebitAmount         Money `json:"debit_amount"`
	CreditAmount        Money `json:"credit_amount"`
	ForeignDebitAmount  Money `json:"foreign_debit_amount,omitempty"`
	ForeignCreditAmount Money `json:"foreign_credit_amount,omitempty"`
}

// MarshalJSON writes the totals with their amounts as decimal strings.
func (t Totals) MarshalJSON() ([]byte, error) {
	return json.Marshal(totalsJSON{plainTotals(t), Money(t.DebitAmount), Money(t.CreditAmount), Money(t.ForeignDebitAmount), Money(t.ForeignCreditAmount)})
}

// UnmarshalJSON reads what MarshalJSON writes (and minor-unit numbers).
func (t *Totals) UnmarshalJSON(data []byte) error {
	var v totalsJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*t = Totals(v.plainTotals)
	t.DebitAmount, t.CreditAmount = int64(v.DebitAmount), int64(v.CreditAmount)
	t.ForeignDebitAmount, t.ForeignCreditAmount = int64(v.ForeignDebitAmount), int64(v.ForeignCreditAmount)
	return nil
}

// uploadJSON is Upload's JSON form: its amount as Money.
type uploadJSON struct {
	plainUpload
	Amount Money `json:"amount"`
}

// MarshalJSON writes the upload with its amount as a decimal string.
func (u Upload) MarshalJSON() ([]byte, error) {
	return json.Marshal(uploadJSON{plainUpload(u), Money(u.Amount)})
}

// UnmarshalJSON reads what MarshalJSON writes (and minor-unit numbers).
func (u *Upload) UnmarshalJSON(data []byte) error {
	var v uploadJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*u = Upload(v.plainUpload)
	u.Amount = int64(v.Amount)
	return nil
}

// ParseRate parses a percentage such as "0.60%" into parts per million.
func ParseRate(s string) (int64, error) {
	v := strings.TrimSuffix(strings.TrimSpace(s), "%")
	if v == s || v == "" {
		return 0, fmt.Errorf("rate %q: want a percentage such as 0.60%%", s)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 100 {
		return 0, fmt.Errorf("rate %q: want a percentage such as 0.60%%", s)
	}
	return int64(f*10000 + 0.5), nil
}
