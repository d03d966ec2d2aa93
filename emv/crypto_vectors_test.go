package emv

import (
	"math/bits"
	"testing"

	"github.com/stretchr/testify/require"
)

// testIMK is the issuer master key of pyemv's published tests, check
// value 08D7.
const testIMK = "0123456789ABCDEFFEDCBA9876543210"

func kcv(t *testing.T, key []byte) string {
	t.Helper()
	v, err := CheckValue(key, 2)
	require.NoError(t, err)
	return upper(v)
}

// Option A card master keys (EMV Book 2 annex A1.4.1) published with
// pyemv (knovichikhin/pyemv): whole keys in the examples of pyemv/kd.py
// (derive_icc_mk_a), check values in tests/test_kd_hsm.py and
// tests/test_cvn_hsm.py. PANs of 16 digits or fewer, and of 17 (whose
// leftmost digit drops out), with and without a sequence number.
func TestICCMasterKey_PublishedVectors(t *testing.T) {
	imk := unhex(t, testIMK)
	for _, tc := range []struct {
		source, pan, psn string
		key, kcv         string
	}{
		{"kd.py example", "12345678901234567", "01", "73AD54688CEF2934B0979857E3C719F1", ""},
		{"kd.py example, an older release", "99012345678901234", "45", "67F8292358083E5EA7AB7FDA58D53B6B", ""},
		{"test_kd_hsm.py, test_derive_icc_mk_a_psn", "12345678901234567", "45", "", "FF08"},
		{"test_ac_hsm.py, test_generate_ac_emv_arpc1", "9901234567890123", "45", "", "1DA5"},
		{"test_cvn_hsm.py, test_visa_cvn10", "1234567890123456", "00", "", "BAB0"},
	} {
		t.Run(tc.source, func(t *testing.T) {
			mk, err := ICCMasterKey(imk, tc.pan, tc.psn)
			require.NoError(t, err)
			if tc.key != "" {
				require.Equal(t, tc.key, upper(mk))
			}
			if tc.kcv != "" {
				require.Equal(t, tc.kcv, kcv(t, mk))
			}
		})
	}
}

// Common session keys (EMV Book 2 annex A1.3.1), cryptograms (ISO 9797-1
// MAC algorithm 3, padding method 2) and ARPCs by method 1, as pyemv
// publishes them (knovichikhin/pyemv, tests/test_kd_hsm.py:
// test_derive_icc_mk_a_psn, test_derive_icc_mk_a_no_psn,
// test_derive_common_sk; the example of derive_common_sk in pyemv/kd.py).
func TestSessionKeyCryptogramARPC_PublishedVectors(t *testing.T) {
	imk := unhex(t, testIMK)
	data := unhex(t, "0123456789ABCDEF0123456789ABCDEF")
	r := unhex(t, "1234567890123456")
	for _, tc := range []struct {
		name, psn             string
		skKCV, arqc, arpcByMK string
	}{
		{"sequence number 45", "45", "DF82", "19C1FBC83EBDC0D5", "78A372523FA35A03"},
		{"sequence number 00", "00", "3F4F", "8698A7319324FD93", "BEA11C8F4A47EF6F"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mk, err := ICCMasterKey(imk, "12345678901234567", tc.psn)
			require.NoError(t, err)
			sk, err := SessionKey(mk, r)
			require.NoError(t, err)
			require.Equal(t, tc.skKCV, kcv(t, sk))
			arqc, err := Cryptogram(sk, data)
			require.NoError(t, err)
			require.Equal(t, tc.arqc, upper(arqc))
			arpc, err := ARPC(mk, arqc, []byte{0, 0})
			require.NoError(t, err)
			require.Equal(t, tc.arpcByMK, upper(arpc))
		})
	}
	t.Run("an ARPC under the session key", func(t *testing.T) {
		mk, err := ICCMasterKey(imk, "12345678901234567", "45")
		require.NoError(t, err)
		sk, err := SessionKey(mk, r)
		require.NoError(t, err)
		arpc, err := ARPC(sk, unhex(t, "19C1FBC83EBDC0D5"), []byte{0, 0})
		require.NoError(t, err)
		require.Equal(t, "C3620580668E5B65", upper(arpc))
	})
	t.Run("a whole session key for ATC 001C", func(t *testing.T) {
		sk, err := SessionKey(imk, CommonR(0x001C))
		require.NoError(t, err)
		require.Equal(t, "E9FB384AF807B940FEDCEA613461B0C4", upper(sk))
	})
}

// Visa's CVN 18 (pyemv, tests/test_cvn_hsm.py, test_visa_cvn18) is the
// scheme posim's chip application follows for its session key and
// cryptogram: the common session key of the ATC, and MAC algorithm 3
// with padding method 2 over the CDOL1 data. Its published ARQC checks
// both over real chip data.
func TestCryptogram_PublishedCVN18(t *testing.T) {
	mk, err := ICCMasterKey(unhex(t, testIMK), "1234567890123456", "00")
	require.NoError(t, err)
	sk, err := SessionKey(mk, CommonR(0x001C))
	require.NoError(t, err)
	require.Equal(t, "22C8", kcv(t, sk))
	// 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 82 9F36, then the whole 9F10
	data := unhex(t, "000000004000"+"000000000000"+"0124"+"8000048000"+"0124"+"191105"+"01"+"52BF4585"+"1800"+"001C"+"06011203A0B800")
	arqc, err := Cryptogram(sk, data)
	require.NoError(t, err)
	require.Equal(t, "7A788EA6B8A3E733", upper(arqc))
}

// Visa's CVN 10 (pyemv, tests/test_cvn_hsm.py, test_visa_cvn10) signs
// the CDOL1 data followed by the four CVR bytes, as CryptogramData does,
// and answers with an ARPC by method 1 over the response code "00"
// (3030), the issuer authentication data posim's host sends.
func TestCVN10_PublishedDataOrderAndARPC(t *testing.T) {
	t.Run("CryptogramData takes CDOL1's order, whatever the list's", func(t *testing.T) {
		l := List{
			{Tag: TagIAD, Value: unhex(t, "06010A03A06010")}, // length, key index, CVN 10, CVR
			{Tag: TagATC, Value: unhex(t, "001C")},
			{Tag: TagAIP, Value: unhex(t, "1800")},
			{Tag: TagUN, Value: unhex(t, "52BF4585")},
			{Tag: TagType, Value: unhex(t, "01")},
			{Tag: TagDate, Value: unhex(t, "191105")},
			{Tag: TagCurrency, Value: unhex(t, "0124")},
			{Tag: TagTVR, Value: unhex(t, "8000048000")},
			{Tag: TagCountry, Value: unhex(t, "0124")},
			{Tag: TagAmountOther, Value: unhex(t, "000000000000")},
			{Tag: TagAmount, Value: unhex(t, "000000004000")},
		}
		data, err := CryptogramData(l)
		require.NoError(t, err)
		// tag_9f02 + tag_9f03 + tag_9f1a + tag_95 + tag_5f2a + tag_9a +
		// tag_9c + tag_9f37 + tag_82 + tag_9f36 + cvr, as pyemv's VisaCVN10
		require.Equal(t, "000000004000"+"000000000000"+"0124"+"8000048000"+"0124"+"191105"+"01"+"52BF4585"+"1800"+"001C"+"03A06010", upper(data))
	})
	t.Run("the issuer authentication data of an approval", func(t *testing.T) {
		mk, err := ICCMasterKey(unhex(t, testIMK), "1234567890123456", "00")
		require.NoError(t, err)
		arqc := unhex(t, "29CCA15AE665FA2E")
		auth, err := IssuerAuthData(mk, arqc, "00")
		require.NoError(t, err)
		require.Equal(t, "28993816AFAE4AEB"+"3030", upper(auth))
		require.True(t, VerifyIssuerAuth(mk, arqc, auth))
	})
}

// Derived keys are written with odd parity, as DES keys are (pyemv
// adjusts parity too; its whole keys above agree).
func TestDerivedKeysHaveOddParity(t *testing.T) {
	imk := unhex(t, testIMK)
	for _, pan := range []string{"6200000000002001", "9901234567890123", "1234567890123456789"} {
		mk, err := ICCMasterKey(imk, pan, "01")
		require.NoError(t, err)
		sk, err := SessionKey(mk, CommonR(0xFFFF))
		require.NoError(t, err)
		for i, b := range append(mk, sk...) {
			require.Equal(t, 1, bits.OnesCount8(b)%2, "%s: byte %d %02X", pan, i, b)
		}
	}
}

func TestCheckValue(t *testing.T) {
	imk := unhex(t, testIMK)
	v, err := CheckValue(imk, 3)
	require.NoError(t, err)
	require.Len(t, v, 3)
	require.Equal(t, "08D7", upper(v[:2]))
	v, err = CheckValue(imk, 20)
	require.NoError(t, err)
	require.Len(t, v, 8, "at most one block")
	_, err = CheckValue(make([]byte, 24), 2)
	require.ErrorIs(t, err, ErrKeyLength, "triple-length keys are not EMV issuer keys")
}

func TestCryptogram_Refuses(t *testing.T) {
	_, err := Cryptogram(make([]byte, 8), nil)
	require.ErrorIs(t, err, ErrKeyLength)
	_, err = SessionKey(make([]byte, 15), make([]byte, 8))
	require.ErrorIs(t, err, ErrKeyLength)
	_, err = ICCMasterKey(make([]byte, 17), "1234567890123456", "00")
	require.ErrorIs(t, err, ErrKeyLength)
	_, err = ARPC(make([]byte, 16), make([]byte, 4), []byte("00"))
	require.ErrorContains(t, err, "8-byte ARQC")
}
