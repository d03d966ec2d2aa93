package wire

import (
	"bytes"
	"crypto/cipher"
	"crypto/des"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Sign-on key set codes in 60.3 (docs/domain.md, "China UnionPay dialect").
const (
	KeysSingle = "001" // single-length PIN and MAC keys: DE62 is 24 bytes
	KeysDouble = "003" // double-length: 40 bytes
	KeysTrack  = "004" // double-length plus a track key: 60 bytes
)

// WorkingKeys are the clear working keys a sign-on delivers.
type WorkingKeys struct {
	PIN   []byte `json:"pin"`
	MAC   []byte `json:"mac"`
	Track []byte `json:"track,omitempty"`
}

func keyLen(mode string) (int, int, error) {
	switch mode {
	case KeysSingle, "":
		return 8, 2, nil
	case KeysDouble:
		return 16, 2, nil
	case KeysTrack:
		return 16, 3, nil
	}
	return 0, 0, fmt.Errorf("key set %q: want 001, 003 or 004", mode)
}

func tdes(hexKey string) (cipher.Block, error) {
	raw, err := hex.DecodeString(hexKey)
	if err != nil || (len(raw) != 16 && len(raw) != 8) {
		return nil, fmt.Errorf("terminal master key: want 16 or 32 hex digits")
	}
	if len(raw) == 8 {
		return des.NewCipher(raw)
	}
	return des.NewTripleDESCipher(append(append([]byte{}, raw...), raw[:8]...))
}

// CheckValue is a key's check value: the first 4 bytes of zeros encrypted
// under it (a single-, double- or triple-length key).
func CheckValue(key []byte) ([]byte, error) {
	b, err := tdesKey(key)
	if err != nil {
		return nil, fmt.Errorf("check value: %w", err)
	}
	out := make([]byte, 8)
	b.Encrypt(out, make([]byte, 8))
	return out[:4], nil
}

func ecb(b cipher.Block, src []byte, enc bool) []byte {
	out := make([]byte, len(src))
	for i := 0; i+8 <= len(src); i += 8 {
		if enc {
			b.Encrypt(out[i:i+8], src[i:i+8])
		} else {
			b.Decrypt(out[i:i+8], src[i:i+8])
		}
	}
	return out
}

// IssueKeys makes a set of working keys for a sign-on and returns them clear
// and as DE62: each key encrypted under the terminal master key and followed
// by its check value. serial makes each sign-on's keys different and
// repeatable.
func IssueKeys(tmkHex, mode string, serial uint64) (WorkingKeys, []byte, error) {
	n, count, err := keyLen(mode)
	if err != nil {
		return WorkingKeys{}, nil, err
	}
	tmk, err := tdes(tmkHex)
	if err != nil {
		return WorkingKeys{}, nil, err
	}
	var keys [][]byte
	var de62 []byte
	for i := 0; i < count; i++ {
		seed := make([]byte, n)
		for j := 0; j < n; j += 8 {
			binary.BigEndian.PutUint64(seed[j:], serial<<8|uint64(i*2+j/8))
		}
		clear := ecb(tmk, seed, true)
		cv, err := CheckValue(clear)
		if err != nil {
			return WorkingKeys{}, nil, err
		}
		keys = append(keys, clear)
		de62 = append(append(de62, ecb(tmk, clear, true)...), cv...)
	}
	wk := WorkingKeys{PIN: keys[0], MAC: keys[1]}
	if count == 3 {
		wk.Track = keys[2]
	}
	return wk, de62, nil
}

// ErrKeyCheck: a working key does not match its check value.
var ErrKeyCheck = errors.New("working key check value does not match")

// OpenKeys decrypts the working keys of a sign-on response (DE62) with the
// terminal master key and verifies their check values.
func OpenKeys(tmkHex, mode string, de62 []byte) (WorkingKeys, error) {
	n, count, err := keyLen(mode)
	if err != nil {
		return WorkingKeys{}, err
	}
	if len(de62) != count*(n+4) {
		return WorkingKeys{}, fmt.Errorf("DE62 is %d bytes; key set %s needs %d", len(de62), mode, count*(n+4))
	}
	tmk, err := tdes(tmkHex)
	if err != nil {
		return WorkingKeys{}, err
	}
	var keys [][]byte
	for i := 0; i < count; i++ {
		part := de62[i*(n+4) : (i+1)*(n+4)]
		clear := ecb(tmk, part[:n], false)
		cv, err := CheckValue(clear)
		if err != nil {
			return WorkingKeys{}, err
		}
		if !bytes.Equal(cv, part[n:]) {
			return WorkingKeys{}, fmt.Errorf("%w (key %d)", ErrKeyCheck, i+1)
		}
		keys = append(keys, clear)
	}
	wk := WorkingKeys{PIN: keys[0], MAC: keys[1]}
	if count == 3 {
		wk.Track = keys[2]
	}
	return wk, nil
}

// HexKey writes a key as upper-case hex.
func HexKey(k []byte) string { return strings.ToUpper(hex.EncodeToString(k)) }
