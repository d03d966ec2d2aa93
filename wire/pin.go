package wire

import (
	"crypto/cipher"
	"crypto/des"
	"encoding/hex"
	"errors"
	"fmt"
)

// TestPINKey is the documented test PIN encryption key (double-length TDES,
// hex) that the iso87 terminal and acquirer share by default. It is a test
// key: never use it for real card data.
const TestPINKey = "0123456789ABCDEFFEDCBA9876543210"

// ErrBadPINBlock is returned when a PIN block does not decode to a format 0
// block for the given PAN.
var ErrBadPINBlock = errors.New("PIN block is not a valid ISO 9564 format 0 block")

// PINKey is a TDES key used to encrypt PIN blocks.
type PINKey struct {
	block  cipher.Block
	single bool // an 8-byte key: single DES
}

// Double reports whether the key is double or triple length (triple DES
// proper), not a single DES key.
func (k PINKey) Double() bool { return !k.single }

// ParsePINKey parses a 16- or 24-byte TDES key written in hex.
func ParsePINKey(hexKey string) (PINKey, error) {
	raw, err := hex.DecodeString(hexKey)
	if err != nil {
		return PINKey{}, fmt.Errorf("PIN key: not hex: %w", err)
	}
	switch len(raw) {
	case 8: // single length: K1 K1 K1 is single DES
		raw = append(append(raw, raw...), raw...)
	case 16:
		raw = append(raw, raw[:8]...)
	case 24:
	default:
		return PINKey{}, fmt.Errorf("PIN key: want 8, 16 or 24 bytes, got %d", len(raw))
	}
	single := len(raw) == 24 && string(raw[:8]) == string(raw[8:16]) && string(raw[:8]) == string(raw[16:])
	b, err := des.NewTripleDESCipher(raw)
	if err != nil {
		return PINKey{}, fmt.Errorf("PIN key: %w", err)
	}
	return PINKey{block: b, single: single}, nil
}

// EncryptPIN builds an ISO 9564 format 0 PIN block for pin and pan and
// encrypts it under the key.
func (k PINKey) EncryptPIN(pin, pan string) ([]byte, error) {
	if len(pin) < 4 || len(pin) > 12 || !allDigits(pin) {
		return nil, fmt.Errorf("PIN must be 4 to 12 digits")
	}
	pf, err := panField(pan)
	if err != nil {
		return nil, err
	}
	var pinField [8]byte
	s := fmt.Sprintf("0%X%s", len(pin), pin)
	for len(s) < 16 {
		s += "F"
	}
	if _, err := hex.Decode(pinField[:], []byte(s)); err != nil {
		return nil, err
	}
	out := make([]byte, 8)
	for i := range out {
		out[i] = pinField[i] ^ pf[i]
	}
	k.block.Encrypt(out, out)
	return out, nil
}

// DecryptPIN decrypts a format 0 PIN block and returns the PIN.
func (k PINKey) DecryptPIN(block []byte, pan string) (string, error) {
	if len(block) != 8 {
		return "", ErrBadPINBlock
	}
	pf, err := panField(pan)
	if err != nil {
		return "", err
	}
	clear := make([]byte, 8)
	k.block.Decrypt(clear, block)
	for i := range clear {
		clear[i] ^= pf[i]
	}
	s := fmt.Sprintf("%X", clear)
	if s[0] != '0' {
		return "", ErrBadPINBlock
	}
	n := int(clear[0] & 0x0F)
	if n < 4 || n > 12 {
		return "", ErrBadPINBlock
	}
	pin := s[2 : 2+n]
	if !allDigits(pin) {
		return "", ErrBadPINBlock
	}
	for _, c := range s[2+n:] {
		if c != 'F' {
			return "", ErrBadPINBlock
		}
	}
	return pin, nil
}

// panField is the 12 rightmost PAN digits excluding the check digit, as the
// format 0 PAN field 0000 + 12 digits.
func panField(pan string) ([8]byte, error) {
	var out [8]byte
	if len(pan) < 13 || !allDigits(pan) {
		return out, fmt.Errorf("PIN block needs a PAN of 13 to 19 digits")
	}
	digits := pan[len(pan)-13 : len(pan)-1]
	_, err := hex.Decode(out[:], []byte("0000"+digits))
	return out, err
}
