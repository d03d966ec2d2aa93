package faults

import (
	"testing"

	"github.com/posim/posim/acquirer"
	"github.com/stretchr/testify/require"
)

func TestFeeAnomaly_MarksTheBookedRecord(t *testing.T) {
	f, j := pipeline(t, `[process, {fee_anomaly: {kind: wrong_rate, rate: "1.00%"}}]`)
	x := newFake()
	f.Serve(t.Context(), x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "mark wrong_rate", "respond 0210 00 stan 000042"}, x.Events())
	require.Contains(t, j.List(faultsOnly)[0].Detail, "on record 7")
}

func TestFeeAnomaly_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, `[{fee_anomaly: {kind: wrong_rate, rate: "1.00%"}}, process]`, "")[0], "put process before it")
	require.Contains(t, checkPipeline(t, `[process, {fee_anomaly: {kind: wrong_rate, rate: "1.00%"}}]`, WhereProxy)[0], "a proxy keeps none")
}

func TestFeeAnomaly_Kinds(t *testing.T) {
	for _, tc := range []struct {
		spec AnomalySpec
		want acquirer.Anomaly
		err  string
	}{
		{AnomalySpec{Kind: "wrong_rate", Rate: "1.00%"}, acquirer.Anomaly{Kind: "wrong_rate", PPM: 10000}, ""},
		{AnomalySpec{Kind: "wrong_rate", Rate: "lots"}, acquirer.Anomaly{}, "lots"},
		{AnomalySpec{Kind: "activation_fee", Amount: "99.00"}, acquirer.Anomaly{Kind: "activation_fee", Amount: 9900}, ""},
		{AnomalySpec{Kind: "activation_fee"}, acquirer.Anomaly{}, "activation fee amount: amount is empty"},
		{AnomalySpec{Kind: "cap_ignored"}, acquirer.Anomaly{Kind: "cap_ignored"}, ""},
		{AnomalySpec{Kind: "late_fee"}, acquirer.Anomaly{Kind: "late_fee"}, ""},
		{AnomalySpec{Kind: "fee_on_reversed"}, acquirer.Anomaly{Kind: "fee_on_reversed"}, ""},
		{AnomalySpec{Kind: "delay_payout", Days: 3}, acquirer.Anomaly{Kind: "delay_payout", Days: 3}, ""},
		{AnomalySpec{Kind: "bribe"}, acquirer.Anomaly{}, `fee_anomaly kind "bribe": want wrong_rate, cap_ignored, activation_fee, late_fee, fee_on_reversed or delay_payout`},
	} {
		t.Run(tc.spec.Kind, func(t *testing.T) {
			an, err := tc.spec.anomaly()
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, an)
		})
	}
}

func TestFeeAnomaly_WithoutBooksTheAnswerStillLeaves(t *testing.T) {
	f, j := pipeline(t, `[process, {fee_anomaly: {kind: late_fee}}]`)
	x := newFake()
	x.noBooks = true
	f.Serve(t.Context(), x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"}, x.Events())
	require.Equal(t, "rule r: fee_anomaly: "+ErrNotHere.Error(), j.List(faultsOnly)[0].Detail)
}

func TestFeeAnomaly_AnUnknownKindIsRefused(t *testing.T) {
	require.Contains(t, checkPipeline(t, `[process, {fee_anomaly: {kind: bribe}}]`, "")[0], `fee_anomaly kind "bribe"`)
}
