package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func mustTime(t *testing.T) time.Time {
	t.Helper()
	return time.Date(2026, 11, 22, 2, 31, 40, 0, time.UTC)
}

func TestBinary2(t *testing.T) {
	t.Run("reads what it writes", func(t *testing.T) {
		f := Binary2{}
		frame, err := f.AppendFrame(nil, []byte("hello"))
		require.NoError(t, err)
		require.Equal(t, []byte{0, 5, 'h', 'e', 'l', 'l', 'o'}, frame)
		body, err := f.ReadFrame(bytes.NewReader(frame))
		require.NoError(t, err)
		require.Equal(t, "hello", string(body))
	})
	t.Run("refuses an oversized length", func(t *testing.T) {
		_, err := Binary2{MaxFrame: 10}.ReadFrame(bytes.NewReader([]byte{0xFF, 0xFF, 1, 2}))
		require.ErrorIs(t, err, ErrFrameTooLarge)
	})
	t.Run("empty frame is a keep-alive", func(t *testing.T) {
		body, err := Binary2{}.ReadFrame(bytes.NewReader([]byte{0, 0}))
		require.NoError(t, err)
		require.NotNil(t, body)
		require.Empty(t, body)
	})
	t.Run("short body is an error", func(t *testing.T) {
		_, err := Binary2{}.ReadFrame(bytes.NewReader([]byte{0, 9, 'a'}))
		require.Error(t, err)
	})
}

func TestMaskPAN(t *testing.T) {
	require.Equal(t, "411111******1111", MaskPAN("4111111111111111"))
	require.Equal(t, "621000*********0005", MaskPAN("6210000000000000005"))
	require.Equal(t, "******", MaskPAN("123456"))
	require.Equal(t, "", MaskPAN(""))
}

func TestLuhn(t *testing.T) {
	require.True(t, LuhnValid("4111111111111111"))
	require.False(t, LuhnValid("4111111111111112"))
	require.False(t, LuhnValid("41111x1111111111"))
	require.Equal(t, byte('1'), LuhnDigit("411111111111111"))
}

func TestParseAmount(t *testing.T) {
	good := map[string]int64{"12.34": 1234, "100": 10000, "0.5": 50, ".99": 99, "0": 0, "9999999999.99": 999999999999}
	for in, want := range good {
		got, err := ParseAmount(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-1", "1.234", "1.", "abc", "1,00", "12345678901"} {
		_, err := ParseAmount(in)
		require.Error(t, err, in)
	}
	require.Equal(t, "12.34", FormatAmount(1234))
	require.Equal(t, "-0.05", FormatAmount(-5))
}

func TestResponseCodes(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range ResponseCodes {
		require.False(t, seen[c.Code], "duplicate %s", c.Code)
		seen[c.Code] = true
		require.NotEmpty(t, c.Meaning)
		require.NotEmpty(t, c.ZH)
	}
	c, ok := LookupCode("51")
	require.True(t, ok)
	require.Equal(t, "insufficient funds", c.Meaning)
	require.Equal(t, "余额不足", Meaning("51", "zh"))
	require.Equal(t, ClassRetain, mustCode(t, "41").Class)
	require.Equal(t, "unknown response code", Meaning("ZZ", "en"))
}

func mustCode(t *testing.T, code string) ResponseCode {
	c, ok := LookupCode(code)
	require.True(t, ok, code)
	return c
}

func TestPINBlock(t *testing.T) {
	k, err := ParsePINKey(TestPINKey)
	require.NoError(t, err)
	pan := "4111111111111111"
	block, err := k.EncryptPIN("1234", pan)
	require.NoError(t, err)

	// Known answer (ISO 9564-1 format 0): PIN field 041234FFFFFFFFFF XOR
	// PAN field 0000111111111111 = 041225EEEEEEEEEE.
	clear := make([]byte, 8)
	k.block.Decrypt(clear, block)
	require.Equal(t, "041225EEEEEEEEEE", hexUpper(clear))

	pin, err := k.DecryptPIN(block, pan)
	require.NoError(t, err)
	require.Equal(t, "1234", pin)

	_, err = k.DecryptPIN(block, "4000000000000002")
	require.True(t, err == nil || errors.Is(err, ErrBadPINBlock))
	_, err = k.EncryptPIN("12", pan)
	require.Error(t, err)
	_, err = ParsePINKey("00")
	require.Error(t, err)
}

func hexUpper(b []byte) string { return bytesToUpper(hex.EncodeToString(b)) }

func bytesToUpper(s string) string { return string(bytes.ToUpper([]byte(s))) }

func TestResponseMTI(t *testing.T) {
	for in, want := range map[string]string{"0200": "0210", "0401": "0410", "0220": "0230", "0421": "0430", "0800": "0810"} {
		got, err := ResponseMTI(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := ResponseMTI("0210")
	require.Error(t, err)
	_, err = ResponseMTI("02x0")
	require.Error(t, err)
	require.Equal(t, "0630", must(ResponseMTI("0620")), "MTIs outside the table follow the same rule")
	for req, resp := range responseMTIs {
		require.Equal(t, req[:2]+string(req[2]+1)+"0", resp, "table entry %s", req)
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}
