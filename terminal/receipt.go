package terminal

import (
	"fmt"
	"io"
	"strings"

	"github.com/posim/posim/wire"
)

// Receipt is the slip (签购单) a UnionPay POS prints for a transaction, the
// one the merchant keeps: who, which card (masked), what, and the numbers
// the bank asks for when the merchant calls (batch, trace, reference and
// authorisation code). A transaction that failed gets one too, with the
// reason and what to do: the failures merchants are told to keep a slip
// of are those where the card may have been debited (no answer) and the
// trace number of the reversal is what settles the question.
type Receipt struct {
	Merchant string `json:"merchant_name,omitempty"` // 商户名称
	MID      string `json:"mid"`                     // 商户编号
	TID      string `json:"tid"`                     // 终端编号
	Operator string `json:"operator,omitempty"`      // 操作员号
	Card     string `json:"card"`                    // 卡号, masked
	// CardOrganisation is the card's international organisation (63.1 of
	// a cup answer, else from the card number): CUP, VIS, MCC ...
	CardOrganisation string  `json:"card_organisation,omitempty"`
	Issuer           string  `json:"issuer,omitempty"`   // 发卡行 (DE44, cup)
	Acquirer         string  `json:"acquirer,omitempty"` // 收单行 (DE32, cup)
	Operation        string  `json:"operation"`          // sale, void, refund ...
	Type             string  `json:"type"`               // SALE
	TypeZH           string  `json:"type_zh"`            // 消费
	Batch            string  `json:"batch"`              // 批次号
	Trace            string  `json:"trace"`              // 凭证号 (STAN)
	RRN              string  `json:"rrn,omitempty"`      // 参考号
	AuthCode         string  `json:"auth_code,omitempty"`
	Time             string  `json:"time"` // 日期/时间, YYYY/MM/DD hh:mm:ss
	Amount           string  `json:"amount"`
	Currency         string  `json:"currency,omitempty"`
	Outcome          Outcome `json:"outcome"`
	ResponseCode     string  `json:"response_code,omitempty"`
	// Reason and Advice, for a failure: why, and what the merchant does.
	Reason   string `json:"reason,omitempty"`
	ReasonZH string `json:"reason_zh,omitempty"`
	Advice   string `json:"advice,omitempty"`
	AdviceZH string `json:"advice_zh,omitempty"`
	// Reversal is the reversal the terminal sent for this transaction:
	// its trace number and how it ended.
	Reversal *ReversalSent `json:"reversal,omitempty"`
}

// receipt makes the slip of a finished operation: req is what went out,
// resp the answer (nil: none).
func (t *Terminal) receipt(res *Result, req, resp *wire.Txn) {
	op, ok := Lookup(res.Operation)
	if !ok || op.Receipt == "" || req == nil || req.STAN == "" {
		return // nothing went out: no slip
	}
	at := t.stamped
	r := &Receipt{
		Merchant: t.cfg.MerchantName, MID: t.cfg.MID, TID: t.cfg.TID, Operator: t.cfg.Operator,
		Card: wire.MaskPAN(req.PAN), CardOrganisation: wire.CardOrganisation(req.PAN),
		Operation: res.Operation, Type: op.Receipt, TypeZH: op.ReceiptZH,
		Batch: req.Batch, Trace: req.STAN, RRN: res.RRN,
		Time: at.Format("2006/01/02 15:04:05"), Amount: res.Amount, Currency: res.Currency,
		Outcome: res.Outcome, ResponseCode: res.ResponseCode,
	}
	if res.Outcome == Approved {
		r.AuthCode = res.AuthCode // a slip that failed shows no authorisation code
	}
	if r.Batch == "" {
		r.Batch = t.batch()
	}
	if resp != nil {
		if org := strings.TrimSpace(resp.Private63); len(org) >= 3 && t.keyed() {
			r.CardOrganisation = org[:3]
		}
		if inst := resp.Institutions; len(inst) >= 11 {
			r.Issuer = strings.TrimSpace(inst[:11])
			r.Acquirer = strings.TrimSpace(inst[11:])
		}
		if resp.AcquirerID != "" {
			r.Acquirer = resp.AcquirerID
		}
	}
	for i := range res.ReversalsSent {
		if s := res.ReversalsSent[i]; s.OriginalSTAN == req.STAN {
			r.Reversal = &s
		}
	}
	r.Reason, r.ReasonZH, r.Advice, r.AdviceZH = advice(res, r)
	res.Receipt = r
}

// advice is why a transaction failed and what the merchant does about
// it, in English and Chinese (docs/domain.md, "Response codes and action classes").
func advice(res *Result, r *Receipt) (reason, reasonZH, what, whatZH string) {
	switch res.Outcome {
	case Approved:
		return "", "", "", ""
	case Declined:
		reason, reasonZH = wire.Meaning(res.ResponseCode, "en"), wire.Meaning(res.ResponseCode, "zh")
		c, _ := wire.LookupCode(res.ResponseCode)
		switch {
		case res.ResponseCode == "03" || res.ResponseCode == "58" || res.ResponseCode == "97":
			return reason, reasonZH, "The card was not debited. Call the acquirer with the merchant and terminal numbers.",
				"未扣款。请持商户编号和终端编号联系收单机构。"
		case merchantShort(res.Operation, res.ResponseCode):
			return "merchant balance insufficient", "商户余额不足",
				"The refund was not made: the merchant's balance at the acquirer cannot cover it. Wait for the next sales to settle, or ask the acquirer to take it from the next payout.",
				"退货未成功：商户在收单机构的余额不足。请待后续交易结算后再退货，或联系收单机构从下次结算款中扣除。"
		case res.ResponseCode == "57" || res.ResponseCode == "62":
			return reason, reasonZH, "The card was not debited. This card cannot be used here: ask for another card.",
				"未扣款。此卡不能在本商户使用，请换卡。"
		case c.Class == wire.ClassRetry:
			return reason, reasonZH, "The card was not debited. Try again.", "未扣款，请重试。"
		case c.Class == wire.ClassRetain:
			return reason, reasonZH, "The card was not debited. Keep the card and call the issuer.", "未扣款。请暂扣此卡并联系发卡行。"
		case c.Class == wire.ClassSystem:
			return reason, reasonZH, "The card was not debited. Try later; if it persists, call the acquirer.",
				"未扣款。请稍后重试；如仍失败，请联系收单机构。"
		}
		return reason, reasonZH, "The card was not debited. The cardholder should call the card issuer.",
			"未扣款。请持卡人联系发卡行。"
	case NoResponse, InvalidResponse, PowerCut:
		reason, reasonZH = "no answer from the bank", "交易超时，未收到银行应答"
		if res.Outcome == InvalidResponse {
			reason, reasonZH = "the bank's answer could not be checked", "银行应答校验失败"
		}
		trace := fmt.Sprintf("trace %s, batch %s, %s", r.Trace, r.Batch, r.Time)
		traceZH := fmt.Sprintf("凭证号 %s，批次号 %s，%s", r.Trace, r.Batch, r.Time)
		if v := r.Reversal; v != nil && v.Outcome == Approved {
			return reason, reasonZH,
				fmt.Sprintf("Do not hand over the goods. The terminal reversed the transaction (reversal trace %s): if the card was debited, the amount comes back. Keep this slip (%s).", v.STAN, trace),
				fmt.Sprintf("请勿交付商品。终端已冲正此交易（冲正凭证号 %s）：如已扣款，款项将退回。请保留此签购单（%s）。", v.STAN, traceZH)
		}
		return reason, reasonZH,
			fmt.Sprintf("Do not hand over the goods. The card may have been debited: the terminal reverses the transaction before the next one. Keep this slip and give the bank %s.", trace),
			fmt.Sprintf("请勿交付商品。卡可能已扣款：终端将在下一笔交易前自动冲正。请保留此签购单，并向银行提供%s。", traceZH)
	case Refused, Blocked:
		return "not sent to the bank", "交易未送达银行", "The card was not debited. Check the line to the bank and try again.",
			"未扣款。请检查与银行的通讯后重试。"
	case ChipDeclined:
		if v := r.Reversal; v != nil {
			reason, reasonZH = "the bank approved, the card refused", "银行已批准，卡片拒绝交易"
			if v.Outcome == Approved {
				return reason, reasonZH,
					fmt.Sprintf("Do not hand over the goods. The terminal reversed the bank's approval (reversal trace %s): the amount comes back to the card. Ask for another card or payment.", v.STAN),
					fmt.Sprintf("请勿交付商品。终端已冲正银行的批准（冲正凭证号 %s）：款项将退回卡上。请换卡或更换支付方式。", v.STAN)
			}
			return reason, reasonZH,
				"Do not hand over the goods. The bank approved but the card refused: the terminal reverses the approval before the next transaction. Ask for another card or payment.",
				"请勿交付商品。银行已批准但卡片拒绝：终端将在下一笔交易前冲正。请换卡或更换支付方式。"
		}
		return "declined by the card", "卡片拒绝交易", "The card refused the transaction. Ask for another card or payment.",
			"卡片拒绝此交易，请换卡或更换支付方式。"
	}
	return "", "", "", ""
}

// WriteReceipt prints the slip, in English or (lang "zh") in Chinese with
// the English labels beside, as UnionPay slips have them.
func WriteReceipt(w io.Writer, r *Receipt, lang string) error {
	if r == nil {
		_, err := io.WriteString(w, "no receipt: the operation prints none\n")
		return err
	}
	zh := lang == "zh"
	var b strings.Builder
	line := func(en, cn, v string) {
		if v == "" {
			return
		}
		if zh {
			fmt.Fprintf(&b, "%s(%s): %s\n", cn, en, v)
			return
		}
		fmt.Fprintf(&b, "%-17s %s\n", en+":", v)
	}
	if zh {
		b.WriteString("POS签购单 / POS SALES SLIP\n")
	} else {
		b.WriteString("POS SALES SLIP\n")
	}
	b.WriteString(strings.Repeat("-", 32) + "\n")
	typ := r.Type
	if zh {
		typ = r.TypeZH + " " + r.Type
	}
	amount := r.Amount
	if amount != "" {
		amount = currencySymbol(r.Currency) + " " + amount
	}
	for _, f := range []struct{ en, cn, v string }{
		{"MERCHANT NAME", "商户名称", r.Merchant}, {"MERCHANT NO.", "商户编号", r.MID}, {"TERMINAL NO.", "终端编号", r.TID},
		{"OPERATOR NO.", "操作员号", r.Operator}, {"CARD NO.", "卡号", r.Card}, {"CARD TYPE", "卡组织", r.CardOrganisation},
		{"ISSUER", "发卡行", r.Issuer}, {"ACQUIRER", "收单行", r.Acquirer}, {"TRANS TYPE", "交易类型", typ},
		{"BATCH NO.", "批次号", r.Batch}, {"TRACE NO.", "凭证号", r.Trace}, {"REF. NO.", "参考号", r.RRN},
		{"AUTH NO.", "授权码", r.AuthCode}, {"DATE/TIME", "日期/时间", r.Time}, {"AMOUNT", "金额", amount},
	} {
		line(f.en, f.cn, f.v)
	}
	b.WriteString(strings.Repeat("-", 32) + "\n")
	if r.Outcome == Approved {
		if zh {
			b.WriteString("交易成功 APPROVED\n持卡人签名(CARDHOLDER SIGNATURE):\n\n本人确认以上交易，同意将其记入本卡账户\n")
		} else {
			b.WriteString("APPROVED\nCARDHOLDER SIGNATURE:\n\nI ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES\n")
		}
	} else {
		reason, what, head := r.Reason, r.Advice, "TRANSACTION FAILED"
		if zh {
			reason, what, head = r.ReasonZH, r.AdviceZH, "交易失败 TRANSACTION FAILED"
		}
		if r.ResponseCode != "" {
			reason = r.ResponseCode + " " + reason
		}
		b.WriteString(head + "\n")
		line("REASON", "原因", reason)
		if v := r.Reversal; v != nil {
			line("REVERSAL TRACE", "冲正凭证号", v.STAN+" ("+string(v.Outcome)+")")
		}
		b.WriteString(what + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// currencySymbol is how a slip shows an ISO 4217 numeric currency.
func currencySymbol(code string) string {
	switch code {
	case "156", "":
		return "RMB"
	case "840":
		return "USD"
	case "978":
		return "EUR"
	case "344":
		return "HKD"
	}
	return code
}
