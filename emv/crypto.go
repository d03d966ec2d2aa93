package emv

import (
	"crypto/cipher"
	"crypto/des"
	"errors"
	"fmt"
	"strings"
)

// ErrKeyLength: EMV issuer and card keys are double-length DES keys.
var ErrKeyLength = errors.New("emv: a key must be 16 bytes (double-length DES)")

func tdes(key []byte) (cipher.Block, error) {
	if len(key) != 16 {
		return nil, ErrKeyLength
	}
	return des.NewTripleDESCipher(append(append([]byte{}, key...), key[:8]...))
}

// CheckValue is a key's check value: the first n bytes of eight zero bytes
// encrypted under it.
func CheckValue(key []byte, n int) ([]byte, error) {
	b, err := tdes(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 8)
	b.Encrypt(out, make([]byte, 8))
	return out[:min(n, 8)], nil
}

// oddParity sets each byte's low bit so that the byte has an odd number of
// ones, as DES keys are written.
func oddParity(k []byte) []byte {
	for i, b := range k {
		b &= 0xFE
		ones := 0
		for x := b; x != 0; x >>= 1 {
			ones += int(x & 1)
		}
		if ones%2 == 0 {
			b |= 1
		}
		k[i] = b
	}
	return k
}

// ICCMasterKey derives a card's master key from the issuer master key, the
// PAN and the PAN sequence number (DE23 / 5F34, two digits), by option A of
// EMV Book 2 annex A1.4.1: Y is the rightmost sixteen digits of PAN || PSN,
// the key is 3DES(IMK)[Y] || 3DES(IMK)[Y xor FF..FF].
func ICCMasterKey(imk []byte, pan, psn string) ([]byte, error) {
	b, err := tdes(imk)
	if err != nil {
		return nil, err
	}
	digits := pan + psn
	for len(digits) < 16 {
		digits = "0" + digits
	}
	y, err := packDigits(digits[len(digits)-16:])
	if err != nil {
		return nil, fmt.Errorf("emv: PAN and sequence number: %w", err)
	}
	mk := make([]byte, 16)
	b.Encrypt(mk[:8], y)
	for i := range y {
		y[i] ^= 0xFF
	}
	b.Encrypt(mk[8:], y)
	return oddParity(mk), nil
}

// Numeric is a value of EMV format n: the digits packed two to a byte,
// right-aligned in size bytes with leading zeros (9F02 amount 1234 in 6
// bytes is 00 00 00 00 12 34).
func Numeric(digits string, size int) ([]byte, error) {
	if len(digits) > 2*size {
		return nil, fmt.Errorf("emv: %d digits do not fit %d bytes", len(digits), size)
	}
	return packDigits(strings.Repeat("0", 2*size-len(digits)) + digits)
}

func packDigits(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("%d digits: want an even count", len(s))
	}
	out := make([]byte, len(s)/2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return nil, fmt.Errorf("%q is not a digit", c)
		}
		if i%2 == 0 {
			out[i/2] = (c - '0') << 4
		} else {
			out[i/2] |= c - '0'
		}
	}
	return out, nil
}

// SessionKey derives a card's application cryptogram session key from its
// master key and the diversification value R by the common session key
// derivation of EMV Book 2 annex A1.3.1: 3DES(MK)[R0 R1 F0 R3..R7] ||
// 3DES(MK)[R0 R1 0F R3..R7]. For an ARQC, R is the ATC followed by six zero
// bytes (CommonR).
func SessionKey(mk, r []byte) ([]byte, error) {
	b, err := tdes(mk)
	if err != nil {
		return nil, err
	}
	if len(r) != 8 {
		return nil, fmt.Errorf("emv: R must be 8 bytes, got %d", len(r))
	}
	sk := make([]byte, 16)
	left, right := append([]byte{}, r...), append([]byte{}, r...)
	left[2], right[2] = 0xF0, 0x0F
	b.Encrypt(sk[:8], left)
	b.Encrypt(sk[8:], right)
	return oddParity(sk), nil
}

// CommonR is R of the common session key derivation for a transaction
// counter: the ATC (9F36) followed by six zero bytes.
func CommonR(atc uint16) []byte {
	return []byte{byte(atc >> 8), byte(atc), 0, 0, 0, 0, 0, 0}
}

// Cryptogram is an application cryptogram (ARQC, TC or AAC) over data, the
// concatenated values of the card's CDOL data: ISO 9797-1 MAC algorithm 3
// (single DES CBC under the key's left half, the last block through the
// right half and back) after padding method 2 (0x80, then zeros to a whole
// block).
func Cryptogram(sk, data []byte) ([]byte, error) {
	if len(sk) != 16 {
		return nil, ErrKeyLength
	}
	kl, err := des.NewCipher(sk[:8])
	if err != nil {
		return nil, err
	}
	kr, err := des.NewCipher(sk[8:])
	if err != nil {
		return nil, err
	}
	padded := append(append([]byte{}, data...), 0x80)
	for len(padded)%8 != 0 {
		padded = append(padded, 0)
	}
	h := make([]byte, 8)
	for i := 0; i < len(padded); i += 8 {
		for j := range 8 {
			h[j] ^= padded[i+j]
		}
		kl.Encrypt(h, h)
	}
	kr.Decrypt(h, h)
	kl.Encrypt(h, h)
	return h, nil
}

// ARPC is the authorisation response cryptogram of method 1 (EMV Book 2
// 8.2.1): 3DES(key)[ARQC xor (ARC || six zero bytes)], where ARC is the
// two-byte authorisation response code the issuer sends back with it.
func ARPC(key, arqc, arc []byte) ([]byte, error) {
	b, err := tdes(key)
	if err != nil {
		return nil, err
	}
	if len(arqc) != 8 || len(arc) != 2 {
		return nil, fmt.Errorf("emv: ARPC needs an 8-byte ARQC and a 2-byte response code, got %d and %d", len(arqc), len(arc))
	}
	x := append([]byte{}, arqc...)
	x[0] ^= arc[0]
	x[1] ^= arc[1]
	out := make([]byte, 8)
	b.Encrypt(out, x)
	return out, nil
}
