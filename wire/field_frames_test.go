package wire

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// fieldFrame is one line of testdata/field/frames.jsonl: a CUP frame as a
// public source published it (terminal SDKs, host simulators, POS apps;
// testdata/field/SOURCES-frames.md names each with its file, line and
// commit), with the fields the source documents or that were decoded by
// hand from its bytes. Card numbers are masked (first 6, last 4 kept).
type fieldFrame struct {
	ID      string            `json:"id"`
	Source  string            `json:"source"`
	Kind    string            `json:"kind"`
	Hex     string            `json:"hex"`
	Framing string            `json:"framing"`
	TPDU    string            `json:"tpdu"`
	Header  string            `json:"header"`
	MTI     string            `json:"mti"`
	Fields  map[string]string `json:"fields"`
}

func fieldFrames(t *testing.T) []fieldFrame {
	t.Helper()
	f, err := os.Open("testdata/field/frames.jsonl")
	require.NoError(t, err)
	defer f.Close()
	var out []fieldFrame
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var fr fieldFrame
		require.NoError(t, json.Unmarshal(sc.Bytes(), &fr), sc.Text())
		out = append(out, fr)
	}
	require.NoError(t, sc.Err())
	return out
}

// body returns the frame body as the source's framing says, and the TPDU
// and header before it; ok false for a framing posim does not read (a
// device's envelope around the frame).
func (fr fieldFrame) body(t *testing.T) (tpdu, header, body []byte, ok bool) {
	t.Helper()
	raw, err := hex.DecodeString(fr.Hex)
	require.NoError(t, err)
	switch {
	case strings.HasPrefix(fr.Framing, "device envelope"):
		return nil, nil, nil, false
	case fr.Framing == "len+tpdu+header+body":
		require.Equal(t, len(raw)-2, int(binary.BigEndian.Uint16(raw)), "the length header counts what follows")
		return raw[2:7], raw[7:13], raw[13:], true
	case strings.HasPrefix(fr.Framing, "len+tpdu+header+body + "):
		n := int(binary.BigEndian.Uint16(raw))
		return raw[2:7], raw[7:13], raw[13 : 2+n], true
	case strings.HasPrefix(fr.Framing, "len+tpdu+header+body (length prefix wrong"):
		return raw[2:7], raw[7:13], raw[13:], true
	case fr.Framing == "tpdu+header+body":
		return raw[:5], raw[5:11], raw[11:], true
	case strings.HasPrefix(fr.Framing, "len+tpdu+body"):
		return raw[2:7], nil, raw[7:], true
	case fr.Framing == "body":
		return nil, nil, raw, true
	}
	t.Fatalf("%s: framing %q", fr.ID, fr.Framing)
	return nil, nil, nil, false
}

// same reports whether posim's value of a field is what the source
// documents: as text, as hex for binary content, as GBK text, with the
// track separator written D or =, or with trailing spaces.
func same(documented, got string, binaryField bool) bool {
	documented = strings.TrimPrefix(documented, "hex:")
	candidates := []string{got, strings.TrimRight(got, " "), strings.ReplaceAll(got, "=", "D")}
	if binaryField || strings.IndexFunc(got, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
		candidates = append(candidates, strings.ToUpper(hex.EncodeToString([]byte(got))))
		if text, err := simplifiedchinese.GBK.NewDecoder().String(got); err == nil {
			candidates = append(candidates, text, strings.TrimRight(text, " "))
		}
	}
	for _, c := range candidates {
		if strings.EqualFold(strings.TrimRight(documented, " "), strings.TrimRight(c, " ")) {
			return true
		}
	}
	return false
}

// Every published frame from the field reads under posim's cup spec to its
// last byte, each field it carries (those posim does not use among them:
// DE40, DE43, DE46, DE47, DE56, DE57, DE59, a long DE60) as its source
// documents it, and packs again byte for byte: posim neither refuses nor
// alters what field equipment sends.
func TestCUP_FieldFramesReadAsTheirSourcesDocument(t *testing.T) {
	frames := fieldFrames(t)
	sources := map[string]bool{}
	read := 0
	for _, fr := range frames {
		t.Run(fr.ID, func(t *testing.T) {
			tpdu, header, body, ok := fr.body(t)
			if !ok {
				t.Skipf("%s: %s", fr.Source, fr.Framing)
			}
			if fr.TPDU != "" && tpdu != nil {
				require.Equal(t, fr.TPDU, strings.ToUpper(hex.EncodeToString(tpdu)), fr.Source)
			}
			if fr.Header != "" && header != nil {
				require.Equal(t, fr.Header, strings.ToUpper(hex.EncodeToString(header)), fr.Source)
			}
			m := iso8583.NewMessage(SpecCUP)
			require.NoError(t, m.Unpack(body), "%s (%s)", fr.Source, fr.Kind)
			mti, _ := m.GetMTI()
			if fr.MTI != "" {
				require.Equal(t, fr.MTI, mti, fr.Source)
			}
			for id, want := range fr.Fields {
				n := 0
				for _, c := range id {
					require.True(t, c >= '0' && c <= '9', "%s: field %q", fr.ID, id)
					n = n*10 + int(c-'0')
				}
				got, err := m.GetString(n)
				require.NoError(t, err, "%s: DE%d", fr.Source, n)
				bin := SpecCUP.Fields[n].Spec().Enc == encoding.Binary
				require.True(t, same(want, got, bin), "%s (%s): DE%d is %q (%X), the source says %q", fr.Source, fr.Kind, n, got, got, want)
			}
			again, err := m.Pack()
			require.NoError(t, err)
			require.Equal(t, strings.ToUpper(hex.EncodeToString(body)), strings.ToUpper(hex.EncodeToString(again)), "%s: packed again byte for byte", fr.Source)
			var f Fields
			require.NoError(t, compiledCUP.Unpack(body, &f), "%s: the compiled codec reads it too", fr.Source)
			sources[strings.Fields(fr.Source)[0]] = true
			read++
		})
	}
	require.GreaterOrEqual(t, len(sources), 8, "frames from at least eight sources beyond those used before")
	require.GreaterOrEqual(t, read, 60)
}
