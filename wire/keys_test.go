package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Published key check values: DES under 0123456789ABCDEF of the zero block
// is D5D44FF720683D0D; the double-length test key
// 0123456789ABCDEFFEDCBA9876543210 has check value 08D7B4 (what the
// README quotes for the test TMK). The others were computed with OpenSSL
// (openssl enc -des-ede3-ecb -nopad over eight zero bytes).
func TestCheckValue_KnownAnswers(t *testing.T) {
	for key, want := range map[string]string{
		"0123456789ABCDEF":                                 "D5D44FF7",
		"0123456789ABCDEFFEDCBA9876543210":                 "08D7B4FB",
		"C24A8FB57AA20123":                                 "0547DB3E",
		"C24A8FB57AA20123C24A8FB57AA20123":                 "0547DB3E", // K K is single DES
		"89ABCDEF0123456776543210FEDCBA98":                 "EB7A8DF9",
		"0123456789ABCDEFFEDCBA987654321089ABCDEF01234567": "3FD539E3", // three keys
		"0123456789ABCDEFFEDCBA98765432100123456789ABCDEF": "08D7B4FB", // K1 K2 K1 is the double-length key
	} {
		cv, err := CheckValue(unhexT(t, key))
		require.NoError(t, err, key)
		require.Equal(t, want, HexKey(cv), key)
	}
	for _, n := range []int{0, 3, 7, 9, 12, 20, 32} {
		_, err := CheckValue(make([]byte, n))
		require.ErrorContains(t, err, "want 8, 16 or 24 bytes", "%d bytes: an error, not a panic", n)
	}
}

func TestHexKey(t *testing.T) {
	require.Equal(t, "0123456789ABCDEF", HexKey([]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}))
	require.Equal(t, "", HexKey(nil))
}

// OpenKeys reads the DE62 of each key set: every key encrypted under the
// TMK (ECB, each 8-byte half apart) and followed by its 4-byte check value.
func TestOpenKeys_KnownAnswers(t *testing.T) {
	t.Run("001: single-length keys, 24 bytes", func(t *testing.T) {
		// A published MAC working key: C24A8FB57AA20123 arrives as
		// 96D605EA176B7E9E under TMK 70F2A84CCBC2AE8625CBB0F2C22AB923
		// (the CUP MAC worked example of zhu244912654's blog post
		// 80005341, "MAC算法演示"; the same pair is in a public Java DES
		// utility's test code; OpenSSL agrees). The PIN key
		// 0123456789ABCDEF was encrypted with OpenSSL.
		de62 := unhexT(t, "4C555721128EF42B"+"D5D44FF7"+"96D605EA176B7E9E"+"0547DB3E")
		for _, mode := range []string{KeysSingle, ""} {
			wk, err := OpenKeys("70F2A84CCBC2AE8625CBB0F2C22AB923", mode, de62)
			require.NoError(t, err, "key set %q", mode)
			require.Equal(t, "0123456789ABCDEF", HexKey(wk.PIN))
			require.Equal(t, "C24A8FB57AA20123", HexKey(wk.MAC))
			require.Nil(t, wk.Track)
		}
	})
	de62 := unhexT(t, "1A4D672DCA6CB3351FD1B02B237AF9AE"+"08D7B4FB"+ // PIN key 0123456789ABCDEFFEDCBA9876543210
		"4230EF1CB268495597F4494DD23D8A72"+"EB7A8DF9"+ // MAC key 89ABCDEF0123456776543210FEDCBA98
		"1FD1B02B237AF9AE1A4D672DCA6CB335"+"7B83586D") // track key FEDCBA98765432100123456789ABCDEF
	t.Run("003: double-length keys, 40 bytes", func(t *testing.T) {
		wk, err := OpenKeys(TestTMK, KeysDouble, de62[:40])
		require.NoError(t, err)
		require.Equal(t, "0123456789ABCDEFFEDCBA9876543210", HexKey(wk.PIN))
		require.Equal(t, "89ABCDEF0123456776543210FEDCBA98", HexKey(wk.MAC))
		require.Nil(t, wk.Track)
	})
	t.Run("004: double-length keys and a track key, 60 bytes", func(t *testing.T) {
		wk, err := OpenKeys(TestTMK, KeysTrack, de62)
		require.NoError(t, err)
		require.Equal(t, "0123456789ABCDEFFEDCBA9876543210", HexKey(wk.PIN))
		require.Equal(t, "89ABCDEF0123456776543210FEDCBA98", HexKey(wk.MAC))
		require.Equal(t, "FEDCBA98765432100123456789ABCDEF", HexKey(wk.Track))
	})
	t.Run("a single-length TMK", func(t *testing.T) {
		// DES under 0123456789ABCDEF of 0123456789ABCDEF is 56CC09E7CFDC4CEF
		// (a classic DES test vector)
		de62 := unhexT(t, "56CC09E7CFDC4CEF"+"D5D44FF7"+"BAB564FA8175683B"+"0547DB3E")
		wk, err := OpenKeys("0123456789ABCDEF", KeysSingle, de62)
		require.NoError(t, err)
		require.Equal(t, "0123456789ABCDEF", HexKey(wk.PIN))
		require.Equal(t, "C24A8FB57AA20123", HexKey(wk.MAC))
	})
}

// What is wrong with a DE62 is said: its length for the key set, the TMK,
// and which key fails its check value.
func TestOpenKeys_Refusals(t *testing.T) {
	_, de62, err := IssueKeys(TestTMK, KeysTrack, 7)
	require.NoError(t, err)
	t.Run("the length of another key set", func(t *testing.T) {
		_, err := OpenKeys(TestTMK, KeysDouble, de62)
		require.ErrorContains(t, err, "DE62 is 60 bytes; key set 003 needs 40")
		_, err = OpenKeys(TestTMK, KeysSingle, de62[:40])
		require.ErrorContains(t, err, "DE62 is 40 bytes; key set 001 needs 24")
		_, err = OpenKeys(TestTMK, KeysTrack, nil)
		require.ErrorContains(t, err, "DE62 is 0 bytes; key set 004 needs 60")
	})
	t.Run("an unknown key set", func(t *testing.T) {
		for _, mode := range []string{"002", "1", "0004", "abc"} {
			_, err := OpenKeys(TestTMK, mode, de62)
			require.ErrorContains(t, err, "want 001, 003 or 004", mode)
			_, _, err = IssueKeys(TestTMK, mode, 1)
			require.ErrorContains(t, err, "want 001, 003 or 004", mode)
		}
	})
	t.Run("a TMK that is not 8 or 16 bytes of hex", func(t *testing.T) {
		for _, tmk := range []string{"", "0123", "0123456789ABCDEFFEDCBA9876543210" + "0123456789ABCDEF", "0123456789ABCDEFFEDCBA987654321G"} {
			_, err := OpenKeys(tmk, KeysTrack, de62)
			require.ErrorContains(t, err, "terminal master key: want 16 or 32 hex digits", "%q", tmk)
			_, _, err = IssueKeys(tmk, KeysTrack, 1)
			require.ErrorContains(t, err, "terminal master key", "%q", tmk)
		}
	})
	t.Run("another TMK: the first key fails its check value", func(t *testing.T) {
		_, err := OpenKeys("FEDCBA98765432100123456789ABCDEF", KeysTrack, de62)
		require.ErrorIs(t, err, ErrKeyCheck)
		require.ErrorContains(t, err, "the PIN key (key 1 of DE62")
	})
	for i, at := range []int{0, 20 + 3, 40 + 19} { // in the PIN key, the MAC key's ciphertext, the track key's check value
		bad := bytes.Clone(de62)
		bad[at] ^= 0x01
		_, err := OpenKeys(TestTMK, KeysTrack, bad)
		require.ErrorIs(t, err, ErrKeyCheck, "byte %d", at)
		require.ErrorContains(t, err, []string{"the PIN key (key 1 ", "the MAC key (key 2 ", "the track key (key 3 "}[i], "byte %d", at)
	}
}

// The host's keys and the terminal's agree: what IssueKeys writes, OpenKeys
// reads with the same TMK, under every key set.
func TestIssueKeys_OpenKeysRoundTrip(t *testing.T) {
	for _, c := range []struct {
		mode     string
		n, count int
	}{{KeysSingle, 8, 2}, {"", 8, 2}, {KeysDouble, 16, 2}, {KeysTrack, 16, 3}} {
		for _, tmk := range []string{TestTMK, "0123456789ABCDEF", "70F2A84CCBC2AE8625CBB0F2C22AB923"} {
			wk, de62, err := IssueKeys(tmk, c.mode, 42)
			require.NoError(t, err)
			require.Len(t, de62, c.count*(c.n+4), "key set %q", c.mode)
			require.Len(t, wk.PIN, c.n)
			require.Len(t, wk.MAC, c.n)
			if c.count == 3 {
				require.Len(t, wk.Track, c.n)
			} else {
				require.Nil(t, wk.Track)
			}
			for i, k := range [][]byte{wk.PIN, wk.MAC, wk.Track}[:c.count] {
				cv, err := CheckValue(k)
				require.NoError(t, err)
				require.Equal(t, cv, de62[i*(c.n+4)+c.n:(i+1)*(c.n+4)], "key %d carries its check value", i+1)
				require.NotContains(t, hex.EncodeToString(de62), hex.EncodeToString(k), "key %d never travels in clear", i+1)
			}
			got, err := OpenKeys(tmk, c.mode, de62)
			require.NoError(t, err)
			require.Equal(t, wk, got)
		}
	}
}

// Keys differ from sign-on to sign-on and from each other, and the same
// serial gives the same keys (a replayed run signs on alike).
func TestIssueKeys_SerialsAndDistinctKeys(t *testing.T) {
	a, de62a, err := IssueKeys(TestTMK, KeysTrack, 1)
	require.NoError(t, err)
	again, de62again, err := IssueKeys(TestTMK, KeysTrack, 1)
	require.NoError(t, err)
	require.Equal(t, a, again)
	require.Equal(t, de62a, de62again)
	seen := map[string]uint64{}
	for serial := uint64(0); serial < 64; serial++ {
		wk, _, err := IssueKeys(TestTMK, KeysTrack, serial)
		require.NoError(t, err)
		for _, k := range [][]byte{wk.PIN, wk.MAC, wk.Track} {
			h := HexKey(k)
			prev, dup := seen[h]
			require.False(t, dup, "serial %d repeats a key of serial %d", serial, prev)
			seen[h] = serial
			require.NotEqual(t, h[:16], h[16:], "a double-length key has two different halves")
		}
	}
	otherTMK, _, err := IssueKeys("FEDCBA98765432100123456789ABCDEF", KeysTrack, 1)
	require.NoError(t, err)
	require.NotEqual(t, a.PIN, otherTMK.PIN, "the keys depend on the TMK")
}

// WorkingKeys are kept in a terminal's state: the track key only when
// there is one.
func TestWorkingKeys_JSON(t *testing.T) {
	data, err := json.Marshal(WorkingKeys{PIN: []byte{1}, MAC: []byte{2}})
	require.NoError(t, err)
	require.JSONEq(t, `{"pin":"AQ==","mac":"Ag=="}`, string(data))
	wk, _, err := IssueKeys(TestTMK, KeysTrack, 3)
	require.NoError(t, err)
	data, err = json.Marshal(wk)
	require.NoError(t, err)
	require.True(t, strings.Contains(string(data), `"track":`))
	var back WorkingKeys
	require.NoError(t, json.Unmarshal(data, &back))
	require.Equal(t, wk, back)
}
