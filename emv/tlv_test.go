package emv

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The chip data (DE55) of a real terminal's transaction upload, from the
// frame yqhou/upkg tests its unpacker on (src/test.c; the whole frame is a
// golden test in wire/cup_capture_test.go): a first GENERATE AC request's
// tags, read and written again byte for byte.
func TestParse_CapturedDE55(t *testing.T) {
	de55 := unhex(t, "9F2608852251D267A1271C9F101307010103A02000010A010000000000CCF27CAF9F37043266F78A9F36020054950500000000009A031406269C01009F02060000000049805F2A02015682027C009F1A0201569F03060000000000009F3303E0E1C89F34030200009F3501229F1E0830313638323638398408A0000003330101019F090200209F410400014509")
	l, err := Parse(de55)
	require.NoError(t, err)
	want := []struct {
		tag   uint32
		value string
	}{
		{0x9F26, "852251D267A1271C"}, // ARQC
		{0x9F10, "07010103A02000010A010000000000CCF27CAF"},
		{0x9F37, "3266F78A"},     // unpredictable number
		{0x9F36, "0054"},         // ATC
		{0x95, "0000000000"},     // TVR
		{0x9A, "140626"},         // 2014-06-26
		{0x9C, "00"},             // a purchase
		{0x9F02, "000000004980"}, // 49.80, as DE4 of the same frame
		{0x5F2A, "0156"},
		{0x82, "7C00"},
		{0x9F1A, "0156"},
		{0x9F03, "000000000000"},
		{0x9F33, "E0E1C8"},
		{0x9F34, "020000"},
		{0x9F35, "22"},
		{0x9F1E, "3031363832363839"},
		{0x84, "A000000333010101"}, // UnionPay debit
		{0x9F09, "0020"},
		{0x9F41, "00014509"}, // the frame's STAN
	}
	require.Len(t, l, len(want))
	for i, w := range want {
		require.Equal(t, w.tag, l[i].Tag, "object %d", i)
		require.Equal(t, w.value, upper(l[i].Value), "tag %X", w.tag)
	}
	require.Equal(t, de55, l.Bytes(), "written again byte for byte")
	v, ok := l.Get(0x9F36)
	require.True(t, ok)
	require.Equal(t, "0054", upper(v))
}

func TestParse_Errors(t *testing.T) {
	for name, data := range map[string]string{
		"length past the end":  "9F260885",
		"tag without a length": "9F26",
		"tag past the end":     "9F",
		"unsupported length":   "9F2683000001",
	} {
		_, err := Parse(unhex(t, data))
		require.ErrorIs(t, err, ErrTLV, name)
	}
	l, err := Parse(unhex(t, "00FF9F0201FF")) // padding skipped
	require.NoError(t, err)
	require.Equal(t, List{{Tag: 0x9F02, Value: []byte{0xFF}}}, l)
	long := List{{Tag: 0x71, Value: make([]byte, 200)}, {Tag: 0xDF8101, Value: make([]byte, 300)}}
	back, err := Parse(long.Bytes())
	require.NoError(t, err)
	require.Equal(t, long, back, "long lengths and three-byte tags")
	require.Len(t, long.Set(0x91, []byte{1}), 3)
}
