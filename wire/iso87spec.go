package wire

import (
	"fmt"
	"maps"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/padding"
	"github.com/moov-io/iso8583/prefix"
	"github.com/moov-io/iso8583/specs"
)

// Spec87 is the ISO 8583:1987 ASCII message spec used by the iso87 profile.
//
// It starts from moov's specs.Spec87ASCII but replaces its bitmap: moov's
// declares a fixed 16-byte bitmap, written as 32 hex characters with bit 1
// clear, which standard implementations read as a primary bitmap followed by
// garbage. Ours is the standard 8-byte auto-expanding bitmap: 16 hex
// characters, bit 1 set only when a secondary bitmap follows. A present but
// empty secondary bitmap sent by a peer is accepted. The processing code is a
// fixed six-digit string (moov's numeric field would drop leading zeros), the
// PIN block and MACs are 8 binary bytes written as 16 hex characters, and the
// secondary fields 65-128 follow the 1987 standard.
var Spec87 = buildSpec87()

func buildSpec87() *iso8583.MessageSpec {
	fields := maps.Clone(specs.Spec87ASCII.Fields)

	fields[1] = field.NewBitmap(&field.Spec{
		Length:      8,
		Description: "Bitmap",
		Enc:         encoding.BytesToASCIIHex,
		Pref:        prefix.Hex.Fixed,
	})
	fields[3] = str("Processing Code", 6, prefix.ASCII.Fixed)
	// chip data as raw bytes behind an ASCII LLL length, as jPOS and most
	// peers send it (moov's ASCII encoding refuses bytes above 0x7F)
	fields[55] = field.NewString(&field.Spec{Length: 999, Description: "ICC Data (BER-TLV)", Enc: encoding.Binary, Pref: prefix.ASCII.LLL})
	// binary fields travel as 16 hex characters; the typed model converts
	for id, desc := range map[int]string{52: "PIN Data", 64: "Message Authentication Code (MAC)", 96: "Message Security Code", 128: "Message Authentication Code (MAC)"} {
		fields[id] = str(desc, 16, prefix.ASCII.Fixed)
	}
	fixed := []struct {
		id   int
		len  int
		desc string
	}{
		{66, 1, "Settlement Code"},
		{67, 2, "Extended Payment Code"},
		{68, 3, "Receiving Institution Country Code"},
		{69, 3, "Settlement Institution Country Code"},
		{70, 3, "Network Management Information Code"},
		{71, 4, "Message Number"},
		{72, 4, "Message Number Last"},
		{73, 6, "Date Action"},
		{74, 10, "Credits, Number"},
		{75, 10, "Credits Reversal, Number"},
		{76, 10, "Debits, Number"},
		{77, 10, "Debits Reversal, Number"},
		{78, 10, "Transfer, Number"},
		{79, 10, "Transfer Reversal, Number"},
		{80, 10, "Inquiries, Number"},
		{81, 10, "Authorizations, Number"},
		{82, 12, "Credits, Processing Fee Amount"},
		{83, 12, "Credits, Transaction Fee Amount"},
		{84, 12, "Debits, Processing Fee Amount"},
		{85, 12, "Debits, Transaction Fee Amount"},
		{86, 16, "Credits, Amount"},
		{87, 16, "Credits Reversal, Amount"},
		{88, 16, "Debits, Amount"},
		{89, 16, "Debits Reversal, Amount"},
		{90, 42, "Original Data Elements"},
		{91, 1, "File Update Code"},
		{92, 2, "File Security Code"},
		{93, 5, "Response Indicator"},
		{94, 7, "Service Indicator"},
		{95, 42, "Replacement Amounts"},
		{97, 17, "Amount, Net Settlement"},
		{98, 25, "Payee"},
	}
	for _, f := range fixed {
		fields[f.id] = str(f.desc, f.len, prefix.ASCII.Fixed)
	}
	fields[65] = str("Bitmap, Extended", 2, prefix.ASCII.Fixed)
	fields[99] = str("Settlement Institution Identification Code", 11, prefix.ASCII.LL)
	fields[100] = str("Receiving Institution Identification Code", 11, prefix.ASCII.LL)
	fields[101] = str("File Name", 17, prefix.ASCII.LL)
	fields[102] = str("Account Identification 1", 28, prefix.ASCII.LL)
	fields[103] = str("Account Identification 2", 28, prefix.ASCII.LL)
	fields[104] = str("Transaction Description", 100, prefix.ASCII.LLL)
	for id := 105; id <= 127; id++ {
		use := "Reserved ISO Use"
		switch {
		case id >= 120:
			use = "Reserved Private Use"
		case id >= 112:
			use = "Reserved National Use"
		}
		fields[id] = str(fmt.Sprintf("%s (%d)", use, id), 999, prefix.ASCII.LLL)
	}

	// fixed fields are padded as the standard says: alphanumeric ones with
	// trailing spaces (a short TID is "T1      "), numeric ones with leading zeros
	for _, id := range []int{37, 38, 41, 42, 43} {
		f := fields[id].Spec()
		fields[id] = field.NewString(&field.Spec{Length: f.Length, Description: f.Description, Enc: f.Enc, Pref: f.Pref, Pad: padding.Right(' ')})
	}
	for _, id := range []int{4, 5, 6, 11, 12, 13, 14, 15, 22, 25, 49, 70} {
		f := fields[id].Spec()
		fields[id] = field.NewString(&field.Spec{Length: f.Length, Description: f.Description, Enc: f.Enc, Pref: f.Pref, Pad: zeroFill{}})
	}

	return &iso8583.MessageSpec{Name: "ISO 8583:1987 ASCII (posim iso87)", Fields: fields}
}

func str(desc string, length int, pref prefix.Prefixer) *field.String {
	spec := &field.Spec{Length: length, Description: desc, Enc: encoding.ASCII, Pref: pref}
	return field.NewString(spec)
}

// zeroFill pads numeric fixed fields with leading zeros when packing and
// keeps every digit when unpacking: "000123" stays "000123", unlike
// padding.Left, which would strip the zeros of a STAN.
type zeroFill struct{}

func (zeroFill) Pad(data []byte, length int) []byte {
	if len(data) >= length {
		return data
	}
	out := make([]byte, length-len(data), length)
	for i := range out {
		out[i] = '0'
	}
	return append(out, data...)
}

func (zeroFill) Unpad(data []byte) []byte { return data }

func (zeroFill) Inspect() []byte { return []byte("0") }
