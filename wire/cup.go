package wire

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moov-io/iso8583"
)

// CUP is the China UnionPay POS terminal dialect: TPDU and header framing,
// BCD fields, a primary bitmap (a secondary one read, never sent), DE60 sub-fields (transaction type,
// batch, network management code), reversal by resending a copy of the
// original with the reason in DE39, settlement totals in DE48 and batch
// upload in 0320.
var CUP Profile = cup{}

func init() { Register(CUP) }

type cup struct{}

// 60.1 transaction type codes (docs/domain.md, "China UnionPay dialect").
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
	cupOffline    = "30" // offline sale settlement (离线结算)
	cupAdjust     = "32" // offline settlement adjustment (离线结算调整)
	cupTip        = "34" // tip (小费)
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

// cupRow is one kind of cup message: the operation, its MTI, processing
// code, condition code (DE25), 60.1 transaction type and 60.3 network
// management code. encodeCUP reads a request's row; decodeCUP finds the
// row of a message by its MTI class, 60.1 and 60.3.
type cupRow struct {
	op      Op
	mti, pc string
	cond    string // DE25
	typ     string // 60.1
	net     string // 60.3 sent
	// ownNet: a request's own NetworkCode is its 60.3 (a sign-on's key
	// set, the download asked for), net when it has none.
	ownNet bool
	// nets are the 60.3 codes a message of the MTI class decodes to op by
	// (nil: any); icc: only with DE55.
	nets []string
	icc  bool
	// reversal: the message is a reversal (its 60.1 and DE25 are its
	// original's).
	reversal bool
}

// cupTable lists the cup messages. Transactions are found by 60.1, network
// management and settlement by 60.3, in this order: the first row that
// matches wins.
var cupTable = []cupRow{
	{op: OpBalance, mti: "0200", pc: "310000", cond: "00", typ: cupBalance},
	{op: OpPreAuth, mti: "0100", pc: "030000", cond: "06", typ: cupPreAuth},
	{op: OpCompletion, mti: "0200", pc: "000000", cond: "06", typ: cupCompletion},
	{op: OpSale, mti: "0200", pc: "000000", cond: "00", typ: cupSale},
	{op: OpVoid, mti: "0200", pc: "200000", cond: "00", typ: cupVoid},
	{op: OpPreAuthVoid, mti: "0100", pc: "200000", cond: "06", typ: cupPreVoid},
	{op: OpCompletionVoid, mti: "0200", pc: "200000", cond: "06", typ: cupCompVoid},
	{op: OpAdvice, mti: "0220", pc: "000000", cond: "06", typ: cupAdvice},
	{op: OpRefund, mti: "0220", pc: "200000", cond: "00", typ: cupRefund},
	{op: OpOfflineSale, mti: "0220", pc: "000000", cond: "00", typ: cupOffline},
	{op: OpAdjust, mti: "0220", pc: "000000", cond: "00", typ: cupAdjust},
	{op: OpTip, mti: "0220", pc: "000000", cond: "00", typ: cupTip},
	{op: OpSignOn, mti: "0800", typ: cupNetwork, net: NetSignOn, ownNet: true, nets: []string{KeysSingle, KeysDouble, KeysTrack, ""}},
	// parameters, CA keys, blacklist (60.3 370 ... 391)
	{op: OpMasterKey, mti: "0800", typ: cupNetwork, net: NetMasterKey, nets: []string{NetMasterKey}},
	{op: OpDownload, mti: "0800", typ: cupNetwork, ownNet: true},
	{op: OpSignOff, mti: "0820", typ: cupNetwork, net: NetSignOff, nets: []string{NetSignOff}},
	{op: OpEcho, mti: "0820", typ: cupNetwork, net: NetEcho, nets: []string{NetEcho}},
	{op: OpStatusUpload, mti: "0820", typ: cupNetwork, ownNet: true},
	{op: OpScriptAdvice, mti: "0620", typ: cupNetwork, net: NetScriptAdvice},
	{op: OpSettle, mti: "0500", typ: cupNetwork, net: NetSettle},
	{op: OpSettleTrailer, mti: "0320", typ: cupNetwork, net: NetUploadEnd, nets: []string{NetUploadEnd, NetUploadBalanced}},
	{op: OpTCUpload, mti: "0320", typ: cupNetwork, net: NetTCUpload, nets: []string{NetTCUpload}, icc: true},
	{op: OpBatchUpload, mti: "0320", typ: cupNetwork, net: NetSettle},
	{op: OpReversal, mti: "0400", reversal: true},
	{op: OpReversalAdvice, mti: "0420", reversal: true},
}

// network reports whether the row is network management or settlement
// (found by 60.3, not by 60.1).
func (r cupRow) network() bool { return r.typ == cupNetwork }

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

// cupHead is what a cup request's row gives it: MTI, processing code,
// DE25, 60.1 and 60.3; what the transaction says itself wins.
func cupHead(t *Txn) (mti, pc, cond, typ, net string, err error) {
	row, known := cupRowFor(t.Op)
	if !known && t.MTI == "" {
		return "", "", "", "", "", fmt.Errorf("encoding %s: not a cup transaction", t.Op)
	}
	mti, pc, cond, typ, net = row.mti, row.pc, row.cond, row.typ, row.net
	if !row.network() && !row.reversal {
		net = "000"
	}
	if row.ownNet {
		net = orDefault(t.NetworkCode, row.net)
	}
	if row.reversal && t.Original != nil {
		// a reversal is a copy of its original: the original's 60.1 and DE25
		for _, r := range cupTable {
			if !r.network() && r.mti == t.Original.MTI && r.pc == t.ProcessingCode && (r.cond == t.Condition || t.Condition == "") {
				typ, cond = r.typ, r.cond
				break
			}
		}
	}
	if row.reversal && net == "" {
		net = "000"
	}
	mti = orDefault(t.MTI, mti)
	pc, cond = orDefault(t.ProcessingCode, pc), orDefault(t.Condition, cond)
	if t.IsResponse() && t.NetworkCode != "" {
		net = t.NetworkCode
	}
	if k := mti[:2]; k == "08" || k == "05" || k == "03" || k == "06" {
		pc, cond = "", "" // network management and settlement carry neither
	}
	return mti, pc, cond, typ, net, nil
}

// cupDE60 is 60.1 type, 60.2 batch and 60.3 network code, and for a chip
// or fallback request 60.4 the terminal reads chips (6: contact and
// contactless) and 60.5 the IC condition (2 after a failed chip read, else
// 0).
func cupDE60(t *Txn, typ, net string) string {
	if t.IsResponse() {
		return cupDE60Answer(t, typ, net)
	}
	de60 := typ + fmt.Sprintf("%06s", orDefault(t.Batch, "000000")) + net
	fallback := t.Fallback || strings.HasPrefix(t.EntryMode, "80")
	if !t.IsResponse() && (fallback || strings.HasPrefix(t.EntryMode, "05") || strings.HasPrefix(t.EntryMode, "07")) {
		cond := "0"
		if fallback {
			cond = "2"
		}
		de60 += "6" + cond
	}
	return de60
}

// cupDE60Answer is an answer's DE60: the request's echoed whole (as a CUP
// host does), with the answer's batch (a sign-on hands the terminal its
// batch) and network code; a request whose 60.1 posim does not know keeps
// its own, and one without a readable DE60 gets 00, so that an answer's
// DE60 always holds 60.1, 60.2 and 60.3.
func cupDE60Answer(t *Txn, typ, net string) string {
	echo := t.DE60
	if len(echo) < 2 || !allDigits(echo) {
		echo = ""
	}
	if typ == "" {
		typ = cupNetwork
		if echo != "" {
			typ = echo[:2]
		}
	}
	if net == "" {
		net = "000"
	}
	de60 := typ + fmt.Sprintf("%06s", orDefault(t.Batch, "000000")) + net
	if len(echo) > 11 {
		de60 += echo[11:] // 60.4, 60.5 and the rest
	}
	return de60
}

// cupDE48 is a settlement's totals, a batch upload's entries or an upload
// trailer's count.
func cupDE48(t *Txn) string {
	switch {
	case t.Op == OpSettle && t.Totals != nil:
		return cupTotals(t)
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
		return b.String()
	case t.Op == OpSettleTrailer && t.Totals != nil && !t.IsResponse():
		tt := t.Totals // every transaction uploaded: domestic and foreign cards
		return fmt.Sprintf("%04d", tt.DebitCount+tt.CreditCount+tt.ForeignDebitCount+tt.ForeignCreditCount)
	}
	return ""
}

// cupTotals is DE48 of a settlement: domestic, then foreign: amount n12,
// count n3 of debits and of credits, and a result digit (0 in a request;
// in an answer 1 balanced, 2 not).
func cupTotals(t *Txn) string {
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
	return fmt.Sprintf("%012d%03d%012d%03d%c%012d%03d%012d%03d%c",
		tt.DebitAmount, tt.DebitCount%1000, tt.CreditAmount, tt.CreditCount%1000, result[0],
		tt.ForeignDebitAmount, tt.ForeignDebitCount%1000, tt.ForeignCreditAmount, tt.ForeignCreditCount%1000, result[1])
}

func encodeCUP(m FieldSink, t *Txn) error {
	mti, pc, cond, typ, net, err := cupHead(t)
	if err != nil {
		return err
	}
	m.MTI(mti)
	var amount string
	if t.HasAmount && t.Op != OpBatchUpload {
		amount = fmt.Sprintf("%012d", t.Amount)
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
	var balance string
	if t.Balance != nil {
		balance = FormatBalance(*t.Balance, t.Currency)
	}
	fields := []struct {
		id int
		v  string
	}{
		{2, pan}, {3, pc}, {4, amount}, {11, t.STAN}, {12, t.LocalTime}, {13, t.LocalDate},
		{14, t.Expiry}, {15, t.SettlementDate}, {22, t.EntryMode}, {23, t.CardSeq}, {25, cond}, {26, t.PINCapture}, {32, t.AcquirerID},
		{35, t.Track2}, {37, rrn}, {38, t.AuthCode}, {39, rc},
		{41, t.TID}, {42, t.MID}, {44, t.Institutions}, {48, cupDE48(t)}, {49, t.Currency}, {52, string(t.PINBlock)}, {53, t.Security},
		{54, balance}, {55, string(t.ICC)}, {60, cupDE60(t, typ, net)}, {61, t.OrigRef.de61()}, {62, string(t.Keys)}, {63, t.Private63},
		{64, cupMACField(t)},
	}
	for _, f := range fields {
		if f.v == "" {
			continue
		}
		if err := m.Field(f.id, f.v); err != nil {
			return fmt.Errorf("setting DE%d: %w", f.id, err)
		}
	}
	return setExtra(m, SpecCUP, t.Extra)
}

// cupMACField is DE64 before the codec signs the packed body: macSign,
// macFlip for a wrong MAC, nothing without a MAC.
func cupMACField(t *Txn) string {
	switch {
	case t.CorruptMAC:
		return macFlip
	case len(t.MAC) > 0:
		return macSign
	}
	return ""
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
	t.DE60 = de60
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
	t.Op, t.Original = cupOpOf(t, typ, net, get(55) != "")
	if row, _ := cupRowFor(t.Op); row.network() {
		t.NetworkCode = net
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

// cupOpOf finds a message's row: by its MTI class and 60.3 for network
// management and settlement, by its class and 60.1 for transactions. A
// reversal (a copy of its original, with the same STAN) names its
// original's MTI by 60.1.
func cupOpOf(t *Txn, typ, net string, icc bool) (Op, *Original) {
	class := t.MTI[:3]
	if t.IsResponse() {
		class = t.MTI[:2] + string(t.MTI[2]-1)
	}
	for _, r := range cupTable {
		switch {
		case r.mti[:3] != class:
		case r.reversal:
			orig := &Original{MTI: "0200", STAN: t.STAN}
			for _, o := range cupTable {
				if !o.network() && !o.reversal && o.typ == typ {
					orig.MTI = o.mti
				}
			}
			return r.op, orig
		case r.network():
			if (r.nets == nil || slices.Contains(r.nets, net)) && (!r.icc || icc) {
				return r.op, nil
			}
		case r.typ == typ:
			return r.op, nil
		}
	}
	return OpUnknown, nil
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
