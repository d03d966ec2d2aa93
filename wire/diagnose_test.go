package wire

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// iso87CardSale is a sale with every kind of card data a dump must hide:
// PAN, track 2, track 3 and track 1 (DE45, as an extra field), a PIN block
// and chip data.
func iso87CardSale(t *testing.T) *Txn {
	t.Helper()
	return &Txn{Op: OpSale, PAN: "6200000000000005", Amount: 1234, HasAmount: true, STAN: "000001",
		EntryMode: "051", Track2: "6200000000000005=30121010000000000", TID: "POSIM001", MID: "POSIM0000000001",
		Currency: "156", PINBlock: []byte{0xC9, 0x67, 0xC8, 0x19, 0x81, 0x51, 0xA4, 0x58}, ICC: []byte{0x9F, 0x26, 0x02, 0x00, 0x01},
		Extra: map[int]string{36: "996200000000000005=156", 45: "B6200000000000005^TEST/CARD^3012101"}}
}

// Card data never shows in a dump: the PAN is masked, tracks and PIN
// blocks are named but not shown, bytes that are not text are hex.
func TestDump_HidesCardData(t *testing.T) {
	m, err := ISO87.Encode(iso87CardSale(t))
	require.NoError(t, err)
	var buf bytes.Buffer
	Dump(&buf, "<-", m)
	out := buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Equal(t, "<- 0200", lines[0])
	byID := map[string]string{}
	var tags []string
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "         ") {
			tags = append(tags, strings.Join(strings.Fields(l), " ")) // chip data, tag by tag
			continue
		}
		require.True(t, strings.HasPrefix(l, "   DE"), l)
		byID[strings.Fields(l)[0]] = l
	}
	require.Contains(t, tags, "9F26 Application Cryptogram 0001")
	require.Contains(t, byID["DE2"], "620000******0005")
	require.Contains(t, byID["DE2"], "Primary Account Number", "the field's name from the spec")
	require.Contains(t, byID["DE35"], "(track data, 34 characters, not shown)")
	require.Contains(t, byID["DE36"], "(track data, 22 characters, not shown)")
	require.Contains(t, byID["DE45"], "(track data, 35 characters, not shown)")
	require.Contains(t, byID["DE52"], "(PIN block, not shown)")
	require.Contains(t, byID["DE55"], "9F26020001", "chip data in hex")
	require.Contains(t, byID["DE4"], "000000001234")
	for _, secret := range []string{"6200000000000005", "30121010000000000", "TEST/CARD", "C967C819", "c967c819"} {
		require.NotContains(t, out, secret)
	}
	var ids []int
	for _, f := range DumpFields(m) {
		ids = append(ids, f.ID)
	}
	require.Equal(t, []int{2, 3, 4, 11, 22, 35, 36, 41, 42, 45, 49, 52, 55}, ids, "in number order, without MTI and bitmap")
}

// Dumps of many connections to one writer do not interleave.
func TestSyncWriter_DumpsDoNotInterleave(t *testing.T) {
	var want []string
	var msgs []*Txn
	for i := range 8 {
		x := iso87CardSale(t)
		x.STAN = fmt.Sprintf("%06d", i+1)
		msgs = append(msgs, x)
		m, err := ISO87.Encode(x)
		require.NoError(t, err)
		var one bytes.Buffer
		Dump(&one, "->", m)
		want = append(want, one.String())
	}
	var buf bytes.Buffer
	w := &SyncWriter{W: &buf}
	var wg sync.WaitGroup
	for _, x := range msgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := ISO87.Encode(x)
			if err != nil {
				t.Error(err)
				return
			}
			for range 20 {
				Dump(w, "->", m)
			}
		}()
	}
	wg.Wait()
	out := buf.String()
	counts := map[string]int{}
	for out != "" {
		matched := false
		for _, d := range want {
			if strings.HasPrefix(out, d) {
				counts[d]++
				out = out[len(d):]
				matched = true
				break
			}
		}
		require.True(t, matched, "a dump was interleaved with another at %q", out[:min(len(out), 80)])
	}
	for _, d := range want {
		require.Equal(t, 20, counts[d])
	}
}

func TestDecodeFrame_Framings(t *testing.T) {
	m, err := ISO87.Encode(iso87CardSale(t))
	require.NoError(t, err)
	body, err := m.Pack()
	require.NoError(t, err)
	for _, f := range []Framer{Binary2{}, ASCII4{}, BCD2{}} {
		frame, err := f.AppendFrame(nil, body)
		require.NoError(t, err)
		d, err := DecodeFrame(frame, ISO87, f)
		require.NoError(t, err, f.Name())
		require.Equal(t, f.Name(), d.Framing)
		require.Equal(t, "iso87", d.Profile)
		require.Equal(t, "0200", d.MTI)
		require.Equal(t, OpSale, d.Op)
		require.Empty(t, d.TPDU, "iso87 frames have no TPDU")

		_, err = DecodeFrame(append(bytes.Clone(frame), 0x00), ISO87, f)
		require.ErrorContains(t, err, "1 bytes follow the frame its length header announces", f.Name())
		_, err = DecodeFrame(frame[:len(frame)-1], ISO87, f)
		require.Error(t, err, "%s: a frame cut short", f.Name())
	}
}

func TestDecodeFrame_CUP(t *testing.T) {
	raw, err := hex.DecodeString(capturedCUPUpload)
	require.NoError(t, err)
	for _, f := range []Framer{Binary2{}, CUP.Framer(), TPDUFramer{TPDU: [5]byte{0x60, 9, 9, 9, 9}}} {
		d, err := DecodeFrame(raw, CUP, f)
		require.NoError(t, err, "the length framing inside any TPDU framer: the TPDU is shown, not checked")
		require.Equal(t, "binary2", d.Framing)
		require.Equal(t, "6000038371", d.TPDU)
		require.Equal(t, "603100310700", d.Header)
		require.Equal(t, OpTCUpload, d.Op)
	}

	short := []byte{0, 10, 0x60, 0, 3, 0, 0, 0x60, 0x31, 0, 0x31, 0x07}
	_, err = DecodeFrame(short, CUP, Binary2{})
	require.ErrorIs(t, err, ErrShortFrame)
}

// A message that unpacks but breaks the dialect (a letter in DE4) is still
// shown field by field, without an operation.
func TestDecodeFrame_UndecodableMessageIsStillShown(t *testing.T) {
	sale := iso87Sale(t)
	at := bytes.Index(sale, []byte("000000001234"))
	require.Positive(t, at)
	bad := bytes.Clone(sale)
	copy(bad[at:], "00000000123X")
	d, err := DecodeFrame(bad, ISO87, Binary2{})
	require.NoError(t, err)
	require.Equal(t, "0200", d.MTI)
	require.Equal(t, OpUnknown, d.Op)
	require.NotEmpty(t, d.Fields)
	require.Empty(t, Diagnose(bad, ISO87, Binary2{}), "it reads as a frame: nothing to diagnose")
}

func TestDiagnose_LengthHeaders(t *testing.T) {
	sale := iso87Sale(t)
	body := sale[2:]
	t.Run("fewer bytes than a header", func(t *testing.T) {
		require.Equal(t, []string{"only 1 bytes: a binary2 length header alone takes 2"}, Diagnose(sale[:1], ISO87, Binary2{}))
		require.Equal(t, []string{"only 3 bytes: a ascii4 length header alone takes 4"}, Diagnose([]byte("012"), ISO87, ASCII4{}))
	})
	t.Run("not the framing's header", func(t *testing.T) {
		got := Diagnose(append([]byte("ab12"), body...), ISO87, ASCII4{})
		require.Contains(t, got[0], "the first 4 bytes (61623132) are not the length header ascii4 framing writes: not four ASCII digits")
		got = Diagnose(append([]byte{0xAB, 0xCD}, body...), ISO87, BCD2{})
		require.Contains(t, got[0], "the first 2 bytes (ABCD) are not the length header bcd2 framing writes: not BCD")
	})
	t.Run("another framing that reads", func(t *testing.T) {
		frame, err := BCD2{}.AppendFrame(nil, body)
		require.NoError(t, err)
		got := strings.Join(Diagnose(frame, ISO87, Binary2{}), "\n")
		require.Contains(t, got, fmt.Sprintf("the binary2 length header announces %d bytes, but %d follow it", int(frame[0])<<8|int(frame[1]), len(body)))
		require.Contains(t, got, "it reads as bcd2 framing: use --framing bcd2")
		got = strings.Join(Diagnose(sale, ISO87, BCD2{}), "\n")
		require.Contains(t, got, "it reads as binary2 framing: use --framing binary2")
	})
	t.Run("another framing's header, but not a message", func(t *testing.T) {
		junk := []byte("0200ZZZZ")
		frame, err := BCD2{}.AppendFrame(nil, junk)
		require.NoError(t, err)
		require.Equal(t, []byte{0x00, 0x08}, frame[:2], "both a binary2 and a bcd2 header of 8")
		got := Diagnose(frame, ISO87, ASCII4{})
		require.Contains(t, strings.Join(got, "\n"), "its length header fits binary2 framing (8 bytes follow)")
		require.Contains(t, strings.Join(got, "\n"), "its length header fits bcd2 framing (8 bytes follow)")
	})
}

// The field that breaks its spec is named, with moov's reason, unless the
// field holds card data: then the reason is withheld, since it may quote
// the digits.
func TestDiagnose_NamesTheField(t *testing.T) {
	sale := iso87Sale(t)
	body := sale[2:]
	t.Run("a field cut short", func(t *testing.T) {
		frame, err := Binary2{}.AppendFrame(nil, body[:40])
		require.NoError(t, err)
		got := Diagnose(frame, ISO87, Binary2{})
		require.Len(t, got, 1)
		require.Contains(t, got[0], "field 3 (Processing Code) does not read")
		require.Contains(t, got[0], "expected len 6, got 2")
		require.Equal(t, got, DiagnoseBody(body[:40], ISO87))
	})
	t.Run("the PAN: named, never shown", func(t *testing.T) {
		bad := bytes.Clone(body)
		copy(bad[20:22], "99") // DE2's LL: 99 digits
		got := DiagnoseBody(bad, ISO87)
		require.Len(t, got, 1)
		require.Contains(t, got[0], "field 2 (Primary Account Number) does not read: its content is card data and is not shown")
		require.NotContains(t, got[0], "6200000000")
	})
	t.Run("track 2: named, never shown", func(t *testing.T) {
		at := bytes.Index(body, []byte("346200000000000005="))
		require.Positive(t, at)
		bad := bytes.Clone(body)
		copy(bad[at:], "99")
		got := DiagnoseBody(bad, ISO87)
		require.Contains(t, got[0], "field 35 (Track 2 Data) does not read: its content is card data")
		require.NotContains(t, got[0], "3012")
	})
	t.Run("under cup", func(t *testing.T) {
		raw, err := hex.DecodeString(capturedCUPUpload)
		require.NoError(t, err)
		bad := bytes.Clone(raw)
		bad[2+11+10] = 0x99 // DE2's length: 99 digits
		got := Diagnose(bad, CUP, Binary2{})
		require.Equal(t, got, DiagnoseBody(bad[13:], CUP))
		require.Contains(t, got[0], "field 2 (Primary Account Number) does not read: its content is card data")
		require.NotContains(t, got[0], "621226")
	})
	require.Nil(t, DiagnoseBody(body, ISO87), "a body that reads has no cause")
}

// What a body that is of another dialect looks like, said as such.
func TestDiagnoseBody_OtherDialects(t *testing.T) {
	raw, err := hex.DecodeString(capturedCUPUpload)
	require.NoError(t, err)
	got := DiagnoseBody(raw[2:], ISO87)
	require.Equal(t, []string{"it starts with 60, as a TPDU does (6000038371): a TPDU and header seem to precede the MTI (a cup terminal?)"}, got)

	sale := iso87Sale(t)
	bm, err := hex.DecodeString(string(sale[6:22]))
	require.NoError(t, err)
	binBitmap := append(append(append([]byte{}, sale[2:6]...), bm...), sale[22:]...)
	got = DiagnoseBody(binBitmap, ISO87)
	require.Len(t, got, 1)
	require.Contains(t, got[0], `the bitmap after the MTI "0200" is binary (7220040020C08000), where iso87 expects 16 hex characters`)

	// a TPDU that does not read as cup either
	bad := bytes.Clone(raw)
	bad[2+11+10] = 0x99
	causes := strings.Join(Diagnose(bad, ISO87, Binary2{}), "\n")
	require.Contains(t, causes, "it starts with 60, as a TPDU does (6000038371): a TPDU and header may precede the MTI")
	require.NotContains(t, causes, "--profile cup")
}
