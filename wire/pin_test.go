package wire

import (
	"crypto/des"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// tdesECB encrypts or decrypts one block under a hex key of 8, 16 or 24
// bytes, for checking PIN blocks independently of PINKey.
func tdesECB(t *testing.T, hexKey string, block []byte, encrypt bool) []byte {
	t.Helper()
	raw, err := hex.DecodeString(hexKey)
	require.NoError(t, err)
	switch len(raw) {
	case 8:
		raw = append(append(raw, raw...), raw...)
	case 16:
		raw = append(raw, raw[:8]...)
	}
	c, err := des.NewTripleDESCipher(raw)
	require.NoError(t, err)
	out := make([]byte, 8)
	if encrypt {
		c.Encrypt(out, block)
	} else {
		c.Decrypt(out, block)
	}
	return out
}

func unhexT(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// Published ISO 9564 format 0 examples, and their encryption under the
// test PIN key by OpenSSL (openssl enc -des-ede3-ecb -nopad).
func TestPINBlock_PublishedFormat0Examples(t *testing.T) {
	for _, c := range []struct {
		source, pin, pan, clear, encrypted string
	}{
		{
			// ID TECH's PIN block documentation (ISO-0 encode and decode):
			// PIN field 041234FFFFFFFFFF, PAN field 0000987654321098
			source: "ID TECH", pin: "1234", pan: "43219876543210987",
			clear: "0412AC89ABCDEF67", encrypted: "C967C8198151A458",
		},
		{
			// the HSM host command manuals' "format 01" example (ANSI
			// X9.8, ISO 9564-1 format 0): PIN 92389, 13-digit account
			// 4000001234562 whose check digit is 2
			source: "HSM format 01", pin: "92389", pan: "4000001234562",
			clear: "0592789FFFEDCBA9", encrypted: "5688FEC52654FE71",
		},
		{
			source: "ISO 9564-1 format 0 by hand", pin: "1234", pan: "4111111111111111",
			clear: "041225EEEEEEEEEE", encrypted: "2A3D408A1977DDE9",
		},
	} {
		t.Run(c.source, func(t *testing.T) {
			k, err := ParsePINKey(TestPINKey)
			require.NoError(t, err)
			block, err := k.EncryptPIN(c.pin, c.pan)
			require.NoError(t, err)
			require.Equal(t, c.encrypted, strings.ToUpper(hex.EncodeToString(block)))
			require.Equal(t, c.clear, strings.ToUpper(hex.EncodeToString(tdesECB(t, TestPINKey, block, false))))
			pin, err := k.DecryptPIN(unhexT(t, c.encrypted), c.pan)
			require.NoError(t, err)
			require.Equal(t, c.pin, pin)
		})
	}
}

// Single-, double- and triple-length keys: 8 bytes are single DES (K K K),
// 16 are K1 K2 K1, 24 are three keys.
func TestPINKey_Lengths(t *testing.T) {
	for _, c := range []struct {
		key, encrypted string
		double         bool
	}{
		{"0123456789ABCDEF", "864C0D7C2D6C8B94", false},
		{"0123456789ABCDEFFEDCBA9876543210", "C967C8198151A458", true},
		{"0123456789ABCDEFFEDCBA987654321089ABCDEF01234567", "A5DC5F7F40A400FE", true},
		{"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "864C0D7C2D6C8B94", false}, // three equal keys are single DES
		{"0123456789abcdeffedcba9876543210", "C967C8198151A458", true},                  // hex in either case
	} {
		k, err := ParsePINKey(c.key)
		require.NoError(t, err, c.key)
		require.Equal(t, c.double, k.Double(), c.key)
		block, err := k.EncryptPIN("1234", "43219876543210987")
		require.NoError(t, err)
		require.Equal(t, c.encrypted, strings.ToUpper(hex.EncodeToString(block)), c.key)
	}
	for key, why := range map[string]string{
		"":                                 "want 8, 16 or 24 bytes, got 0",
		"00":                               "want 8, 16 or 24 bytes, got 1",
		"0123456789ABCDEF01":               "got 9",
		"0123456789ABCDEFFEDCBA98765432":   "got 15",
		"0123456789ABCDEFFEDCBA987654321G": "not hex",
		"0123456789ABCDEFF":                "not hex",
	} {
		_, err := ParsePINKey(key)
		require.ErrorContains(t, err, why, "%q", key)
	}
}

func TestEncryptPIN_RefusesWhatFormat0CannotCarry(t *testing.T) {
	k, err := ParsePINKey(TestPINKey)
	require.NoError(t, err)
	for _, pin := range []string{"", "123", "1234567890123", "12a4", "12 34", "-1234"} {
		_, err := k.EncryptPIN(pin, "4111111111111111")
		require.ErrorContains(t, err, "4 to 12 digits", "PIN %q", pin)
	}
	for _, pan := range []string{"", "411111111111", "4111-1111-1111-1111", "411111111111111x"} {
		_, err := k.EncryptPIN("1234", pan)
		require.ErrorContains(t, err, "PAN of 13 to 19 digits", "PAN %q", pan)
	}
	for _, pin := range []string{"1234", "123456", "123456789012"} {
		for _, pan := range []string{"4000001234562", "4111111111111111", "6212263301004540034"} {
			block, err := k.EncryptPIN(pin, pan)
			require.NoError(t, err)
			got, err := k.DecryptPIN(block, pan)
			require.NoError(t, err)
			require.Equal(t, pin, got)
		}
	}
	// twelve digits fill the block: no F is left
	block, err := k.EncryptPIN("123456789012", "4111111111111111")
	require.NoError(t, err)
	require.Equal(t, "0C122547698103EE", strings.ToUpper(hex.EncodeToString(tdesECB(t, TestPINKey, block, false))))
}

// Only the twelve PAN digits before the check digit enter the block: PANs
// that agree on them give the same block; any other gives another.
func TestPINBlock_PANField(t *testing.T) {
	k, err := ParsePINKey(TestPINKey)
	require.NoError(t, err)
	a, err := k.EncryptPIN("1234", "4111111111111111")
	require.NoError(t, err)
	b, err := k.EncryptPIN("1234", "9991111111111111")
	require.NoError(t, err)
	require.Equal(t, a, b, "digits before the rightmost thirteen do not count")
	c, err := k.EncryptPIN("1234", "4111111111111119")
	require.NoError(t, err)
	require.Equal(t, a, c, "nor does the check digit")
	d, err := k.EncryptPIN("1234", "4111111111111121")
	require.NoError(t, err)
	require.NotEqual(t, a, d)
}

// A block that is not format 0 for the PAN (wrong format nibble, a length
// out of range, a letter for a digit, a fill other than F, the wrong
// length) is ErrBadPINBlock, never a wrong PIN.
func TestDecryptPIN_RefusesWhatIsNotFormat0(t *testing.T) {
	k, err := ParsePINKey(TestPINKey)
	require.NoError(t, err)
	const pan = "43219876543210987" // PAN field 0000987654321098
	panField := unhexT(t, "0000987654321098")
	encrypt := func(pinField string) []byte {
		b := unhexT(t, pinField)
		for i := range b {
			b[i] ^= panField[i]
		}
		return tdesECB(t, TestPINKey, b, true)
	}
	pin, err := k.DecryptPIN(encrypt("041234FFFFFFFFFF"), pan)
	require.NoError(t, err, "the valid block the others are made from")
	require.Equal(t, "1234", pin)
	for name, pinField := range map[string]string{
		"format 1":              "141234FFFFFFFFFF",
		"format 3":              "341234FFFFFFFFFF",
		"three digits":          "03123FFFFFFFFFFF",
		"thirteen digits":       "0D1234567890123F",
		"a letter among digits": "0412A4FFFFFFFFFF",
		"a fill of zeros":       "0412340000000000",
		"one fill digit wrong":  "041234FFFFFFFFFE",
	} {
		_, err := k.DecryptPIN(encrypt(pinField), pan)
		require.ErrorIs(t, err, ErrBadPINBlock, name)
	}
	for _, n := range []int{0, 7, 9, 16} {
		_, err := k.DecryptPIN(make([]byte, n), pan)
		require.ErrorIs(t, err, ErrBadPINBlock, "%d bytes", n)
	}
	_, err = k.DecryptPIN(encrypt("041234FFFFFFFFFF"), "4321")
	require.ErrorContains(t, err, "PAN of 13 to 19 digits")

	// decrypted for another PAN, the block no longer ends in F fill
	_, err = k.DecryptPIN(encrypt("041234FFFFFFFFFF"), "4111111111111111")
	require.ErrorIs(t, err, ErrBadPINBlock)
	// and under another key it is noise
	other, err := ParsePINKey("FEDCBA98765432100123456789ABCDEF")
	require.NoError(t, err)
	_, err = other.DecryptPIN(encrypt("041234FFFFFFFFFF"), pan)
	require.ErrorIs(t, err, ErrBadPINBlock)
}
