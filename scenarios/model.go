package scenarios

import (
	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/faults"
	"github.com/posim/posim/yamlx"
)

// Duration is a duration written as "30s", "250ms", "10m", "2h" or "3d".
type Duration = yamlx.Duration

// Text is a string in English and Chinese.
type Text struct {
	EN string `yaml:"en" json:"en"`
	ZH string `yaml:"zh" json:"zh"`
}

// In returns the text in lang ("zh" or "en"), falling back to English.
func (t Text) In(lang string) string {
	if lang == "zh" && t.ZH != "" {
		return t.ZH
	}
	return t.EN
}

// Scenario is one scenario file.
type Scenario struct {
	Name     string        `yaml:"name" json:"name"`
	Title    Text          `yaml:"title" json:"title"`
	Story    Text          `yaml:"story" json:"story"`
	Source   string        `yaml:"source" json:"source"`
	Tags     []string      `yaml:"tags" json:"tags"`
	Profiles []string      `yaml:"profiles" json:"profiles"`
	Seed     int64         `yaml:"seed" json:"seed"`
	Setup    Setup         `yaml:"setup" json:"setup"`
	Rules    []faults.Rule `yaml:"rules" json:"rules"`
	Steps    []Step        `yaml:"steps" json:"steps"`
	Expect   Expect        `yaml:"expect" json:"expect"`

	// File is where the scenario was loaded from.
	File string `yaml:"-" json:"file"`
}

// HasTag reports whether the scenario carries one of tags.
func (s *Scenario) HasTag(tags ...string) bool {
	for _, t := range tags {
		for _, mine := range s.Tags {
			if t == mine {
				return true
			}
		}
	}
	return false
}

// Supports reports whether the scenario runs under the profile.
func (s *Scenario) Supports(profile string) bool { return forProfile(s.Profiles, profile) }

// Setup is what exists before the first step.
type Setup struct {
	Cards     []cards.CardSpec `yaml:"cards" json:"cards,omitempty"`
	Merchants []cards.Merchant `yaml:"merchants" json:"merchants,omitempty"`
	Terminals []cards.Terminal `yaml:"terminals" json:"terminals,omitempty"`
	Terminal  TerminalSetup    `yaml:"terminal" json:"terminal"`
	Acquirer  AcquirerSetup    `yaml:"acquirer" json:"acquirer"`
	// BackOffice turns on the business day, contracts and payouts.
	BackOffice *BackOfficeSetup `yaml:"backoffice" json:"backoffice,omitempty"`
}

// TerminalSetup configures the emulated terminal.
type TerminalSetup struct {
	TID            string        `yaml:"tid" json:"tid,omitempty"`
	MID            string        `yaml:"mid" json:"mid,omitempty"`
	Timeout        *Duration     `yaml:"timeout" json:"timeout,omitempty"`
	ConnectTimeout *Duration     `yaml:"connect_timeout" json:"connect_timeout,omitempty"`
	Reversal       ReversalSetup `yaml:"reversal" json:"reversal"`
	// Retransmit makes the terminal resend an unanswered request with the
	// same STAN up to this many times before giving up.
	Retransmit int `yaml:"retransmit" json:"retransmit,omitempty"`
	// SkipTCUpload settles without uploading chip certificates (a fault).
	SkipTCUpload bool `yaml:"skip_tc_upload" json:"skip_tc_upload,omitempty"`
	// ChipDownload (cup) runs the downloads a sign-on's answer asks for
	// (chip keys and parameters, terminal parameters, blacklist); off by
	// default so that STANs stay as written.
	ChipDownload bool `yaml:"chip_download" json:"chip_download,omitempty"`
	// Write makes a slow or fragmenting link: each frame leaves in chunks.
	Write *WriteSetup `yaml:"write" json:"write,omitempty"`
	// TPDU and Header (cup) are what the terminal sends, in hex.
	TPDU   string `yaml:"tpdu" json:"tpdu,omitempty"`
	Header string `yaml:"header" json:"header,omitempty"`
	// AutoSignOn makes the terminal sign on by itself before its first
	// transaction and whenever the host asks it to (77, A0, 99); the
	// default is true under a dialect with working keys (cup).
	AutoSignOn *bool `yaml:"auto_signon" json:"auto_signon,omitempty"`
}

// WriteSetup cuts the terminal's frames into Chunk-byte pieces, Gap apart.
type WriteSetup struct {
	Chunk int      `yaml:"chunk" json:"chunk"`
	Gap   Duration `yaml:"gap" json:"gap,omitempty"`
}

// ReversalSetup configures the terminal's reversal rules.
type ReversalSetup struct {
	Retries       *int   `yaml:"retries" json:"retries,omitempty"`
	WhenExhausted string `yaml:"when_exhausted" json:"when_exhausted,omitempty"`
	Immediate     bool   `yaml:"immediate" json:"immediate,omitempty"`
}

// AcquirerSetup configures the acquirer's policies.
type AcquirerSetup struct {
	Duplicate        string        `yaml:"duplicate" json:"duplicate,omitempty"`
	ReversalUnknown  string        `yaml:"reversal_unknown" json:"reversal_unknown,omitempty"`
	ReversalRepeat   string        `yaml:"reversal_repeat" json:"reversal_repeat,omitempty"`
	ReversalDeclined string        `yaml:"reversal_declined" json:"reversal_declined,omitempty"`
	LateReversal     string        `yaml:"late_reversal" json:"late_reversal,omitempty"`
	Unsigned         string        `yaml:"unsigned" json:"unsigned,omitempty"`
	ARQCFailure      string        `yaml:"arqc_failure" json:"arqc_failure,omitempty"`
	Fallback         string        `yaml:"fallback" json:"fallback,omitempty"`
	Limits           LimitsSetup   `yaml:"limits" json:"limits"`
	Velocity         VelocitySetup `yaml:"velocity" json:"velocity"`
	PINTries         int           `yaml:"pin_tries" json:"pin_tries,omitempty"`
	MagicAmounts     *bool         `yaml:"magic_amounts" json:"magic_amounts,omitempty"`
	// TPDU and Header (cup) are what the host expects, in hex; Mismatch is
	// what it does with other frames: discard (default), reject or accept.
	TPDU     string `yaml:"tpdu" json:"tpdu,omitempty"`
	Header   string `yaml:"header" json:"header,omitempty"`
	Mismatch string `yaml:"mismatch" json:"mismatch,omitempty"`
	// HeaderMatch is how the header is compared: version (default: all but
	// the software sub-version) or exact.
	HeaderMatch  string `yaml:"header_match" json:"header_match,omitempty"`
	AutoRegister *bool  `yaml:"auto_register" json:"auto_register,omitempty"`
	// RefundOverBalance: allow (default) or the code that declines a
	// refund of a settled sale the merchant's balance cannot cover.
	RefundOverBalance string `yaml:"refund_over_balance" json:"refund_over_balance,omitempty"`
	// CardTypeRefused: 57 (default) or 58, for a card its merchant may not
	// take (a merchant's refuse list).
	CardTypeRefused string `yaml:"card_type_refused" json:"card_type_refused,omitempty"`
	// MACKey (cup): how sign-ons deliver the MAC key under key set 003 or
	// 004: single (default, 8 bytes and 8 zero bytes) or double.
	MACKey string `yaml:"mac_key" json:"mac_key,omitempty"`
	// TransportKey (cup, hex): the key master key downloads (350) are
	// sent under; none: they are refused 40.
	TransportKey string `yaml:"transport_key" json:"transport_key,omitempty"`
	// Review puts a merchant under review after a run of declines.
	Review *acquirer.ReviewRule `yaml:"review" json:"review,omitempty"`
}

// LimitsSetup holds the acquirer's amount and count limits.
type LimitsSetup struct {
	MaxAmount   string `yaml:"max_amount" json:"max_amount,omitempty"`
	DailyAmount string `yaml:"daily_amount" json:"daily_amount,omitempty"`
	DailyCount  int    `yaml:"daily_count" json:"daily_count,omitempty"`
}

// VelocitySetup is the same-card-same-merchant rule: Count approved sales
// within Window, then 59.
type VelocitySetup struct {
	Count  int      `yaml:"count" json:"count,omitempty"`
	Window Duration `yaml:"window" json:"window,omitempty"`
}

// Step is one thing the emulated terminal (or the world around it) does.
type Step struct {
	// Op is the step's kind: sale, preauth, completion, void, refund,
	// balance, reversal, echo, signon, signoff, settle, wait, advance,
	// restart, reconnect, host_down, host_up.
	Op string `json:"op"`
	// Args holds the operation's arguments.
	Args OpArgs `json:"args"`
	// Duration is the argument of wait, advance and host_down.
	Duration Duration `json:"duration,omitempty"`
	// Target is the argument of restart: terminal or acquirer.
	Target string `json:"target,omitempty"`
	// Repeat runs the step this many times (default 1).
	Repeat int `json:"repeat,omitempty"`
	// Profiles limits the step to these dialects (default: all).
	Profiles []string `json:"profiles,omitempty"`
	// Expect checks the step's result (the last one when repeated).
	Expect *StepExpect `json:"expect,omitempty"`
	// Line is where the step starts in its file.
	Line int `json:"line"`
}

// OpArgs are the arguments of a terminal operation.
type OpArgs struct {
	Card            string `yaml:"card" json:"card,omitempty"`
	PAN             string `yaml:"pan" json:"pan,omitempty"`
	Amount          string `yaml:"amount" json:"amount,omitempty"`
	PIN             string `yaml:"pin" json:"pin,omitempty"`
	NoPIN           bool   `yaml:"no_pin" json:"no_pin,omitempty"`
	RRN             string `yaml:"rrn" json:"rrn,omitempty"`
	RRNOf           int    `yaml:"rrn_of" json:"rrn_of,omitempty"` // the step whose transaction's RRN (as the host booked it) to use
	AuthCode        string `yaml:"auth_code" json:"auth_code,omitempty"`
	STAN            string `yaml:"stan" json:"stan,omitempty"`
	TID             string `yaml:"tid" json:"tid,omitempty"`
	MID             string `yaml:"mid" json:"mid,omitempty"`
	PowerCut        string `yaml:"power_cut" json:"power_cut,omitempty"`
	CloseBeforeRead bool   `yaml:"close_before_read" json:"close_before_read,omitempty"`
	BadMAC          bool   `yaml:"bad_mac" json:"bad_mac,omitempty"`
	// CardResponse makes a chip card behave otherwise for this step:
	// aac, remove_early or offline_decline.
	CardResponse string `yaml:"card_response" json:"card_response,omitempty"`
	// Fallback swipes a chip card (DE22 80x).
	Fallback bool `yaml:"fallback" json:"fallback,omitempty"`
	// disputes (back office): the reason code and fee of a chargeback, the
	// outcome of a representment
	Reason string `yaml:"reason" json:"reason,omitempty"`
	Fee    string `yaml:"fee" json:"fee,omitempty"`
	Won    bool   `yaml:"won" json:"won,omitempty"`
	// settlement_account (back office): corrected, or wrong_account,
	// closed_account, name_mismatch; MID names the merchant (default the
	// terminal's).
	Status string `yaml:"status" json:"status,omitempty"`
}

// StepExpect is what a step's result must show.
type StepExpect struct {
	Outcome         string `yaml:"outcome" json:"outcome,omitempty"`
	ResponseCode    string `yaml:"response_code" json:"response_code,omitempty"`
	ReversalPending *bool  `yaml:"reversal_pending" json:"reversal_pending,omitempty"`
	ReversalsSent   *int   `yaml:"reversals_sent" json:"reversals_sent,omitempty"`
	ReversalReason  string `yaml:"reversal_reason" json:"reversal_reason,omitempty"`
	ReversalDropped *bool  `yaml:"reversal_dropped" json:"reversal_dropped,omitempty"`
	Display         string `yaml:"display" json:"display,omitempty"`
	LateResponses   *int   `yaml:"late_responses" json:"late_responses,omitempty"`
	Balance         string `yaml:"balance" json:"balance,omitempty"`
	// chip outcomes (terminal.ChipResult)
	ARQCVerified *bool           `yaml:"arqc_verified" json:"arqc_verified,omitempty"`
	ARPCVerified *bool           `yaml:"arpc_verified" json:"arpc_verified,omitempty"`
	SecondAC     string          `yaml:"second_ac" json:"second_ac,omitempty"`
	ScriptResult string          `yaml:"script_result" json:"script_result,omitempty"`
	Settlement   *SettlementStep `yaml:"settlement" json:"settlement,omitempty"`
	// Receipt is what the transaction's receipt (签购单) must show.
	Receipt *ReceiptExpect `yaml:"receipt" json:"receipt,omitempty"`
}

// ReceiptExpect is what a step's receipt must show. A receipt that
// carries an RRN is also checked against the acquirer's books: the record
// with that RRN must have the receipt's trace number and auth code.
type ReceiptExpect struct {
	Trace    int   `yaml:"trace" json:"trace,omitempty"`         // the STAN, counted from the scenario's first
	RRN      *bool `yaml:"rrn" json:"rrn,omitempty"`             // it carries a reference number
	AuthCode *bool `yaml:"auth_code" json:"auth_code,omitempty"` // it carries an authorisation code
	Reversed *bool `yaml:"reversed" json:"reversed,omitempty"`   // it names a reversal the host accepted
}

// SettlementStep is what a settle step must show.
type SettlementStep struct {
	Balanced *bool `yaml:"balanced" json:"balanced,omitempty"`
	Uploaded *int  `yaml:"uploaded" json:"uploaded,omitempty"`
	// TCUploaded counts the chip certificates uploaded after settlement.
	TCUploaded *int `yaml:"tc_uploaded" json:"tc_uploaded,omitempty"`
}

// Expect is the end state after the last step.
type Expect struct {
	// Records must each match one record of the acquirer's ledger.
	Records []RecordExpect `yaml:"records" json:"records,omitempty"`
	// Received counts the messages the acquirer received, by MTI.
	Received map[string]int `yaml:"received" json:"received,omitempty"`
	// Reversals counts the reversal messages received (0400, 0401, 0420,
	// 0421), whatever the dialect calls a repeat.
	Reversals *int `yaml:"reversals" json:"reversals,omitempty"`
	// Order is the exact sequence of MTIs the acquirer received.
	Order []string `yaml:"order" json:"order,omitempty"`
	// Within bounds how long after one message another arrived.
	Within []WithinExpect `yaml:"within" json:"within,omitempty"`
	// Journal counts journal entries by kind (orphan, duplicate, bad_frame,
	// fault, late_reversal, settlement).
	Journal map[string]int `yaml:"journal" json:"journal,omitempty"`
	// Balances are card balances at the acquirer, by alias.
	Balances map[string]string `yaml:"balances" json:"balances,omitempty"`
	// Held are card holds at the acquirer, by alias.
	Held map[string]string `yaml:"held" json:"held,omitempty"`
	// Settlement describes the last settlement.
	Settlement *SettlementExpect `yaml:"settlement" json:"settlement,omitempty"`
	// Terminal describes the terminal's state.
	Terminal *TerminalExpect `yaml:"terminal" json:"terminal,omitempty"`
	// Fees pins the fee reconciliation report.
	Fees *FeeExpect `yaml:"fees" json:"fees,omitempty"`
	// Lines are merchant settlement lines that must exist.
	Lines []LineExpect `yaml:"lines" json:"lines,omitempty"`
	// Statements are merchant statements to check.
	Statements []StatementExpect `yaml:"statements" json:"statements,omitempty"`
}

// RecordExpect matches a ledger record by its STAN (or, without one, the
// first record of its op) and the fields given.
type RecordExpect struct {
	STAN   int    `yaml:"stan" json:"stan,omitempty"`
	MTI    string `yaml:"mti" json:"mti,omitempty"`
	Op     string `yaml:"op" json:"op,omitempty"`
	Status string `yaml:"status" json:"status,omitempty"`
	Reason string `yaml:"reason" json:"reason,omitempty"`
	RC     string `yaml:"rc" json:"rc,omitempty"`
	Amount string `yaml:"amount" json:"amount,omitempty"`
	// TCUploaded: the chip transaction's certificate reached the host.
	TCUploaded *bool `yaml:"tc_uploaded" json:"tc_uploaded,omitempty"`
}

// WithinExpect: the first MTI received after the first After arrived within
// Max of it (scenario time).
type WithinExpect struct {
	MTI   string   `yaml:"mti" json:"mti"`
	After string   `yaml:"after" json:"after"`
	Max   Duration `yaml:"max" json:"max"`
}

// SettlementExpect describes the last settlement at the acquirer.
type SettlementExpect struct {
	Balanced      *bool                `yaml:"balanced" json:"balanced,omitempty"`
	Count         *int                 `yaml:"count" json:"count,omitempty"`
	Discrepancies *[]DiscrepancyExpect `yaml:"discrepancies" json:"discrepancies,omitempty"`
}

// DiscrepancyExpect is one expected discrepancy: Amount is the host's
// (the terminal's for terminal_only), TerminalAmount the terminal's.
type DiscrepancyExpect struct {
	Kind           string `yaml:"kind" json:"kind"`
	STAN           int    `yaml:"stan" json:"stan,omitempty"`
	Amount         string `yaml:"amount" json:"amount,omitempty"`
	TerminalAmount string `yaml:"terminal_amount" json:"terminal_amount,omitempty"`
}

// TerminalExpect describes the terminal's state.
type TerminalExpect struct {
	PendingReversal *bool `yaml:"pending_reversal" json:"pending_reversal,omitempty"`
	Log             *int  `yaml:"log" json:"log,omitempty"`
	Batch           *int  `yaml:"batch" json:"batch,omitempty"`
}
