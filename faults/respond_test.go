package faults

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRespond_OverridesTheProcessedAnswer(t *testing.T) {
	x := newFake()
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 05 stan 000042"}, playOn(t, `[process, {respond: {de39: "05"}}]`, x))
	require.Equal(t, "000000000007", x.sent[0].RRN, "the host's RRN stays")
}

func TestRespond_WithoutProcessBooksNothing(t *testing.T) {
	require.Equal(t, []string{"respond 0210 51 stan 000042"}, playOn(t, `[{respond: {de39: "51"}}]`, newFake()))
}

func TestRespond_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, `[{respond: {de40: "1"}}]`, "")[0], `unknown field "de40"`)
	require.Contains(t, checkPipeline(t, `[respond]`, "")[0], "responds without process")
	require.Empty(t, checkPipeline(t, `[process, respond]`, ""))
}

func TestRespond_OverridesEachField(t *testing.T) {
	x := newFake()
	playOn(t, `[process, {respond: {mti: "0230", de3: "200000", de4: "12.34", de11: "000099", de37: "123456789012", de38: "A1B2C3", de39: "05", de41: "OTHER001", de42: "OTHERMERCHANT01", de49: "840"}}]`, x)
	want := *x.answer
	want.MTI, want.ProcessingCode, want.Amount, want.STAN, want.RRN, want.AuthCode = "0230", "200000", 1234, "000099", "123456789012", "A1B2C3"
	want.ResponseCode, want.TID, want.MID, want.Currency = "05", "OTHER001", "OTHERMERCHANT01", "840"
	require.Equal(t, &want, x.sent[0])
}

func TestRespond_AnAmountThatDoesNotParseLeavesDE4(t *testing.T) {
	x := newFake()
	playOn(t, `[process, {respond: {de4: "lots"}}]`, x)
	require.Equal(t, int64(1000), x.sent[0].Amount)
}
