package wire

import (
	"fmt"
	"slices"

	"github.com/moov-io/iso8583"
	"strconv"
	"strings"
	"time"
)

// Op is what a message asks for, independent of how a dialect encodes it.
type Op string

// Operations a terminal and an acquirer exchange.
const (
	OpUnknown    Op = ""
	OpSale       Op = "sale"
	OpPreAuth    Op = "preauth"
	OpCompletion Op = "completion"
	OpVoid       Op = "void"
	// OpPreAuthVoid cancels a pre-authorisation (预授权撤销): the hold goes.
	OpPreAuthVoid Op = "preauth_void"
	// OpCompletionVoid cancels a completion (预授权完成撤销): the card is
	// credited and the pre-authorisation stands again.
	OpCompletionVoid Op = "completion_void"
	OpRefund         Op = "refund"
	OpBalance        Op = "balance"
	OpAdvice         Op = "advice"
	// OpOfflineSale is a sale the terminal approved offline, sent after
	// the fact as an advice (离线结算: cup 0220 with 60.1 30): the host
	// books it as it books any advice, and cannot decline it.
	OpOfflineSale Op = "offline_sale"
	// OpAdjust changes the amount of an offline sale of the open batch
	// (离线结算调整: cup 0220 with 60.1 32, DE4 the new amount, DE61 the
	// offline sale's batch and trace): an advice, never reversed.
	OpAdjust Op = "adjust"
	// OpTip adds a tip to a sale or offline sale of the open batch (小费:
	// cup 0220 with 60.1 34, DE4 the new total, DE61 the sale's batch and
	// trace): an advice, never reversed.
	OpTip            Op = "tip"
	OpReversal       Op = "reversal"
	OpReversalAdvice Op = "reversal_advice"
	OpSignOn         Op = "signon"
	OpSignOff        Op = "signoff"
	OpEcho           Op = "echo"
	OpSettle         Op = "settle"
	OpSettleTrailer  Op = "settle_trailer"
	OpBatchUpload    Op = "batch_upload"
	// OpTCUpload sends a chip transaction's transaction certificate after
	// settlement (cup 0320 with 60.3 203 and DE55; iso87 0320 with DE3
	// 000000 and DE55): the proof that the card accepted the approval.
	OpTCUpload Op = "tc_upload"
	// OpScriptAdvice reports the result of the issuer scripts a card ran
	// (0620; cup 60.3 951), with DF31 in DE55.
	OpScriptAdvice Op = "script_advice"
	// OpDownload is a network management request for parameters, chip CA
	// public keys or a blacklist (cup 0800 with 60.3 370, 371, 380, 381,
	// 390 or 391).
	OpDownload Op = "download"
	// OpMasterKey downloads the terminal master key under the transport
	// key (cup 0800 with 60.3 350, 主密钥下载).
	OpMasterKey Op = "master_key"
	// OpStatusUpload is a terminal reporting the keys or parameters it
	// holds (cup 0820 with 60.3 372 or 382).
	OpStatusUpload Op = "status_upload"
)

// allOps lists every operation but OpUnknown, in the order above.
var allOps = []Op{OpSale, OpPreAuth, OpCompletion, OpVoid, OpPreAuthVoid, OpCompletionVoid, OpRefund, OpBalance,
	OpAdvice, OpOfflineSale, OpAdjust, OpTip, OpReversal, OpReversalAdvice, OpSignOn, OpSignOff, OpEcho, OpSettle, OpSettleTrailer, OpBatchUpload,
	OpTCUpload, OpScriptAdvice, OpDownload, OpMasterKey, OpStatusUpload}

// Ops lists every operation a terminal and an acquirer exchange.
func Ops() []Op { return slices.Clone(allOps) }

// OpNames lists the names of Ops (what a fault rule's when.op takes).
func OpNames() []string {
	out := make([]string, len(allOps))
	for i, o := range allOps {
		out[i] = string(o)
	}
	return out
}

// Network reports whether the operation is network management: sign-on,
// sign-off, echo, downloads and status uploads, which a terminal sends
// before it has working keys.
func (o Op) Network() bool {
	switch o {
	case OpSignOn, OpSignOff, OpEcho, OpDownload, OpMasterKey, OpStatusUpload:
		return true
	}
	return false
}

// Reversible reports whether a terminal must reverse the operation when its
// response does not arrive (docs/domain.md R1). Advices and refunds are
// retransmitted instead; inquiries are simply repeated.
func (o Op) Reversible() bool {
	switch o {
	case OpSale, OpPreAuth, OpCompletion, OpVoid, OpPreAuthVoid, OpCompletionVoid:
		return true
	}
	return false
}

// Financial reports whether the operation moves money or a hold.
func (o Op) Financial() bool {
	switch o {
	case OpSale, OpPreAuth, OpCompletion, OpVoid, OpRefund, OpAdvice, OpOfflineSale, OpAdjust, OpTip, OpPreAuthVoid, OpCompletionVoid:
		return true
	}
	return false
}

// Network management codes carried in DE70 (iso87).
const (
	NetSignOn  = "001"
	NetSignOff = "002"
	NetEcho    = "301"
)

// Original identifies the transaction a reversal, void, refund, completion or
// batch-upload item refers to. For iso87 reversals it is DE90; for dialects
// that reverse by resending a copy it is taken from the copy itself.
type Original struct {
	MTI              string // original message type
	STAN             string // original trace number
	TransmissionTime string // original DE7, MMDDhhmmss (iso87)
	AcquirerID       string // DE90 acquiring institution id (n11)
	ForwarderID      string // DE90 forwarding institution id (n11)
}

// Totals are a settlement batch's reconciliation totals. Debits are sales and
// completions, credits are refunds; voided and reversed transactions count
// nowhere.
type Totals struct {
	DebitCount   int   `json:"debit_count"`
	DebitAmount  int64 `json:"debit_amount"`
	CreditCount  int   `json:"credit_count"`
	CreditAmount int64 `json:"credit_amount"`
	// Foreign cards' totals, where the dialect counts them apart (cup:
	// cards whose organisation is not CUP); the fields above are then the
	// domestic ones.
	ForeignDebitCount   int   `json:"foreign_debit_count,omitempty"`
	ForeignDebitAmount  int64 `json:"foreign_debit_amount,omitempty"`
	ForeignCreditCount  int   `json:"foreign_credit_count,omitempty"`
	ForeignCreditAmount int64 `json:"foreign_credit_amount,omitempty"`
}

// AddCard counts one transaction of the given sign, as a foreign card's
// when foreign is true.
func (t *Totals) AddCard(sign int, amount int64, foreign bool) {
	if !foreign {
		t.Add(sign, amount)
		return
	}
	switch sign {
	case 1:
		t.ForeignDebitCount++
		t.ForeignDebitAmount += amount
	case -1:
		t.ForeignCreditCount++
		t.ForeignCreditAmount += amount
	}
}

// Domestic is the totals without the foreign cards'.
func (t Totals) Domestic() Totals {
	return Totals{DebitCount: t.DebitCount, DebitAmount: t.DebitAmount, CreditCount: t.CreditCount, CreditAmount: t.CreditAmount}
}

// ForeignOnly is the foreign cards' totals in the domestic fields.
func (t Totals) ForeignOnly() Totals {
	return Totals{DebitCount: t.ForeignDebitCount, DebitAmount: t.ForeignDebitAmount, CreditCount: t.ForeignCreditCount, CreditAmount: t.ForeignCreditAmount}
}

// Foreign reports whether a card counts among the foreign ones of a
// dialect that splits them: its organisation is not China UnionPay.
func Foreign(pan string) bool { return CardOrganisation(pan) != "CUP" && CardOrganisation(pan) != "" }

// Settles reports how an approved transaction of the operation counts in
// settlement totals: +1 debit (sales, completions, offline advices), -1
// credit (refunds), 0 nowhere. The caller leaves out voided and reversed
// transactions, which count nowhere.
func (o Op) Settles() int {
	switch o {
	case OpSale, OpCompletion, OpAdvice, OpOfflineSale:
		return 1
	case OpRefund:
		return -1
	}
	return 0
}

// Add counts one transaction of the given sign (see Op.Settles).
func (t *Totals) Add(sign int, amount int64) {
	switch sign {
	case 1:
		t.DebitCount++
		t.DebitAmount += amount
	case -1:
		t.CreditCount++
		t.CreditAmount += amount
	}
}

// Txn is the typed form of one ISO 8583 message, request or response. Amounts
// are in minor units. Empty strings mean "absent". A Txn is a plain value; it
// is not safe for concurrent mutation.
type Txn struct {
	MTI              string `json:",omitempty"` // message type indicator, e.g. "0200"
	Op               Op     `json:",omitempty"` // derived from MTI, DE3, DE25 and DE70
	ProcessingCode   string `json:",omitempty"` // DE3, six digits
	PAN              string `json:",omitempty"` // DE2
	Amount           int64  `json:",omitempty"` // DE4, minor units
	HasAmount        bool   `json:",omitempty"` // DE4 present
	TransmissionTime string `json:",omitempty"` // DE7, MMDDhhmmss UTC
	STAN             string `json:",omitempty"` // DE11, six digits
	LocalTime        string `json:",omitempty"` // DE12, hhmmss
	LocalDate        string `json:",omitempty"` // DE13, MMDD
	Expiry           string `json:",omitempty"` // DE14, YYMM
	EntryMode        string `json:",omitempty"` // DE22
	CardSeq          string `json:",omitempty"` // DE23, n3: the chip card's sequence number (PSN)
	// Fallback: a chip card read by its stripe after the chip failed
	// (cup 60.5 = 2; DE22 80x says it in every dialect).
	Fallback     bool   `json:",omitempty"`
	Condition    string `json:",omitempty"` // DE25
	Track2       string `json:",omitempty"` // DE35; never logged
	RRN          string `json:",omitempty"` // DE37
	AuthCode     string `json:",omitempty"` // DE38
	ResponseCode string `json:",omitempty"` // DE39; in a reversal request, the reason
	TID          string `json:",omitempty"` // DE41
	MID          string `json:",omitempty"` // DE42
	Currency     string `json:",omitempty"` // DE49
	PINBlock     []byte `json:",omitempty"` // DE52; never logged
	Balance      *int64 `json:",omitempty"` // DE54 ledger balance in a response
	Batch        string `json:",omitempty"` // batch number (iso87: DE60)
	// DE60 is a cup request's DE60 as it arrived (60.1 type, 60.2 batch,
	// 60.3 network code and whatever follows), which its answer echoes.
	DE60 string `json:",omitempty"`
	// HostRequest is what a cup host's answer asks the terminal to do next,
	// written in its header (HostRequest*): not a field of the body.
	HostRequest byte      `json:",omitempty"`
	NetworkCode string    `json:",omitempty"` // DE70
	Totals      *Totals   `json:",omitempty"`
	Original    *Original `json:",omitempty"` // DE90 and friends
	MAC         []byte    `json:",omitempty"` // DE64 / DE128; under cup a placeholder the codec signs
	CorruptMAC  bool      `json:",omitempty"` // a fault: the codec flips a bit of the MAC after signing
	Keys        []byte    `json:",omitempty"` // DE62: working keys of a sign-on response (cup)
	// ICC is DE55, the chip data: BER-TLV bytes (see package emv). In a
	// request the first GENERATE AC's data; in a response the issuer's
	// authentication data (91) and scripts (71, 72).
	ICC []byte `json:",omitempty"`
	// What a CUP host's answer carries for the receipt and the terminal's
	// settlement (docs/domain.md, "China UnionPay dialect"); in a 0800 or 0500 request DE63 is the
	// operator number.
	SettlementDate string `json:",omitempty"` // DE15, MMDD: the host's business day
	AcquirerID     string `json:",omitempty"` // DE32: the acquiring institution
	Institutions   string `json:",omitempty"` // DE44: issuer and acquirer institution codes, 11 characters each
	Private63      string `json:",omitempty"` // DE63: 63.1 card organisation (CUP, VIS, MCC ...) or operator
	PINCapture     string `json:",omitempty"` // DE26: the most PIN digits the terminal takes (06 or 12)
	Security       string `json:",omitempty"` // DE53: PIN format, algorithm, track encryption, then zeros
	// OrigRef is the original transaction as the cup dialect names it in
	// DE61: its batch, trace number and date (voids, refunds, completions
	// and their voids).
	OrigRef *OrigRef `json:",omitempty"`
	// SettleResult is a cup settlement answer's result digits, domestic
	// then foreign: 1 balanced, 2 not balanced, 3 error ("" derives both
	// from ResponseCode).
	SettleResult string `json:",omitempty"`
	// Uploads are the transactions of one cup batch-upload message (up to
	// eight).
	Uploads []Upload `json:",omitempty"`
	// Extra are fields a host requires that posim does not fill itself
	// (private fields such as DE48 or DE63), by number, as the spec's
	// string form; they are set last and win over posim's own.
	Extra map[int]string `json:",omitempty"`
}

// setExtra sets a request's extra fields on m.
func setExtra(m FieldSink, spec *iso8583.MessageSpec, extra map[int]string) error {
	ids := make([]int, 0, len(extra))
	for id := range extra {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if _, ok := spec.Fields[id]; !ok || id < 2 {
			return fmt.Errorf("field %d is not in the %s spec", id, spec.Name)
		}
		if err := m.Field(id, extra[id]); err != nil {
			return fmt.Errorf("setting DE%d: %w", id, err)
		}
	}
	return nil
}

// OrigRef is DE61: 61.1 the original's batch n6, 61.2 its trace number n6,
// 61.3 its date MMDD n4; a part not known is zeros.
type OrigRef struct {
	Batch string `json:"batch,omitempty"`
	STAN  string `json:"stan,omitempty"`
	Date  string `json:"date,omitempty"`
}

// Upload is one transaction of a batch upload: the terminal's view of it.
type Upload struct {
	STAN string `json:"stan"`
	// PAN is kept in JSON: a data directory's op log replays batch
	// uploads; nothing shows an Upload to a person.
	PAN     string `json:"pan,omitempty"`
	Amount  int64  `json:"amount"`
	Foreign bool   `json:"foreign,omitempty"`
}

// CardOrganisation is the international card organisation of a PAN, as a
// CUP host names it in DE63.1: CUP (62, 81), VIS (4), MCC (51-55,
// 2221-2720), AMX (34, 37), JCB (3528-3589), else "" (unknown).
func CardOrganisation(pan string) string {
	if len(pan) < 4 || !allDigits(pan[:4]) {
		return ""
	}
	p2, _ := strconv.Atoi(pan[:2])
	p4, _ := strconv.Atoi(pan[:4])
	switch {
	case p2 == 62 || p2 == 81:
		return "CUP"
	case pan[0] == '4':
		return "VIS"
	case (p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720):
		return "MCC"
	case p2 == 34 || p2 == 37:
		return "AMX"
	case p4 >= 3528 && p4 <= 3589:
		return "JCB"
	}
	return ""
}

// IsResponse reports whether the MTI is a response or an advice response.
func (t *Txn) IsResponse() bool {
	return len(t.MTI) == 4 && (t.MTI[2] == '1' || t.MTI[2] == '3')
}

// IsRepeat reports whether the MTI marks a repeat (0401, 0221, 0421 ...).
func (t *Txn) IsRepeat() bool {
	return len(t.MTI) == 4 && t.MTI[3] == '1'
}

// ResponseMTI returns the MTI of the response to a request MTI: the function
// digit goes up by one and a repeat flag is cleared (0401 → 0410).
func ResponseMTI(mti string) (string, error) {
	if len(mti) != 4 {
		return "", fmt.Errorf("MTI %q: want 4 digits", mti)
	}
	for _, c := range mti {
		if c < '0' || c > '9' {
			return "", fmt.Errorf("MTI %q: want 4 digits", mti)
		}
	}
	switch mti[2] {
	case '0', '2', '4':
	default:
		return "", fmt.Errorf("MTI %s is not a request or advice", mti)
	}
	if r, ok := responseMTIs[mti]; ok {
		return r, nil
	}
	return mti[:2] + string(mti[2]+1) + "0", nil
}

// responseMTIs holds the answers to the common requests, so that answering
// one allocates nothing.
var responseMTIs = map[string]string{
	"0100": "0110", "0101": "0110", "0120": "0130", "0121": "0130",
	"0200": "0210", "0201": "0210", "0220": "0230", "0221": "0230",
	"0320": "0330", "0321": "0330", "0400": "0410", "0401": "0410",
	"0420": "0430", "0421": "0430", "0500": "0510", "0520": "0530",
	"0800": "0810", "0820": "0830",
}

// Response returns the skeleton of the response to t: the response MTI and the
// fields a response echoes (DE2, 3, 4, 7, 11, 12, 13, 25, 41, 42, 49, 60, 70).
// Tracks, PIN block and MAC are never echoed.
func (t *Txn) Response(code string) *Txn {
	mti, err := ResponseMTI(t.MTI)
	if err != nil {
		mti = t.MTI
	}
	return &Txn{
		MTI:              mti,
		Op:               t.Op,
		ProcessingCode:   t.ProcessingCode,
		PAN:              t.PAN,
		Amount:           t.Amount,
		HasAmount:        t.HasAmount,
		TransmissionTime: t.TransmissionTime,
		STAN:             t.STAN,
		LocalTime:        t.LocalTime,
		LocalDate:        t.LocalDate,
		Condition:        t.Condition,
		ResponseCode:     code,
		TID:              t.TID,
		MID:              t.MID,
		Currency:         t.Currency,
		Batch:            t.Batch,
		DE60:             t.DE60,
		NetworkCode:      t.NetworkCode,
		Original:         t.Original,
		MAC:              macPlaceholder(t.MAC),
	}
}

// macPlaceholder marks a response to a MACed request for signing.
func macPlaceholder(mac []byte) []byte {
	if len(mac) == 0 {
		return nil
	}
	return make([]byte, 8)
}

// Describe returns a short one-line summary safe to log: the PAN is masked and
// no track data or PIN block is included.
func (t *Txn) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", t.MTI)
	if t.Op != OpUnknown {
		fmt.Fprintf(&b, " %s", t.Op)
	}
	if t.STAN != "" {
		fmt.Fprintf(&b, " stan=%s", t.STAN)
	}
	if t.PAN != "" {
		fmt.Fprintf(&b, " pan=%s", MaskPAN(t.PAN))
	}
	if t.HasAmount {
		fmt.Fprintf(&b, " amount=%s", FormatAmount(t.Amount))
	}
	if t.ResponseCode != "" {
		fmt.Fprintf(&b, " rc=%s", t.ResponseCode)
	}
	return b.String()
}

// TransmissionTimeOf formats a DE7 value (MMDDhhmmss, UTC).
func TransmissionTimeOf(now time.Time) string {
	return now.UTC().Format("0102150405")
}

// ParseAmount parses a decimal amount such as "12.34" or "100" into minor
// units (two decimals). Negative amounts, more than two decimals and amounts
// that do not fit DE4 are errors.
func ParseAmount(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("amount is empty")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if hasDot && (len(frac) == 0 || len(frac) > 2) {
		return 0, fmt.Errorf("amount %q: want at most two decimals, like 12.34", s)
	}
	if whole == "" {
		whole = "0"
	}
	for len(frac) < 2 {
		frac += "0"
	}
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("amount %q: want digits and one decimal point, like 12.34", s)
		}
	}
	if len(whole) > 10 {
		return 0, fmt.Errorf("amount %q is too large for DE4 (12 digits)", s)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f, nil
}

// FormatAmount formats minor units as a decimal with two places ("12.34").
func FormatAmount(minor int64) string {
	sign, u := "", uint64(minor)
	if minor < 0 {
		sign, u = "-", -u // in uint64: the most negative int64 too
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// FieldSource is what a profile decodes a message from: a moov message, or
// the Fields of a compiled spec.
type FieldSource interface {
	GetMTI() (string, error)
	GetString(id int) (string, error)
}

// FieldSink is what a profile encodes a message to: a moov message, or the
// Builder of a compiled spec.
type FieldSink interface {
	MTI(mti string)
	Field(id int, v string) error
}

// CompiledProfile is a profile whose messages a compiled spec reads and writes
// (the built-in iso87 and cup): the hot paths of the acquirer and the load
// generator use it instead of moov messages.
type CompiledProfile interface {
	Profile
	// Compiled is the compiled form of Spec.
	Compiled() *CompiledSpec
	// EncodeTo is Encode onto a field sink.
	EncodeTo(t *Txn, m FieldSink) error
	// DecodeFrom is Decode from a field source.
	DecodeFrom(m FieldSource) (*Txn, error)
}
