package main

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// A cup sale carrying fields posim does not use (DE46 terminal
// information, DE59 as field terminals send them) is approved by posim's
// acquirer, which journals it; the same frame reads with posim decode.
func TestCLI_CUPFieldsPosimDoesNotUse(t *testing.T) {
	a, err := acquirer.New(acquirer.WithProfile(wire.CUP))
	require.NoError(t, err)
	require.NoError(t, a.Listen("127.0.0.1:0"))
	t.Cleanup(func() { a.Close() })
	de46, de59 := "PI0420402020514000024021068700000010808V0.0.3.0", "000001000178" // as vfwz/iso8583-parser and wearapay frames carry them
	code, out, errOut := posim(t, "terminal", "sale", "--profile", "cup", "--host", a.Addr(), "--amount", "12.34", "--json",
		"--state", t.TempDir(), "--field", "46="+de46, "--field", "59="+de59)
	require.Equal(t, 0, code, errOut)
	var res terminal.Result
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Equal(t, terminal.Approved, res.Outcome)

	m, err := wire.CUP.Encode(&wire.Txn{Op: wire.OpSale, PAN: "6200000000000005", Amount: 1234, HasAmount: true, STAN: "000001",
		TID: "POSIM001", MID: "POSIM0000000001", Currency: "156", Batch: "000001", EntryMode: "021", Condition: "00",
		Extra: map[int]string{46: de46, 59: de59}})
	require.NoError(t, err)
	codec := wire.NewCodec(wire.CUP)
	frame, err := codec.Frame(m)
	require.NoError(t, err)
	code, out, errOut = posim(t, "decode", "--profile", "cup", hex.EncodeToString(frame))
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "DE46")
	require.Contains(t, out, de46)
	require.Contains(t, out, "DE59")
	require.Contains(t, out, de59)
}

// posim decode refuses a frame with bytes after its last field, naming
// them, and one whose MTI is no message type (stray bytes after the
// header), rather than reading it as something else.
func TestCLI_DecodeRefusesLeftOverBytes(t *testing.T) {
	m, err := wire.CUP.Encode(&wire.Txn{Op: wire.OpEcho, STAN: "000001", TID: "POSIM001", MID: "POSIM0000000001", Batch: "000001"})
	require.NoError(t, err)
	frame, err := wire.NewCodec(wire.CUP).Frame(m)
	require.NoError(t, err)
	reframe := func(body []byte) string {
		n := len(body)
		return hex.EncodeToString(append([]byte{byte(n >> 8), byte(n)}, body...))
	}
	inner := frame[2:]
	code, _, errOut := posim(t, "decode", "--profile", "cup", reframe(append(append([]byte{}, inner...), 0xAB, 0xCD, 0xEF)))
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "3 bytes follow the last field (ABCDEF)")

	stray := append(append(append([]byte{}, inner[:11]...), make([]byte, 20)...), inner[11:]...)
	code, _, errOut = posim(t, "decode", "--profile", "cup", reframe(stray))
	require.Equal(t, 2, code, errOut)
	require.True(t, strings.Contains(errOut, `MTI "0000" is no message type`), errOut)
}
