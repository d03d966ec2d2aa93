package wire

import (
	"encoding/hex"
	"fmt"
	"slices"
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

// row87 is one kind of iso87 message: the operation, the MTI and
// processing code (DE3) it is sent with, and what tells it from the others
// of its MTI class when it is read: more processing codes (pcs), the
// condition code (DE25, also sent when the request gives none), the
// network management code (DE70), chip data (DE55).
type row87 struct {
	op   Op
	mti  string
	pc   string
	pcs  []string // processing codes read as op (nil: pc only)
	any  bool     // read as op whatever its processing code
	cond string
	net  string
	icc  bool
}

// table87 lists the iso87 messages; reading one, the first row that
// matches wins.
var table87 = []row87{
	// many peers send a pre-authorisation with the purchase code
	{op: OpPreAuth, mti: "0100", pc: PCPreAuth, pcs: []string{PCPreAuth, PCPurchase}},
	{op: OpPreAuthVoid, mti: "0100", pc: PCVoid},
	// DE25 06 is what tells a completion from a sale, and its void from a void
	{op: OpCompletion, mti: "0200", pc: PCPurchase, cond: CondPreAuth},
	{op: OpSale, mti: "0200", pc: PCPurchase},
	{op: OpCompletionVoid, mti: "0200", pc: PCVoid, cond: CondPreAuth},
	{op: OpVoid, mti: "0200", pc: PCVoid},
	{op: OpBalance, mti: "0200", pc: PCBalance},
	{op: OpRefund, mti: "0220", pc: PCRefund},
	{op: OpAdvice, mti: "0220", pc: PCPurchase},
	// sent as the advice it is, and read back as one
	{op: OpOfflineSale, mti: "0220", pc: PCPurchase},
	{op: OpScriptAdvice, mti: "0620", any: true},
	{op: OpTCUpload, mti: "0320", pc: PCPurchase, any: true, icc: true},
	{op: OpBatchUpload, mti: "0320", any: true},
	{op: OpReversal, mti: "0400", any: true},
	{op: OpReversalAdvice, mti: "0420", any: true},
	{op: OpSettle, mti: "0500", pc: PCSettle},
	{op: OpSettleTrailer, mti: "0500", pc: PCSettleTrailer},
	{op: OpSignOn, mti: "0800", net: NetSignOn},
	{op: OpSignOff, mti: "0800", net: NetSignOff},
	{op: OpEcho, mti: "0800", net: NetEcho},
}

// row87For returns the row an operation is sent by.
func row87For(op Op) (row87, bool) {
	for _, r := range table87 {
		if r.op == op {
			return r, true
		}
	}
	return row87{}, false
}

// matches reports whether t, of the row's MTI class, is the row's
// operation.
func (r row87) matches(t *Txn) bool {
	switch {
	case r.net != "":
		return t.NetworkCode == r.net
	case r.cond != "" && t.Condition != r.cond:
		return false
	case r.icc && len(t.ICC) == 0:
		return false
	case r.any:
		return true
	case r.pcs != nil:
		return slices.Contains(r.pcs, t.ProcessingCode)
	}
	return t.ProcessingCode == r.pc
}

// classify87 derives the operation from MTI, DE3, DE25, DE55 and DE70.
func classify87(t *Txn) Op {
	if len(t.MTI) != 4 {
		return OpUnknown
	}
	class := t.MTI[:3]
	if t.IsResponse() {
		// responses carry the request's class; map back to the request
		class = t.MTI[:2] + string(t.MTI[2]-1)
	}
	for _, r := range table87 {
		if r.mti[:3] == class && r.matches(t) {
			return r.op
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
	row, _ := row87For(t.Op)
	mti, pc, cond := orDefault(t.MTI, row.mti), orDefault(t.ProcessingCode, row.pc), orDefault(t.Condition, row.cond)
	if mti == "" {
		return fmt.Errorf("encoding %s: no MTI: the iso87 dialect has no message for it (a CUP one: --profile cup)", t.Op)
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
	var buf [32]field87
	fields := append(buf[:0],
		field87{2, t.PAN}, field87{3, pc}, field87{4, amount}, field87{7, t.TransmissionTime}, field87{11, t.STAN},
		field87{12, t.LocalTime}, field87{13, t.LocalDate}, field87{14, t.Expiry}, field87{22, t.EntryMode},
		field87{23, t.CardSeq}, field87{25, cond}, field87{55, string(t.ICC)}, field87{35, t.Track2}, field87{37, t.RRN},
		field87{38, t.AuthCode}, field87{39, t.ResponseCode}, field87{41, t.TID}, field87{42, t.MID}, field87{49, t.Currency},
		field87{70, t.NetworkCode})
	for _, f := range appendOptional87(fields, t) {
		if err := set(f.id, f.v); err != nil {
			return err
		}
	}
	if err := setExtra(m, spec, t.Extra); err != nil {
		return err
	}
	return nil
}

// field87 is a field's number and value as encode87To sets it.
type field87 struct {
	id int
	v  string
}

// appendOptional87 appends the fields of t that only some messages carry:
// the batch, a balance, a PIN block, settlement totals, the original
// (DE90), a MAC.
func appendOptional87(dst []field87, t *Txn) []field87 {
	dst = append(dst, field87{60, t.Batch})
	if t.Balance != nil {
		dst = append(dst, field87{54, FormatBalance(*t.Balance, t.Currency)})
	}
	if len(t.PINBlock) > 0 {
		dst = append(dst, field87{52, strings.ToUpper(hex.EncodeToString(t.PINBlock))})
	}
	if tt := t.Totals; tt != nil {
		dst = append(dst, field87{74, fmt.Sprintf("%010d", tt.CreditCount)}, field87{76, fmt.Sprintf("%010d", tt.DebitCount)},
			field87{86, fmt.Sprintf("%016d", tt.CreditAmount)}, field87{88, fmt.Sprintf("%016d", tt.DebitAmount)})
	}
	if o := t.Original; o != nil {
		de90 := fmt.Sprintf("%-4s%-6s%-10s%011s%011s", o.MTI, o.STAN, o.TransmissionTime,
			zeroIfEmpty(o.AcquirerID), zeroIfEmpty(o.ForwarderID))
		dst = append(dst, field87{90, strings.ReplaceAll(de90, " ", "0")})
	}
	if len(t.MAC) > 0 {
		dst = append(dst, field87{64, strings.ToUpper(hex.EncodeToString(t.MAC))})
	}
	return dst
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
	if err := decodeTotals87(t, get); err != nil {
		return t, err
	}
	if err := decodeOriginal87(t, get(90)); err != nil {
		return t, err
	}
	t.Op = classify87(t)
	return t, nil
}

// decodeTotals87 reads settlement totals (DE74, DE76, DE86, DE88).
func decodeTotals87(t *Txn, get func(int) string) error {
	if get(74) == "" && get(76) == "" && get(86) == "" && get(88) == "" {
		return nil
	}
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
		return err
	}
	t.Totals = &tt
	return nil
}

// decodeOriginal87 reads DE90, the original data elements.
func decodeOriginal87(t *Txn, s string) error {
	if s == "" {
		return nil
	}
	if len(s) != 42 || !allDigits(s) {
		return &FieldError{90, "original data elements must be 42 digits"}
	}
	t.Original = &Original{MTI: s[0:4], STAN: s[4:10], TransmissionTime: s[10:20], AcquirerID: s[20:31], ForwarderID: s[31:42]}
	return nil
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
