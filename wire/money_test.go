package wire

import (
	"encoding/json"
	"fmt"
	"math"
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

// Money reads what people and older files write, and refuses anything it
// would have to guess at: a second sign, a sign after the first, an
// exponent, a blank.
func TestMoney_ReadsDecimalsStrictly(t *testing.T) {
	good := map[string]Money{
		`"12.34"`: 1234, `"12.3"`: 1230, `"12"`: 1200, `"0.05"`: 5, `"-0.05"`: -5, `"-5"`: -500,
		`"0"`: 0, `"-0.00"`: 0, `"92233720368547757.99"`: 9223372036854775799,
		`1234`: 1234, `-7`: -7, `0`: 0,
	}
	for in, want := range good {
		var m Money
		require.NoError(t, json.Unmarshal([]byte(in), &m), in)
		require.Equal(t, want, m, in)
	}
	for _, in := range []string{
		`"--5"`, `"+5"`, `"-+5"`, `"5-"`, // signs
		`"1."`, `".5"`, `"-"`, `""`, `"1.234"`, `"1.2.3"`, // shapes
		`"1e3"`, `"0x10"`, `"1_000"`, `" 5"`, `"5 "`, `"1,00"`, // other notations
		`"92233720368547758.07"`, `"99999999999999999999"`, // beyond int64 minor units
		`12.5`, `1e3`, `"12.34`, `true`, `[]`, // not a decimal string or minor units
	} {
		var m Money
		require.Error(t, json.Unmarshal([]byte(in), &m), in)
	}
}

// Every amount an int64 holds writes as a decimal with one sign at most,
// and every one within ±92233720368547757.99 reads back to itself.
func TestMoney_WritesEveryAmount(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 99, -99, 100, -100, 123456, math.MaxInt64 - 8, -(math.MaxInt64 - 8)} {
		data, err := json.Marshal(Money(v))
		require.NoError(t, err)
		var back Money
		require.NoError(t, json.Unmarshal(data, &back), string(data))
		require.Equal(t, Money(v), back, string(data))
	}
	require.Equal(t, "92233720368547758.07", FormatAmount(math.MaxInt64))
	require.Equal(t, "-92233720368547758.08", FormatAmount(math.MinInt64), "one sign, two decimals, even for the most negative amount")
	require.Equal(t, "-0.01", FormatAmount(-1))
	require.Equal(t, "0.00", FormatAmount(0))
	require.Equal(t, "1.00", FormatAmount(100))
}

// ParseAmount is DE4's: positive, two decimals at most, twelve digits in all.
func TestParseAmount_Boundaries(t *testing.T) {
	for in, want := range map[string]int64{
		" 12.34 ": 1234, "12.3": 1230, "0.05": 5, "00012": 1200, "9999999999": 999999999900, "0.00": 0,
	} {
		got, err := ParseAmount(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
		require.LessOrEqual(t, len(fmt.Sprintf("%d", got)), 12, "fits DE4")
	}
	for in, why := range map[string]string{
		"":             "empty",
		"   ":          "empty",
		".":            "decimals",
		"1.":           "decimals",
		"1.234":        "decimals",
		"+1":           "digits",
		"1 000":        "digits",
		"1e3":          "digits",
		"12345678901":  "too large",
		"10000000000.": "decimals",
	} {
		_, err := ParseAmount(in)
		require.ErrorContains(t, err, why, "%q", in)
	}
	// what FormatAmount writes, ParseAmount reads
	for _, v := range []int64{0, 5, 1234, 999999999999} {
		got, err := ParseAmount(FormatAmount(v))
		require.NoError(t, err)
		require.Equal(t, v, got)
	}
}

// A rate is a percentage in parts per million (fee rules and back-office
// tiers: 0.60% is 6000).
func TestParseRate(t *testing.T) {
	for in, want := range map[string]int64{
		"0.60%": 6000, "0.6%": 6000, " 0.60% ": 6000, "0%": 0, "100%": 1000000, "0.38%": 3800,
		"1.25%": 12500, "0.0001%": 1, "0.00005%": 1, "0.000049%": 0, "2.345678%": 23457,
	} {
		got, err := ParseRate(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "%", "0.60", "60", "-1%", "100.01%", "abc%", "0.6 %", "%0.6", "Inf%", "NaN%", "nan%"} {
		got, err := ParseRate(in)
		require.Error(t, err, "%q read as %d", in, got)
		require.ErrorContains(t, err, "0.60%", "the error shows the form wanted")
	}
}
