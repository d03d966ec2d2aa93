package emv

import (
	"bytes"
	"crypto/sha1" // EMV Book 2 fixes SHA-1 as the CA public key checksum
	"encoding/hex"
	"fmt"
)

// Tags of a certification authority public key (CAPK) and of an
// application's terminal parameters, as CUP terminals store and download
// them.
const (
	TagRID         uint32 = 0x9F06 // RID (CAPK) or AID (parameters)
	TagCAPKIndex   uint32 = 0x9F22 // CA public key index
	TagCAPKExpiry  uint32 = 0xDF05 // expiry, YYYYMMDD (ASCII or BCD)
	TagCAPKHashAlg uint32 = 0xDF06 // 01: SHA-1
	TagCAPKAlg     uint32 = 0xDF07 // 01: RSA
	TagCAPKModulus uint32 = 0xDF02 // modulus
	TagCAPKExp     uint32 = 0xDF04 // exponent (03 or 010001)
	TagCAPKHash    uint32 = 0xDF03 // checksum: SHA-1 of RID, index, modulus, exponent
)

// CAPK is a certification authority public key as a terminal holds it.
type CAPK struct {
	RID      []byte
	Index    byte
	Modulus  []byte
	Exponent []byte
	Checksum []byte
	// TLV is the key as it was read, for storing and sending on.
	TLV []byte
}

// ParseCAPK reads a CA public key from its TLV form and checks its
// checksum (EMV Book 2 annex B2.1: SHA-1 over RID, index, modulus and
// exponent).
func ParseCAPK(data []byte) (*CAPK, error) {
	l, err := Parse(data)
	if err != nil {
		return nil, err
	}
	k := &CAPK{TLV: append([]byte{}, data...)}
	var idx []byte
	for _, f := range []struct {
		tag uint32
		dst *[]byte
	}{{TagRID, &k.RID}, {TagCAPKIndex, &idx}, {TagCAPKModulus, &k.Modulus}, {TagCAPKExp, &k.Exponent}} {
		v, ok := l.Get(f.tag)
		if !ok || len(v) == 0 {
			return nil, fmt.Errorf("emv: CA public key without tag %X", f.tag)
		}
		*f.dst = v
	}
	k.Index = idx[0]
	k.Checksum, _ = l.Get(TagCAPKHash)
	if !k.Valid() {
		return nil, fmt.Errorf("emv: CA public key %X/%02X: checksum %X does not match", k.RID, k.Index, k.Checksum)
	}
	return k, nil
}

// Valid reports whether the key's checksum is the SHA-1 of its RID, index,
// modulus and exponent.
func (k *CAPK) Valid() bool {
	h := sha1.New()
	h.Write(k.RID)
	h.Write([]byte{k.Index})
	h.Write(k.Modulus)
	h.Write(k.Exponent)
	return bytes.Equal(h.Sum(nil), k.Checksum)
}

// Name is the key's RID and index in hex, like A000000333/02.
func (k *CAPK) Name() string {
	return fmt.Sprintf("%s/%02X", hex.EncodeToString(k.RID), k.Index)
}

// UnionPayTestCAPK02 is UnionPay's test CA public key A000000333 index 02
// (1152 bits, exponent 3, expiry 2024-12-31) as POS SDK code configures
// it in terminals (published in public Android POS code, found through
// posim's code search; the repository is not recorded). posim's host
// hands it out in the cup CA key download.
const UnionPayTestCAPK02 = "9F0605A0000003339F220102DF05083230323431323331DF060101DF070101DF028190A3767ABD1B6AA69D7F3FBF28C092DE9ED1E658BA5F0909AF7A1CCD907373B7210FDEB16287BA8E78E1529F443976FD27F991EC67D95E5F4E96B127CAB2396A94D6E45CDA44CA4C4867570D6B07542F8D4BF9FF97975DB9891515E66F525D2B3CBEB6D662BFB6C3F338E93B02142BFC44173A3764C56AADD202075B26DC2F9F7D7AE74BD7D00FD05EE430032663D27A57DF040103DF031403BB335A8549A03B87AB089D006F60852E4B8060"

// UnionPayTestAIDParams is the terminal parameter set of the UnionPay
// debit application (AID A000000333010101) as public POS code configures
// it: application selection, version 0020, terminal action codes
// (DF11-DF13), floor limit 500.00 (9F1B), random selection (DF15-DF17),
// default DDOL 9F3704 (DF14), online PIN (DF18), electronic cash and
// contactless limits (9F7B, DF19-DF21). posim's host hands it out in the
// cup parameter download.
const UnionPayTestAIDParams = "9F0608A000000333010101DF0101009F08020020DF1105D84000A800DF1205D84004F800DF130500100000009F1B040000C350DF150400000000DF160199DF170199DF14039F3704DF1801019F7B06100000000000DF1906100000000000DF2006100000000000DF2106100000000000"
