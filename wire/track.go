package wire

import (
	"crypto/cipher"
	"crypto/des"
	"fmt"
)

// Track is the encoding of track 2 and track 3 data (DE35, DE36) in the cup
// dialect: packed BCD, left-aligned (a trailing 0 nibble pads an odd
// length), with the field separator '=' written as the nibble D, as CUP
// terminals write it (6222...D3012...). Encrypted track data (key set 004,
// EncryptTrack) may hold any nibble: A, B, C, E and F travel as those hex
// letters. It implements moov-io/iso8583's encoding.Encoder.
var Track = trackEncoder{}

type trackEncoder struct{}

func (trackEncoder) Encode(src []byte) ([]byte, error) {
	dst := make([]byte, (len(src)+1)/2)
	for i, c := range src {
		n, ok := trackNibble(c)
		if !ok {
			return nil, fmt.Errorf("track data: %q is neither a digit nor the separator '='", c)
		}
		if i%2 == 0 {
			dst[i/2] = n << 4
		} else {
			dst[i/2] |= n
		}
	}
	return dst, nil
}

func trackNibble(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c == '=' || c == 'D' || c == 'd':
		return 0xD, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func (trackEncoder) Decode(src []byte, length int) ([]byte, int, error) {
	if length < 0 {
		return nil, 0, fmt.Errorf("track data: negative length %d", length)
	}
	read := (length + 1) / 2
	if len(src) < read {
		return nil, 0, fmt.Errorf("track data: need %d bytes, have %d", read, len(src))
	}
	out := make([]byte, length)
	for i := range out {
		n := src[i/2] >> 4
		if i%2 == 1 {
			n = src[i/2] & 0x0F
		}
		out[i] = "0123456789ABC=EF"[n]
	}
	return out, read, nil
}

// EncryptTrack encrypts track data with the track key of a 004 sign-on, as
// CUP terminals do: the track is packed as BCD (separator D), and the
// eight bytes that end with the second-to-last byte are encrypted with the
// key (triple DES, ECB) in place. The result is written as Track writes it.
// Track data shorter than nine bytes (17 digits) cannot be encrypted.
func EncryptTrack(key []byte, track string) (string, error) {
	return cryptTrack(key, track, true)
}

// DecryptTrack reverses EncryptTrack.
func DecryptTrack(key []byte, track string) (string, error) {
	return cryptTrack(key, track, false)
}

func cryptTrack(key []byte, track string, enc bool) (string, error) {
	packed, err := Track.Encode([]byte(track))
	if err != nil {
		return "", err
	}
	if len(packed) < 9 {
		return "", fmt.Errorf("track data: %d digits, too short to encrypt (17 at least)", len(track))
	}
	b, err := tdesKey(key)
	if err != nil {
		return "", fmt.Errorf("track key: %w", err)
	}
	tdb := packed[len(packed)-9 : len(packed)-1]
	copy(tdb, ecb(b, tdb, enc))
	out, _, err := Track.Decode(packed, len(track))
	return string(out), err
}

// tdesKey is a triple-DES cipher of a single (8), double (16) or triple
// (24) length key.
func tdesKey(key []byte) (cipher.Block, error) {
	switch len(key) {
	case 8:
		return des.NewCipher(key)
	case 16:
		return des.NewTripleDESCipher(append(append([]byte{}, key...), key[:8]...))
	case 24:
		return des.NewTripleDESCipher(key)
	}
	return nil, fmt.Errorf("want 8, 16 or 24 bytes, got %d", len(key))
}
