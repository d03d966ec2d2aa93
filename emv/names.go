package emv

import (
	"fmt"
	"strings"
)

// tagNames are the names of the data objects a chip field (DE55) carries,
// as EMV Book 3 annex A and the PBOC specification name them.
var tagNames = map[uint32]string{
	0x4F: "Application Identifier (AID), card", 0x50: "Application Label", 0x56: "Track 1 Data",
	0x57: "Track 2 Equivalent Data", 0x5A: "Application PAN", 0x5F20: "Cardholder Name",
	0x5F24: "Application Expiration Date", 0x5F25: "Application Effective Date", 0x5F28: "Issuer Country Code",
	0x5F2A: "Transaction Currency Code", 0x5F30: "Service Code", 0x5F34: "PAN Sequence Number",
	0x71: "Issuer Script Template 1", 0x72: "Issuer Script Template 2", 0x82: "Application Interchange Profile",
	0x84: "Dedicated File Name", 0x86: "Issuer Script Command", 0x8A: "Authorisation Response Code",
	0x91: "Issuer Authentication Data", 0x95: "Terminal Verification Results", 0x99: "Transaction PIN Data",
	0x9A: "Transaction Date", 0x9B: "Transaction Status Information", 0x9C: "Transaction Type",
	0x9F02: "Amount, Authorised", 0x9F03: "Amount, Other", 0x9F06: "Application Identifier (AID), terminal",
	0x9F07: "Application Usage Control", 0x9F08: "Application Version Number, card",
	0x9F09: "Application Version Number, terminal", 0x9F0D: "Issuer Action Code - Default",
	0x9F0E: "Issuer Action Code - Denial", 0x9F0F: "Issuer Action Code - Online", 0x9F10: "Issuer Application Data",
	0x9F18: "Issuer Script Identifier", 0x9F1A: "Terminal Country Code", 0x9F1E: "Interface Device Serial Number",
	0x9F1F: "Track 1 Discretionary Data", 0x9F21: "Transaction Time", 0x9F26: "Application Cryptogram",
	0x9F27: "Cryptogram Information Data", 0x9F33: "Terminal Capabilities", 0x9F34: "CVM Results",
	0x9F35: "Terminal Type", 0x9F36: "Application Transaction Counter", 0x9F37: "Unpredictable Number",
	0x9F41: "Transaction Sequence Counter", 0x9F53: "Transaction Category Code", 0x9F5B: "Issuer Script Results",
	0x9F5D: "Available Offline Spending Amount", 0x9F63: "Card Product Identification (PBOC)",
	0x9F66: "Terminal Transaction Qualifiers", 0x9F6C: "Card Transaction Qualifiers", 0x9F6E: "Form Factor Indicator",
	0x9F74: "VLP Issuer Authorisation Code (electronic cash)", 0x9F79: "Electronic Cash Balance",
	0xDF31: "Issuer Script Results (PBOC)",
}

// TagName is a data object's name ("Application Cryptogram" for 9F26);
// an unknown tag is named by its class: "proprietary" or "unknown".
func TagName(tag uint32) string {
	if n, ok := tagNames[tag]; ok {
		return n
	}
	first := tag
	for first > 0xFF {
		first >>= 8
	}
	if first&0xC0 == 0xC0 {
		return "(private class tag)"
	}
	return "(unknown tag)"
}

// Secret reports whether a data object carries card data that is never
// shown: tracks, their discretionary data, PIN data.
func Secret(tag uint32) bool {
	switch tag {
	case 0x56, 0x57, 0x99, 0x9F1F, 0x9F20:
		return true
	}
	return false
}

// TagHex writes a tag as its bytes in upper-case hex: 9F26, 82.
func TagHex(tag uint32) string {
	s := fmt.Sprintf("%X", tag)
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return strings.ToUpper(s)
}
