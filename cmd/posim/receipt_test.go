package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
)

// The receipt of `posim terminal sale --json` carries the numbers the
// acquirer booked and journalled for the sale: trace, RRN, batch and
// authorisation code (issue 18), under both dialects.
func TestCLI_ReceiptMatchesTheAcquirersJournal(t *testing.T) {
	for _, profile := range wire.ProfileNames() {
		t.Run(profile, func(t *testing.T) {
			p, err := wire.ProfileByName(profile)
			require.NoError(t, err)
			a, err := acquirer.New(acquirer.WithProfile(p))
			require.NoError(t, err)
			require.NoError(t, a.Listen("127.0.0.1:0"))
			t.Cleanup(func() { a.Close() })
			state := t.TempDir()

			code, out, errOut := posim(t, "terminal", "sale", "--host", a.Addr(), "--profile", profile, "--amount", "268.00",
				"--merchant-name", "POSIM TEST SHOP", "--json", "--state", state)
			require.Equal(t, 0, code, errOut)
			var res struct {
				Receipt struct {
					MID, TID, Card, Batch, Trace, RRN, Type, Amount, Outcome string
					Merchant                                                 string `json:"merchant_name"`
					AuthCode                                                 string `json:"auth_code"`
					Org                                                      string `json:"card_organisation"`
				} `json:"receipt"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &res), out)
			rc := res.Receipt
			require.Equal(t, "POSIM TEST SHOP", rc.Merchant)
			require.Equal(t, "620000******0005", rc.Card, "masked")
			require.Equal(t, "SALE", rc.Type)
			require.Equal(t, "268.00", rc.Amount)
			require.Equal(t, "approved", rc.Outcome)
			require.Equal(t, "CUP", rc.Org)

			answers := a.Journal().List(acquirer.Filter{Kind: acquirer.KindOut, MTI: "0210"})
			require.Len(t, answers, 1)
			require.Equal(t, answers[0].STAN, rc.Trace)
			require.Equal(t, answers[0].RRN, rc.RRN)
			records := a.Engine().Snapshot().Records
			require.Len(t, records, 1)
			r := records[0]
			require.Equal(t, []string{r.STAN, r.RRN, r.AuthCode, r.Batch, r.TID, r.MID},
				[]string{rc.Trace, rc.RRN, rc.AuthCode, rc.Batch, rc.TID, rc.MID}, "the receipt's numbers are the host's")
		})
	}
}

func TestCLI_ReceiptText(t *testing.T) {
	addr := startAcquirer(t)
	state := t.TempDir()
	code, out, _ := posim(t, "terminal", "sale", "--host", addr, "--amount", "12.34", "--receipt", "--lang", "zh", "--state", state)
	require.Equal(t, 0, code)
	for _, want := range []string{"POS签购单", "商户编号(MERCHANT NO.): POSIM0000000001", "卡号(CARD NO.): 620000******0005",
		"交易类型(TRANS TYPE): 消费 SALE", "凭证号(TRACE NO.): 000001", "金额(AMOUNT): RMB 12.34", "持卡人签名"} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, "6200000000000005", "the full card number is never printed")

	code, out, _ = posim(t, "terminal", "sale", "--host", addr, "--amount", "12.34", "--card", "insufficient-funds", "--receipt", "--state", state)
	require.Equal(t, 4, code)
	require.Contains(t, out, "TRANSACTION FAILED")
	require.Contains(t, out, "51 insufficient funds")
	require.Contains(t, out, "The card was not debited")

	code, _, errOut := posim(t, "terminal", "sale", "--host", addr, "--amount", "1.00", "--lang", "fr", "--state", state)
	require.Equal(t, 2, code)
	require.True(t, strings.Contains(errOut, "--lang"), errOut)
}

// A sale whose answer never comes gets a failure receipt: the trace to
// give the bank, and the advice not to hand over the goods.
func TestCLI_ReceiptOfALostAnswer(t *testing.T) {
	state := t.TempDir()
	code, out, _ := posim(t, "terminal", "sale", "--host", silent(t), "--amount", "25.00", "--timeout", "300ms", "--receipt", "--state", state)
	require.Equal(t, 3, code)
	require.Contains(t, out, "no answer from the bank")
	require.Contains(t, out, "Do not hand over the goods")
	require.Contains(t, out, "trace 000001")
}

// `posim statement` shows a payout the merchant's bank returned, its
// re-payout once the settlement account is corrected, and the merchant's
// balance after a refund of a settled sale taken from it (issue 18).
func TestCLI_StatementShowsReturnedPayoutAndMerchantBalance(t *testing.T) {
	pol := acquirer.DefaultPolicies()
	pol.RefundOverBalance = "51"
	a, host := backOfficeHost(t, acquirer.WithPolicies(pol))
	e := a.Engine()
	state := t.TempDir()
	sell := func(args ...string) (int, map[string]any) {
		code, out, errOut := posim(t, append([]string{"terminal", "--host", a.Addr(), "--json", "--state", state}, args...)...)
		var res map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &res), out+errOut)
		return code, res
	}

	now := time.Now()
	code, res := sell("sale", "--amount", "1000.00")
	require.Equal(t, 0, code)
	rrn := res["rrn"].(string)
	e.MarkAnomaly(e.Snapshot().Records[0].ID, acquirer.Anomaly{Kind: acquirer.AnomalyPayoutReturned, Reason: acquirer.ReturnWrongAccount})
	e.Advance(now.Add(5 * 24 * time.Hour)) // the day closes; its payout day comes and the payout is returned
	rp, err := e.SetSettlementAccount("POSIM0000000001", acquirer.AccountCorrected, now.Add(5*24*time.Hour))
	require.NoError(t, err)
	e.Advance(now.Add(10 * 24 * time.Hour)) // the re-payout is paid

	code, res = sell("refund", "--rrn", rrn, "--amount", "300.00")
	require.Equal(t, 4, code, "the merchant's balance is empty")
	require.Equal(t, "51", res["response_code"])
	require.Contains(t, res["display_zh"], "商户余额不足")
	code, _ = sell("sale", "--amount", "500.00")
	require.Equal(t, 0, code)
	code, _ = sell("refund", "--rrn", rrn, "--amount", "300.00")
	require.Equal(t, 0, code, "the new sale covers it")

	day := e.Lines()[0].Day // the sale's business day (the next one after 23:00)
	code, out, errOut := posim(t, "statement", "--control", host, "--mid", "POSIM0000000001", "--day", day)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "returned, payout")
	require.Contains(t, out, "payout returned: wrong settlement account (结算卡信息有误)")
	require.Contains(t, out, fmt.Sprintf("[paid again by line %d]", rp.ID))
	require.Contains(t, out, "returned 994.00")
	require.Contains(t, out, "merchant balance 200.00")

	code, out, _ = posim(t, "statement", "--control", host, "--mid", "POSIM0000000001", "--day", rp.Day)
	require.Equal(t, 0, code)
	require.Contains(t, out, "re-payout")
	require.Contains(t, out, "paid, payout "+rp.PayoutDate)
}
