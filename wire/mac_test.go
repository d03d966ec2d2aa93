package wire

import (
	"bytes"
	"encoding/hex"
	"strings"
	"sync"
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

// The CUP POS MAC ("ECB" algorithm) of a published worked example
// (solo123/pgate test/integration/pos_mac_test.rb and
// solo123/pgate_model): MAB 1234567890ABCDEF ABCDEF1234567890 under MAK
// 2222222222222222. XOR of the blocks B9F9B96AA4FDB57F; its hex form
// "B9F9B96A" encrypted 9FDE90A34CF73B2E; XOR "A4FDB57F" DEEAD6E70EC20C68;
// encrypted E267B6E21913D339; the MAC is the first 8 hex characters.
func TestMAC_CUPPublishedExample(t *testing.T) {
	mab, _ := hex.DecodeString("1234567890ABCDEFABCDEF1234567890")
	k, err := NewMACKey(MACCUP, "2222222222222222")
	require.NoError(t, err)
	require.Equal(t, "E267B6E2", string(k.Sum(mab)))
	require.True(t, k.Verify(mab, []byte("E267B6E2")))
	require.False(t, k.Verify(mab, []byte("e267b6e2")), "the MAC is upper-case hex, compared byte for byte")

	// a double-length MAK whose halves are equal is the single-length one
	kk, err := NewMACKey(MACCUP, "22222222222222222222222222222222")
	require.NoError(t, err)
	require.Equal(t, "E267B6E2", string(kk.Sum(mab)))

	// a true double-length MAK: each step triple DES (OpenSSL des-ede3-ecb:
	// 4D9EE1C14ADDC97E, XOR 0CAAA78508E8FE38, 58B6FBF111E2E831)
	k2, err := NewMACKey("CUP", "22222222222222223333333333333333")
	require.NoError(t, err)
	require.Equal(t, "58B6FBF1", string(k2.Sum(mab)), "the algorithm name in any case")
}

// ANSI X9.19 over data that is not a whole number of blocks: zero padded
// (ISO 9797-1 padding method 1), CBC under K, then decrypt under K' and
// encrypt under K. Computed with OpenSSL (des-ede3-cbc with K K K and a
// zero IV, then des-ede3-ecb); with K' = K it is the plain CBC-MAC.
func TestMAC_X919Padding(t *testing.T) {
	data := []byte("Now is the time for it") // 22 bytes
	k, err := NewMACKey("X9.19", "0123456789ABCDEFFEDCBA9876543210")
	require.NoError(t, err)
	require.Equal(t, "2E2B1428CC78254F", hexUpper(k.Sum(data)))
	require.Equal(t, k.Sum(data), k.Sum(append(bytes.Clone(data), 0, 0)), "zero padding: trailing zeros up to the block change nothing")
	require.NotEqual(t, k.Sum(data), k.Sum(append(bytes.Clone(data), 0, 0, 0)), "a whole extra block does")

	same, err := NewMACKey(MACX919, "0123456789ABCDEF0123456789ABCDEF")
	require.NoError(t, err)
	require.Equal(t, "E45B3AD2B7CC0856", hexUpper(same.Sum(data)))
}

// A MAC over nothing is the MAC of one zero block, for both algorithms;
// and a MAC of the wrong length never verifies.
func TestMAC_EdgeCases(t *testing.T) {
	for _, alg := range []string{MACCUP, MACX919} {
		k, err := NewMACKey(alg, "0123456789ABCDEFFEDCBA9876543210")
		require.NoError(t, err)
		require.Equal(t, k.Sum(make([]byte, 8)), k.Sum(nil), alg)
		require.Len(t, k.Sum(nil), 8, alg)
		mac := k.Sum([]byte("0200"))
		require.True(t, k.Verify([]byte("0200"), mac), alg)
		for _, bad := range [][]byte{nil, mac[:7], append(bytes.Clone(mac), 0)} {
			require.False(t, k.Verify([]byte("0200"), bad), "%s: %d bytes", alg, len(bad))
		}
	}
}

func TestNewMACKey_Refusals(t *testing.T) {
	for _, c := range []struct{ alg, key, want string }{
		{MACCUP, "0123456789ABCDEFFEDCBA987654321089ABCDEF01234567", "want 8 or 16 bytes, got 24"},
		{MACCUP, "", "want 8 or 16 bytes, got 0"},
		{MACCUP, "0123456789ABCDE", "not hex"},
		{MACCUP, "0123456789ABCDEG", "not hex"},
		{MACX919, "0123456789ABCDEF", "ANSI X9.19 needs a double-length key"},
		{"x9.9", "0123456789ABCDEFFEDCBA9876543210", `MAC algorithm "x9.9": want cup or x9.19`},
		{"", "0123456789ABCDEF", "want cup or x9.19"},
	} {
		_, err := NewMACKey(c.alg, c.key)
		require.ErrorContains(t, err, c.want, "%s %s", c.alg, c.key)
	}
}

// A MAC key is shared by every connection of a terminal: Sum and Verify
// from many goroutines at once (run with -race).
func TestMACKey_ConcurrentUse(t *testing.T) {
	k, err := NewMACKey(MACCUP, "22222222222222222222222222222222")
	require.NoError(t, err)
	mab, _ := hex.DecodeString("1234567890ABCDEFABCDEF1234567890")
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if got := string(k.Sum(mab)); got != "E267B6E2" {
					errs <- got
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("concurrent Sum gave %s", got)
	}
}
