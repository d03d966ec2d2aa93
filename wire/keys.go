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

// How a sign-on answer (key set 003 or 004) carries the MAC key.
const (
	// MACKeySingle: an 8-byte MAC key followed by 8 zero bytes, with a
	// single-DES check value, and a single-DES MAC: what most field hosts
	// send (the CUP POS specification's layout; both published 003
	// answers in wire/testdata/field/keys.jsonl).
	MACKeySingle = "single"
	// MACKeyDouble: a 16-byte MAC key with a triple-DES check value.
	MACKeyDouble = "double"
)

// CheckMACKeyLayout refuses a layout that is neither single nor double
// (empty is the default, single).
func CheckMACKeyLayout(layout string) error {
	switch layout {
	case "", MACKeySingle, MACKeyDouble:
		return nil
	}
	return fmt.Errorf("MAC key layout %q: want single (8 bytes and 8 zero bytes, as most hosts send) or double", layout)
}

// keyNames name the working keys of DE62 in order.
var keyNames = []string{"PIN key", "MAC key", "track key"}

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

// IssueKeys makes a set of working keys for a sign-on with a double-length
// MAC key (IssueKeysLayout with MACKeyDouble).
func IssueKeys(tmkHex, mode string, serial uint64) (WorkingKeys, []byte, error) {
	return IssueKeysLayout(tmkHex, mode, MACKeyDouble, serial)
}

// IssueKeysLayout makes a set of working keys for a sign-on and returns
// them clear and as DE62: each key encrypted under the terminal master key
// and followed by its check value. Under key sets 003 and 004 the MAC key
// is laid out as layout says (MACKeySingle: 8 bytes, then 8 zero bytes and
// a single-DES check value). serial makes each sign-on's keys different and
// repeatable.
func IssueKeysLayout(tmkHex, mode, layout string, serial uint64) (WorkingKeys, []byte, error) {
	n, count, err := keyLen(mode)
	if err != nil {
		return WorkingKeys{}, nil, err
	}
	if err := CheckMACKeyLayout(layout); err != nil {
		return WorkingKeys{}, nil, err
	}
	tmk, err := tdes(tmkHex)
	if err != nil {
		return WorkingKeys{}, nil, err
	}
	var keys [][]byte
	var de62 []byte
	for i := 0; i < count; i++ {
		size := n
		single := i == 1 && n == 16 && layout != MACKeyDouble
		if single {
			size = 8
		}
		seed := make([]byte, size)
		for j := 0; j < size; j += 8 {
			binary.BigEndian.PutUint64(seed[j:], serial<<8|uint64(i*2+j/8))
		}
		clear := ecb(tmk, seed, true)
		cv, err := CheckValue(clear)
		if err != nil {
			return WorkingKeys{}, nil, err
		}
		keys = append(keys, clear)
		de62 = append(de62, ecb(tmk, clear, true)...)
		if single {
			de62 = append(de62, make([]byte, 8)...)
		}
		de62 = append(de62, cv...)
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
// terminal master key and verifies their check values. Under key sets 003
// and 004 the MAC key may come in either layout: 16 bytes with a
// triple-DES check value, or (as most field hosts send it) 8 bytes
// followed by 8 zero bytes with a single-DES check value; the key returned
// is then 8 bytes.
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
		clear, err := openKey(tmk, part[:n], part[n:], i == 1 && n == 16)
		if err != nil {
			return WorkingKeys{}, fmt.Errorf("%w: the %s (key %d of DE62, check value %X)", err, keyNames[i], i+1, part[n:])
		}
		keys = append(keys, clear)
	}
	wk := WorkingKeys{PIN: keys[0], MAC: keys[1]}
	if count == 3 {
		wk.Track = keys[2]
	}
	return wk, nil
}

// openKey decrypts one key and checks it; a MAC key whose second half is
// zeros is an 8-byte key when the 16-byte reading does not check.
func openKey(tmk cipher.Block, enc, check []byte, mac bool) ([]byte, error) {
	clear := ecb(tmk, enc, false)
	cv, err := CheckValue(clear)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(cv, check) {
		return clear, nil
	}
	if mac && bytes.Equal(enc[8:], make([]byte, 8)) {
		short := ecb(tmk, enc[:8], false)
		if cv, err := CheckValue(short); err == nil && bytes.Equal(cv, check) {
			return short, nil
		}
		return nil, fmt.Errorf("%w neither as 16 bytes nor as 8 bytes followed by zeros", ErrKeyCheck)
	}
	return nil, ErrKeyCheck
}

// HexKey writes a key as upper-case hex.
func HexKey(k []byte) string { return strings.ToUpper(hex.EncodeToString(k)) }

// NetMasterKey is the 60.3 code of a master key download (0800, cup).
const NetMasterKey = "350"

// WrapMasterKey is a master key download's DE62 (0810 to a 0800 with 60.3
// 350) as posim's host sends it: the terminal master key encrypted under
// the transport key (triple DES, ECB), then the master key's 4-byte check
// value. Hosts that download master keys under a transport key send this
// form; the RSA form of the UnionPay remote key download is not emulated.
func WrapMasterKey(tkHex, tmkHex string) ([]byte, error) {
	tk, err := tdes(tkHex)
	if err != nil {
		return nil, fmt.Errorf("transport key: want 16 or 32 hex digits")
	}
	tmk, err := hex.DecodeString(tmkHex)
	if err != nil || (len(tmk) != 8 && len(tmk) != 16) {
		return nil, fmt.Errorf("terminal master key: want 16 or 32 hex digits")
	}
	cv, err := CheckValue(tmk)
	if err != nil {
		return nil, err
	}
	return append(ecb(tk, tmk, true), cv...), nil
}

// OpenMasterKey reads a master key download's DE62 with the transport key
// and returns the terminal master key in hex; a check value that does not
// match is ErrKeyCheck, naming the key.
func OpenMasterKey(tkHex string, de62 []byte) (string, error) {
	tk, err := tdes(tkHex)
	if err != nil {
		return "", fmt.Errorf("transport key: want 16 or 32 hex digits")
	}
	if len(de62) != 12 && len(de62) != 20 {
		return "", fmt.Errorf("DE62 is %d bytes; a master key download answer is the key (8 or 16 bytes) and its 4-byte check value", len(de62))
	}
	n := len(de62) - 4
	clear := ecb(tk, de62[:n], false)
	cv, err := CheckValue(clear)
	if err != nil {
		return "", err
	}
	if !bytes.Equal(cv, de62[n:]) {
		return "", fmt.Errorf("%w (here the terminal master key of a master key download, check value %X, opened with this transport key)", ErrKeyCheck, de62[n:])
	}
	return HexKey(clear), nil
}
