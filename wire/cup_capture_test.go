package wire

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/require"
)

// Frames captured from real CUP terminals and hosts, published in public
// code, each with what its source documents. posim must decode every
// field to that value and write the frame again byte for byte.
var cupCaptures = []struct {
	name, source string
	hex          string
	want         map[int]string // field values as strings (binary fields in hex)
	check        func(t *testing.T, x *Txn)
}{
	{
		name: "terminal 0320 chip transaction upload, 19-digit PAN, contactless",
		// yqhou/upkg, src/test.c: the POS message its unpacker is tested on
		source: "yqhou/upkg src/test.c",
		hex:    "00F3600003837160310031070003205020060000C00214196212263301004540034000000000498001450907100001383830313535383738393832313031353431313334383101419F2608852251D267A1271C9F101307010103A02000010A010000000000CCF27CAF9F37043266F78A9F36020054950500000000009A031406269C01009F02060000000049805F2A02015682027C009F1A0201569F03060000000000009F3303E0E1C89F34030200009F3501229F1E0830313638323638398408A0000003330101019F090200209F4104000145090013000029532036000021363130303030303030303030303034393830313536",
		want: map[int]string{
			0:  "0320",
			2:  "6212263301004540034", // 19 digits, left-aligned: 19 62..34 0
			4:  "000000004980",        // the same as 9F02 in DE55
			11: "014509",              // the same as 9F41 in DE55
			22: "071",                 // contactless, left-aligned: 07 10
			23: "001",                 // right-aligned: 00 01
			41: "88015587",
			42: "898210154113481",
			60: "0000295320360", // 60.1 00, batch 002953, 60.3 203 (chip upload), 60.4 6, 60.5 0
		},
	},
	{
		name: "host 0810 sign-on approved with double-length working keys",
		// a public mPOS SDK's unpack test (test.c, test_Signup, which feeds
		// the host's answer to ipaynowUnpack8583); found through the code
		// search index, which does not record its repository
		source: "mPOS SDK test.c test_Signup",
		hex:    "007460000000026031003100300810003800000ac0001400044109130909083135303930383833363032383030303030303131343231323334353637383930313233343500110000000600300040279be86aaeb174b80bbe2b24e80f888cebe8b6c2be7bc61956bbf2480000000000000000a2f2cabb",
		want: map[int]string{
			0: "0810", 11: "000441", 12: "091309", 13: "0908", 37: "150908836028", 39: "00",
			41: "00001142", 42: "123456789012345",
			60: "00000006003", // batch 000006, 60.3 003: double-length keys
		},
		check: func(t *testing.T, x *Txn) {
			require.Equal(t, OpSignOn, x.Op)
			require.Equal(t, KeysDouble, x.NetworkCode)
			require.Equal(t, "000006", x.Batch, "the host hands the terminal its batch")
			require.Len(t, x.Keys, 40, "PIN key and MAC key, 16 bytes each with a 4-byte check value")
		},
	},
	{
		name: "host 0210 sale approved, 19-digit PAN, issuer and acquirer codes, card organisation",
		// the same SDK test program, test_Union_Pay
		source: "mPOS SDK test.c test_Union_Pay",
		hex:    "009f60000000066031009999990210703e02810ed082131962122602000241255730000000000000073700002332203217082723020827000100084803100032303332313734393138323730313233343530303030303036353930373133313030303538313230363131223031303230303030202020343830333130303020202031353600059f3602004700142200006500050100034355503635304341433741",
		want: map[int]string{
			0: "0210", 2: "6212260200024125573", 3: "000000", 4: "000000073700", 11: "002332",
			12: "203217", 13: "0827", 14: "2302", 15: "0827", 23: "001", 25: "00", 32: "48031000",
			37: "203217491827", 38: "012345", 39: "00", 41: "00006590", 42: "713100058120611",
			44: "01020000   48031000   ", 49: "156", 55: "9f36020047", 60: "22000065000501", 63: "CUP",
		},
		check: func(t *testing.T, x *Txn) {
			require.Equal(t, OpSale, x.Op, "60.1 22: a sale")
			require.Equal(t, int64(73700), x.Amount)
			require.Equal(t, "000065", x.Batch)
			require.Equal(t, "00", x.ResponseCode)
		},
	},
	{
		name: "host 0510 settlement answered balanced",
		// the same SDK test program, test_Settle
		source: "mPOS SDK test.c test_Settle",
		hex:    "006e60000000026031003100300510003a000008c180100004451608030908090831353039303838333630393730303030313134323132333435363738393031323334350062000000000011011000000000002002100000000000000000000000000000013135360011000000062010",
		want: map[int]string{
			0: "0510", 11: "000445", 15: "0908", 41: "00001142",
			48: "00000000001101100000000000200210000000000000000000000000000001",
			60: "00000006201", // batch 000006, 60.3 201: settlement
		},
		check: func(t *testing.T, x *Txn) {
			require.Equal(t, OpSettle, x.Op)
			require.Equal(t, &Totals{DebitAmount: 11, DebitCount: 11, CreditAmount: 2, CreditCount: 2}, x.Totals)
			require.NotEqual(t, "95", x.ResponseCode, "result digit 1: balanced")
		},
	},
}

func TestCUP_CapturedFrames(t *testing.T) {
	for _, c := range cupCaptures {
		t.Run(c.name, func(t *testing.T) {
			frame, err := hex.DecodeString(c.hex)
			require.NoError(t, err)
			tpdu, header := hex.EncodeToString(frame[2:7]), hex.EncodeToString(frame[7:13])
			f, err := NewTPDUFramer(Binary2{}, tpdu, header, MismatchReject)
			require.NoError(t, err, "%s: the capture's TPDU %s and header %s", c.source, tpdu, header)
			body, err := f.ReadFrame(bytes.NewReader(frame))
			require.NoError(t, err)
			m := iso8583.NewMessage(SpecCUP)
			require.NoError(t, m.Unpack(body), c.source)
			for id, want := range c.want {
				got, _ := m.GetString(id)
				if id == 55 || id == 62 {
					got = hex.EncodeToString([]byte(got))
				}
				require.Equal(t, want, got, "%s: DE%d", c.source, id)
			}
			again, err := m.Pack()
			require.NoError(t, err)
			require.Equal(t, hex.EncodeToString(body), hex.EncodeToString(again), "%s: written again byte for byte", c.source)
			out, err := f.AppendFrame(nil, again)
			require.NoError(t, err)
			require.True(t, strings.EqualFold(c.hex, hex.EncodeToString(out)), "%s: framed again byte for byte", c.source)
			if c.check != nil {
				x, err := CUP.Decode(m)
				require.NoError(t, err)
				c.check(t, x)
			}
		})
	}
}

// A swiped card with a 19-digit PAN through a real-format frame: track 2
// as CUP terminals write it (the separator as the nibble D, like the track
// "4392268307661786d200610111333579" of codefunny/ipaynowSDK
// WINDOWS源码/newSDK/CallDll/main.c), the PAN left-aligned.
func TestCUP_TrackAnd19DigitPANRoundTrip(t *testing.T) {
	in := &Txn{Op: OpSale, PAN: "6212263301004540034", Track2: "4392268307661786=200610111333579", Amount: 4980, HasAmount: true,
		STAN: "014509", EntryMode: "021", TID: "88015587", MID: "898210154113481", Currency: "156", Batch: "002953"}
	m, err := CUP.Encode(in)
	require.NoError(t, err)
	body, err := m.Pack()
	require.NoError(t, err)
	h := hex.EncodeToString(body)
	require.Contains(t, h, "19"+"62122633010045400340", "DE2: 19 digits, a trailing 0 nibble")
	require.Contains(t, h, "32"+"4392268307661786d200610111333579", "DE35: 32 digits, the separator as D")
	m2 := iso8583.NewMessage(SpecCUP)
	require.NoError(t, m2.Unpack(body))
	out, err := CUP.Decode(m2)
	require.NoError(t, err)
	require.Equal(t, in.PAN, out.PAN)
	require.Equal(t, in.Track2, out.Track2, "D decodes back to =")
	require.Equal(t, "021", out.EntryMode)

	_, err = Track.Encode([]byte("6212=XYZ"))
	require.ErrorContains(t, err, "neither a digit nor the separator")
	got, _, err := Track.Decode([]byte{0x6F}, 2)
	require.NoError(t, err)
	require.Equal(t, "6F", string(got), "encrypted track data may hold any nibble")
}

// Track encryption (key set 004): the eight bytes that end with the
// second-to-last byte of the packed track are encrypted with the track key
// in place; the rest travels in clear.
func TestTrackEncryption(t *testing.T) {
	key, _ := hex.DecodeString("0123456789ABCDEFFEDCBA9876543210")
	track := "6212263301004540034=30121010000000000" // 37 digits: 19 packed bytes
	enc, err := EncryptTrack(key, track)
	require.NoError(t, err)
	require.Len(t, enc, len(track))
	require.NotEqual(t, track, enc)
	clear, _ := Track.Encode([]byte(track))
	crypt, _ := Track.Encode([]byte(enc))
	n := len(clear)
	require.Equal(t, clear[:n-9], crypt[:n-9], "the start travels in clear")
	require.Equal(t, clear[n-1], crypt[n-1], "and so does the last byte")
	b, err := tdesKey(key)
	require.NoError(t, err)
	want := make([]byte, 8)
	b.Encrypt(want, clear[n-9:n-1])
	require.Equal(t, want, crypt[n-9:n-1], "the track data block, triple DES under the key")
	back, err := DecryptTrack(key, enc)
	require.NoError(t, err)
	require.Equal(t, track, back)
	_, err = EncryptTrack(key, "6212=3012")
	require.ErrorContains(t, err, "too short")
}
