package wire

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// frameOf is body framed by f, failing the test on error.
func frameOf(t *testing.T, f Framer, body string) []byte {
	t.Helper()
	out, err := f.AppendFrame(nil, []byte(body))
	require.NoError(t, err)
	return out
}

func concat(frames ...[]byte) *bytes.Reader { return bytes.NewReader(bytes.Join(frames, nil)) }

func TestNewTPDUFramer(t *testing.T) {
	f, err := NewTPDUFramer(nil, "", "", "")
	require.NoError(t, err)
	require.Equal(t, DefaultTPDU, f.TPDU)
	require.Equal(t, DefaultHeader, f.Header)
	require.Equal(t, "binary2+tpdu", f.Name())
	require.Equal(t, "6000030000"+"603100310730", hex.EncodeToString(f.Prefix()))

	f, err = NewTPDUFramer(ASCII4{}, "6000038371", "603100310700", MismatchReject)
	require.NoError(t, err)
	require.Equal(t, "ascii4+tpdu", f.Name())
	require.Equal(t, [5]byte{0x60, 0x00, 0x03, 0x83, 0x71}, f.TPDU)
	require.Equal(t, MismatchReject, f.Policy)
	require.Equal(t, ASCII4{}, InnerFramer(f))

	for _, p := range []string{"", MismatchDiscard, MismatchReject, MismatchAccept} {
		_, err := NewTPDUFramer(nil, "", "", p)
		require.NoError(t, err, p)
	}
	_, err = NewTPDUFramer(nil, "", "", "drop")
	require.ErrorContains(t, err, `mismatch policy "drop": want discard, reject or accept`)
	_, err = NewTPDUFramer(nil, "6100030000", "", "")
	require.ErrorContains(t, err, "must start with 60")
	_, err = NewTPDUFramer(nil, "", "60310031073", "")
	require.ErrorContains(t, err, "want 12 hex digits")
}

func TestParseTPDUAndHeader(t *testing.T) {
	tp, err := ParseTPDU("60000383ab")
	require.NoError(t, err, "lower-case hex")
	require.Equal(t, [5]byte{0x60, 0x00, 0x03, 0x83, 0xAB}, tp)
	for _, s := range []string{"", "60", "600003000000", "60000300zz", "6000 30000"} {
		_, err := ParseTPDU(s)
		require.ErrorContains(t, err, "want 10 hex digits such as 6000030000", "%q", s)
	}
	h, err := ParseHeader("000000000000")
	require.NoError(t, err, "any six bytes are a header")
	require.Equal(t, [6]byte{}, h)
	for _, s := range []string{"", "6031003107", "60310031073000", "6031003107zz"} {
		_, err := ParseHeader(s)
		require.ErrorContains(t, err, "want 12 hex digits such as 603100310730", "%q", s)
	}
}

func TestInnerFramer(t *testing.T) {
	require.Equal(t, Binary2{}, InnerFramer(TPDUFramer{}), "a TPDU framer without a length framing has binary2")
	require.Equal(t, BCD2{MaxFrame: 5}, InnerFramer(TPDUFramer{Inner: BCD2{MaxFrame: 5}}))
	require.Equal(t, ASCII4{}, InnerFramer(ASCII4{}), "a plain framing is its own")
	require.Equal(t, Binary2{}, InnerFramer(CUP.Framer()))
}

// A host answers with destination and source swapped; each side reads the
// other's frames, and its own, since NIIs count in either order.
func TestTPDUFramer_SwappedNIIs(t *testing.T) {
	term, err := NewTPDUFramer(nil, "6000038371", "", "")
	require.NoError(t, err)
	host := term.ForHost().(TPDUFramer)
	require.False(t, term.Reply, "ForHost leaves the terminal's framer as it was")
	require.Equal(t, "6083710003", hex.EncodeToString(host.Prefix()[:5]), "to 8371 from 0003")
	require.Equal(t, "6000038371", hex.EncodeToString(term.Prefix()[:5]))
	require.Equal(t, term.Prefix()[5:], host.Prefix()[5:], "the header is not swapped")

	up := frameOf(t, term, "request")
	require.Equal(t, "6000038371", hex.EncodeToString(up[2:7]))
	body, err := host.ReadFrame(bytes.NewReader(up))
	require.NoError(t, err)
	require.Equal(t, "request", string(body))

	down := frameOf(t, host, "response")
	require.Equal(t, "6083710003", hex.EncodeToString(down[2:7]))
	body, err = term.ReadFrame(bytes.NewReader(down))
	require.NoError(t, err)
	require.Equal(t, "response", string(body))

	body, err = term.ReadFrame(bytes.NewReader(up))
	require.NoError(t, err)
	require.Equal(t, "request", string(body), "either order: its own frames too")
}

// A header that differs only in the software sub-version (its last three
// bytes) is a terminal upgraded within its version: field hosts take it, and
// so does the framer unless told to match headers byte for byte.
func TestTPDUFramer_HeaderSubVersion(t *testing.T) {
	term := TPDUFramer{TPDU: DefaultTPDU, Header: DefaultHeader}
	f, err := NewTPDUFramer(nil, "", "603100310731", "")
	require.NoError(t, err)
	upgraded := frameOf(t, f, "upgraded")
	host := term.ForHost().(TPDUFramer)
	body, err := host.ReadFrame(concat(upgraded))
	require.NoError(t, err)
	require.Equal(t, "upgraded", string(body))
	g, err := NewTPDUFramer(nil, "", "603101310730", "")
	require.NoError(t, err)
	body, err = host.ReadFrame(concat(frameOf(t, g, "asked")))
	require.NoError(t, err)
	require.Equal(t, "asked", string(body), "another status or processing request (the third byte) matches too")

	host.ExactHeader = true
	var seen []Mismatch
	host.OnMismatch = func(m Mismatch) { seen = append(seen, m) }
	_, err = host.ReadFrame(concat(upgraded))
	require.ErrorIs(t, err, io.EOF, "byte for byte: dropped")
	require.Len(t, seen, 1)
}

// A host answers with the TPDU of the request it read, destination and
// source swapped, and its header, whatever it was configured with: the
// answer to an accepted frame with another TPDU or an upgraded header goes
// back where it came from.
func TestTPDUFramer_AnswerEchoesTheRequest(t *testing.T) {
	f, err := NewTPDUFramer(nil, "6000120034", "603100310799", "")
	require.NoError(t, err)
	request := frameOf(t, f, "request")
	for _, policy := range []string{MismatchAccept, ""} {
		host := TPDUFramer{TPDU: DefaultTPDU, Header: DefaultHeader, Reply: true, Policy: policy, Echo: NewTPDUEcho()}
		if policy == "" {
			host.TPDU = [5]byte{0x60, 0x00, 0x12, 0x00, 0x34} // same NIIs, the header only a sub-version apart
		}
		_, err := host.ReadFrame(concat(request))
		require.NoError(t, err, policy)
		answer, err := host.AppendFrame(nil, []byte("answer"))
		require.NoError(t, err)
		require.Equal(t, "6000340012"+"603100310799", hex.EncodeToString(answer[2:13]), policy)
	}
	fresh := TPDUFramer{TPDU: DefaultTPDU, Header: DefaultHeader, Reply: true, Echo: NewTPDUEcho()}
	answer, err := fresh.AppendFrame(nil, []byte("x"))
	require.NoError(t, err)
	require.Equal(t, "6000000003"+"603100310730", hex.EncodeToString(answer[2:13]), "before any request: its own, swapped")
}

// What a host expects and what it drops, under each policy.
func TestTPDUFramer_MismatchPolicies(t *testing.T) {
	term := TPDUFramer{TPDU: DefaultTPDU, Header: DefaultHeader}
	good := frameOf(t, term, "good")
	other := func(tpdu, header string) []byte {
		f, err := NewTPDUFramer(nil, tpdu, header, "")
		require.NoError(t, err)
		return frameOf(t, f, "other")
	}
	bad := map[string][]byte{
		"another destination":          other("6000040000", ""),
		"another source":               other("6000030001", ""),
		"the source NII as both":       other("6000000000", ""),
		"another header":               other("", "603200320101"),
		"the version one bit off":      other("", "603000310730"),
		"a TPDU id other than 60":      append(append([]byte{0, 14, 0x68, 0x00, 0x03, 0x00, 0x00}, DefaultHeader[:]...), "bad"...),
		"a TPDU and header both wrong": other("6000050006", "000000000000"),
	}
	for name, frame := range bad {
		t.Run(name, func(t *testing.T) {
			for _, policy := range []string{"", MismatchDiscard, MismatchReject} {
				var seen []Mismatch
				host := term.ForHost().(TPDUFramer)
				host.Policy = policy
				host.OnMismatch = func(m Mismatch) { seen = append(seen, m) }
				body, err := host.ReadFrame(concat(frame, frame, good))
				require.NoError(t, err, policy)
				require.Equal(t, "good", string(body), "%s: dropped until a frame matches", policy)
				require.Len(t, seen, 2, policy)
				want := policy
				if want == "" {
					want = MismatchDiscard
				}
				require.Equal(t, want, seen[0].Policy)
				require.Equal(t, frame[2:7], seen[0].TPDU)
				require.Equal(t, frame[7:13], seen[0].Header)
				require.Equal(t, DefaultTPDU[:], seen[0].WantTPDU)
				require.Equal(t, DefaultHeader[:], seen[0].WantHeader)

				_, err = host.ReadFrame(concat(frame))
				require.ErrorIs(t, err, io.EOF, "%s: nothing but dropped frames, then the end", policy)
			}
			host := term.ForHost().(TPDUFramer)
			host.Policy = MismatchAccept
			host.OnMismatch = func(m Mismatch) { t.Errorf("accept drops nothing, yet reported %s", m) }
			body, err := host.ReadFrame(concat(frame))
			require.NoError(t, err)
			require.Equal(t, frame[13:], body, "accept: the body after the TPDU and header")
		})
	}
	t.Run("no OnMismatch: dropped silently", func(t *testing.T) {
		body, err := term.ReadFrame(concat(bad["another header"], good))
		require.NoError(t, err)
		require.Equal(t, "good", string(body))
	})
}

// Expect overrides what a frame must carry: a host answering under one
// TPDU and header may take requests under others.
func TestTPDUFramer_Expect(t *testing.T) {
	wantT := [5]byte{0x60, 0x00, 0x07, 0x00, 0x09}
	wantH := [6]byte{0x60, 0x22, 0x00, 0x00, 0x00, 0x00}
	host := TPDUFramer{TPDU: DefaultTPDU, Header: DefaultHeader, ExpectTPDU: &wantT, ExpectHeader: &wantH}
	var seen []Mismatch
	host.OnMismatch = func(m Mismatch) { seen = append(seen, m) }

	sender := TPDUFramer{TPDU: wantT, Header: wantH}
	own := frameOf(t, TPDUFramer{TPDU: DefaultTPDU, Header: DefaultHeader}, "own")
	body, err := host.ReadFrame(concat(own, frameOf(t, sender, "expected")))
	require.NoError(t, err)
	require.Equal(t, "expected", string(body))
	require.Len(t, seen, 1, "its own TPDU and header no longer count")
	require.Equal(t, wantT[:], seen[0].WantTPDU)
	require.Equal(t, wantH[:], seen[0].WantHeader)

	body, err = host.ReadFrame(bytes.NewReader(frameOf(t, sender.ForHost(), "swapped")))
	require.NoError(t, err)
	require.Equal(t, "swapped", string(body), "the expected NIIs in either order")

	onlyT := TPDUFramer{TPDU: DefaultTPDU, Header: DefaultHeader, ExpectTPDU: &wantT}
	body, err = onlyT.ReadFrame(bytes.NewReader(frameOf(t, TPDUFramer{TPDU: wantT, Header: DefaultHeader}, "mixed")))
	require.NoError(t, err)
	require.Equal(t, "mixed", string(body), "an ExpectTPDU alone keeps the framer's own header")
}

func TestTPDUFramer_ShortFramesAndKeepAlives(t *testing.T) {
	f := TPDUFramer{TPDU: DefaultTPDU, Header: DefaultHeader}
	body, err := f.ReadFrame(bytes.NewReader([]byte{0, 0}))
	require.NoError(t, err)
	require.NotNil(t, body)
	require.Empty(t, body, "an empty frame is a keep-alive, not a short frame")

	for n := 1; n < 11; n++ {
		frame := append([]byte{0, byte(n)}, bytes.Repeat([]byte{0x60}, n)...)
		_, err := f.ReadFrame(bytes.NewReader(frame))
		require.ErrorIs(t, err, ErrShortFrame, "%d bytes", n)
		require.ErrorContains(t, err, fmt.Sprintf(": %d bytes", n))
	}
	body, err = f.ReadFrame(bytes.NewReader(frameOf(t, f, "")))
	require.NoError(t, err, "TPDU and header with no body: an empty body")
	require.Empty(t, body)

	_, err = f.ReadFrame(bytes.NewReader(nil))
	require.ErrorIs(t, err, io.EOF)
	_, err = f.ReadFrame(bytes.NewReader([]byte{0, 20, 0x60}))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "a frame cut short is not a clean end")
}

// The length header counts TPDU, header and body, in the inner framing.
func TestTPDUFramer_LengthCountsTPDUAndHeader(t *testing.T) {
	for _, inner := range []Framer{nil, Binary2{}, ASCII4{}, BCD2{}} {
		f := TPDUFramer{Inner: inner, TPDU: DefaultTPDU, Header: DefaultHeader}
		frame := frameOf(t, f, "0123456789")
		plain, err := InnerFramer(f).AppendFrame(nil, append(f.Prefix(), "0123456789"...))
		require.NoError(t, err)
		require.Equal(t, plain, frame, f.Name())
		body, err := f.ReadFrame(bytes.NewReader(append(bytes.Clone(frame), frame...)))
		require.NoError(t, err, f.Name())
		require.Equal(t, "0123456789", string(body))
	}
	big := TPDUFramer{Inner: Binary2{MaxFrame: 20}, TPDU: DefaultTPDU, Header: DefaultHeader}
	_, err := big.AppendFrame(nil, make([]byte, 10))
	require.ErrorIs(t, err, ErrFrameTooLarge, "11 + 10 bytes exceed a maximum of 20")
	_, err = big.AppendFrame(nil, make([]byte, 9))
	require.NoError(t, err)
}

func TestMismatch_String(t *testing.T) {
	m := Mismatch{TPDU: []byte{0x60, 0, 4, 0, 0}, Header: DefaultHeader[:], WantTPDU: DefaultTPDU[:], WantHeader: DefaultHeader[:], Policy: MismatchReject}
	require.Equal(t, "TPDU 6000040000 header 603100310730, expected TPDU 6000030000 header 603100310730", m.String())
}

// The cup profile's framing is the TPDU framing with the documented
// defaults; a codec built on it writes them.
func TestCUP_FramerDefaults(t *testing.T) {
	f, ok := CUP.Framer().(TPDUFramer)
	require.True(t, ok)
	require.Equal(t, DefaultTPDU, f.TPDU)
	require.Equal(t, DefaultHeader, f.Header)
	require.Equal(t, "", f.Policy, "discard by default")
	require.True(t, CUP.Capabilities().TPDU)
	_, plain := ISO87.Framer().(Binary2)
	require.True(t, plain)
}
