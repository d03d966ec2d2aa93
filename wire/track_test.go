package wire

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTrack_Encode(t *testing.T) {
	for in, want := range map[string]string{
		"6222=3012":                         "6222d30120",
		"6222D3012":                         "6222d30120",
		"6222d3012":                         "6222d30120",
		"4392268307661786=200610111333579":  "4392268307661786d200610111333579",
		"0123456789ABCDEF":                  "0123456789abcdef",
		"abcdef":                            "abcdef",
		"":                                  "",
		"6200000000000005=3012101000000000": "6200000000000005d30121010000000000",
	} {
		got, err := Track.Encode([]byte(in))
		require.NoError(t, err, in)
		require.Equal(t, want, hex.EncodeToString(got), in)
	}
	for _, in := range []string{"6222^3012", "6222 3012", "6222=30G2", ";6222=3012?"} {
		_, err := Track.Encode([]byte(in))
		require.ErrorContains(t, err, "neither a digit nor the separator", "%q", in)
	}
}

// Decoding writes the nibble D as the separator '=', every other nibble as
// its hex digit, and stops at the length (the pad nibble is not data).
func TestTrack_Decode(t *testing.T) {
	raw, _ := hex.DecodeString("6222d30120ff")
	got, read, err := Track.Decode(raw, 9)
	require.NoError(t, err)
	require.Equal(t, "6222=3012", string(got))
	require.Equal(t, 5, read)

	all, _ := hex.DecodeString("0123456789abcdef")
	got, _, err = Track.Decode(all, 16)
	require.NoError(t, err)
	require.Equal(t, "0123456789ABC=EF", string(got))

	_, _, err = Track.Decode(raw[:2], 9)
	require.ErrorContains(t, err, "need 5 bytes, have 2")
	_, _, err = Track.Decode(raw, -1)
	require.ErrorContains(t, err, "negative length")

	for _, in := range []string{"6222=3012", "6212263301004540034=30121010000000000", "4392268307661786=200610111333579"} {
		enc, err := Track.Encode([]byte(in))
		require.NoError(t, err)
		back, _, err := Track.Decode(enc, len(in))
		require.NoError(t, err)
		require.Equal(t, in, string(back))
	}
}

// Known answers for the track encryption of key set 004: the track data
// block (the eight packed bytes that end with the second-to-last byte)
// encrypted with OpenSSL's triple DES in ECB mode (openssl enc
// -des-ede3-ecb -nopad), spliced back in. A D nibble of the ciphertext
// reads as '=', as every D of track data does.
func TestEncryptTrack_KnownAnswers(t *testing.T) {
	for _, c := range []struct {
		name, key, track, want string
	}{
		{
			// packed 6212263301004540034D301210100000000000 (19 bytes);
			// block 3012101000000000 → 83D0334AD25762AE
			name: "37 digits, double-length key", key: "FEDCBA98765432100123456789ABCDEF",
			track: "6212263301004540034=30121010000000000", want: "6212263301004540034=83=0334A=25762AE0",
		},
		{
			// block 86D2006101113335 → F97A37FD76609BAE
			name: "32 digits, the test TMK as track key", key: "0123456789ABCDEFFEDCBA9876543210",
			track: "4392268307661786=200610111333579", want: "43922683076617F97A37F=76609BAE79",
		},
		{
			// the shortest: 17 digits, 9 bytes; block 6200000000000000 →
			// 0B0489BB95E6543D under a single-length key
			name: "17 digits, single-length key", key: "0123456789ABCDEF",
			track: "62000000000000005", want: "0B0489BB95E6543=5",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			key, err := hex.DecodeString(c.key)
			require.NoError(t, err)
			got, err := EncryptTrack(key, c.track)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
			back, err := DecryptTrack(key, got)
			require.NoError(t, err)
			require.Equal(t, c.track, back)
		})
	}
}

func TestEncryptTrack_KeysAndLengths(t *testing.T) {
	track := "6212263301004540034=30121010000000000"
	k16, _ := hex.DecodeString("FEDCBA98765432100123456789ABCDEF")
	t.Run("a triple-length key K1 K2 K1 is the double-length key", func(t *testing.T) {
		k24 := append(append([]byte{}, k16...), k16[:8]...)
		a, err := EncryptTrack(k16, track)
		require.NoError(t, err)
		b, err := EncryptTrack(k24, track)
		require.NoError(t, err)
		require.Equal(t, a, b)
	})
	t.Run("a double-length key K K is the single-length key", func(t *testing.T) {
		a, err := EncryptTrack(k16[:8], track)
		require.NoError(t, err)
		b, err := EncryptTrack(append(append([]byte{}, k16[:8]...), k16[:8]...), track)
		require.NoError(t, err)
		require.Equal(t, a, b)
	})
	t.Run("other key lengths are refused", func(t *testing.T) {
		for _, n := range []int{0, 7, 9, 15, 17, 23, 32} {
			_, err := EncryptTrack(make([]byte, n), track)
			require.ErrorContains(t, err, "track key: want 8, 16 or 24 bytes", "%d bytes", n)
			_, err = DecryptTrack(make([]byte, n), track)
			require.Error(t, err, "%d bytes", n)
		}
	})
	t.Run("17 digits at least", func(t *testing.T) {
		_, err := EncryptTrack(k16, "6200000000000005")
		require.ErrorContains(t, err, "16 digits, too short to encrypt (17 at least)")
		_, err = EncryptTrack(k16, "")
		require.ErrorContains(t, err, "too short")
		_, err = EncryptTrack(k16, "62000000000000005")
		require.NoError(t, err)
	})
	t.Run("what is not track data is refused before any key is used", func(t *testing.T) {
		_, err := EncryptTrack(k16, "6212263301004540034^30121010000000000")
		require.ErrorContains(t, err, "neither a digit nor the separator")
	})
	t.Run("only the track data block changes", func(t *testing.T) {
		for n := 17; n <= 37; n++ {
			in := strings.Repeat("6", n-5) + "=3012"
			enc, err := EncryptTrack(k16, in)
			require.NoError(t, err, n)
			require.Len(t, enc, n)
			bytesIn := (n + 1) / 2
			clear := 2 * (bytesIn - 9) // digits before the block
			require.Equal(t, in[:clear], enc[:clear], "%d digits: the start travels in clear", n)
			require.Equal(t, in[2*(bytesIn-1):], enc[2*(bytesIn-1):], "%d digits: so does the last byte", n)
			back, err := DecryptTrack(k16, enc)
			require.NoError(t, err)
			require.Equal(t, in, back)
		}
	})
}
