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
	want, err := PBOCSessionKey(mk, 0x0054)
	require.NoError(t, err)
	require.Equal(t, want, sk, "the PBOC session key (its 9F10 says CVN 01) of the request's ATC 0054")
	csk, _, err := ApplicationCryptogram(mk, append(List{}, l...).Set(TagIAD, unhex(t, "07010503A02000010A010000000000CCF27CAF")))
	require.NoError(t, err)
	require.NotEqual(t, arqc, csk, "CVN 05: the EMV common session key, another cryptogram")
	_, _, err = ApplicationCryptogram(mk, append(List{}, l...).Set(TagIAD, unhex(t, "07011103A02000")))
	require.ErrorContains(t, err, "cryptogram version 11")
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

func TestCIDName(t *testing.T) {
	for cid, want := range map[byte]string{
		CIDAAC: "AAC", CIDTC: "TC", CIDARQC: "ARQC", 0xC0: "AAR",
		0x01: "AAC", 0x45: "TC", 0x9F: "ARQC", // the low bits carry other things
	} {
		require.Equal(t, want, CIDName(cid), "%02X", cid)
	}
}

// chipData is the first GENERATE AC data of the captured request
// (tlv_test.go).
func chipData(t *testing.T) List {
	t.Helper()
	l, err := Parse(unhex(t, "9F2608852251D267A1271C9F101307010103A02000010A010000000000CCF27CAF9F37043266F78A9F36020054950500000000009A031406269C01009F02060000000049805F2A02015682027C009F1A0201569F03060000000000009F3303E0E1C89F34030200009F3501229F1E0830313638323638398408A0000003330101019F090200209F410400014509"))
	require.NoError(t, err)
	return l
}

func TestCryptogramData_Refuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(List) List
		msg  string
	}{
		{"a missing CDOL1 tag, named", func(l List) List { return without(l, TagUN) }, "no tag 9F37"},
		{"a missing 9F10", func(l List) List { return without(l, TagIAD) }, "no issuer application data"},
		{"a 9F10 too short for a CVR", func(l List) List { return l.Set(TagIAD, unhex(t, "070101030000")) }, "no issuer application data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CryptogramData(tc.edit(chipData(t)))
			require.ErrorContains(t, err, tc.msg)
		})
	}
	t.Run("takes the CVR from bytes 3 to 6 of 9F10", func(t *testing.T) {
		data, err := CryptogramData(chipData(t))
		require.NoError(t, err)
		require.Equal(t, "03A02000", upper(data[len(data)-4:]))
	})
}

func without(l List, tag uint32) List {
	var out List
	for _, o := range l {
		if o.Tag != tag {
			out = append(out, o)
		}
	}
	return out
}

func TestATC(t *testing.T) {
	atc, err := ATC(chipData(t))
	require.NoError(t, err)
	require.Equal(t, uint16(0x0054), atc)
	atc, err = ATC(List{{Tag: TagATC, Value: []byte{0xFF, 0xFE}}})
	require.NoError(t, err)
	require.Equal(t, uint16(0xFFFE), atc)
	_, err = ATC(List{})
	require.ErrorContains(t, err, "9F36")
	_, err = ATC(List{{Tag: TagATC, Value: []byte{0x54}}})
	require.ErrorContains(t, err, "two-byte ATC")
}

// The second GENERATE AC signs the response code the card was given
// besides the first one's data (CDOL2), not the cryptogram information
// data (9F27), which is the card's answer: an approval's TC is not a
// decline's.
func TestSecondCryptogram(t *testing.T) {
	mk, err := ICCMasterKey(unhex(t, testIMK), "6200000000002001", "01")
	require.NoError(t, err)
	l := chipData(t)
	arqc, sk, err := ApplicationCryptogram(mk, l)
	require.NoError(t, err)
	tc, err := SecondCryptogram(sk, l, "00")
	require.NoError(t, err)
	again, err := SecondCryptogram(sk, l, "00")
	require.NoError(t, err)
	require.Equal(t, tc, again)
	declined, err := SecondCryptogram(sk, l, "05")
	require.NoError(t, err)
	for name, other := range map[string][]byte{"the ARQC": arqc, "another response code": declined} {
		require.NotEqual(t, tc, other, name)
	}
	data, err := CryptogramData(l)
	require.NoError(t, err)
	byHand, err := Cryptogram(sk, append(data, '0', '0'))
	require.NoError(t, err)
	require.Equal(t, byHand, tc, "CDOL2: the CDOL1 data and CVR, then 8A")
	_, err = SecondCryptogram(sk, without(l, TagAmount), "00")
	require.ErrorContains(t, err, "9F02")
	_, err = SecondCryptogram(sk, l, "0")
	require.ErrorContains(t, err, "two characters")
}

func TestIssuerAuth_Refuses(t *testing.T) {
	sk := unhex(t, testIMK)
	arqc := unhex(t, "852251D267A1271C")
	for _, arc := range []string{"", "0", "000"} {
		_, err := IssuerAuthData(sk, arqc, arc)
		require.ErrorContains(t, err, "want two characters", "%q", arc)
	}
	auth, err := IssuerAuthData(sk, arqc, "00")
	require.NoError(t, err)
	require.False(t, VerifyIssuerAuth(sk, arqc, auth[:9]), "cut short")
	require.False(t, VerifyIssuerAuth(unhex(t, "FEDCBA98765432100123456789ABCDEF"), arqc, auth), "another key")
	require.False(t, VerifyIssuerAuth(make([]byte, 8), arqc, auth), "a key of the wrong length")
}
