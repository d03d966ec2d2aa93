package wire

import (
	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/prefix"
)

// SpecCUP is the China UnionPay POS terminal field spec: MTI in BCD, a
// binary primary bitmap only, numeric fields in BCD (LLVAR length one BCD
// byte, LLLVAR two, counting digits), alphanumeric fields in ASCII, PIN
// block and MAC as 8 binary bytes.
//
// Alignment, as CUP terminals and hosts write it (checked against frames
// captured from real traffic, wire/cup_capture_test.go): variable-length
// numeric fields (DE2, DE32, DE48, DE60, DE61) and DE22 are left-aligned,
// an odd length padded with a trailing 0 nibble (LeftBCD, which also reads
// an F pad);
// other fixed numeric fields, DE23 among them, are right-aligned (a leading
// 0 nibble: encoding.BCD); tracks 2 and 3 are left-aligned BCD with the
// separator '=' as the nibble D (Track).
var SpecCUP = buildSpecCUP()

func buildSpecCUP() *iso8583.MessageSpec {
	n := func(desc string, length int) field.Field {
		return field.NewString(&field.Spec{Length: length, Description: desc, Enc: encoding.BCD, Pref: prefix.BCD.Fixed})
	}
	nleft := func(desc string, length int) field.Field {
		return field.NewString(&field.Spec{Length: length, Description: desc, Enc: LeftBCD, Pref: prefix.BCD.Fixed})
	}
	nvar := func(desc string, length int, pref prefix.Prefixer) field.Field {
		return field.NewString(&field.Spec{Length: length, Description: desc, Enc: LeftBCD, Pref: pref})
	}
	track := func(desc string, length int, pref prefix.Prefixer) field.Field {
		return field.NewString(&field.Spec{Length: length, Description: desc, Enc: Track, Pref: pref})
	}
	an := func(desc string, length int) field.Field {
		return field.NewString(&field.Spec{Length: length, Description: desc, Enc: encoding.ASCII, Pref: prefix.ASCII.Fixed, Pad: spaceFill{}})
	}
	anvar := func(desc string, length int, pref prefix.Prefixer) field.Field {
		return field.NewString(&field.Spec{Length: length, Description: desc, Enc: encoding.ASCII, Pref: pref})
	}
	bin := func(desc string, length int) field.Field {
		return field.NewString(&field.Spec{Length: length, Description: desc, Enc: encoding.Binary, Pref: prefix.Binary.Fixed})
	}
	binvar := func(desc string, length int) field.Field {
		return field.NewString(&field.Spec{Length: length, Description: desc, Enc: encoding.Binary, Pref: prefix.BCD.LLL})
	}
	// ans: text as field equipment writes it, any byte allowed (merchant
	// names in GBK, TLV written in ASCII or binary), behind a BCD length
	ans := func(desc string, length int, pref prefix.Prefixer) field.Field {
		return field.NewString(&field.Spec{Length: length, Description: desc, Enc: encoding.Binary, Pref: pref})
	}
	ansFixed := func(desc string, length int) field.Field {
		return field.NewString(&field.Spec{Length: length, Description: desc, Enc: encoding.Binary, Pref: prefix.Binary.Fixed})
	}
	fields := map[int]field.Field{
		0:  n("Message Type Indicator", 4),
		1:  field.NewBitmap(&field.Spec{Length: 8, Description: "Bitmap", Enc: encoding.Binary, Pref: prefix.Binary.Fixed, DisableAutoExpand: true}),
		2:  nvar("Primary Account Number", 19, prefix.BCD.LL),
		3:  n("Processing Code", 6),
		4:  n("Amount, Transaction", 12),
		11: n("System Trace Audit Number", 6),
		12: n("Local Transaction Time", 6),
		13: n("Local Transaction Date", 4),
		14: n("Expiration Date", 4),
		15: n("Settlement Date", 4),
		22: nleft("POS Entry Mode", 3),
		23: n("Card Sequence Number", 3),
		25: n("POS Condition Code", 2),
		26: n("POS PIN Capture Code", 2),
		32: nvar("Acquiring Institution Identification Code", 11, prefix.BCD.LL),
		35: track("Track 2 Data", 37, prefix.BCD.LL),
		36: track("Track 3 Data", 104, prefix.BCD.LLL),
		37: an("Retrieval Reference Number", 12),
		38: an("Authorization Identification Response", 6),
		39: an("Response Code", 2),
		41: an("Card Acceptor Terminal Identification", 8),
		42: an("Card Acceptor Identification Code", 15),
		44: anvar("Additional Response Data", 25, prefix.BCD.LL),
		48: nvar("Additional Data, Private", 322, prefix.BCD.LLL),
		49: an("Currency Code, Transaction", 3),
		52: bin("PIN Data", 8),
		53: n("Security Related Control Information", 16),
		54: anvar("Balance Amount", 20, prefix.BCD.LLL),
		55: binvar("ICC System Related Data", 255),
		60: nvar("Reserved Private (60.1 type, 60.2 batch, 60.3 network code, 60.4 ...)", 100, prefix.BCD.LLL),
		61: nvar("Original Message (61.1 batch, 61.2 trace, 61.3 date)", 29, prefix.BCD.LLL),
		62: binvar("Reserved Private (working keys)", 512),
		63: ans("Reserved Private (63.1 card organisation or operator; field equipment also puts binary here)", 163, prefix.BCD.LLL),
		64: bin("Message Authentication Code", 8),

		// The fields posim does not use, in their ISO 8583:1987 formats as
		// CUP terminals and hosts write them (numeric in BCD, text as any
		// bytes behind a BCD length), so that a frame carrying them reads,
		// and what it carries is shown and kept: seen in the field frames of
		// wire/testdata/field/frames.jsonl (DE40, DE43, DE46, DE47, DE56,
		// DE57, DE59 among them).
		5:  n("Amount, Settlement", 12),
		6:  n("Amount, Cardholder Billing", 12),
		7:  n("Transmission Date and Time", 10),
		8:  n("Amount, Cardholder Billing Fee", 8),
		9:  n("Conversion Rate, Settlement", 8),
		10: n("Conversion Rate, Cardholder Billing", 8),
		16: n("Conversion Date", 4),
		17: n("Capture Date", 4),
		18: n("Merchant Type", 4),
		19: n("Acquiring Institution Country Code", 3),
		20: n("PAN Extended, Country Code", 3),
		21: n("Forwarding Institution Country Code", 3),
		24: n("Network International Identifier", 3),
		27: n("Authorization Identification Response Length", 1),
		28: ansFixed("Amount, Transaction Fee (x+n8)", 9),
		29: ansFixed("Amount, Settlement Fee (x+n8)", 9),
		30: ansFixed("Amount, Transaction Processing Fee (x+n8)", 9),
		31: ansFixed("Amount, Settlement Processing Fee (x+n8)", 9),
		33: nvar("Forwarding Institution Identification Code", 11, prefix.BCD.LL),
		34: ans("Primary Account Number, Extended", 28, prefix.BCD.LL),
		40: ans("Service Restriction Code (field equipment: LLLVAR TLV)", 999, prefix.BCD.LLL),
		43: ansFixed("Card Acceptor Name/Location", 40),
		45: ans("Track 1 Data", 76, prefix.BCD.LL),
		46: ans("Additional Data - ISO (terminal information)", 999, prefix.BCD.LLL),
		47: ans("Additional Data - National", 999, prefix.BCD.LLL),
		50: an("Currency Code, Settlement", 3),
		51: an("Currency Code, Cardholder Billing", 3),
		56: ans("Reserved ISO (result text)", 999, prefix.BCD.LLL),
		57: ans("Reserved National", 999, prefix.BCD.LLL),
		58: ans("Reserved National", 999, prefix.BCD.LLL),
		59: ans("Reserved National (QR and receipt data)", 999, prefix.BCD.LLL),
	}
	return &iso8583.MessageSpec{Name: "China UnionPay POS (posim cup)", Fields: fields}
}

// spaceFill pads fixed ASCII fields with trailing spaces and trims them on
// unpack.
type spaceFill struct{}

func (spaceFill) Pad(data []byte, length int) []byte {
	for len(data) < length {
		data = append(data, ' ')
	}
	return data
}

func (spaceFill) Unpad(data []byte) []byte {
	for len(data) > 0 && data[len(data)-1] == ' ' {
		data = data[:len(data)-1]
	}
	return data
}

func (spaceFill) Inspect() []byte { return []byte(" ") }
