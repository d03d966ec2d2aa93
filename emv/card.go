package emv

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Tags of the chip data a terminal sends in its authorisation request
// (docs/domain.md, "China UnionPay dialect", DE55) and an issuer sends back.
const (
	TagAmount       uint32 = 0x9F02 // amount, authorised: n12
	TagAmountOther  uint32 = 0x9F03 // amount, other (cashback): n12
	TagCountry      uint32 = 0x9F1A // terminal country code: n4
	TagTVR          uint32 = 0x95   // terminal verification results: 5 bytes
	TagCurrency     uint32 = 0x5F2A // transaction currency code: n4
	TagDate         uint32 = 0x9A   // transaction date: YYMMDD
	TagType         uint32 = 0x9C   // transaction type: 00 goods, 03 pre-auth (PBOC)
	TagUN           uint32 = 0x9F37 // unpredictable number: 4 bytes
	TagAIP          uint32 = 0x82   // application interchange profile: 2 bytes
	TagATC          uint32 = 0x9F36 // application transaction counter: 2 bytes
	TagIAD          uint32 = 0x9F10 // issuer application data
	TagCryptogram   uint32 = 0x9F26 // application cryptogram: 8 bytes
	TagCID          uint32 = 0x9F27 // cryptogram information data: 1 byte
	TagCapabilities uint32 = 0x9F33 // terminal capabilities: 3 bytes
	TagCVMResults   uint32 = 0x9F34 // CVM results: 3 bytes
	TagTermType     uint32 = 0x9F35 // terminal type: 1 byte
	TagIFDSerial    uint32 = 0x9F1E // interface device serial number: 8 characters
	TagAID          uint32 = 0x84   // dedicated file (application) name
	TagAppVersion   uint32 = 0x9F09 // application version number (terminal)
	TagSeqCounter   uint32 = 0x9F41 // transaction sequence counter
	TagIssuerAuth   uint32 = 0x91   // issuer authentication data: ARPC || ARC
	TagScript1      uint32 = 0x71   // issuer script template 1 (before the second GENERATE AC)
	TagScript2      uint32 = 0x72   // issuer script template 2 (after it)
	TagScriptResult uint32 = 0xDF31 // issuer script results (PBOC)
	// TagScriptResultsEMV is EMV's issuer script results (9F5B), which
	// some terminals send in place of DF31.
	TagScriptResultsEMV uint32 = 0x9F5B
	// TagScriptID is an issuer script's identifier (9F18), inside 71 or 72.
	TagScriptID uint32 = 0x9F18
)

// Cryptogram information data (9F27): which cryptogram the card returned.
const (
	CIDAAC  byte = 0x00 // application authentication cryptogram: declined
	CIDTC   byte = 0x40 // transaction certificate: approved
	CIDARQC byte = 0x80 // authorisation request cryptogram: go online
)

// CIDName names a cryptogram information byte: AAC, TC, ARQC or AAR.
func CIDName(cid byte) string {
	switch cid & 0xC0 {
	case CIDAAC:
		return "AAC"
	case CIDTC:
		return "TC"
	case CIDARQC:
		return "ARQC"
	}
	return "AAR"
}

// CDOL1 lists the data, in order, that posim's chip application signs in
// its first GENERATE AC: the minimum set EMV Book 2 (8.1.1) recommends,
// then the AIP and the ATC. CryptogramData follows it with the card
// verification results of the issuer application data (the CVN 10/18
// layout of 9F10: length, key index, cryptogram version, CVR).
var CDOL1 = []uint32{TagAmount, TagAmountOther, TagCountry, TagTVR, TagCurrency, TagDate, TagType, TagUN, TagAIP, TagATC}

// CryptogramData is the input of an application cryptogram: the values of
// CDOL1's tags in l, then the four CVR bytes of 9F10. It names the first
// tag that is missing.
func CryptogramData(l List) ([]byte, error) {
	var b bytes.Buffer
	for _, tag := range CDOL1 {
		v, ok := l.Get(tag)
		if !ok {
			return nil, fmt.Errorf("emv: chip data has no tag %X", tag)
		}
		b.Write(v)
	}
	iad, ok := l.Get(TagIAD)
	if !ok || len(iad) < 7 {
		return nil, fmt.Errorf("emv: chip data has no issuer application data (9F10) with a CVR")
	}
	b.Write(iad[3:7])
	return b.Bytes(), nil
}

// ATC reads the application transaction counter (9F36) of l.
func ATC(l List) (uint16, error) {
	v, ok := l.Get(TagATC)
	if !ok || len(v) != 2 {
		return 0, fmt.Errorf("emv: chip data has no two-byte ATC (9F36)")
	}
	return binary.BigEndian.Uint16(v), nil
}

// Cryptogram versions, byte 3 of the issuer application data (9F10), that
// posim's cards and issuer run.
const (
	// CVNPBOC is PBOC 2.0/3.0 (UnionPay debit and credit), cryptogram
	// version 01: the session key by PBOCSessionKey.
	CVNPBOC byte = 0x01
	// CVNCSK is the EMV common session key derivation (SessionKey),
	// under the version number EMV's Common Core Definitions give triple
	// DES with it; posim writes it in PBOC's 9F10 layout [assumed].
	CVNCSK byte = 0x05
)

// CVN reads the cryptogram version of the issuer application data (9F10).
func CVN(l List) (byte, error) {
	iad, ok := l.Get(TagIAD)
	if !ok || len(iad) < 3 {
		return 0, fmt.Errorf("emv: chip data has no issuer application data (9F10) with a cryptogram version")
	}
	return iad[2], nil
}

// PBOCSessionKey derives a PBOC card's session key (过程密钥) from its
// master key and transaction counter: 3DES(MK)[00 00 00 00 00 00 ATC] ||
// 3DES(MK)[00 00 00 00 00 00 (ATC xor FFFF)], parity left as it comes
// (as the published examples of emv/pboc_vectors_test.go write it).
func PBOCSessionKey(mk []byte, atc uint16) ([]byte, error) {
	b, err := tdes(mk)
	if err != nil {
		return nil, err
	}
	sk := make([]byte, 16)
	b.Encrypt(sk[:8], []byte{0, 0, 0, 0, 0, 0, byte(atc >> 8), byte(atc)})
	b.Encrypt(sk[8:], []byte{0, 0, 0, 0, 0, 0, ^byte(atc >> 8), ^byte(atc)})
	return sk, nil
}

// ApplicationCryptogram computes the cryptogram of the card whose master key
// is mk over the chip data l: the session key of l's ATC by the cryptogram
// version its 9F10 names (PBOC, or the EMV common session key), then
// Cryptogram over CryptogramData. It returns the cryptogram and the
// session key.
func ApplicationCryptogram(mk []byte, l List) (ac, sk []byte, err error) {
	atc, err := ATC(l)
	if err != nil {
		return nil, nil, err
	}
	data, err := CryptogramData(l)
	if err != nil {
		return nil, nil, err
	}
	cvn, err := CVN(l)
	if err != nil {
		return nil, nil, err
	}
	switch cvn {
	case CVNPBOC:
		sk, err = PBOCSessionKey(mk, atc)
	case CVNCSK:
		sk, err = SessionKey(mk, CommonR(atc))
	default:
		return nil, nil, fmt.Errorf("emv: cryptogram version %02X in 9F10: posim runs %02X (PBOC) and %02X (EMV common session key)", cvn, CVNPBOC, CVNCSK)
	}
	if err != nil {
		return nil, nil, err
	}
	ac, err = Cryptogram(sk, data)
	return ac, sk, err
}

// IssuerAuthData is the value of tag 91 an issuer returns: the ARPC
// (method 1, under the session key) followed by the two-byte
// authorisation response code (ASCII, "00" is 3030).
func IssuerAuthData(sk, arqc []byte, arc string) ([]byte, error) {
	if len(arc) != 2 {
		return nil, fmt.Errorf("emv: authorisation response code %q: want two characters", arc)
	}
	arpc, err := ARPC(sk, arqc, []byte(arc))
	if err != nil {
		return nil, err
	}
	return append(arpc, arc...), nil
}

// VerifyIssuerAuth checks the issuer authentication data (91) against the
// ARQC the card sent, under its session key: true when the ARPC is the one
// the issuer of the card would compute for the response code it carries.
func VerifyIssuerAuth(sk, arqc, data []byte) bool {
	if len(data) < 10 {
		return false
	}
	want, err := ARPC(sk, arqc, data[8:10])
	return err == nil && bytes.Equal(want, data[:8])
}

// TagARC is the authorisation response code (8A) the terminal gives the
// card at the second GENERATE AC.
const TagARC uint32 = 0x8A

// SecondCryptogram is the cryptogram of the second GENERATE AC (TC or
// AAC) over CDOL2, which for posim's chip application is the CDOL1 data
// and CVR, then the authorisation response code (8A, two ASCII
// characters). The cryptogram information data (9F27) is the card's
// answer, not part of CDOL2, and is not signed.
func SecondCryptogram(sk []byte, l List, arc string) ([]byte, error) {
	if len(arc) != 2 {
		return nil, fmt.Errorf("emv: authorisation response code %q: want two characters", arc)
	}
	data, err := CryptogramData(l)
	if err != nil {
		return nil, err
	}
	return Cryptogram(sk, append(data, arc...))
}
