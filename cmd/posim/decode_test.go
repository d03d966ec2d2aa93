package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A real terminal's captured cup upload (wire/cup_capture_test.go,
// yqhou/upkg src/test.c).
const capturedUpload = "00F3600003837160310031070003205020060000C00214196212263301004540034000000000498001450907100001383830313535383738393832313031353431313334383101419F2608852251D267A1271C9F101307010103A02000010A010000000000CCF27CAF9F37043266F78A9F36020054950500000000009A031406269C01009F02060000000049805F2A02015682027C009F1A0201569F03060000000000009F3303E0E1C89F34030200009F3501229F1E0830313638323638398408A0000003330101019F090200209F4104000145090013000029532036000021363130303030303030303030303034393830313536"

func TestDecode(t *testing.T) {
	code, out, _ := posim(t, "decode", capturedUpload)
	require.Equal(t, 0, code)
	require.Contains(t, out, "(cup, binary2 framing)")
	require.Contains(t, out, "621226*********0034")
	require.NotContains(t, out, "6212263301004540034")

	// the same frame with a length header 3 bytes too long
	code, _, errOut := posim(t, "decode", "--profile", "cup", "--framing", "binary2", "00F6"+capturedUpload[4:])
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "announces 246 bytes, but 243 follow")

	// without its TPDU and header
	code, _, errOut = posim(t, "decode", "--profile", "cup", "--framing", "binary2", "00E8"+capturedUpload[4+22:])
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "no TPDU")

	code, _, errOut = posim(t, "decode", "zz")
	require.Equal(t, 2, code)
	require.True(t, strings.Contains(errOut, "neither hex nor base64"), errOut)
}

func TestRun_Dump(t *testing.T) {
	code, _, errOut := posim(t, "run", "--dump", "--jobs", "1", "baseline-sale")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, ">> 0200")
	require.Contains(t, errOut, "<< 0210")
	require.Contains(t, errOut, "(track data, ")
	require.NotContains(t, errOut, "4111111111111111")
}
