package load

import (
	"bytes"
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// templateFleet is a fleet that is not connected: enough to build and
// patch request templates.
func templateFleet(t *testing.T, p wire.Profile) *Fleet {
	t.Helper()
	fp, ok := p.(wire.CompiledProfile)
	require.True(t, ok, p.Name())
	return &Fleet{o: Options{Profile: p, PAN: "6200000000009998", DeclinePAN: "6200000000000104", MID: "LOAD00000000001"},
		fp: fp, codec: wire.NewCodec(p)}
}

// decodeFrame reads a frame the fleet built back through the profile's
// own framing and decoder.
func decodeFrame(t *testing.T, p wire.Profile, frame []byte) (*wire.Txn, []byte) {
	t.Helper()
	body, err := p.Framer().ReadFrame(bytes.NewReader(frame))
	require.NoError(t, err)
	var fs wire.Fields
	require.NoError(t, p.(wire.CompiledProfile).Compiled().Unpack(body, &fs))
	x, err := p.(wire.CompiledProfile).DecodeFrom(&fs)
	require.NoError(t, err)
	return x, body
}

// Each operation's template, patched with a request's STAN, time, amount
// and original RRN, is the request encoded from scratch: byte for byte
// (but the MAC) and field by field, under both dialects.
func TestRequest_PatchesEachOperationsTemplate(t *testing.T) {
	// local time a day ahead of UTC: DE7 is UTC, DE12 and DE13 are local
	now := time.Date(2027, 1, 1, 3, 4, 5, 0, time.FixedZone("CST", 8*3600))
	const tid = "L0000042"
	for _, p := range []wire.Profile{wire.ISO87, wire.CUP} {
		f := templateFleet(t, p)
		tmpl, err := f.templates(tid)
		require.NoError(t, err, p.Name())
		for _, tc := range []struct {
			op      string
			stan    int
			amount  int64
			rrn     string
			wantOp  wire.Op
			wantMTI string
			wantPC  string
			wantPAN string
		}{
			{op: "sale", stan: 1, amount: 100, wantOp: wire.OpSale, wantMTI: "0200", wantPC: "000000", wantPAN: "6200000000009998"},
			{op: "sale", stan: 999_999, amount: 999_999_999_999, wantOp: wire.OpSale, wantMTI: "0200", wantPC: "000000", wantPAN: "6200000000009998"},
			{op: "decline", stan: 4321, amount: 57, wantOp: wire.OpSale, wantMTI: "0200", wantPC: "000000", wantPAN: "6200000000000104"},
			{op: "void", stan: 77, amount: 98765, rrn: "123456789012", wantOp: wire.OpVoid, wantMTI: "0200", wantPC: "020000", wantPAN: "6200000000009998"},
			{op: "refund", stan: 500_000, amount: 50, rrn: "000000000777", wantOp: wire.OpRefund, wantMTI: "0220", wantPC: "200000", wantPAN: "6200000000009998"},
		} {
			name := p.Name() + " " + tc.op
			term := &terminal{tid: tid}
			frame := f.request(term, tmpl[tc.op], tc.stan, now, tc.amount, tc.rrn)
			x, body := decodeFrame(t, p, frame)
			require.Equal(t, tc.wantMTI, x.MTI, name)
			require.Equal(t, tc.wantOp, x.Op, name)
			require.Equal(t, tc.wantPC, x.ProcessingCode, name)
			require.Equal(t, tc.wantPAN, x.PAN, name)
			require.Equal(t, fmt6(tc.stan), x.STAN, name)
			require.Equal(t, tc.amount, x.Amount, name)
			require.Equal(t, tc.rrn, x.RRN, name)
			require.Equal(t, tid, x.TID, name)
			require.Equal(t, "LOAD00000000001", x.MID, name)
			require.Equal(t, "030405", x.LocalTime, name)
			require.Equal(t, "0101", x.LocalDate, name)
			if p.Capabilities().WorkingKeys {
				require.Empty(t, x.TransmissionTime, name+": cup carries no DE7")
			} else {
				require.Equal(t, "1231190405", x.TransmissionTime, name+": DE7 is UTC")
			}

			// the same request encoded whole, as the profile writes it
			want, wantBody, err := f.frame(f.txn(tid, tc.op, fmt6(tc.stan), now, tc.amount, tc.rrn))
			require.NoError(t, err, name)
			require.Len(t, frame, len(want), name)
			mac := 0
			if tmpl[tc.op].mac {
				mac = 8
			}
			require.Equal(t, want[:len(want)-mac], frame[:len(frame)-mac], name)
			require.Len(t, body, wantBody, name)
		}
	}
}

// Under cup a patched request is signed with the terminal's MAC key over
// the bytes as sent: the host's check (wire.VerifyMAC) accepts it, and a
// request patched again for another STAN gets a new MAC.
func TestRequest_SignsPatchedFramesUnderCUP(t *testing.T) {
	f := templateFleet(t, wire.CUP)
	tmpl, err := f.templates("L0000001")
	require.NoError(t, err)
	k, err := wire.NewMACKey(wire.MACCUP, "0123456789ABCDEFFEDCBA9876543210")
	require.NoError(t, err)
	term := &terminal{tid: "L0000001"}
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

	unsigned := append([]byte(nil), f.request(term, tmpl["sale"], 1, now, 100, "")...)
	_, body := decodeFrame(t, wire.CUP, unsigned)
	require.Equal(t, make([]byte, 8), body[len(body)-8:], "no key yet: the MAC stays a placeholder")

	term.mac.Store(k)
	var macs [][]byte
	for _, stan := range []int{1, 2} {
		_, body := decodeFrame(t, wire.CUP, f.request(term, tmpl["sale"], stan, now, 100, ""))
		require.True(t, wire.VerifyMAC(k, body), "STAN %d", stan)
		macs = append(macs, append([]byte(nil), body[len(body)-8:]...))
	}
	require.NotEqual(t, macs[0], macs[1], "the MAC covers the STAN")

	other, err := wire.NewMACKey(wire.MACCUP, "FEDCBA98765432100123456789ABCDEF")
	require.NoError(t, err)
	require.False(t, wire.VerifyMAC(other, body), "signed with the terminal's own key, not any key")
}

func fmt6(n int) string {
	b := []byte("000000")
	for i := 5; i >= 0; i, n = i-1, n/10 {
		b[i] = byte('0' + n%10)
	}
	return string(b)
}

func TestPatch_Put(t *testing.T) {
	for _, tc := range []struct {
		name        string
		p           patch
		v           int64
		frame, want []byte
	}{
		{"ASCII digits, zero-filled", patch{off: 1, n: 6}, 42, []byte("x------y"), []byte("x000042y")},
		{"ASCII digits, full width", patch{off: 1, n: 6}, 999_999, []byte("x------y"), []byte("x999999y")},
		{"packed BCD, two digits a byte", patch{off: 1, n: 3, bcd: true}, 123_456, []byte("x---y"), []byte{'x', 0x12, 0x34, 0x56, 'y'}},
		{"packed BCD, zero-filled", patch{off: 1, n: 3, bcd: true}, 42, []byte("x---y"), []byte{'x', 0x00, 0x00, 0x42, 'y'}},
		{"a field the message does not carry is left alone", patch{}, 42, []byte("x---y"), []byte("x---y")},
	} {
		tc.p.put(tc.frame, tc.v)
		require.Equal(t, tc.want, tc.frame, tc.name)
	}
}

func TestPatch_PutString(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    patch
		s    string
		want string
	}{
		{"writes a value of the field's width", patch{off: 2, n: 4}, "ABCD", "..ABCD.."},
		{"ignores a value of another width", patch{off: 2, n: 4}, "ABC", "........"},
		{"ignores a BCD field", patch{off: 2, n: 2, bcd: true}, "AB", "........"},
		{"ignores a field the message does not carry", patch{}, "", "........"},
	} {
		frame := []byte("........")
		tc.p.putString(frame, tc.s)
		require.Equal(t, tc.want, string(frame), tc.name)
	}
}

func TestLocate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a, b    []byte
		digits  int
		mac     bool
		want    patch
		wantErr string
	}{
		{name: "ASCII digits", a: []byte("ab000001cd"), b: []byte("ab999999cd"), digits: 6, want: patch{off: 2, n: 6}},
		{name: "packed BCD", a: []byte{1, 0x00, 0x00, 0x01, 2}, b: []byte{1, 0x99, 0x99, 0x99, 2}, digits: 6, want: patch{off: 1, n: 3, bcd: true}},
		{name: "odd digits in BCD", a: []byte{1, 0x00, 0x01, 2}, b: []byte{1, 0x99, 0x99, 2}, digits: 3, want: patch{off: 1, n: 2, bcd: true}},
		{name: "a field the message lacks", a: []byte("abc"), b: []byte("abc"), digits: 6, want: patch{}},
		{name: "the trailing MAC is not a field", a: []byte("ab\x00\x00\x00\x00\x00\x00\x00\x00"), b: []byte("ab\x01\x00\x00\x00\x00\x00\x00\x02"), digits: 6, mac: true, want: patch{}},
		{name: "a change of length", a: []byte("ab1"), b: []byte("ab12"), digits: 6, wantErr: "changed the frame's length"},
		{name: "more bytes than the field has", a: []byte("a0000000b"), b: []byte("a9999999b"), digits: 6, wantErr: "a 6-digit field changed 7 bytes"},
	} {
		got, err := locate(tc.a, tc.b, tc.digits, tc.mac)
		if tc.wantErr != "" {
			require.ErrorContains(t, err, tc.wantErr, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, got, tc.name)
	}
}

// A response is the one awaited when its MTI is a response of the
// request's class and its STAN is the request's; anything else is a late
// answer to skip.
func TestMatches(t *testing.T) {
	f := templateFleet(t, wire.ISO87)
	for _, tc := range []struct {
		name  string
		mti   string
		stan  string
		class string
		want  bool
	}{
		{"the answer", "0210", "000042", "02", true},
		{"a repeat's answer", "0410", "000042", "04", true},
		{"another STAN", "0210", "000041", "02", false},
		{"another class", "0410", "000042", "02", false},
		{"a request, not an answer", "0200", "000042", "02", false},
		{"a refund's answer (advice response)", "0230", "000042", "02", true},
	} {
		term := &terminal{}
		unpackInto(t, f, &term.fields, &wire.Txn{MTI: tc.mti, ProcessingCode: "000000", STAN: tc.stan, TID: "L0000001", ResponseCode: "00"})
		require.Equal(t, tc.want, f.matches(term, tc.class, 42), tc.name)
	}
}

func TestCode(t *testing.T) {
	f := templateFleet(t, wire.ISO87)
	for _, rc := range []string{"00", "51", "05", "A0", ""} {
		var fs wire.Fields
		unpackInto(t, f, &fs, &wire.Txn{MTI: "0210", ProcessingCode: "000000", STAN: "000001", ResponseCode: rc})
		require.Equal(t, rc, code(&fs), "%q", rc)
	}
}

// unpackInto encodes x with the fleet's profile and unpacks it into fs, as
// a response read off the wire.
func unpackInto(t *testing.T, f *Fleet, fs *wire.Fields, x *wire.Txn) {
	t.Helper()
	frame, _, err := f.frame(x)
	require.NoError(t, err)
	body, err := f.codec.Framer.ReadFrame(bytes.NewReader(frame))
	require.NoError(t, err)
	require.NoError(t, f.fp.Compiled().Unpack(body, fs))
}

func TestNextSTAN_WrapsAfter999999(t *testing.T) {
	term := &terminal{stan: 999_998}
	require.Equal(t, "999999", term.nextSTAN())
	require.Equal(t, "000001", term.nextSTAN(), "000000 is no STAN")
	require.Equal(t, "000002", term.nextSTAN())
}
