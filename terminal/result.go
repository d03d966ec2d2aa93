package terminal

import (
	"errors"
	"fmt"

	"github.com/posim/posim/wire"
)

// Outcome is how an operation ended, as the terminal sees it.
type Outcome string

// Outcomes. Terminal-local outcomes (no response, refused, invalid
// response, blocked) are not DE39 codes.
const (
	Approved        Outcome = "approved"
	Declined        Outcome = "declined"
	NoResponse      Outcome = "no_response"
	Refused         Outcome = "refused"
	InvalidResponse Outcome = "invalid_response"
	Blocked         Outcome = "blocked"
	PowerCut        Outcome = "power_cut"
	// ChipDeclined: the chip card refused at its first GENERATE AC
	// (offline decline; nothing was sent) or refused an approval the host
	// gave (the terminal reversed it).
	ChipDeclined Outcome = "chip_declined"
)

// Sentinel errors returned with the matching outcomes.
var (
	// ErrNoResponse: the request went out and no valid response came in time.
	ErrNoResponse = errors.New("no response from the acquirer")
	// ErrRefused: the terminal could not connect; nothing was sent.
	ErrRefused = errors.New("could not connect to the acquirer")
	// ErrInvalidResponse: a response came that does not match the request (R4).
	ErrInvalidResponse = errors.New("response does not match the request")
	// ErrBlocked: a reversal could not be delivered and the terminal is set to
	// block until it is.
	ErrBlocked = errors.New("terminal blocked: a reversal is still pending")
	// ErrPowerCut: the terminal lost power (a scenario fault); restart it.
	ErrPowerCut = errors.New("terminal power cut")
	// ErrNothingToReverse: an explicit reversal found nothing to reverse.
	ErrNothingToReverse = errors.New("nothing to reverse")
)

// DeclinedError is returned when the acquirer answers with a code other
// than 00.
type DeclinedError struct {
	Code    string
	Meaning string
}

func (e *DeclinedError) Error() string {
	return fmt.Sprintf("declined %s (%s)", e.Code, e.Meaning)
}

// ReversalSent is one attempt to deliver a pending reversal.
type ReversalSent struct {
	MTI          string  `json:"mti"`
	STAN         string  `json:"stan"`
	OriginalSTAN string  `json:"original_stan"`
	Reason       string  `json:"reason"`
	Outcome      Outcome `json:"outcome"`
	ResponseCode string  `json:"response_code,omitempty"`
}

// SettlementResult describes a settlement run.
type SettlementResult struct {
	Batch    string       `json:"batch"`
	Balanced bool         `json:"balanced"`
	Terminal wire.Totals  `json:"terminal_totals"`
	Host     *wire.Totals `json:"host_totals,omitempty"`
	Uploaded int          `json:"uploaded"`
	// TCUploaded counts the chip transactions whose certificate (TC)
	// went to the host after the settlement; TCPending those still to go.
	TCUploaded int `json:"tc_uploaded"`
	TCPending  int `json:"tc_pending,omitempty"`
}

// LateResponse is a response that arrived after the terminal gave up.
type LateResponse struct {
	MTI          string `json:"mti"`
	STAN         string `json:"stan"`
	ResponseCode string `json:"response_code"`
}

// Result is what one terminal operation did, ready to print as JSON. The PAN
// is masked.
type Result struct {
	Operation       string            `json:"operation"`
	Outcome         Outcome           `json:"outcome"`
	ResponseCode    string            `json:"response_code"`
	Meaning         string            `json:"meaning"`
	Display         string            `json:"display"`
	DisplayZH       string            `json:"display_zh"`
	STAN            string            `json:"stan"`
	RRN             string            `json:"rrn"`
	AuthCode        string            `json:"auth_code"`
	PAN             string            `json:"pan"`
	Amount          string            `json:"amount"`
	Currency        string            `json:"currency"`
	TID             string            `json:"tid"`
	MID             string            `json:"mid"`
	Batch           string            `json:"batch"`
	Balance         string            `json:"balance,omitempty"`
	ReversalPending bool              `json:"reversal_pending"`
	ReversalsSent   []ReversalSent    `json:"reversals_sent"`
	ReversalDropped bool              `json:"reversal_dropped,omitempty"`
	SignedOnFirst   bool              `json:"signed_on_first,omitempty"`
	Settlement      *SettlementResult `json:"settlement,omitempty"`
	LateResponses   []LateResponse    `json:"late_responses,omitempty"`
	Chip            *ChipResult       `json:"chip,omitempty"`
	Download        *DownloadResult   `json:"download,omitempty"`
	// Receipt is the slip of a transaction that went to the host
	// (approved or not); nil for network management, settlement and
	// anything that never left the terminal.
	Receipt *Receipt `json:"receipt,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// finish fills the outcome-derived fields and returns the matching error.
func (r *Result) finish(o Outcome, code string, err error) error {
	r.Outcome, r.ResponseCode = o, code
	if code != "" {
		r.Meaning = wire.Meaning(code, "en")
	}
	r.Display, r.DisplayZH = display(o, code)
	if o == Declined && merchantShort(r.Operation, code) {
		r.Display, r.DisplayZH = "DECLINED 51: MERCHANT BALANCE INSUFFICIENT", "交易失败 51：商户余额不足"
	}
	switch {
	case errors.Is(err, ErrNothingToReverse):
		// nothing went on the line: say what happened, not a connection failure
		r.Display, r.DisplayZH = "NOTHING TO REVERSE", "无可冲正的交易"
	case errors.Is(err, ErrStateLocked):
		r.Display, r.DisplayZH = "TERMINAL IN USE, TRY AGAIN", "终端正忙，请稍后重试"
	}
	if r.ReversalDropped {
		r.Display = "REVERSAL FAILED, CALL SUPPORT / " + r.Display
		r.DisplayZH = "冲正不成功，请与客服联系 / " + r.DisplayZH
	}
	if o == Declined && err == nil {
		err = &DeclinedError{Code: code, Meaning: r.Meaning}
	}
	r.Error = ""
	if err != nil {
		r.Error = err.Error()
	}
	return err
}

// merchantShort reports a refund declined 51: the payer of a refund is the
// merchant, and its balance at the acquirer cannot cover it (商户余额不足).
func merchantShort(op, code string) bool { return code == "51" && op == string(wire.OpRefund) }

// display is what the terminal screen shows, in English and Chinese.
func display(o Outcome, code string) (string, string) {
	switch o {
	case Approved:
		return "APPROVED", "交易成功"
	case ChipDeclined:
		return "CARD DECLINED, TRANSACTION FAILED", "卡片拒绝，交易失败"
	case Declined:
		return fmt.Sprintf("DECLINED %s: %s", code, wire.Meaning(code, "en")), fmt.Sprintf("交易失败 %s：%s", code, wire.Meaning(code, "zh"))
	case NoResponse:
		return "NO RESPONSE, TRANSACTION FAILED", "交易超时，请重试"
	case Refused:
		return "CONNECTION FAILED", "通讯失败，请重试"
	case InvalidResponse:
		return "INVALID RESPONSE, TRANSACTION FAILED", "接收数据错误，交易失败"
	case Blocked:
		return "REVERSAL PENDING, CALL SUPPORT", "冲正未完成，请与客服联系"
	case PowerCut:
		return "", ""
	}
	return "", ""
}
