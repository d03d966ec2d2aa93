package wire

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fieldVector is one line of testdata/field/keys.jsonl: a sign-on answer,
// a MAC or a PIN block as a public source published it, each reproduced
// with OpenSSL (its "verified" says how) and named by its "source"
// (testdata/field/SOURCES.md lists them).
type fieldVector struct {
	Source   string            `json:"source"`
	Kind     string            `json:"kind"`
	TMK      string            `json:"tmk"`
	DE62     string            `json:"de62"`
	PIK      string            `json:"pik"`
	MAK      string            `json:"mak"`
	MACInput string            `json:"mac_input"`
	MACKey   string            `json:"mac_key"`
	MAC      string            `json:"mac"`
	Checks   map[string]string `json:"check_values"`
}

func fieldVectors(t *testing.T, kind string) []fieldVector {
	t.Helper()
	f, err := os.Open("testdata/field/keys.jsonl")
	require.NoError(t, err)
	defer f.Close()
	var out []fieldVector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v fieldVector
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v))
		if strings.HasPrefix(v.Kind, kind) {
			out = append(out, v)
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, out, "no %s vectors", kind)
	return out
}

// Key set 003 as field hosts answer it: the MAC key as 8 bytes followed by
// 8 zero bytes, with a single-DES check value. posim opens each published
// answer to the keys its source printed.
func TestOpenKeys_FieldLayoutWithAnEightByteMACKey(t *testing.T) {
	for _, v := range fieldVectors(t, "signon-003-mak8+zeros") {
		t.Run(v.Source, func(t *testing.T) {
			de62, err := hex.DecodeString(v.DE62)
			require.NoError(t, err)
			wk, err := OpenKeys(v.TMK, KeysDouble, de62)
			require.NoError(t, err)
			require.Equal(t, v.PIK, HexKey(wk.PIN))
			require.Equal(t, v.MAK, HexKey(wk.MAC), "the 8-byte MAC key")
			require.Len(t, wk.MAC, 8)
			cv, err := CheckValue(wk.MAC)
			require.NoError(t, err)
			require.Equal(t, v.Checks["mak"], HexKey(cv), "single-DES check value")

			bad := append([]byte(nil), de62...)
			bad[len(bad)-1] ^= 1
			_, err = OpenKeys(v.TMK, KeysDouble, bad)
			require.ErrorIs(t, err, ErrKeyCheck)
			require.ErrorContains(t, err, "the MAC key (key 2 of DE62")
			require.ErrorContains(t, err, "neither as 16 bytes nor as 8 bytes followed by zeros")
		})
	}
}

// posim issues either layout, and opens what it issues.
func TestIssueKeysLayout(t *testing.T) {
	for _, mode := range []string{KeysDouble, KeysTrack} {
		for _, layout := range []string{MACKeySingle, MACKeyDouble} {
			wk, de62, err := IssueKeysLayout(TestTMK, mode, layout, 7)
			require.NoError(t, err)
			got, err := OpenKeys(TestTMK, mode, de62)
			require.NoError(t, err, "%s %s", mode, layout)
			require.Equal(t, wk, got)
			if layout == MACKeySingle {
				require.Len(t, wk.MAC, 8)
				require.Equal(t, make([]byte, 8), de62[28:36], "%s: 8 zero bytes after the MAC key", mode)
			} else {
				require.Len(t, wk.MAC, 16)
			}
			require.Len(t, wk.PIN, 16)
		}
	}
	_, _, err := IssueKeysLayout(TestTMK, KeysDouble, "triple", 1)
	require.ErrorContains(t, err, `MAC key layout "triple"`)
}

// Published MACs, CUP "ECB" and ANSI X9.19, come out as their sources
// print them.
func TestMAC_FieldVectors(t *testing.T) {
	for _, kind := range []string{"mac-cup-ecb", "mac-x919"} {
		alg := MACCUP
		if kind == "mac-x919" {
			alg = MACX919
		}
		for _, v := range fieldVectors(t, kind) {
			t.Run(v.Source, func(t *testing.T) {
				k, err := NewMACKey(alg, v.MACKey)
				require.NoError(t, err)
				in, err := hex.DecodeString(v.MACInput)
				require.NoError(t, err)
				require.Equal(t, v.MAC, HexKey(k.Sum(in)))
			})
		}
	}
}
