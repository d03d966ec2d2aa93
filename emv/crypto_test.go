package emv

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func upper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// Known answers published with pyemv (knovichikhin/pyemv,
// tests/test_ac_hsm.py, test_generate_ac_emv_arpc1): issuer master key,
// option A card master key, common session key derivation, an ARQC with
// EMV (method 2) padding and an ARPC by method 1.
func TestKnownAnswers(t *testing.T) {
	imk := unhex(t, "0123456789ABCDEFFEDCBA9876543210")
	kcv, err := CheckValue(imk, 2)
	require.NoError(t, err)
	require.Equal(t, "08D7", upper(kcv))

	mk, err := ICCMasterKey(imk, "9901234567890123", "45")
	require.NoError(t, err)
	kcv, _ = CheckValue(mk, 2)
	require.Equal(t, "1DA5", upper(kcv), "ICC master key, option A")

	sk, err := SessionKey(mk, unhex(t, "1234567890123456"))
	require.NoError(t, err)
	kcv, _ = CheckValue(sk, 2)
	require.Equal(t, "0995", upper(kcv), "common session key")

	arqc, err := Cryptogram(sk, unhex(t, "0123456789ABCDEF0123456789ABCDEF"))
	require.NoError(t, err)
	require.Equal(t, "4B46013359B7A58B", upper(arqc), "ARQC, ISO 9797-1 MAC algorithm 3, padding method 2")

	arpc, err := ARPC(mk, arqc, unhex(t, "0000"))
	require.NoError(t, err)
	require.Equal(t, "F8C9CECAABD55AD1", upper(arpc), "ARPC method 1")
}

func TestKeysAndInputs(t *testing.T) {
	require.Equal(t, []byte{0x00, 0x1C, 0, 0, 0, 0, 0, 0}, CommonR(0x001C))
	_, err := CheckValue(make([]byte, 8), 2)
	require.ErrorIs(t, err, ErrKeyLength)
	_, err = ICCMasterKey(make([]byte, 16), "99012345678A0123", "45")
	require.ErrorContains(t, err, "not a digit")
	_, err = SessionKey(make([]byte, 16), make([]byte, 4))
	require.ErrorContains(t, err, "8 bytes")
	_, err = ARPC(make([]byte, 16), make([]byte, 8), make([]byte, 1))
	require.ErrorContains(t, err, "2-byte response code")
	// a short PAN is padded on the left to sixteen digits
	imk := unhex(t, "0123456789ABCDEFFEDCBA9876543210")
	a, err := ICCMasterKey(imk, "12345678901", "01")
	require.NoError(t, err)
	b, err := ICCMasterKey(imk, "00012345678901", "01")
	require.NoError(t, err)
	require.Equal(t, a, b)
}
