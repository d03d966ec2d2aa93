package wire

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/require"
)

func cupSaleTxn() *Txn {
	return &Txn{Op: OpSale, PAN: "6200000000000005", Amount: 1234, HasAmount: true, STAN: "000001",
		LocalTime: "023140", LocalDate: "1122", Expiry: "3012", EntryMode: "021", TID: "POSIM001",
		MID: "POSIM0000000001", Currency: "156", Batch: "000001"}
}

func TestCUP_SaleFrame(t *testing.T) {
	m, err := CUP.Encode(cupSaleTxn())
	require.NoError(t, err)
	frame, err := NewCodec(CUP).Frame(m)
	require.NoError(t, err)
	// length | TPDU 60 0003 0000 | header 603100310730 | MTI 0200 in BCD | binary bitmap
	require.Equal(t, len(frame)-2, int(frame[0])<<8|int(frame[1]))
	require.Equal(t, "6000030000", hex.EncodeToString(frame[2:7]))
	require.Equal(t, "603100310730", hex.EncodeToString(frame[7:13]))
	require.Equal(t, "0200", hex.EncodeToString(frame[13:15]))
	// bitmap: 2 3 4 11 12 13 14 22 25 41 42 49 60
	require.Equal(t, "703c048000c08010", hex.EncodeToString(frame[15:23]))
	// DE2: length 16 as one BCD byte, then 8 BCD bytes
	require.Equal(t, "166200000000000005", hex.EncodeToString(frame[23:32]))
	// DE22 021 left-aligned: 02 10
	require.Contains(t, hex.EncodeToString(frame), "3012"+"0210", "DE14 then DE22")
	// DE60 at the end: LLL 0011 in 2 BCD bytes, 22 000001 000 left-aligned
	// with a trailing 0 nibble, as CUP terminals write it (docs/domain.md, "China UnionPay dialect")
	require.True(t, strings.HasSuffix(hex.EncodeToString(frame), "0011"+"220000010000"), hex.EncodeToString(frame))
}

func TestCUP_RoundTrips(t *testing.T) {
	bal := int64(500)
	for _, in := range []*Txn{
		func() *Txn {
			x := cupSaleTxn()
			x.MTI = "0200"
			x.ProcessingCode = "000000"
			x.Condition = "00"
			x.Op = OpSale
			return x
		}(),
		{MTI: "0800", Op: OpSignOn, NetworkCode: "001", STAN: "000002", TID: "T1", Batch: "000001"},
		{MTI: "0510", Op: OpSettle, STAN: "000003", TID: "T1", Batch: "000001", ResponseCode: "95", NetworkCode: "201",
			Totals: &Totals{DebitCount: 2, DebitAmount: 3000, CreditCount: 1, CreditAmount: 100}},
		{MTI: "0210", Op: OpBalance, ProcessingCode: "310000", Condition: "00", STAN: "000004", TID: "T1", Batch: "000001", ResponseCode: "00", Balance: &bal, Currency: "156"},
	} {
		m, err := CUP.Encode(in)
		require.NoError(t, err)
		body, err := m.Pack()
		require.NoError(t, err)
		m2 := iso8583.NewMessage(SpecCUP)
		require.NoError(t, m2.Unpack(body))
		out, err := CUP.Decode(m2)
		require.NoError(t, err)
		require.Equal(t, in.Op, out.Op, in.MTI)
		require.Equal(t, in.STAN, out.STAN)
		require.Equal(t, in.ResponseCode, out.ResponseCode, "the 95 travels as result digit 2 in DE48")
		if in.Totals != nil {
			require.Equal(t, *in.Totals, *out.Totals)
		}
		if in.Balance != nil {
			require.Equal(t, *in.Balance, *out.Balance)
		}
	}
}

func TestCUP_ReversalIsACopy(t *testing.T) {
	orig := cupSaleTxn()
	orig.MTI, orig.ProcessingCode, orig.Condition = "0200", "000000", "00"
	orig.Track2, orig.PINBlock, orig.RRN = "x", []byte{1, 2, 3, 4, 5, 6, 7, 8}, "123456789012"
	rev := CUP.Reversal(orig, ReasonNoResponse, "000099", mustTime(t))
	require.Equal(t, "0400", rev.MTI)
	require.Equal(t, orig.STAN, rev.STAN, "same STAN as the original")
	require.Equal(t, "98", rev.ResponseCode)
	require.Empty(t, rev.Track2)
	require.Nil(t, rev.PINBlock)
	require.Empty(t, rev.RRN)
	m, err := CUP.Encode(rev)
	require.NoError(t, err)
	body, err := m.Pack()
	require.NoError(t, err)
	m2 := iso8583.NewMessage(SpecCUP)
	require.NoError(t, m2.Unpack(body))
	got, err := CUP.Decode(m2)
	require.NoError(t, err)
	require.Equal(t, OpReversal, got.Op)
	require.Equal(t, &Original{MTI: "0200", STAN: "000001"}, got.Original)
	require.Equal(t, "0400", CUP.Repeat(rev).MTI, "CUP repeats the same 0400")
}

func TestTPDUFramer(t *testing.T) {
	term := TPDUFramer{TPDU: DefaultTPDU, Header: DefaultHeader}
	host := term.ForHost().(TPDUFramer)
	frame, err := host.AppendFrame(nil, []byte("body"))
	require.NoError(t, err)
	require.Equal(t, "6000000003", hex.EncodeToString(frame[2:7]), "the host swaps destination and source")
	body, err := term.ReadFrame(bytes.NewReader(frame))
	require.NoError(t, err)
	require.Equal(t, "body", string(body))

	t.Run("a wrong header is discarded and reported", func(t *testing.T) {
		var dropped []Mismatch
		h := host
		h.OnMismatch = func(m Mismatch) { dropped = append(dropped, m) }
		upgraded := term
		upgraded.Header = [6]byte{0x60, 0x32, 0x00, 0x32, 0x01, 0x01}
		bad, _ := upgraded.AppendFrame(nil, []byte("new"))
		good, _ := term.AppendFrame(nil, []byte("old"))
		body, err := h.ReadFrame(bytes.NewReader(append(bad, good...)))
		require.NoError(t, err)
		require.Equal(t, "old", string(body))
		require.Len(t, dropped, 1)
		require.Equal(t, MismatchDiscard, dropped[0].Policy)
	})
	_, err = ParseTPDU("7000030000")
	require.Error(t, err)
	_, err = ParseHeader("6031")
	require.Error(t, err)
}

func FuzzReadCUPFrame(f *testing.F) {
	m, _ := CUP.Encode(cupSaleTxn())
	frame, _ := NewCodec(CUP).Frame(m)
	f.Add(frame)
	f.Add([]byte{0, 3, 0x60, 0, 0})
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewCodec(CUP)
		c.OnBadMessage = func(BadMessage) {}
		r := bytes.NewReader(data)
		for i := 0; i < 16; i++ {
			msg, err := c.ReadMessage(r)
			if err != nil {
				return
			}
			if msg != nil {
				_, _ = CUP.Decode(msg)
			}
		}
	})
}

func TestCUP_SettlementLayout(t *testing.T) {
	t.Run("a 0320 carries up to eight transactions, 40 digits each", func(t *testing.T) {
		var ups []Upload
		for i := range 8 {
			ups = append(ups, Upload{STAN: fmt.Sprintf("%06d", i+1), PAN: "6212263301004540034", Amount: int64(100 * (i + 1)), Foreign: i == 7})
		}
		in := &Txn{MTI: "0320", Op: OpBatchUpload, STAN: "000020", TID: "T1", MID: "M1", Batch: "000001", Uploads: ups}
		m, err := CUP.Encode(in)
		require.NoError(t, err)
		de48, _ := m.GetString(48)
		require.Len(t, de48, 2+8*40)
		require.Equal(t, "08"+"00"+"000001"+"0"+"6212263301004540034"+"000000000100", de48[:42], "count, then card organisation, trace, PAN in 20 digits, amount")
		out, err := CUP.Decode(m)
		require.NoError(t, err)
		require.Equal(t, ups, out.Uploads)
	})
	t.Run("a 0510 says balanced or not for domestic and foreign cards apart", func(t *testing.T) {
		tot := Totals{DebitCount: 1, DebitAmount: 100, ForeignCreditCount: 2, ForeignCreditAmount: 300}
		in := &Txn{MTI: "0510", Op: OpSettle, STAN: "000021", TID: "T1", Batch: "000001", ResponseCode: "95", SettleResult: "12", Totals: &tot}
		m, err := CUP.Encode(in)
		require.NoError(t, err)
		de48, _ := m.GetString(48)
		require.Equal(t, "000000000100"+"001"+"000000000000"+"000"+"1"+"000000000000"+"000"+"000000000300"+"002"+"2", de48)
		out, err := CUP.Decode(m)
		require.NoError(t, err)
		require.Equal(t, "95", out.ResponseCode, "the foreign half is not balanced")
		require.Equal(t, tot, *out.Totals)
	})
}

// A chip read writes 60.4 (6: the terminal reads contact and contactless
// chips) and 60.5 (0); a fallback swipe 60.5 = 2, which the host reads
// back even when DE22 does not say 80x.
func TestCUP_ChipConditionInDE60(t *testing.T) {
	for _, c := range []struct {
		entry    string
		fallback bool
		de60     string
	}{
		{"051", false, "22000001000" + "60"},
		{"802", true, "22000001000" + "62"},
		{"022", true, "22000001000" + "62"},
		{"022", false, "22000001000"},
	} {
		m, err := CUP.Encode(&Txn{Op: OpSale, PAN: "6200000000000005", Amount: 100, HasAmount: true, STAN: "000001", EntryMode: c.entry, Fallback: c.fallback, TID: "T1", MID: "M1", Batch: "000001"})
		require.NoError(t, err)
		de60, _ := m.GetString(60)
		require.Equal(t, c.de60, de60, c.entry)
		back, err := CUP.Decode(m)
		require.NoError(t, err)
		require.Equal(t, c.fallback, back.Fallback, c.entry)
	}
}
