package wire

import (
	"crypto/cipher"
	"crypto/des"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MAC algorithms selectable for the cup profile.
const (
	MACCUP   = "cup"   // the CUP POS terminal algorithm (XOR blocks, ECB on the hex form)
	MACX919  = "x9.19" // ANSI X9.19 retail MAC (ISO 9797-1 algorithm 3)
	TestTMK  = "0123456789ABCDEFFEDCBA9876543210"
	macBlock = 8
)

// ErrBadMAC is returned when a message's MAC does not verify.
var ErrBadMAC = errors.New("MAC does not verify")

// MACKey computes 8-byte MACs with one algorithm. It is safe for concurrent
// use.
type MACKey struct {
	alg         string
	left, right cipher.Block // single DES halves
	full        cipher.Block // DES (8-byte key) or TDES (16/24-byte key)
}

// NewMACKey returns a MAC key for the algorithm; the key is 8 bytes (single
// length) or 16 bytes (double length), in hex.
func NewMACKey(alg, hexKey string) (*MACKey, error) {
	raw, err := hex.DecodeString(hexKey)
	if err != nil {
		return nil, fmt.Errorf("MAC key: not hex: %w", err)
	}
	k := &MACKey{alg: strings.ToLower(alg)}
	switch len(raw) {
	case 8:
		if k.full, err = des.NewCipher(raw); err != nil {
			return nil, err
		}
		k.left, k.right = k.full, k.full
	case 16:
		if k.full, err = des.NewTripleDESCipher(append(append([]byte{}, raw...), raw[:8]...)); err != nil {
			return nil, err
		}
		k.left, _ = des.NewCipher(raw[:8])
		k.right, _ = des.NewCipher(raw[8:])
	default:
		return nil, fmt.Errorf("MAC key: want 8 or 16 bytes, got %d", len(raw))
	}
	switch k.alg {
	case MACCUP:
	case MACX919:
		if len(raw) != 16 {
			return nil, errors.New("MAC key: ANSI X9.19 needs a double-length key")
		}
	default:
		return nil, fmt.Errorf("MAC algorithm %q: want cup or x9.19", alg)
	}
	return k, nil
}

func blocks(data []byte) [][]byte {
	padded := append([]byte{}, data...)
	for len(padded)%macBlock != 0 || len(padded) == 0 {
		padded = append(padded, 0)
	}
	var out [][]byte
	for i := 0; i < len(padded); i += macBlock {
		out = append(out, padded[i:i+macBlock])
	}
	return out
}

// Sum returns the 8-byte MAC of data.
func (k *MACKey) Sum(data []byte) []byte {
	if k.alg == MACX919 {
		return k.x919(data)
	}
	return k.cup(data)
}

// Verify reports whether mac is data's MAC, in constant time.
func (k *MACKey) Verify(data, mac []byte) bool {
	return len(mac) == macBlock && subtle.ConstantTimeCompare(k.Sum(data), mac) == 1
}

// cup is the CUP POS terminal MAC: XOR every 8-byte block of the MAB
// (zero-padded); write the result as 16 hex characters; encrypt the first
// 8 under the MAK, XOR with the last 8, encrypt again; write that as 16 hex
// characters and keep the first 8 as the MAC.
func (k *MACKey) cup(data []byte) []byte {
	x := make([]byte, macBlock)
	for _, b := range blocks(data) {
		for i := range x {
			x[i] ^= b[i]
		}
	}
	h := []byte(strings.ToUpper(hex.EncodeToString(x)))
	e := make([]byte, macBlock)
	k.full.Encrypt(e, h[:8])
	for i := range e {
		e[i] ^= h[8+i]
	}
	k.full.Encrypt(e, e)
	return []byte(strings.ToUpper(hex.EncodeToString(e))[:8])
}

// x919 is ANSI X9.19: CBC-DES under the left key half over the zero-padded
// data, then decrypt with the right half and encrypt with the left.
func (k *MACKey) x919(data []byte) []byte {
	c := make([]byte, macBlock)
	for _, b := range blocks(data) {
		for i := range c {
			c[i] ^= b[i]
		}
		k.left.Encrypt(c, c)
	}
	k.right.Decrypt(c, c)
	k.left.Encrypt(c, c)
	return c
}
