package wire

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/require"
)

// LeftBCD is CUP's left alignment: the digits first, an odd length padded
// with a trailing nibble (DE22 021 travels as 02 10, not 00 21).
func TestLeftBCD_Encode(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "",
		"0":                   "00",
		"7":                   "70",
		"021":                 "0210",
		"1234":                "1234",
		"22000001000":         "220000010000",
		"6212263301004540034": "62122633010045400340",
	} {
		got, err := LeftBCD.Encode([]byte(in))
		require.NoError(t, err, in)
		require.Equal(t, want, hex.EncodeToString(got), in)
		require.Len(t, got, (len(in)+1)/2)
	}
	for _, in := range []string{"12a4", "=", " 1", "1.5", "\xff"} {
		_, err := LeftBCD.Encode([]byte(in))
		require.ErrorContains(t, err, "not a digit", "%q", in)
	}
}

func TestLeftBCD_Decode(t *testing.T) {
	t.Run("reads a 0 or an F pad, and how many bytes it took", func(t *testing.T) {
		for _, src := range []string{"0210", "021F", "021f"} {
			raw, _ := hex.DecodeString(src)
			got, read, err := LeftBCD.Decode(append(raw, 0x99), 3) // a byte of the next field follows
			require.NoError(t, err, src)
			require.Equal(t, "021", string(got), src)
			require.Equal(t, 2, read, src)
		}
		got, read, err := LeftBCD.Decode([]byte{0x12, 0x34, 0x56}, 4)
		require.NoError(t, err)
		require.Equal(t, "1234", string(got))
		require.Equal(t, 2, read, "an even length has no pad byte")
		got, read, err = LeftBCD.Decode(nil, 0)
		require.NoError(t, err)
		require.Empty(t, got)
		require.Zero(t, read)
	})
	t.Run("refuses any other pad", func(t *testing.T) {
		for _, pad := range []byte{1, 5, 9, 0xA, 0xD, 0xE} {
			_, _, err := LeftBCD.Decode([]byte{0x02, 0x10 | pad}, 3)
			require.ErrorContains(t, err, "pad nibble", "pad %X", pad)
		}
	})
	t.Run("refuses a nibble that is not a digit", func(t *testing.T) {
		_, _, err := LeftBCD.Decode([]byte{0x1A}, 2)
		require.ErrorContains(t, err, "nibble A is not a digit")
		_, _, err = LeftBCD.Decode([]byte{0xF1}, 2)
		require.ErrorContains(t, err, "nibble F is not a digit", "F only as the pad")
	})
	t.Run("refuses too few bytes and a negative length", func(t *testing.T) {
		_, _, err := LeftBCD.Decode([]byte{0x12}, 3)
		require.ErrorContains(t, err, "need 2 bytes, have 1")
		_, _, err = LeftBCD.Decode([]byte{0x12}, -1)
		require.ErrorContains(t, err, "negative length")
	})
	t.Run("reads what it writes", func(t *testing.T) {
		for _, in := range []string{"0", "12", "021", "00000000000000000000", "9999999999999999999"} {
			enc, err := LeftBCD.Encode([]byte(in))
			require.NoError(t, err)
			got, read, err := LeftBCD.Decode(enc, len(in))
			require.NoError(t, err)
			require.Equal(t, in, string(got))
			require.Equal(t, len(enc), read)
		}
	})
}

// A peer that pads DE2 with F instead of 0 is read, and its MAC, computed
// over the bytes it wrote, verifies over the bytes received; over posim's
// own re-encoding (0 pad) it would not, which is why a MAC is checked over
// the bytes as they arrived.
func TestLeftBCD_APeerThatPadsWithF(t *testing.T) {
	mak, err := NewMACKey(MACCUP, "C24A8FB57AA20123")
	require.NoError(t, err)
	sale := cupSaleTxn()
	sale.PAN, sale.MAC = "6212263301004540034", make([]byte, 8)
	m, err := CUP.Encode(sale)
	require.NoError(t, err)
	body, err := m.Pack()
	require.NoError(t, err)

	zeroPad, _ := hex.DecodeString("19" + "62122633010045400340")
	at := bytes.Index(body, zeroPad)
	require.Positive(t, at, "DE2 as posim writes it: a 0 pad")
	peer := bytes.Clone(body)
	peer[at+len(zeroPad)-1] |= 0x0F // the peer's F pad
	copy(peer[len(peer)-8:], mak.Sum(peer[:len(peer)-8]))

	require.True(t, VerifyMAC(mak, peer), "the MAC verifies over the bytes received")
	got := iso8583.NewMessage(SpecCUP)
	require.NoError(t, got.Unpack(peer))
	x, err := CUP.Decode(got)
	require.NoError(t, err)
	require.Equal(t, "6212263301004540034", x.PAN)
	require.Equal(t, OpSale, x.Op)

	again, err := got.Pack()
	require.NoError(t, err)
	require.NotEqual(t, peer, again, "a re-encoding pads with 0")
	require.False(t, VerifyMAC(mak, again), "and the peer's MAC does not cover it")
}
