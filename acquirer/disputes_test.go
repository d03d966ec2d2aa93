package acquirer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDisputes(t *testing.T) {
	e := newEngine(t)
	require.NoError(t, e.SetContracts(23*time.Hour, nil))
	d0 := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	s := sale(approvePAN, 40000)
	require.Equal(t, "00", e.Decide(s, d0).Response.ResponseCode)

	_, err := e.Represent("T1", s.STAN, true, d0.AddDate(0, 0, 1))
	require.ErrorIs(t, err, ErrDispute, "no chargeback yet")
	_, err = e.Retrieval("T1", s.STAN, d0.AddDate(0, 0, 30))
	require.NoError(t, err)
	d, err := e.Chargeback("T1", s.STAN, "4515", 1500, d0.AddDate(0, 0, 45))
	require.NoError(t, err)
	require.Equal(t, DisputeChargeback, d.Stage)
	_, err = e.Chargeback("T1", s.STAN, "4515", 1500, d0.AddDate(0, 0, 46))
	require.ErrorIs(t, err, ErrDispute, "charged back once")
	d, err = e.Represent("T1", s.STAN, true, d0.AddDate(0, 0, 55))
	require.NoError(t, err)
	require.Equal(t, DisputeWon, d.Stage)
	_, err = e.SecondChargeback("T1", s.STAN, d0.AddDate(0, 0, 60))
	require.ErrorContains(t, err, "debit")

	lines := e.Lines()
	require.Len(t, lines, 3, "the sale's line, the chargeback and the representment")
	require.Equal(t, int64(40000), lines[0].Net)
	require.Equal(t, int64(-41500), lines[1].Net)
	require.Equal(t, int64(40000), lines[2].Net)

	late := sale(approvePAN, 100)
	e.Decide(late, d0)
	_, err = e.Chargeback("T1", late.STAN, "4515", 0, d0.AddDate(0, 0, 121))
	require.ErrorContains(t, err, "120-day")
	_, err = e.Chargeback("T1", "999999", "4515", 0, d0)
	require.ErrorContains(t, err, "no sale")
	_, err = e.Chargeback("T1", late.STAN, "4515", 0, d0.AddDate(0, 0, 1))
	require.NoError(t, err)
	_, err = e.Represent("T1", late.STAN, true, d0.AddDate(0, 0, 22))
	require.ErrorContains(t, err, "20-day deadline")
	require.Len(t, e.Disputes(), 2)
}
