package terminal

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// What a failure slip tells the merchant follows the response code's
// action class and who is at fault (docs/domain.md, "Response codes and action classes").
func TestAdvice(t *testing.T) {
	tests := []struct {
		outcome   Outcome
		code, op  string
		reason    string
		adviceHas string
	}{
		{Approved, "00", "sale", "", ""},
		{Declined, "51", "sale", "insufficient funds", "cardholder should call the card issuer"},
		{Declined, "51", "refund", "merchant balance insufficient", "merchant's balance at the acquirer cannot cover it"},
		{Declined, "57", "sale", "not permitted to cardholder", "ask for another card"},
		{Declined, "03", "sale", "invalid merchant", "Call the acquirer with the merchant and terminal numbers"},
		{Declined, "91", "sale", "issuer or switch inoperative", "Try again"},
		{Declined, "41", "sale", "lost card", "Keep the card"},
		{Declined, "96", "sale", "system malfunction", "Try later"},
		{NoResponse, "", "sale", "no answer from the bank", "Do not hand over the goods"},
		{Refused, "", "sale", "not sent to the bank", "not debited"},
	}
	for _, tt := range tests {
		res := &Result{Outcome: tt.outcome, ResponseCode: tt.code, Operation: tt.op}
		reason, reasonZH, what, whatZH := advice(res, &Receipt{Trace: "000007", Batch: "000001"})
		require.Equal(t, tt.reason, reason, tt.code)
		require.True(t, strings.Contains(what, tt.adviceHas), "%s %s: %q", tt.outcome, tt.code, what)
		require.Equal(t, reason == "", reasonZH == "", "both languages or neither")
		require.Equal(t, what == "", whatZH == "")
	}
	res := &Result{Outcome: NoResponse, Operation: "sale"}
	_, _, what, _ := advice(res, &Receipt{Trace: "000007", Batch: "000001", Reversal: &ReversalSent{STAN: "000008", Outcome: Approved}})
	require.Contains(t, what, "reversal trace 000008")
}

func TestWriteReceipt_None(t *testing.T) {
	var b strings.Builder
	require.NoError(t, WriteReceipt(&b, nil, "en"))
	require.Contains(t, b.String(), "no receipt")
}
