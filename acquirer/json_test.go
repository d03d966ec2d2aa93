package acquirer

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The books' amounts are decimal strings in JSON, and read back whole.
func TestJSON_AmountsAreDecimalStrings(t *testing.T) {
	r := Record{ID: 7, Amount: 12345, Refunded: 500, Credited: 0, ChargedBack: 100}
	data, err := json.Marshal(r)
	require.NoError(t, err)
	require.Contains(t, string(data), `"amount":"123.45"`)
	require.Contains(t, string(data), `"refunded":"5.00"`)
	require.NotContains(t, string(data), `"credited"`, "omitted when zero")
	var back Record
	require.NoError(t, json.Unmarshal(data, &back))
	require.Equal(t, r.Amount, back.Amount)
	require.Equal(t, r.ChargedBack, back.ChargedBack)
	require.Equal(t, int64(7), back.ID)

	st := Statement{MID: "M1", Sales: 100000, NetPayout: -250, Lines: []Line{{Gross: 100000, Fee: 600, Net: 99400}}}
	data, err = json.Marshal(st)
	require.NoError(t, err)
	for _, want := range []string{`"sales":"1000.00"`, `"net_payout":"-2.50"`, `"gross":"1000.00"`, `"net":"994.00"`} {
		require.True(t, strings.Contains(string(data), want), "%s in %s", want, data)
	}
	var st2 Statement
	require.NoError(t, json.Unmarshal(data, &st2))
	require.Equal(t, st.NetPayout, st2.NetPayout)
	require.Equal(t, st.Lines[0].Net, st2.Lines[0].Net)

	var old Posting
	require.NoError(t, json.Unmarshal([]byte(`{"amount": 1234, "record": 3}`), &old), "an old file's minor units")
	require.Equal(t, int64(1234), old.Amount)
}
