package faults

import (
	"testing"

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
