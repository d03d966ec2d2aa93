package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every real card length (13 to 19 digits) keeps its first six and last
// four digits and nothing between; the masked form has the PAN's length.
func TestMaskPAN_EveryCardLength(t *testing.T) {
	const digits = "6212263301004540034567"
	for n := 13; n <= 19; n++ {
		pan := digits[:n]
		got := MaskPAN(pan)
		require.Len(t, got, n)
		require.Equal(t, pan[:6], got[:6], n)
		require.Equal(t, pan[n-4:], got[n-4:], n)
		require.Equal(t, strings.Repeat("*", n-10), got[6:n-4], n)
		require.NotEqual(t, pan, got, "never the clear PAN")
	}
	require.Equal(t, "621226*********0034", MaskPAN("6212263301004540034"))
	require.Equal(t, "400000***1234", MaskPAN("4000000001234"))
}

// Too short to be a card, too short to keep both ends: every character is
// masked, so that a truncated PAN in a log shows nothing of it.
func TestMaskPAN_ShortValuesAreMaskedWhole(t *testing.T) {
	for n := 1; n <= 12; n++ {
		require.Equal(t, strings.Repeat("*", n), MaskPAN(strings.Repeat("7", n)), n)
	}
	require.Equal(t, "", MaskPAN(""))
}

// Longer values than a card's are masked by the same rule: the middle
// never shows.
func TestMaskPAN_LongerThanACard(t *testing.T) {
	in := "62122633010045400341234567"
	got := MaskPAN(in)
	require.Equal(t, "621226"+strings.Repeat("*", len(in)-10)+"4567", got)
}

func TestLuhn_PublishedNumbers(t *testing.T) {
	// the worked example of the Luhn algorithm (Wikipedia: 7992739871 has
	// check digit 3), and the networks' published test card numbers
	require.Equal(t, byte('3'), LuhnDigit("7992739871"))
	require.True(t, LuhnValid("79927398713"))
	for _, pan := range []string{
		"4111111111111111", // Visa
		"5555555555554444", // Mastercard
		"378282246310005",  // American Express
		"3530111333300000", // JCB
		"6200000000000005", // UnionPay
		"6212263301004540034",
	} {
		require.True(t, LuhnValid(pan), pan)
		require.Equal(t, pan[len(pan)-1], LuhnDigit(pan[:len(pan)-1]), pan)
		// any single digit changed breaks it
		for i := range pan {
			b := []byte(pan)
			b[i] = '0' + (b[i]-'0'+1)%10
			require.False(t, LuhnValid(string(b)), "%s with digit %d changed", pan, i)
		}
	}
}

func TestLuhn_RefusesWhatIsNotANumber(t *testing.T) {
	for _, in := range []string{"", "0", "4", "4111 1111 1111 1111", "4111-1111-1111-1111", "411111111111111x", "=411111111111111"} {
		require.False(t, LuhnValid(in), "%q", in)
	}
	require.True(t, LuhnValid("00"), "all zeros sums to zero")
	require.True(t, LuhnValid("18"))
}
