package wire

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/require"
)

func sampleSale() *Txn {
	return &Txn{
		MTI: "0200", Op: OpSale, ProcessingCode: PCPurchase, PAN: "4111111111111111",
		Amount: 1234, HasAmount: true, TransmissionTime: "1122023140", STAN: "000001",
		LocalTime: "023140", LocalDate: "1122", Expiry: "3012", EntryMode: "021",
		Condition: "00", TID: "POSIM001", MID: "POSIM0000000001", Currency: "156", Batch: "000001",
	}
}

func TestISO87_Bitmap(t *testing.T) {
	t.Run("primary only is 16 hex characters with bit 1 clear", func(t *testing.T) {
		m, err := ISO87.Encode(sampleSale())
		require.NoError(t, err)
		body, err := m.Pack()
		require.NoError(t, err)
		require.Equal(t, "0200", string(body[:4]))
		bitmap := string(body[4:20])
		raw, err := hex.DecodeString(bitmap)
		require.NoError(t, err)
		require.Zero(t, raw[0]&0x80, "bit 1 must be clear without a secondary bitmap")
		// the first field after the bitmap is DE2 (LL 16)
		require.Equal(t, "164111111111111111", string(body[20:38]))
	})

	t.Run("secondary bitmap sets bit 1 and follows the primary", func(t *testing.T) {
		sign := &Txn{MTI: "0800", Op: OpSignOn, TransmissionTime: "1122023140", STAN: "000002", TID: "POSIM001", NetworkCode: NetSignOn}
		m, err := ISO87.Encode(sign)
		require.NoError(t, err)
		body, err := m.Pack()
		require.NoError(t, err)
		raw, err := hex.DecodeString(string(body[4:36]))
		require.NoError(t, err)
		require.NotZero(t, raw[0]&0x80, "bit 1 must announce the secondary bitmap")
		// DE70 is bit 6 of the secondary bitmap: byte 8, mask 0x04
		require.Equal(t, byte(0x04), raw[8])
		require.True(t, strings.HasSuffix(string(body), "001"))
	})

	t.Run("present but empty secondary bitmap from a peer is accepted", func(t *testing.T) {
		// 0800 with bit 1 set, secondary all zero, DE11 and DE41
		var bm [16]byte
		bm[0] = 0x80
		bm[1] = 0x20 // DE11
		bm[5] = 0x80 // DE41
		body := "0800" + strings.ToUpper(hex.EncodeToString(bm[:])) + "000123" + "TERM0001"
		m := iso8583.NewMessage(Spec87)
		require.NoError(t, m.Unpack([]byte(body)))
		txn, err := ISO87.Decode(m)
		require.NoError(t, err)
		require.Equal(t, "000123", txn.STAN)
		require.Equal(t, "TERM0001", txn.TID)
	})
}

func TestISO87_RoundTrip(t *testing.T) {
	in := sampleSale()
	in.PINBlock = []byte{1, 2, 3, 4, 5, 6, 7, 8}
	in.Original = &Original{MTI: "0200", STAN: "000009", TransmissionTime: "1122010203", AcquirerID: "00000000000", ForwarderID: "00000000000"}
	in.Totals = &Totals{DebitCount: 2, DebitAmount: 3000, CreditCount: 1, CreditAmount: 500}
	bal := int64(99900)
	in.Balance = &bal
	m, err := ISO87.Encode(in)
	require.NoError(t, err)
	body, err := m.Pack()
	require.NoError(t, err)

	m2 := iso8583.NewMessage(Spec87)
	require.NoError(t, m2.Unpack(body))
	out, err := ISO87.Decode(m2)
	require.NoError(t, err)
	require.Equal(t, in, out)
}

func TestISO87_GoldenSale(t *testing.T) {
	// A sale as other ISO 8583:1987 ASCII implementations frame it: 2-byte
	// binary length, MTI, 16 hex bitmap, fields in order.
	m, err := ISO87.Encode(sampleSale())
	require.NoError(t, err)
	frame, err := NewCodec(ISO87).Frame(m)
	require.NoError(t, err)
	// bitmap bits 2 3 4 7 | 11 12 13 14 | 22 | 25 | 41 42 | 49 | 60
	want := "0200" + "723C048000C08010" +
		"164111111111111111" + "000000" + "000000001234" + "1122023140" + "000001" +
		"023140" + "1122" + "3012" + "021" + "00" + "POSIM001" + "POSIM0000000001" + "156" + "006000001"
	require.Equal(t, len(want), int(frame[0])<<8|int(frame[1]))
	require.Equal(t, want, string(frame[2:]))
}

func TestISO87_Classify(t *testing.T) {
	tests := []struct {
		mti, pc, cond, net string
		want               Op
	}{
		{"0200", PCPurchase, "00", "", OpSale},
		{"0210", PCPurchase, "00", "", OpSale},
		{"0200", PCPurchase, CondPreAuth, "", OpCompletion},
		{"0200", PCVoid, "00", "", OpVoid},
		{"0200", PCBalance, "00", "", OpBalance},
		{"0100", PCPreAuth, CondPreAuth, "", OpPreAuth},
		{"0220", PCRefund, "", "", OpRefund},
		{"0221", PCPurchase, "", "", OpAdvice},
		{"0400", PCPurchase, "", "", OpReversal},
		{"0401", PCPurchase, "", "", OpReversal},
		{"0420", PCPurchase, "", "", OpReversalAdvice},
		{"0500", PCSettle, "", "", OpSettle},
		{"0500", PCSettleTrailer, "", "", OpSettleTrailer},
		{"0320", PCPurchase, "", "", OpBatchUpload},
		{"0800", "", "", NetSignOn, OpSignOn},
		{"0800", "", "", NetSignOff, OpSignOff},
		{"0800", "", "", NetEcho, OpEcho},
		{"0800", "", "", "999", OpUnknown},
		{"0200", "990000", "", "", OpUnknown},
		{"0600", "", "", "", OpUnknown},
	}
	for _, tt := range tests {
		got := classify87(&Txn{MTI: tt.mti, ProcessingCode: tt.pc, Condition: tt.cond, NetworkCode: tt.net})
		require.Equal(t, tt.want, got, "%s %s %s %s", tt.mti, tt.pc, tt.cond, tt.net)
	}
}

func TestISO87_DecodeRejectsBadFields(t *testing.T) {
	m := iso8583.NewMessage(Spec87)
	m.MTI("0200")
	require.NoError(t, m.Field(4, "00000000012X"))
	require.NoError(t, m.Field(11, "000001"))
	_, err := ISO87.Decode(m)
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, 4, fe.Field)
}

func TestISO87_Reversal(t *testing.T) {
	orig := sampleSale()
	rev := ISO87.Reversal(orig, ReasonNoResponse, "000002", mustTime(t))
	require.Equal(t, "0400", rev.MTI)
	require.Equal(t, "000002", rev.STAN)
	require.Equal(t, "98", rev.ResponseCode)
	require.Equal(t, &Original{MTI: "0200", STAN: "000001", TransmissionTime: "1122023140"}, rev.Original)
	require.Empty(t, rev.Track2)
	require.Nil(t, rev.PINBlock)
	m, err := ISO87.Encode(rev)
	require.NoError(t, err)
	de90, err := m.GetString(90)
	require.NoError(t, err)
	require.Equal(t, "0200"+"000001"+"1122023140"+strings.Repeat("0", 22), de90)
}

func TestCodec_OneWritePerFrame(t *testing.T) {
	m, err := ISO87.Encode(sampleSale())
	require.NoError(t, err)
	w := &countingWriter{}
	require.NoError(t, NewCodec(ISO87).WriteMessage(w, m))
	require.Equal(t, 1, w.writes)

	got, err := NewCodec(ISO87).ReadMessage(bytes.NewReader(w.buf.Bytes()))
	require.NoError(t, err)
	mti, _ := got.GetMTI()
	require.Equal(t, "0200", mti)
}

func TestCodec_BadMessageIsReported(t *testing.T) {
	var bad []BadMessage
	c := NewCodec(ISO87)
	c.OnBadMessage = func(b BadMessage) { bad = append(bad, b) }
	frame, err := Binary2{}.AppendFrame(nil, []byte("0200ZZZZ"))
	require.NoError(t, err)
	m, err := c.ReadMessage(bytes.NewReader(frame))
	require.NoError(t, err)
	require.Nil(t, m)
	require.Len(t, bad, 1)
	mti, _ := bad[0].Partial.GetMTI()
	require.Equal(t, "0200", mti)
}

type countingWriter struct {
	buf    bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.buf.Write(p)
}

func TestISO87_LenientWithRealPeers(t *testing.T) {
	t.Run("a 0100 with DE3 000000 is an authorisation", func(t *testing.T) {
		m := iso8583.NewMessage(Spec87)
		m.MTI("0100")
		require.NoError(t, m.Field(3, "000000"))
		require.NoError(t, m.Field(11, "000001"))
		x, err := ISO87.Decode(m)
		require.NoError(t, err)
		require.Equal(t, OpPreAuth, x.Op)
	})
	t.Run("DE55 as raw bytes behind an ASCII length, as jPOS sends it", func(t *testing.T) {
		tlv := "\x9f\x26\x08\x85\x22\x51\xd2\x67\xa1\x27\x1c\x9f\x36\x02\x00\x54" // 9F26 ARQC, 9F36 ATC
		m := iso8583.NewMessage(Spec87)
		m.MTI("0200")
		require.NoError(t, m.Field(11, "000001"))
		require.NoError(t, m.Field(55, tlv))
		body, err := m.Pack()
		require.NoError(t, err)
		require.Contains(t, string(body), "016"+tlv, "LLL in ASCII, then the bytes")
		m2 := iso8583.NewMessage(Spec87)
		require.NoError(t, m2.Unpack(body))
		got, err := m2.GetString(55)
		require.NoError(t, err)
		require.Equal(t, tlv, got)
	})
}
