package wire

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/posim/posim/emv"

	"github.com/moov-io/iso8583"

	"github.com/stretchr/testify/require"
)

// a sale as posim's iso87 terminal writes it, framed binary2
func iso87Sale(t *testing.T) []byte {
	t.Helper()
	m, err := ISO87.Encode(&Txn{Op: OpSale, PAN: "6200000000000005", Amount: 1234, HasAmount: true, STAN: "000001",
		TransmissionTime: "1127120000", EntryMode: "021", Track2: "6200000000000005=30121010000000000", TID: "POSIM001", MID: "POSIM0000000001", Currency: "156"})
	require.NoError(t, err)
	body, err := m.Pack()
	require.NoError(t, err)
	frame, err := Binary2{}.AppendFrame(nil, body)
	require.NoError(t, err)
	return frame
}

func TestDecodeFrame_FieldByFieldMasked(t *testing.T) {
	d, err := DecodeFrame(iso87Sale(t), ISO87, Binary2{})
	require.NoError(t, err)
	require.Equal(t, "0200", d.MTI)
	require.Equal(t, OpSale, d.Op)
	byID := map[int]DecodedField{}
	for _, f := range d.Fields {
		byID[f.ID] = f
	}
	require.Equal(t, "620000******0005", byID[2].Value)
	require.NotEmpty(t, byID[2].Name)
	require.Contains(t, byID[35].Value, "not shown")
	require.NotContains(t, byID[35].Value, "3012")
	require.Equal(t, "000000001234", byID[4].Value)

	// a captured cup frame (wire/cup_capture_test.go): TPDU and header apart, chip data in hex
	raw, err := hex.DecodeString(capturedCUPUpload)
	require.NoError(t, err)
	d, err = DecodeFrame(raw, CUP, Binary2{})
	require.NoError(t, err)
	require.Equal(t, "6000038371", d.TPDU)
	require.Equal(t, "0320", d.MTI)
}

func TestDiagnose_NamesTheCause(t *testing.T) {
	sale := iso87Sale(t)
	require.Empty(t, Diagnose(sale, ISO87, Binary2{}))

	wrongLen := append([]byte{}, sale...)
	wrongLen[1] += 3
	got := strings.Join(Diagnose(wrongLen, ISO87, Binary2{}), "\n")
	require.Contains(t, got, "announces")
	require.Contains(t, got, "but")

	ascii := append([]byte{}, []byte(strings.Repeat("0", 4))...)
	n := len(sale) - 2
	copy(ascii, []byte{byte('0' + n/1000), byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)})
	ascii = append(ascii, sale[2:]...)
	got = strings.Join(Diagnose(ascii, ISO87, Binary2{}), "\n")
	require.Contains(t, got, "--framing ascii4")

	raw, err := hex.DecodeString(capturedCUPUpload)
	require.NoError(t, err)
	noTPDU := []byte{byte((len(raw) - 13) >> 8), byte(len(raw) - 13)}
	noTPDU = append(noTPDU, raw[13:]...)
	got = strings.Join(Diagnose(noTPDU, CUP, Binary2{}), "\n")
	require.Contains(t, got, "no TPDU")

	got = strings.Join(Diagnose(raw, ISO87, Binary2{}), "\n")
	require.Contains(t, got, "--profile cup")

	// the bitmap as 8 binary bytes where iso87 writes 16 hex characters
	bm, err := hex.DecodeString(string(sale[6:22]))
	require.NoError(t, err)
	body := append(append(append([]byte{}, sale[2:6]...), bm...), sale[22:]...)
	binBitmap := append([]byte{byte(len(body) >> 8), byte(len(body))}, body...)
	got = strings.Join(Diagnose(binBitmap, ISO87, Binary2{}), "\n")
	require.Contains(t, got, "bitmap")
	require.Contains(t, got, "binary")
}

// capturedCUPUpload is the captured terminal upload of cup_capture_test.go
// (yqhou/upkg src/test.c).
const capturedCUPUpload = "00F3600003837160310031070003205020060000C00214196212263301004540034000000000498001450907100001383830313535383738393832313031353431313334383101419F2608852251D267A1271C9F101307010103A02000010A010000000000CCF27CAF9F37043266F78A9F36020054950500000000009A031406269C01009F02060000000049805F2A02015682027C009F1A0201569F03060000000000009F3303E0E1C89F34030200009F3501229F1E0830313638323638398408A0000003330101019F090200209F4104000145090013000029532036000021363130303030303030303030303034393830313536"

// Fields a host requires that posim does not fill go into the message as
// given (`posim terminal --field`), under both dialects.
func TestEncode_ExtraFields(t *testing.T) {
	for _, p := range []Profile{ISO87, CUP} {
		m, err := p.Encode(&Txn{Op: OpSale, PAN: "6200000000000005", Amount: 100, HasAmount: true, STAN: "000001",
			TID: "T1", MID: "M1", Extra: map[int]string{48: "1234", 63: "001"}})
		require.NoError(t, err, p.Name())
		v, _ := m.GetString(48)
		require.Equal(t, "1234", v, p.Name())
		v, _ = m.GetString(63)
		require.Equal(t, "001", v, p.Name())
	}
	_, err := CUP.Encode(&Txn{Op: OpSale, STAN: "000001", Extra: map[int]string{129: "x"}})
	require.ErrorContains(t, err, "field 129 is not in the")
}

// A cup peer that sends a field of 65-128 sets bit 1 and a second 8-byte
// bitmap follows (ISO 8583:1987 section 4.1.2): the frame reads, and the
// field is shown, under both dialects.
func TestDecode_SecondaryFieldsInEitherDialect(t *testing.T) {
	for _, p := range []Profile{ISO87, CUP} {
		m, err := p.Encode(&Txn{Op: OpSale, PAN: "6200000000000005", Amount: 100, HasAmount: true, STAN: "000001",
			TID: "T1", MID: "M1", Extra: map[int]string{100: "4999", 102: "ACCOUNT-1"}})
		require.NoError(t, err, p.Name())
		raw, err := m.Pack()
		require.NoError(t, err, p.Name())
		back := iso8583.NewMessage(p.Spec())
		require.NoError(t, back.Unpack(raw), p.Name())
		got := map[int]string{}
		for _, f := range DumpFields(back) {
			got[f.ID] = f.Value
		}
		require.Equal(t, "4999", got[100], p.Name())
		require.Equal(t, "ACCOUNT-1", got[102], p.Name())
	}
	// the primary bitmap's first bit is set and 16 bitmap bytes follow the MTI
	m, err := CUP.Encode(&Txn{Op: OpSale, STAN: "000001", TID: "T1", MID: "M1", Extra: map[int]string{100: "4999"}})
	require.NoError(t, err)
	raw, err := m.Pack()
	require.NoError(t, err)
	require.Equal(t, byte(0x80), raw[2]&0x80)
	require.Equal(t, byte(0x10), raw[2+8+4]&0x10, "bit 100 is the 36th of the secondary bitmap: its fifth byte, 0x10")
}

// The captured terminal upload's DE60 ends in 60.4 = 6 and 60.5 = 0 (a chip
// read, no fallback): what posim writes for a chip transaction.
func TestCUP_ChipDE60MatchesACapturedFrame(t *testing.T) {
	raw, err := hex.DecodeString(capturedCUPUpload)
	require.NoError(t, err)
	d, err := DecodeFrame(raw, CUP, Binary2{})
	require.NoError(t, err)
	var captured string
	for _, f := range d.Fields {
		if f.ID == 60 {
			captured = f.Value
		}
	}
	require.Equal(t, "0000295320360", captured)
	m, err := CUP.Encode(&Txn{Op: OpTCUpload, PAN: "6212263301004540034", Amount: 4980, HasAmount: true, STAN: "014509",
		EntryMode: "071", CardSeq: "001", TID: "88015587", MID: "898210154113481", Batch: "002953", ICC: []byte{0x9F, 0x26, 0x01, 0x00}})
	require.NoError(t, err)
	ours, _ := m.GetString(60)
	require.Equal(t, captured, ours, "60.1 00, 60.2 batch, 60.3 203, 60.4 6, 60.5 0")
}

// posim decode breaks chip data (DE55) down tag by tag with EMV's names:
// the captured terminal upload's 9F26, 9F10, 9F36 ...; track 2 equivalent
// data is never shown and an application PAN is masked.
func TestDecode_ChipDataTagByTag(t *testing.T) {
	raw, err := hex.DecodeString(capturedCUPUpload)
	require.NoError(t, err)
	d, err := DecodeFrame(raw, CUP, Binary2{})
	require.NoError(t, err)
	var de55 *DecodedField
	for i := range d.Fields {
		if d.Fields[i].ID == 55 {
			de55 = &d.Fields[i]
		}
	}
	require.NotNil(t, de55)
	got := map[string]DecodedTag{}
	for _, tg := range de55.Tags {
		got[tg.Tag] = tg
	}
	require.Equal(t, DecodedTag{Tag: "9F26", Name: "Application Cryptogram", Value: "852251D267A1271C"}, got["9F26"])
	require.Equal(t, "Cryptogram Information Data", emv.TagName(0x9F27))
	require.Equal(t, "Issuer Application Data", got["9F10"].Name)
	require.Equal(t, "0054", got["9F36"].Value)
	require.Len(t, de55.Tags, 19)

	tags := chipTags(string(emv.List{{Tag: 0x57, Value: []byte{0x62, 0x12, 0x26, 0xD2}}, {Tag: 0x5A, Value: []byte{0x62, 0x12, 0x26, 0x33, 0x01, 0x00, 0x45, 0x40, 0x03, 0x4F}}}.Bytes()))
	require.Equal(t, "(card data, 4 bytes, not shown)", tags[0].Value)
	require.Equal(t, "621226*********0034", tags[1].Value)
	require.Nil(t, chipTags("not chip data"))
}
