package wire

import (
	"fmt"
	"maps"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/prefix"
)

// SpecCUP is the China UnionPay POS terminal field spec: MTI in BCD, a
// binary bitmap (a secondary one read when a peer sends fields 65-128,
// never sent by posim), numeric fields in BCD (LLVAR length one BCD
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
	fields := map[int]field.Field{
		0:  cupN("Message Type Indicator", 4),
		1:  field.NewBitmap(&field.Spec{Length: 8, Description: "Bitmap", Enc: encoding.Binary, Pref: prefix.Binary.Fixed}),
		2:  cupNvar("Primary Account Number", 19, prefix.BCD.LL),
		3:  cupN("Processing Code", 6),
		4:  cupN("Amount, Transaction", 12),
		11: cupN("System Trace Audit Number", 6),
		12: cupN("Local Transaction Time", 6),
		13: cupN("Local Transaction Date", 4),
		14: cupN("Expiration Date", 4),
		15: cupN("Settlement Date", 4),
		22: cupNleft("POS Entry Mode", 3),
		23: cupN("Card Sequence Number", 3),
		25: cupN("POS Condition Code", 2),
		26: cupN("POS PIN Capture Code", 2),
		32: cupNvar("Acquiring Institution Identification Code", 11, prefix.BCD.LL),
		35: cupTrack("Track 2 Data", 37, prefix.BCD.LL),
		36: cupTrack("Track 3 Data", 104, prefix.BCD.LLL),
		37: cupAn("Retrieval Reference Number", 12),
		38: cupAn("Authorization Identification Response", 6),
		39: cupAn("Response Code", 2),
		41: cupAn("Card Acceptor Terminal Identification", 8),
		42: cupAn("Card Acceptor Identification Code", 15),
		44: cupAnvar("Additional Response Data", 25, prefix.BCD.LL),
		48: cupNvar("Additional Data, Private", 322, prefix.BCD.LLL),
		49: cupAn("Currency Code, Transaction", 3),
		52: cupBin("PIN Data", 8),
		53: cupN("Security Related Control Information", 16),
		54: cupAnvar("Balance Amount", 20, prefix.BCD.LLL),
		55: cupBinvar("ICC System Related Data", 255),
		60: cupNvar("Reserved Private (60.1 type, 60.2 batch, 60.3 network code, 60.4 ...)", 100, prefix.BCD.LLL),
		61: cupNvar("Original Message (61.1 batch, 61.2 trace, 61.3 date)", 29, prefix.BCD.LLL),
		62: cupBinvar("Reserved Private (working keys)", 512),
		63: cupAns("Reserved Private (63.1 card organisation or operator; field equipment also puts binary here)", 163, prefix.BCD.LLL),
		64: cupBin("Message Authentication Code", 8),
	}
	maps.Copy(fields, unusedFieldsCUP())
	maps.Copy(fields, secondaryFieldsCUP())
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

// unusedFieldsCUP are the fields posim does not use, in their ISO
// 8583:1987 formats as CUP terminals and hosts write them (numeric in BCD,
// text as any bytes behind a BCD length), so that a frame carrying them
// reads, and what it carries is shown and kept: seen in the field frames of
// wire/testdata/field/frames.jsonl (DE40, DE43, DE46, DE47, DE56, DE57,
// DE59 among them).
func unusedFieldsCUP() map[int]field.Field {
	return map[int]field.Field{
		5:  cupN("Amount, Settlement", 12),
		6:  cupN("Amount, Cardholder Billing", 12),
		7:  cupN("Transmission Date and Time", 10),
		8:  cupN("Amount, Cardholder Billing Fee", 8),
		9:  cupN("Conversion Rate, Settlement", 8),
		10: cupN("Conversion Rate, Cardholder Billing", 8),
		16: cupN("Conversion Date", 4),
		17: cupN("Capture Date", 4),
		18: cupN("Merchant Type", 4),
		19: cupN("Acquiring Institution Country Code", 3),
		20: cupN("PAN Extended, Country Code", 3),
		21: cupN("Forwarding Institution Country Code", 3),
		24: cupN("Network International Identifier", 3),
		27: cupN("Authorization Identification Response Length", 1),
		28: cupAnsFixed("Amount, Transaction Fee (x+n8)", 9),
		29: cupAnsFixed("Amount, Settlement Fee (x+n8)", 9),
		30: cupAnsFixed("Amount, Transaction Processing Fee (x+n8)", 9),
		31: cupAnsFixed("Amount, Settlement Processing Fee (x+n8)", 9),
		33: cupNvar("Forwarding Institution Identification Code", 11, prefix.BCD.LL),
		34: cupAns("Primary Account Number, Extended", 28, prefix.BCD.LL),
		40: cupAns("Service Restriction Code (field equipment: LLLVAR TLV)", 999, prefix.BCD.LLL),
		43: cupAnsFixed("Card Acceptor Name/Location", 40),
		45: cupAns("Track 1 Data", 76, prefix.BCD.LL),
		46: cupAns("Additional Data - ISO (terminal information)", 999, prefix.BCD.LLL),
		47: cupAns("Additional Data - National", 999, prefix.BCD.LLL),
		50: cupAn("Currency Code, Settlement", 3),
		51: cupAn("Currency Code, Cardholder Billing", 3),
		56: cupAns("Reserved ISO (result text)", 999, prefix.BCD.LLL),
		57: cupAns("Reserved National", 999, prefix.BCD.LLL),
		58: cupAns("Reserved National", 999, prefix.BCD.LLL),
		59: cupAns("Reserved National (QR and receipt data)", 999, prefix.BCD.LLL),
	}
}

// secondaryFieldsCUP are fields 65-128 in their ISO 8583:1987 formats,
// written the cup way. CUP terminals and hosts do not use them and posim
// never sends them, but a peer that does (bit 1 of the primary bitmap set,
// a second 8-byte bitmap following) is read, not refused.
func secondaryFieldsCUP() map[int]field.Field {
	fields := map[int]field.Field{
		65:  cupBin("Bitmap, Extended", 1),
		90:  cupN("Original Data Elements", 42),
		91:  cupAn("File Update Code", 1),
		92:  cupAn("File Security Code", 2),
		93:  cupAn("Response Indicator", 5),
		94:  cupAn("Service Indicator", 7),
		95:  cupAn("Replacement Amounts", 42),
		96:  cupBin("Message Security Code", 8),
		97:  cupAnsFixed("Amount, Net Settlement (x+n16)", 17),
		98:  cupAnsFixed("Payee", 25),
		99:  cupNvar("Settlement Institution Identification Code", 11, prefix.BCD.LL),
		100: cupNvar("Receiving Institution Identification Code", 11, prefix.BCD.LL),
		101: cupAns("File Name", 17, prefix.BCD.LL),
		102: cupAns("Account Identification 1", 28, prefix.BCD.LL),
		103: cupAns("Account Identification 2", 28, prefix.BCD.LL),
		104: cupAns("Transaction Description", 100, prefix.BCD.LLL),
		128: cupBin("Message Authentication Code", 8),
	}
	numeric := []struct {
		from, to, length int
		desc             string
	}{
		{66, 66, 1, "Settlement Code"}, {67, 67, 2, "Extended Payment Code"},
		{68, 68, 3, "Receiving Institution Country Code"}, {69, 69, 3, "Settlement Institution Country Code"},
		{70, 70, 3, "Network Management Information Code"}, {71, 72, 4, "Message Number"},
		{73, 73, 6, "Date Action"}, {74, 81, 10, "Count (credits, debits, transfers, inquiries, authorisations)"},
		{82, 85, 12, "Fee Amount"}, {86, 89, 16, "Amount (credits, debits and their reversals)"},
	}
	for _, n := range numeric {
		for id := n.from; id <= n.to; id++ {
			fields[id] = cupN(fmt.Sprintf("%s (%d)", n.desc, id), n.length)
		}
	}
	for id := 105; id <= 127; id++ {
		fields[id] = cupAns(fmt.Sprintf("Reserved (%d)", id), 999, prefix.BCD.LLL)
	}
	return fields
}

// The kinds of cup field: cupN fixed numeric BCD right-aligned, cupNleft
// fixed numeric left-aligned, cupNvar variable numeric left-aligned,
// cupTrack track data, cupAn and cupAnvar ASCII text, cupBin and cupBinvar
// binary, cupAns and cupAnsFixed text as any bytes.
func cupN(desc string, length int) field.Field {
	return field.NewString(&field.Spec{Length: length, Description: desc, Enc: encoding.BCD, Pref: prefix.BCD.Fixed})
}

func cupNleft(desc string, length int) field.Field {
	return field.NewString(&field.Spec{Length: length, Description: desc, Enc: LeftBCD, Pref: prefix.BCD.Fixed})
}

func cupNvar(desc string, length int, pref prefix.Prefixer) field.Field {
	return field.NewString(&field.Spec{Length: length, Description: desc, Enc: LeftBCD, Pref: pref})
}

func cupTrack(desc string, length int, pref prefix.Prefixer) field.Field {
	return field.NewString(&field.Spec{Length: length, Description: desc, Enc: Track, Pref: pref})
}

func cupAn(desc string, length int) field.Field {
	return field.NewString(&field.Spec{Length: length, Description: desc, Enc: encoding.ASCII, Pref: prefix.ASCII.Fixed, Pad: spaceFill{}})
}

func cupAnvar(desc string, length int, pref prefix.Prefixer) field.Field {
	return field.NewString(&field.Spec{Length: length, Description: desc, Enc: encoding.ASCII, Pref: pref})
}

func cupBin(desc string, length int) field.Field {
	return field.NewString(&field.Spec{Length: length, Description: desc, Enc: encoding.Binary, Pref: prefix.Binary.Fixed})
}

func cupBinvar(desc string, length int) field.Field {
	return field.NewString(&field.Spec{Length: length, Description: desc, Enc: encoding.Binary, Pref: prefix.BCD.LLL})
}

// cupAns: text as field equipment writes it, any byte allowed (merchant
// names in GBK, TLV written in ASCII or binary), behind a BCD length
func cupAns(desc string, length int, pref prefix.Prefixer) field.Field {
	return field.NewString(&field.Spec{Length: length, Description: desc, Enc: encoding.Binary, Pref: pref})
}

func cupAnsFixed(desc string, length int) field.Field {
	return field.NewString(&field.Spec{Length: length, Description: desc, Enc: encoding.Binary, Pref: prefix.Binary.Fixed})
}
