package emv

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The card and its issuer compute the same cryptograms from the same data;
// a change to any signed data element, or another card's key, changes
// them; the issuer's ARPC verifies only for the ARQC and response code it
// was made for.
func TestApplicationCryptogram_IssuerAndCardAgree(t *testing.T) {
	imk := unhex(t, "0123456789ABCDEFFEDCBA9876543210")
	mk, err := ICCMasterKey(imk, "9901234567890123", "45")
	require.NoError(t, err)
	// the chip data of a real terminal's request (tlv_test.go)
	l, err := Parse(unhex(t, "9F2608852251D267A1271C9F101307010103A02000010A010000000000CCF27CAF9F37043266F78A9F36020054950500000000009A031406269C01009F02060000000049805F2A02015682027C009F1A0201569F03060000000000009F3303E0E1C89F34030200009F3501229F1E0830313638323638398408A0000003330101019F090200209F410400014509"))
	require.NoError(t, err)
	arqc, sk, err := ApplicationCryptogram(mk, l)
	require.NoError(t, err)
	want, err := SessionKey(mk, CommonR(0x0054))
	require.NoError(t, err)
	require.Equal(t, want, sk, "the session key of the request's ATC 0054")
	again, _, err := ApplicationCryptogram(mk, l)
	require.NoError(t, err)
	require.Equal(t, arqc, again)

	changed, _, err := ApplicationCryptogram(mk, l.Set(TagAmount, unhex(t, "000000004981")))
	require.NoError(t, err)
	require.NotEqual(t, arqc, changed, "the amount is signed")
	other, err := ICCMasterKey(imk, "9901234567890123", "46")
	require.NoError(t, err)
	byOther, _, err := ApplicationCryptogram(other, l)
	require.NoError(t, err)
	require.NotEqual(t, arqc, byOther, "another card sequence number, another key")

	auth, err := IssuerAuthData(sk, arqc, "00")
	require.NoError(t, err)
	require.Len(t, auth, 10)
	require.Equal(t, "00", string(auth[8:]))
	require.True(t, VerifyIssuerAuth(sk, arqc, auth))
	require.False(t, VerifyIssuerAuth(sk, changed, auth), "made for another ARQC")
	forged := append([]byte{}, auth...)
	forged[9] = '5'
	require.False(t, VerifyIssuerAuth(sk, arqc, forged), "the response code is bound to the ARPC")

	_, _, err = ApplicationCryptogram(mk, List{}.Set(TagATC, []byte{0, 1}))
	require.ErrorContains(t, err, "9F02")
}

func TestNumeric(t *testing.T) {
	b, err := Numeric("1234", 6)
	require.NoError(t, err)
	require.Equal(t, unhex(t, "000000001234"), b)
	b, err = Numeric("156", 2)
	require.NoError(t, err)
	require.Equal(t, unhex(t, "0156"), b)
	_, err = Numeric("1234567", 3)
	require.Error(t, err)
	_, err = Numeric("12a4", 2)
	require.Error(t, err)
}
