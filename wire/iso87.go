package wire

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moov-io/iso8583"
)

// ISO87 is the ISO 8583:1987 ASCII profile: ASCII fields, a standard
// ASCII-hex bitmap, a 2-byte big-endian binary length header. Reversals are
// new messages (own STAN) that carry DE90; repeats use 0401. Settlement is a
// 0500 with totals in DE74/76/86/88 and the batch number in DE60.
var ISO87 Profile = iso87{}

func init() { Register(ISO87) }

type iso87 struct{}

// Processing codes (DE3) of the iso87 profile.
const (
	PCPurchase      = "000000"
	PCPreAuth       = "030000"
	PCVoid          = "020000"
	PCRefund        = "200000"
	PCBalance       = "310000"
	PCSettle        = "920000"
	PCSettleTrailer = "960000"
)

// Point-of-service condition codes (DE25).
const (
	CondNormal  = "00"
	CondPreAuth = "06"
)

func (iso87) Name() string { return "iso87" }

// Capabilities: no working keys, plain framing, Hypercom-style settlement
// (one 0320 per transaction).
func (iso87) Capabilities() Capabilities { return Capabilities{UploadBatch: 1} }
func (iso87) String() string             { return "iso87" }
func (iso87) Spec() *iso8583.MessageSpec { return Spec87 }
func (iso87) Framer() Framer             { return Binary2{} }

// pcFor87 returns the MTI and processing code of an operation.
func pcFor87(op Op) (mti, pc string) {
	switch op {
	case OpSale, OpCompletion:
		return "0200", PCPurchase
	case OpPreAuth:
		return "0100", PCPreAuth
	case OpVoid, OpCompletionVoid:
		return "0200", PCVoid
	case OpPreAuthVoid:
		return "0100", PCVoid
	case OpRefund:
		return "0220", PCRefund
	case OpBalance:
		return "0200", PCBalance
	case OpAdvice:
		return "0220", PCPurchase
	case OpSignOn, OpSignOff, OpEcho:
		return "0800", ""
	case OpSettle:
		return "0500", PCSettle
	case OpSettleTrailer:
		return "0500", PCSettleTrailer
	case OpBatchUpload:
		return "0320", ""
	case OpTCUpload:
		return "0320", PCPurchase
	case OpScriptAdvice:
		return "0620", ""
	case OpReversal:
		return "0400", ""
	case OpReversalAdvice:
		return "0420", ""
	}
	return "", ""
}

// classify87 derives the operation from MTI, DE3, DE25 and DE70.
func classify87(t *Txn) Op {
	if len(t.MTI) != 4 {
		return OpUnknown
	}
	class := t.MTI[:3]
	if t.IsResponse() {
		// responses carry the request's class; map back to the request
		class = t.MTI[:2] + string(t.MTI[2]-1)
	}
	switch class {
	case "010":
		// an authorisation: posim's pre-authorisation code, or the
		// purchase code many peers send in a 0100
		if t.ProcessingCode == PCPreAuth || t.ProcessingCode == PCPurchase {
			return OpPreAuth
		}
		if t.ProcessingCode == PCVoid {
			return OpPreAuthVoid
		}
	case "020":
		switch t.ProcessingCode {
		case PCPurchase:
			if t.Condition == CondPreAuth {
				return OpCompletion
			}
			return OpSale
		case PCVoid:
			if t.Condition == CondPreAuth {
				return OpCompletionVoid
			}
			return OpVoid
		case PCBalance:
			return OpBalance
		}
	case "022":
		switch t.ProcessingCode {
		case PCRefund:
			return OpRefund
		case PCPurchase:
			return OpAdvice
		}
	case "062":
		return OpScriptAdvice
	case "032":
		if len(t.ICC) > 0 {
			return OpTCUpload
		}
		return OpBatchUpload
	case "040":
		return OpReversal
	case "042":
		return OpReversalAdvice
	case "050":
		switch t.ProcessingCode {
		case PCSettle:
			return OpSettle
		case PCSettleTrailer:
			return OpSettleTrailer
		}
	case "080":
		switch t.NetworkCode {
		case NetSignOn:
			return OpSignOn
		case NetSignOff:
			return OpSignOff
		case NetEcho:
			return OpEcho
		}
	}
	return OpUnknown
}

func (iso87) Encode(t *Txn) (*iso8583.Message, error) { return encode87(Spec87, t) }

// encode87 maps a Txn onto a message of spec with the ISO 8583:1987
// field assignments (shared by iso87 and user-supplied specs).
func encode87(spec *iso8583.MessageSpec, t *Txn) (*iso8583.Message, error) {
	m := iso8583.NewMessage(spec)
	if err := encode87To(m, spec, t); err != nil {
		return nil, err
	}
	return m, nil
}

func encode87To(m FieldSink, spec *iso8583.MessageSpec, t *Txn) error {
	mti, pc := pcFor87(t.Op)
	if t.MTI != "" {
		mti = t.MTI
	}
	if t.ProcessingCode != "" {
		pc = t.ProcessingCode
	}
	if mti == "" {
		return fmt.Errorf("encoding %s: no MTI", t.Op)
	}
	cond := t.Condition
	if cond == "" && (t.Op == OpCompletion || t.Op == OpCompletionVoid) {
		cond = CondPreAuth // DE25 06 is what tells them from a sale and a void
	}
	m.MTI(mti)
	set := func(id int, v string) error {
		if v == "" {
			return nil
		}
		if err := m.Field(id, v); err != nil {
			return fmt.Errorf("setting DE%d: %w", id, err)
		}
		return nil
	}
	var amount string
	if t.HasAmount {
		if t.Amount < 0 || t.Amount > 999999999999 {
			return fmt.Errorf("encoding DE4: amount %d out of range", t.Amount)
		}
		amount = fmt.Sprintf("%012d", t.Amount)
	}
	fields := []struct {
		id int
		v  string
	}{
		{2, t.PAN}, {3, pc}, {4, amount}, {7, t.TransmissionTime}, {11, t.STAN},
		{12, t.LocalTime}, {13, t.LocalDate}, {14, t.Expiry}, {22, t.EntryMode},
		{23, t.CardSeq}, {25, cond}, {55, string(t.ICC)}, {35, t.Track2}, {37, t.RRN}, {38, t.AuthCode},
		{39, t.ResponseCode}, {41, t.TID}, {42, t.MID}, {49, t.Currency},
		{70, t.NetworkCode},
	}
	for _, f := range fields {
		if err := set(f.id, f.v); err != nil {
			return err
		}
	}
	if t.Batch != "" {
		if err := set(60, t.Batch); err != nil {
			return err
		}
	}
	if t.Balance != nil {
		if err := set(54, FormatBalance(*t.Balance, t.Currency)); err != nil {
			return err
		}
	}
	if len(t.PINBlock) > 0 {
		if err := set(52, strings.ToUpper(hex.EncodeToString(t.PINBlock))); err != nil {
			return err
		}
	}
	if t.Totals != nil {
		tt := t.Totals
		for _, f := range []struct {
			id int
			v  string
		}{
			{74, fmt.Sprintf("%010d", tt.CreditCount)},
			{76, fmt.Sprintf("%010d", tt.DebitCount)},
			{86, fmt.Sprintf("%016d", tt.CreditAmount)},
			{88, fmt.Sprintf("%016d", tt.DebitAmount)},
		} {
			if err := set(f.id, f.v); err != nil {
				return err
			}
		}
	}
	if o := t.Original; o != nil {
		de90 := fmt.Sprintf("%-4s%-6s%-10s%011s%011s", o.MTI, o.STAN, o.TransmissionTime,
			zeroIfEmpty(o.AcquirerID), zeroIfEmpty(o.ForwarderID))
		de90 = strings.ReplaceAll(de90, " ", "0")
		if err := set(90, de90); err != nil {
			return err
		}
	}
	if len(t.MAC) > 0 {
		if err := set(64, strings.ToUpper(hex.EncodeToString(t.MAC))); err != nil {
			return err
		}
	}
	if err := setExtra(m, spec, t.Extra); err != nil {
		return err
	}
	return nil
}

func zeroIfEmpty(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// FieldError is a field whose content the dialect does not allow.
type FieldError struct {
	Field  int
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("DE%d: %s", e.Field, e.Reason) }

func (iso87) Decode(m *iso8583.Message) (*Txn, error) { return decode87(m) }

// EncodeTo is Encode onto a field sink.
func (iso87) EncodeTo(t *Txn, m FieldSink) error { return encode87To(m, Spec87, t) }

// DecodeFrom is Decode from a field source.
func (iso87) DecodeFrom(m FieldSource) (*Txn, error) { return decode87(m) }

// Compiled is Spec87 compiled.
func (iso87) Compiled() *CompiledSpec { return compiled87 }

var compiled87 = mustCompile(Spec87)

func decode87(m FieldSource) (*Txn, error) {
	get := func(id int) string {
		s, _ := m.GetString(id)
		return s
	}
	t := &Txn{
		PAN:              get(2),
		ProcessingCode:   get(3),
		TransmissionTime: get(7),
		STAN:             get(11),
		LocalTime:        get(12),
		LocalDate:        get(13),
		Expiry:           get(14),
		EntryMode:        get(22),
		CardSeq:          get(23),
		Condition:        get(25),
		Track2:           get(35),
		RRN:              get(37),
		AuthCode:         get(38),
		ResponseCode:     get(39),
		TID:              get(41),
		MID:              get(42),
		Currency:         get(49),
		Batch:            get(60),
		NetworkCode:      get(70),
	}
	t.MTI, _ = m.GetMTI()
	if !allDigits(t.MTI) || len(t.MTI) != 4 {
		return t, &FieldError{0, fmt.Sprintf("MTI %q is not four digits", t.MTI)}
	}
	if t.ProcessingCode != "" && !allDigits(t.ProcessingCode) {
		return t, &FieldError{3, "processing code is not numeric"}
	}
	if t.STAN != "" && !allDigits(t.STAN) {
		return t, &FieldError{11, "STAN is not numeric"}
	}
	if t.PAN != "" && !allDigits(t.PAN) {
		return t, &FieldError{2, "PAN is not numeric"}
	}
	if s := get(4); s != "" {
		if !allDigits(s) {
			return t, &FieldError{4, "amount is not numeric"}
		}
		t.Amount, _ = strconv.ParseInt(s, 10, 64)
		t.HasAmount = true
	}
	for _, f := range []struct {
		id  int
		dst *[]byte
	}{{52, &t.PINBlock}, {64, &t.MAC}} {
		if s := get(f.id); s != "" {
			b, err := hex.DecodeString(s)
			if err != nil {
				return t, &FieldError{f.id, "not hexadecimal"}
			}
			*f.dst = b
		}
	}
	if s := get(54); s != "" {
		if v, ok := parseBalance(s); ok {
			t.Balance = &v
		}
	}
	t.ICC = iccBytes(get(55))
	if get(74) != "" || get(76) != "" || get(86) != "" || get(88) != "" {
		var tt Totals
		var err error
		num := func(id int) int64 {
			s := get(id)
			if s == "" || err != nil {
				return 0
			}
			v, perr := strconv.ParseInt(s, 10, 64)
			if perr != nil || !allDigits(s) {
				err = &FieldError{id, "settlement total is not numeric"}
			}
			return v
		}
		tt.CreditCount = int(num(74))
		tt.DebitCount = int(num(76))
		tt.CreditAmount = num(86)
		tt.DebitAmount = num(88)
		if err != nil {
			return t, err
		}
		t.Totals = &tt
	}
	if s := get(90); s != "" {
		if len(s) != 42 || !allDigits(s) {
			return t, &FieldError{90, "original data elements must be 42 digits"}
		}
		t.Original = &Original{MTI: s[0:4], STAN: s[4:10], TransmissionTime: s[10:20], AcquirerID: s[20:31], ForwarderID: s[31:42]}
	}
	t.Op = classify87(t)
	return t, nil
}

// Reversal builds an iso87 0400: a new message with its own STAN that points
// at the original through DE90 and carries the reason in DE39.
func (iso87) Reversal(orig *Txn, reason, stan string, now time.Time) *Txn {
	return &Txn{
		MTI:              "0400",
		Op:               OpReversal,
		ProcessingCode:   orig.ProcessingCode,
		PAN:              orig.PAN,
		Amount:           orig.Amount,
		HasAmount:        orig.HasAmount,
		TransmissionTime: TransmissionTimeOf(now),
		STAN:             stan,
		LocalTime:        now.Format("150405"),
		LocalDate:        now.Format("0102"),
		Expiry:           orig.Expiry,
		EntryMode:        orig.EntryMode,
		CardSeq:          orig.CardSeq,
		Condition:        orig.Condition,
		AuthCode:         orig.AuthCode,
		ResponseCode:     reason,
		ICC:              orig.ICC,
		TID:              orig.TID,
		MID:              orig.MID,
		Currency:         orig.Currency,
		Batch:            orig.Batch,
		Original: &Original{
			MTI:              orig.MTI,
			STAN:             orig.STAN,
			TransmissionTime: orig.TransmissionTime,
		},
	}
}

// Repeat marks a reversal or advice as a repeat: 0400 → 0401, 0220 → 0221,
// 0420 → 0421. The STAN stays the same.
func (iso87) Repeat(t *Txn) *Txn {
	r := *t
	if len(r.MTI) == 4 && (r.MTI[2] == '0' || r.MTI[2] == '2') {
		r.MTI = r.MTI[:3] + "1"
	}
	return &r
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatBalance formats a DE54 additional amount: account type 00, amount type
// 02 (available balance), currency, C or D, 12 digits.
func FormatBalance(minor int64, currency string) string {
	sign := "C"
	if minor < 0 {
		sign, minor = "D", -minor
	}
	if currency == "" {
		currency = "000"
	}
	return fmt.Sprintf("0002%3s%s%012d", currency, sign, minor)
}

func parseBalance(s string) (int64, bool) {
	if len(s) < 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(s[8:20], 10, 64)
	if err != nil {
		return 0, false
	}
	if s[7] == 'D' {
		v = -v
	}
	return v, true
}

// iccBytes is DE55 as BER-TLV bytes. iso87 peers send the chip data as raw
// bytes (jPOS and most others); some send it as hexadecimal characters.
// Text that is all hex digits and whose decoding starts with a chip tag
// (first byte 5F, 9F, 8x, 9x or 7x) is taken as the latter.
func iccBytes(s string) []byte {
	if s == "" {
		return nil
	}
	if len(s)%2 == 0 && len(s) >= 6 {
		if b, err := hex.DecodeString(s); err == nil {
			switch {
			case b[0] == 0x5F || b[0] == 0x9F || b[0]&0xF0 == 0x80 || b[0]&0xF0 == 0x90 || b[0]&0xF0 == 0x70:
				return b
			}
		}
	}
	return []byte(s)
}
