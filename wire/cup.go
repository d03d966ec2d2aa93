package wire

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moov-io/iso8583"
)

// CUP is the China UnionPay POS terminal dialect: TPDU and header framing,
// BCD fields, a primary bitmap only, DE60 sub-fields (transaction type,
// batch, network management code), reversal by resending a copy of the
// original with the reason in DE39, settlement totals in DE48 and batch
// upload in 0320.
var CUP Profile = cup{}

func init() { Register(CUP) }

type cup struct{}

// 60.1 transaction type codes (DOMAIN.md section 6).
const (
	cupBalance    = "01"
	cupPreAuth    = "10"
	cupCompletion = "20"
	cupSale       = "22"
	cupVoid       = "23"
	cupPreVoid    = "11"
	cupCompVoid   = "21"
	cupAdvice     = "24"
	cupRefund     = "25"
	cupNetwork    = "00"
)

// Network management codes in 60.3 for settlement and batch upload.
const (
	NetSettle         = "201"
	NetUploadEnd      = "202" // end of upload, out of balance
	NetUploadBalanced = "207"
	// NetTCUpload is the upload of a chip transaction (its TC in DE55)
	// after settlement.
	NetTCUpload = "203"
	// NetScriptAdvice is the issuer script result advice (0620).
	NetScriptAdvice = "951"
)

type cupRow struct {
	op        Op
	mti, pc   string
	cond, typ string
}

var cupTable = []cupRow{
	{OpBalance, "0200", "310000", "00", cupBalance},
	{OpPreAuth, "0100", "030000", "06", cupPreAuth},
	{OpCompletion, "0200", "000000", "06", cupCompletion},
	{OpSale, "0200", "000000", "00", cupSale},
	{OpVoid, "0200", "200000", "00", cupVoid},
	{OpPreAuthVoid, "0100", "200000", "06", cupPreVoid},
	{OpCompletionVoid, "0200", "200000", "06", cupCompVoid},
	{OpAdvice, "0220", "000000", "06", cupAdvice},
	{OpRefund, "0220", "200000", "00", cupRefund},
}

func (cup) Name() string { return "cup" }

// Capabilities: working keys and MACs, TPDU framing, CUP settlement
// (voids counted, domestic and foreign totals, 8 entries a 0320).
func (cup) Capabilities() Capabilities {
	return Capabilities{WorkingKeys: true, TPDU: true, VoidsInTotals: true, ForeignTotals: true, UploadBatch: 8, CompletionTolerance: 15}
}
func (cup) String() string             { return "cup" }
func (cup) Spec() *iso8583.MessageSpec { return SpecCUP }

// Framer returns the TPDU framing with the documented defaults.
func (cup) Framer() Framer { return TPDUFramer{TPDU: DefaultTPDU, Header: DefaultHeader} }

func cupRowFor(op Op) (cupRow, bool) {
	for _, r := range cupTable {
		if r.op == op {
			return r, true
		}
	}
	return cupRow{}, false
}

func (cup) Encode(t *Txn) (*iso8583.Message, error) {
	m := iso8583.NewMessage(SpecCUP)
	if err := encodeCUP(m, t); err != nil {
		return nil, err
	}
	return m, nil
}

// EncodeTo is Encode onto a field sink.
func (cup) EncodeTo(t *Txn, m FieldSink) error { return encodeCUP(m, t) }

// DecodeFrom is Decode from a field source.
func (cup) DecodeFrom(m FieldSource) (*Txn, error) { return decodeCUP(m) }

// Compiled is SpecCUP compiled.
func (cup) Compiled() *CompiledSpec { return compiledCUP }

var compiledCUP = mustCompile(SpecCUP)

func encodeCUP(m FieldSink, t *Txn) error {
	row, known := cupRowFor(t.Op)
	mti, pc, cond, typ, net := row.mti, row.pc, row.cond, row.typ, "000"
	switch t.Op {
	case OpSignOn:
		mti, typ, net = "0800", cupNetwork, orDefault(t.NetworkCode, NetSignOn)
	case OpSignOff:
		mti, typ, net = "0820", cupNetwork, NetSignOff
	case OpEcho:
		mti, typ, net = "0820", cupNetwork, NetEcho
	case OpDownload:
		mti, typ, net = "0800", cupNetwork, t.NetworkCode
	case OpStatusUpload:
		mti, typ, net = "0820", cupNetwork, t.NetworkCode
	case OpSettle:
		mti, typ, net = "0500", cupNetwork, NetSettle
	case OpBatchUpload:
		mti, typ, net = "0320", cupNetwork, NetSettle
	case OpSettleTrailer:
		mti, typ, net = "0320", cupNetwork, NetUploadEnd
	case OpTCUpload:
		mti, typ, net = "0320", cupNetwork, NetTCUpload
	case OpScriptAdvice:
		mti, typ, net = "0620", cupNetwork, NetScriptAdvice
	case OpReversal, OpReversalAdvice:
		mti = "0400"
		if t.Op == OpReversalAdvice {
			mti = "0420"
		}
		if t.Original != nil {
			for _, r := range cupTable {
				if r.mti == t.Original.MTI && r.pc == t.ProcessingCode && (r.cond == t.Condition || t.Condition == "") {
					typ, cond = r.typ, r.cond
					break
				}
			}
		}
	default:
		if !known && t.MTI == "" {
			return fmt.Errorf("encoding %s: not a cup transaction", t.Op)
		}
	}
	if t.MTI != "" {
		mti = t.MTI
	}
	if t.ProcessingCode != "" {
		pc = t.ProcessingCode
	}
	if t.Condition != "" {
		cond = t.Condition
	}
	if t.IsResponse() && t.NetworkCode != "" {
		net = t.NetworkCode
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
	if t.HasAmount && t.Op != OpBatchUpload {
		amount = fmt.Sprintf("%012d", t.Amount)
	}
	network := mti[:2] == "08" || mti[:2] == "05" || mti[:2] == "03" || mti[:2] == "06"
	if network {
		pc, cond = "", ""
	}
	batch := orDefault(t.Batch, "000000")
	de60 := typ + fmt.Sprintf("%06s", batch) + net
	if !t.IsResponse() && (t.Fallback || strings.HasPrefix(t.EntryMode, "80") || strings.HasPrefix(t.EntryMode, "05") || strings.HasPrefix(t.EntryMode, "07")) {
		// 60.4 the terminal reads chips (5: contact, 6: contact and
		// contactless), 60.5 the IC condition: 2 after a failed chip read
		// (fallback), else 0
		cond := "0"
		if t.Fallback || strings.HasPrefix(t.EntryMode, "80") {
			cond = "2"
		}
		de60 += "6" + cond
	}
	var de48 string
	switch {
	case t.Op == OpSettle && t.Totals != nil:
		// domestic, then foreign: amount n12, count n3 of debits and of
		// credits, and a result digit (0 in a request)
		result := "00"
		if t.IsResponse() {
			result = t.SettleResult
			if len(result) != 2 {
				result = "11"
				if t.ResponseCode == "95" {
					result = "22"
				}
			}
		}
		tt := t.Totals
		de48 = fmt.Sprintf("%012d%03d%012d%03d%c%012d%03d%012d%03d%c",
			tt.DebitAmount, tt.DebitCount%1000, tt.CreditAmount, tt.CreditCount%1000, result[0],
			tt.ForeignDebitAmount, tt.ForeignDebitCount%1000, tt.ForeignCreditAmount, tt.ForeignCreditCount%1000, result[1])
	case t.Op == OpBatchUpload && !t.IsResponse():
		ups := t.Uploads
		if len(ups) == 0 && t.Original != nil {
			ups = []Upload{{STAN: t.Original.STAN, PAN: t.PAN, Amount: t.Amount, Foreign: Foreign(t.PAN)}}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%02d", len(ups))
		for _, u := range ups {
			org := "00"
			if u.Foreign {
				org = "01"
			}
			fmt.Fprintf(&b, "%s%06s%020s%012d", org, u.STAN, u.PAN, u.Amount)
		}
		de48 = b.String()
	case t.Op == OpSettleTrailer && t.Totals != nil && !t.IsResponse():
		de48 = fmt.Sprintf("%04d", t.Totals.DebitCount+t.Totals.CreditCount)
	}
	rc := t.ResponseCode
	if t.Op == OpSettle && t.IsResponse() && rc == "95" {
		rc = "00" // CUP says "not balanced" with the result digit in DE48
	}
	pan := t.PAN
	if t.Op == OpBatchUpload {
		pan = ""
	}
	rrn := t.RRN
	if !t.IsResponse() && (t.Op == OpCompletion || t.Op == OpPreAuthVoid) {
		rrn = "" // a completion or pre-authorisation void names its original by DE38 and DE61
	}
	fields := []struct {
		id int
		v  string
	}{
		{2, pan}, {3, pc}, {4, amount}, {11, t.STAN}, {12, t.LocalTime}, {13, t.LocalDate},
		{14, t.Expiry}, {15, t.SettlementDate}, {22, t.EntryMode}, {23, t.CardSeq}, {25, cond}, {26, t.PINCapture}, {32, t.AcquirerID},
		{35, t.Track2}, {37, rrn}, {38, t.AuthCode}, {39, rc},
		{41, t.TID}, {42, t.MID}, {44, t.Institutions}, {48, de48}, {49, t.Currency}, {53, t.Security}, {55, string(t.ICC)}, {60, de60},
		{61, t.OrigRef.de61()}, {63, t.Private63},
	}
	for _, f := range fields {
		if err := set(f.id, f.v); err != nil {
			return err
		}
	}
	if t.Balance != nil {
		if err := set(54, FormatBalance(*t.Balance, t.Currency)); err != nil {
			return err
		}
	}
	if len(t.PINBlock) > 0 {
		if err := set(52, string(t.PINBlock)); err != nil {
			return err
		}
	}
	if len(t.Keys) > 0 {
		if err := set(62, string(t.Keys)); err != nil {
			return err
		}
	}
	if len(t.MAC) > 0 || t.CorruptMAC {
		// a placeholder: the codec signs the packed body (macSign, macFlip)
		ph := macSign
		if t.CorruptMAC {
			ph = macFlip
		}
		if err := set(64, ph); err != nil {
			return err
		}
	}
	if err := setExtra(m, SpecCUP, t.Extra); err != nil {
		return err
	}
	return nil
}

// de61 is DE61 of a reference: 61.1 batch, 61.2 trace, 61.3 date.
func (r *OrigRef) de61() string {
	if r == nil {
		return ""
	}
	z := func(s string, n int) string {
		for len(s) < n {
			s = "0" + s
		}
		return s[:n]
	}
	return z(r.Batch, 6) + z(r.STAN, 6) + z(r.Date, 4)
}

// DE64 placeholders the codec replaces with the MAC of the packed body.
const (
	macSign = "\x00\x00\x00\x00\x00\x00\x00\x00"
	macFlip = "\xff\xff\xff\xff\xff\xff\xff\xff"
)

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (cup) Decode(m *iso8583.Message) (*Txn, error) { return decodeCUP(m) }

func decodeCUP(m FieldSource) (*Txn, error) {
	get := func(id int) string {
		s, _ := m.GetString(id)
		return s
	}
	t := &Txn{
		PAN: get(2), ProcessingCode: get(3), STAN: get(11), LocalTime: get(12), LocalDate: get(13),
		Expiry: get(14), EntryMode: get(22), Condition: get(25), Track2: get(35), RRN: get(37), AuthCode: get(38),
		ResponseCode: get(39), TID: get(41), MID: get(42), Currency: get(49),
		SettlementDate: get(15), AcquirerID: get(32), Institutions: get(44), Private63: get(63),
		PINCapture: get(26), Security: get(53), CardSeq: get(23),
	}
	if s := get(55); s != "" {
		t.ICC = []byte(s)
	}
	t.MTI, _ = m.GetMTI()
	if len(t.MTI) != 4 || !allDigits(t.MTI) {
		return t, &FieldError{0, fmt.Sprintf("MTI %q is not four digits", t.MTI)}
	}
	if s := get(4); s != "" {
		if !allDigits(s) {
			return t, &FieldError{4, "amount is not numeric"}
		}
		t.Amount, _ = strconv.ParseInt(s, 10, 64)
		t.HasAmount = true
	}
	if s := get(52); s != "" {
		t.PINBlock = []byte(s)
	}
	if s := get(64); s != "" {
		t.MAC = []byte(s)
	}
	if s := get(62); s != "" {
		t.Keys = []byte(s)
	}
	if s := get(54); s != "" {
		if v, ok := parseBalance(s); ok {
			t.Balance = &v
		}
	}
	de60 := get(60)
	var typ, net string
	if len(de60) >= 8 {
		typ, t.Batch = de60[:2], de60[2:8]
	}
	if len(de60) >= 11 {
		net = de60[8:11]
	}
	if len(de60) >= 13 && de60[12] == '2' {
		t.Fallback = true // 60.5: the previous chip read failed
	}
	class := t.MTI[:3]
	if t.IsResponse() {
		class = t.MTI[:2] + string(t.MTI[2]-1)
	}
	switch class {
	case "080":
		t.Op, t.NetworkCode = OpSignOn, net
		switch net {
		case KeysSingle, KeysDouble, KeysTrack, "":
		default:
			t.Op = OpDownload // parameters, CA keys, blacklist (DOMAIN.md 6)
		}
	case "082":
		t.NetworkCode = net
		switch net {
		case NetSignOff:
			t.Op = OpSignOff
		case NetEcho:
			t.Op = OpEcho
		default:
			t.Op = OpStatusUpload
		}
	case "062":
		t.Op, t.NetworkCode = OpScriptAdvice, net
	case "050":
		t.Op, t.NetworkCode = OpSettle, net
	case "032":
		t.NetworkCode = net
		if net == NetUploadEnd || net == NetUploadBalanced {
			t.Op = OpSettleTrailer
		} else if net == NetTCUpload && get(55) != "" {
			t.Op = OpTCUpload
		} else {
			t.Op = OpBatchUpload
		}
	case "040", "042":
		t.Op = OpReversal
		if class == "042" {
			t.Op = OpReversalAdvice
		}
		// a CUP reversal is a copy of the original: same STAN
		for _, r := range cupTable {
			if r.typ == typ {
				t.Original = &Original{MTI: r.mti, STAN: t.STAN}
			}
		}
		if t.Original == nil {
			t.Original = &Original{MTI: "0200", STAN: t.STAN}
		}
	default:
		for _, r := range cupTable {
			if r.typ == typ && r.mti[:3] == class {
				t.Op = r.op
			}
		}
	}
	if de61 := get(61); de61 != "" {
		if len(de61) < 12 || !allDigits(de61) {
			return t, &FieldError{61, "want 61.1 batch n6, 61.2 trace n6 and 61.3 date n4"}
		}
		t.OrigRef = &OrigRef{Batch: de61[:6], STAN: de61[6:12]}
		if len(de61) >= 16 {
			t.OrigRef.Date = de61[12:16]
		}
	}
	if err := decodeDE48(t, get(48)); err != nil {
		return t, err
	}
	return t, nil
}

func decodeDE48(t *Txn, de48 string) error {
	if de48 == "" {
		return nil
	}
	if !allDigits(de48) {
		return &FieldError{48, "not numeric"}
	}
	switch t.Op {
	case OpSettle:
		if len(de48) < 31 {
			return &FieldError{48, "settlement totals need 62 digits"}
		}
		num := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
		t.Totals = &Totals{DebitAmount: num(de48[0:12]), DebitCount: int(num(de48[12:15])), CreditAmount: num(de48[15:27]), CreditCount: int(num(de48[27:30]))}
		result := de48[30:31]
		if len(de48) >= 62 {
			t.Totals.ForeignDebitAmount, t.Totals.ForeignDebitCount = num(de48[31:43]), int(num(de48[43:46]))
			t.Totals.ForeignCreditAmount, t.Totals.ForeignCreditCount = num(de48[46:58]), int(num(de48[58:61]))
			result += de48[61:62]
		}
		if t.IsResponse() {
			t.SettleResult = result
			if strings.Contains(result, "2") {
				t.ResponseCode = "95"
			}
		}
	case OpBatchUpload:
		if t.IsResponse() {
			return nil
		}
		n, _ := strconv.Atoi(de48[:min(2, len(de48))])
		if n < 1 || len(de48) < 2+40*n {
			return &FieldError{48, fmt.Sprintf("batch upload: %d entries of 40 digits announced, %d digits carried", n, len(de48)-2)}
		}
		for i := range n {
			e := de48[2+40*i : 2+40*(i+1)]
			amount, _ := strconv.ParseInt(e[28:40], 10, 64)
			t.Uploads = append(t.Uploads, Upload{STAN: e[2:8], PAN: strings.TrimLeft(e[8:28], "0"), Amount: amount, Foreign: e[:2] == "01"})
		}
		// the first entry also as the original, for single-entry readers
		u := t.Uploads[0]
		t.Original = &Original{STAN: u.STAN}
		t.PAN, t.Amount, t.HasAmount = u.PAN, u.Amount, true
	case OpSettleTrailer:
		if !t.IsResponse() && len(de48) >= 4 {
			n, _ := strconv.Atoi(de48[:4])
			t.Totals = &Totals{DebitCount: n}
		}
	}
	return nil
}

// Reversal builds a CUP reversal: a copy of the original request with the
// same STAN and the reason in DE39; tracks, PIN block and DE37 are removed.
func (cup) Reversal(orig *Txn, reason, _ string, _ time.Time) *Txn {
	r := *orig
	r.MTI, r.Op, r.ResponseCode = "0400", OpReversal, reason
	r.Track2, r.PINBlock, r.RRN, r.MAC, r.CorruptMAC = "", nil, "", nil, false
	r.Original = &Original{MTI: orig.MTI, STAN: orig.STAN}
	return &r
}

// Repeat resends a reversal as the same 0400 (CUP has no repeat MTI for
// reversals); an advice goes again as 0221.
func (cup) Repeat(t *Txn) *Txn {
	r := *t
	if len(r.MTI) == 4 && r.MTI[2] == '2' {
		r.MTI = r.MTI[:3] + "1"
	}
	return &r
}
