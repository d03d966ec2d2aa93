package wire

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMAC_X919KnownAnswer(t *testing.T) {
	// ISO 9797-1 MAC algorithm 3 (ANSI X9.19) with K = 0123456789ABCDEF,
	// K' = FEDCBA9876543210 over "Now is the time for all ": A1C72E74EA3FA9B6,
	// the worked example published with the standard and repeated in
	// implementations' test suites.
	k, err := NewMACKey(MACX919, "0123456789ABCDEFFEDCBA9876543210")
	require.NoError(t, err)
	got := k.Sum([]byte("Now is the time for all "))
	require.Equal(t, "A1C72E74EA3FA9B6", strings.ToUpper(hex.EncodeToString(got)))
}

func TestMAC_CUP(t *testing.T) {
	k, err := NewMACKey(MACCUP, "C24A8FB57AA20123")
	require.NoError(t, err)
	data := []byte("0200 any message block")
	mac := k.Sum(data)
	require.Len(t, mac, 8)
	require.Regexp(t, "^[0-9A-F]{8}$", string(mac), "the CUP MAC is 8 hex characters")
	require.True(t, k.Verify(data, mac))
	flipped := append([]byte{}, mac...)
	flipped[0] ^= 0x01
	require.False(t, k.Verify(data, flipped))
	require.False(t, k.Verify(append(data, 'x'), mac))

	// the XOR stage: blocks that cancel out give the MAC of zero blocks
	z := k.Sum(make([]byte, 8))
	require.Equal(t, z, k.Sum([]byte("ABCDEFGHABCDEFGH")))

	_, err = NewMACKey("md5", "C24A8FB57AA20123")
	require.Error(t, err)
	_, err = NewMACKey(MACX919, "C24A8FB57AA20123")
	require.Error(t, err)
}
