package faults

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPayoutReturned_MarksTheBookedRecordAndAnswers(t *testing.T) {
	f, j := pipeline(t, "[process, {payout_returned: {reason: closed_account}}]")
	x := newFake()
	f.Serve(t.Context(), x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "mark payout_returned", "respond 0210 00 stan 000042"}, x.Events())
	require.Equal(t, "rule r: payout of record 7 to be returned: closed_account", j.List(faultsOnly)[0].Detail)
}

func TestPayoutReturned_WithoutBooksTheAnswerStillLeaves(t *testing.T) {
	f, j := pipeline(t, "[process, {payout_returned: {reason: wrong_account}}]")
	x := newFake()
	x.noBooks = true
	f.Serve(t.Context(), x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"}, x.Events())
	require.Equal(t, "rule r: payout_returned: "+ErrNotHere.Error(), j.List(faultsOnly)[0].Detail)
}

func TestPayoutReturned_Checks(t *testing.T) {
	require.Empty(t, checkPipeline(t, "[process, {payout_returned: {reason: name_mismatch}}]", WhereAcquirer))
	require.Contains(t, checkPipeline(t, "[process, {payout_returned: {reason: tired}}]", "")[0],
		`payout_returned reason "tired": want wrong_account, closed_account, name_mismatch`)
	require.Contains(t, checkPipeline(t, "[{payout_returned: {reason: wrong_account}}, process]", "")[0], "put process before it")
	require.Contains(t, checkPipeline(t, "[process, {payout_returned: {reason: wrong_account}}]", WhereProxy)[0], "a proxy keeps none")
}
