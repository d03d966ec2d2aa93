package terminal_test

import (
	"strings"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/terminal"
	"github.com/stretchr/testify/require"
)

// slipClock is the terminal's clock for receipts: the slip's date and time.
func slipClock(c *terminal.Config) {
	c.TID = "POSIM001"
	c.Clock = func() time.Time { return time.Date(2026, 11, 27, 22, 33, 53, 0, time.UTC) }
}

func TestReceipt_ApprovedSlip(t *testing.T) {
	t.Parallel()
	h := startScriptHost(t, approveAll)
	term := scriptTerminal(t, h, slipClock)
	res, err := term.Sale(t.Context(), terminal.Request{Amount: 1234})
	require.NoError(t, err)
	req := h.next(t)
	r := res.Receipt
	require.NotNil(t, r)
	require.Equal(t, req.STAN, r.Trace, "the trace the host got")
	require.Equal(t, "100000"+req.STAN, r.RRN, "the host's reference number")
	require.Equal(t, "A"+req.STAN[1:], r.AuthCode, "and authorisation code")

	tests := []struct{ lang, want string }{
		{"en", `POS SALES SLIP
--------------------------------
MERCHANT NAME:    POSIM TEST MERCHANT
MERCHANT NO.:     POSIM0000000001
TERMINAL NO.:     POSIM001
OPERATOR NO.:     001
CARD NO.:         620000******0005
CARD TYPE:        CUP
TRANS TYPE:       SALE
BATCH NO.:        000001
TRACE NO.:        000001
REF. NO.:         100000000001
AUTH NO.:         A00001
DATE/TIME:        2026/11/27 22:33:53
AMOUNT:           RMB 12.34
--------------------------------
APPROVED
CARDHOLDER SIGNATURE:

I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES
`},
		{"zh", `POS签购单 / POS SALES SLIP
--------------------------------
商户名称(MERCHANT NAME): POSIM TEST MERCHANT
商户编号(MERCHANT NO.): POSIM0000000001
终端编号(TERMINAL NO.): POSIM001
操作员号(OPERATOR NO.): 001
卡号(CARD NO.): 620000******0005
卡组织(CARD TYPE): CUP
交易类型(TRANS TYPE): 消费 SALE
批次号(BATCH NO.): 000001
凭证号(TRACE NO.): 000001
参考号(REF. NO.): 100000000001
授权码(AUTH NO.): A00001
日期/时间(DATE/TIME): 2026/11/27 22:33:53
金额(AMOUNT): RMB 12.34
--------------------------------
交易成功 APPROVED
持卡人签名(CARDHOLDER SIGNATURE):

本人确认以上交易，同意将其记入本卡账户
`},
	}
	for _, tt := range tests {
		var b strings.Builder
		require.NoError(t, terminal.WriteReceipt(&b, r, tt.lang))
		require.Equal(t, tt.want, b.String(), tt.lang)
	}
}

func TestReceipt_FailedSlips(t *testing.T) {
	t.Parallel()
	immediate := func(c *terminal.Config) { c.ImmediateReversal = true }
	tests := []struct {
		name     string
		script   hostScript
		tweak    func(*terminal.Config)
		outcome  terminal.Outcome
		rrn      string // on the slip
		en, zh   string // what follows the second rule
		reversal string // the reversal's trace on the slip
	}{
		{"declined: the reason and what the cardholder does", codeFor("0200", "51", approveAll), func(*terminal.Config) {},
			terminal.Declined, "100000000001", `TRANSACTION FAILED
REASON:           51 insufficient funds
The card was not debited. The cardholder should call the card issuer.
`, `交易失败 TRANSACTION FAILED
原因(REASON): 51 余额不足
未扣款。请持卡人联系发卡行。
`, ""},
		{"no answer: keep the slip, the terminal reverses before the next sale", hangUpOn("0200", 1, approveAll), func(*terminal.Config) {},
			terminal.NoResponse, "", `TRANSACTION FAILED
REASON:           no answer from the bank
Do not hand over the goods. The card may have been debited: the terminal reverses the transaction before the next one. Keep this slip and give the bank trace 000001, batch 000001, 2026/11/27 22:33:53.
`, `交易失败 TRANSACTION FAILED
原因(REASON): 交易超时，未收到银行应答
请勿交付商品。卡可能已扣款：终端将在下一笔交易前自动冲正。请保留此签购单，并向银行提供凭证号 000001，批次号 000001，2026/11/27 22:33:53。
`, ""},
		{"no answer, reversed at once: the slip names the reversal", hangUpOn("0200", 1, approveAll), immediate,
			terminal.NoResponse, "", `TRANSACTION FAILED
REASON:           no answer from the bank
REVERSAL TRACE:   000002 (approved)
Do not hand over the goods. The terminal reversed the transaction (reversal trace 000002): if the card was debited, the amount comes back. Keep this slip (trace 000001, batch 000001, 2026/11/27 22:33:53).
`, `交易失败 TRANSACTION FAILED
原因(REASON): 交易超时，未收到银行应答
冲正凭证号(REVERSAL TRACE): 000002 (approved)
请勿交付商品。终端已冲正此交易（冲正凭证号 000002）：如已扣款，款项将退回。请保留此签购单（凭证号 000001，批次号 000001，2026/11/27 22:33:53）。
`, "000002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := startScriptHost(t, tt.script)
			term := scriptTerminal(t, h, slipClock, tt.tweak)
			res, err := term.Sale(t.Context(), terminal.Request{Amount: 1234})
			require.Error(t, err)
			require.Equal(t, tt.outcome, res.Outcome)
			r := res.Receipt
			require.NotNil(t, r, "a failed sale that went to the host gets a slip")
			require.Equal(t, h.next(t).STAN, r.Trace)
			require.Equal(t, tt.rrn, r.RRN)
			require.Empty(t, r.AuthCode, "no authorisation")
			if tt.reversal != "" {
				require.NotNil(t, r.Reversal)
				require.Equal(t, tt.reversal, r.Reversal.STAN)
				require.Equal(t, "0400", h.next(t).MTI)
				require.Equal(t, tt.reversal, res.ReversalsSent[0].STAN)
			} else {
				require.Nil(t, r.Reversal)
			}
			for lang, want := range map[string]string{"en": tt.en, "zh": tt.zh} {
				var b strings.Builder
				require.NoError(t, terminal.WriteReceipt(&b, r, lang))
				slip := b.String()
				rule := strings.Repeat("-", 32) + "\n"
				parts := strings.Split(slip, rule)
				require.Len(t, parts, 3, lang)
				require.Equal(t, want, parts[2], lang)
				require.Contains(t, parts[1], "000001", "%s: the trace in the body", lang)
				require.NotContains(t, parts[1], "AUTH NO.", lang)
			}
		})
	}
}

// A chip card that refuses the host's approval: the slip shows no
// authorisation code (the issuer's approval did not stand), says the bank
// approved and the card refused, and names the reversal that gave the
// money back.
func TestReceipt_ChipDeclinedAfterApproval(t *testing.T) {
	t.Parallel()
	a, err := acquirer.New()
	require.NoError(t, err)
	require.NoError(t, a.Listen("127.0.0.1:0"))
	t.Cleanup(func() { a.Close() })
	term := newTerminal(t, a.Addr(), t.TempDir(), slipClock)
	res, err := term.Sale(t.Context(), terminal.Request{Amount: 1234, Card: "chip-aac-after-approval"})
	require.Error(t, err)
	require.Equal(t, terminal.ChipDeclined, res.Outcome)
	require.NotEmpty(t, res.AuthCode, "the host did approve")
	r := res.Receipt
	require.NotNil(t, r)
	require.Empty(t, r.AuthCode, "a failed slip shows no authorisation code")
	require.NotNil(t, r.Reversal)
	require.Equal(t, "the bank approved, the card refused", r.Reason)
	require.Contains(t, r.Advice, "reversed the bank's approval (reversal trace "+r.Reversal.STAN+")")
	var en, zh strings.Builder
	require.NoError(t, terminal.WriteReceipt(&en, r, "en"))
	require.NoError(t, terminal.WriteReceipt(&zh, r, "zh"))
	require.NotContains(t, en.String(), "AUTH NO.")
	require.NotContains(t, zh.String(), "授权码")
	require.Contains(t, zh.String(), "银行已批准，卡片拒绝交易")
}
