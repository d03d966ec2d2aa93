package wire

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMoney_JSONIsADecimalString(t *testing.T) {
	for _, tc := range []struct {
		m    Money
		json string
	}{{1234, `"12.34"`}, {-500, `"-5.00"`}, {0, `"0.00"`}, {1 << 53, `"90071992547409.92"`}} {
		data, err := json.Marshal(tc.m)
		require.NoError(t, err)
		require.Equal(t, tc.json, string(data))
		var back Money
		require.NoError(t, json.Unmarshal(data, &back))
		require.Equal(t, tc.m, back)
	}
	var old Money
	require.NoError(t, json.Unmarshal([]byte(`1234`), &old), "minor units, as files written before")
	require.Equal(t, Money(1234), old)
	require.Error(t, json.Unmarshal([]byte(`"12.345"`), &old))
	require.Error(t, json.Unmarshal([]byte(`"abc"`), &old))
}

func TestTotalsAndUploads_RoundTrip(t *testing.T) {
	tt := Totals{DebitCount: 2, DebitAmount: 1500, CreditCount: 1, CreditAmount: 99, ForeignDebitAmount: 7}
	data, err := json.Marshal(tt)
	require.NoError(t, err)
	require.Contains(t, string(data), `"debit_amount":"15.00"`)
	var back Totals
	require.NoError(t, json.Unmarshal(data, &back))
	require.Equal(t, tt, back)
	u := Upload{STAN: "000001", PAN: "6200000000000005", Amount: 1234}
	data, err = json.Marshal(u)
	require.NoError(t, err)
	var ub Upload
	require.NoError(t, json.Unmarshal(data, &ub))
	require.Equal(t, u, ub, "the PAN too: an op log replays batch uploads")
}
