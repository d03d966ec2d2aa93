package wire

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The length header each framing writes for an 11-byte body.
func TestFramers_HeaderBytes(t *testing.T) {
	for _, c := range []struct {
		f      Framer
		name   string
		header []byte
	}{
		{Binary2{}, FramingBinary2, []byte{0x00, 0x0B}},
		{ASCII4{}, FramingASCII4, []byte("0011")},
		{BCD2{}, FramingBCD2, []byte{0x00, 0x11}},
	} {
		require.Equal(t, c.name, c.f.Name())
		frame, err := c.f.AppendFrame([]byte("kept"), []byte("hello world"))
		require.NoError(t, err)
		require.Equal(t, append(append([]byte("kept"), c.header...), "hello world"...), frame, "%s appends to dst", c.name)
	}
	frame, err := BCD2{}.AppendFrame(nil, make([]byte, 9999))
	require.ErrorIs(t, err, ErrFrameTooLarge, "more than DefaultMaxFrame")
	require.Nil(t, frame)
	frame, err = BCD2{MaxFrame: 9999}.AppendFrame(nil, make([]byte, 9999))
	require.NoError(t, err)
	require.Equal(t, []byte{0x99, 0x99}, frame[:2])
	frame, err = ASCII4{MaxFrame: 9999}.AppendFrame(nil, make([]byte, 1234))
	require.NoError(t, err)
	require.Equal(t, "1234", string(frame[:4]))
	frame, err = Binary2{MaxFrame: 0xFFFF}.AppendFrame(nil, make([]byte, 0x1234))
	require.NoError(t, err)
	require.Equal(t, []byte{0x12, 0x34}, frame[:2])
}

// Frames back to back are read one at a time, each read taking exactly
// its frame; the end of the stream between frames is io.EOF itself (the
// proxy compares with ==), inside a frame io.ErrUnexpectedEOF.
func TestFramers_StreamsAndEnds(t *testing.T) {
	for _, f := range []Framer{Binary2{}, ASCII4{}, BCD2{}} {
		t.Run(f.Name(), func(t *testing.T) {
			var stream []byte
			for _, body := range []string{"first", "", "third one"} {
				var err error
				stream, err = f.AppendFrame(stream, []byte(body))
				require.NoError(t, err)
			}
			r := bytes.NewReader(stream)
			for _, want := range []string{"first", "", "third one"} {
				body, err := f.ReadFrame(r)
				require.NoError(t, err)
				require.NotNil(t, body, "a keep-alive is an empty body, not nil")
				require.Equal(t, want, string(body))
			}
			_, err := f.ReadFrame(r)
			require.True(t, err == io.EOF, "a clean end is io.EOF itself, got %v", err)

			whole := frameOf(t, f, "hello")
			hl := len(whole) - 5
			_, err = f.ReadFrame(bytes.NewReader(whole[:1]))
			require.ErrorIs(t, err, io.ErrUnexpectedEOF, "a header cut short")
			_, err = f.ReadFrame(bytes.NewReader(whole[:hl+2]))
			require.ErrorIs(t, err, io.ErrUnexpectedEOF, "a body cut short")
			require.ErrorContains(t, err, "reading 5-byte frame body")
		})
	}
}

// A header that announces more than the maximum is refused before any of
// the body is read: the connection must close (ErrFrameTooLarge).
func TestFramers_OversizedFrames(t *testing.T) {
	for _, c := range []struct {
		f        Framer
		at, over []byte // headers announcing 8192 and 8193 bytes
	}{
		{Binary2{}, []byte{0x20, 0x00}, []byte{0x20, 0x01}},
		{ASCII4{}, []byte("8192"), []byte("8193")},
		{BCD2{}, []byte{0x81, 0x92}, []byte{0x81, 0x93}},
	} {
		body := bytes.Repeat([]byte{'x'}, 8193)
		got, err := c.f.ReadFrame(bytes.NewReader(append(bytes.Clone(c.at), body...)))
		require.NoError(t, err, "%s: DefaultMaxFrame itself is allowed", c.f.Name())
		require.Len(t, got, DefaultMaxFrame)
		_, err = c.f.ReadFrame(bytes.NewReader(append(bytes.Clone(c.over), body...)))
		require.ErrorIs(t, err, ErrFrameTooLarge, c.f.Name())
		require.ErrorContains(t, err, "announces 8193 bytes, maximum is 8192", c.f.Name())
		_, err = c.f.AppendFrame(nil, body)
		require.ErrorIs(t, err, ErrFrameTooLarge, "%s: what it would not read, it does not write", c.f.Name())
	}
	for _, c := range []struct{ small, big Framer }{
		{Binary2{MaxFrame: 4}, Binary2{}}, {ASCII4{MaxFrame: 4}, ASCII4{}}, {BCD2{MaxFrame: 4}, BCD2{}},
	} {
		_, err := c.small.ReadFrame(bytes.NewReader(frameOf(t, c.small, "four")))
		require.NoError(t, err, "%s: MaxFrame itself is allowed", c.small.Name())
		_, err = c.small.AppendFrame(nil, []byte("five!"))
		require.ErrorIs(t, err, ErrFrameTooLarge, c.small.Name())
		_, err = c.small.ReadFrame(bytes.NewReader(frameOf(t, c.big, "five!")))
		require.ErrorIs(t, err, ErrFrameTooLarge, c.small.Name())
		require.ErrorContains(t, err, "announces 5 bytes, maximum is 4", c.small.Name())
	}
	_, err := Binary2{MaxFrame: 1 << 20}.AppendFrame(nil, make([]byte, 0x10000))
	require.ErrorIs(t, err, ErrFrameTooLarge, "two bytes count 65535 at most")
	_, err = ASCII4{MaxFrame: 1 << 20}.AppendFrame(nil, make([]byte, 10000))
	require.ErrorIs(t, err, ErrFrameTooLarge, "four digits count 9999 at most")
	_, err = BCD2{MaxFrame: 1 << 20}.AppendFrame(nil, make([]byte, 10000))
	require.ErrorIs(t, err, ErrFrameTooLarge, "four BCD digits count 9999 at most")
}

// A header that is not the framing's (letters for ASCII digits, a sign, a
// nibble above 9) cannot be resynchronised after: ErrFrameTooLarge, so
// that the connection closes.
func TestFramers_GarbageHeaders(t *testing.T) {
	for _, hdr := range []string{"00x1", "+012", "-012", " 012", "0x12", "\x00\x00\x00\x05"} {
		_, err := ASCII4{}.ReadFrame(strings.NewReader(hdr + "0123456789abcdef"))
		require.ErrorIs(t, err, ErrFrameTooLarge, "%q", hdr)
		require.ErrorContains(t, err, "is not 4 digits", "%q", hdr)
	}
	for _, hdr := range [][]byte{{0x0A, 0x00}, {0x00, 0x1F}, {0xF0, 0x00}, {0xFF, 0xFF}} {
		_, err := BCD2{}.ReadFrame(bytes.NewReader(append(hdr, make([]byte, 32)...)))
		require.ErrorIs(t, err, ErrFrameTooLarge, "%X", hdr)
		require.ErrorContains(t, err, "is not BCD", "%X", hdr)
	}
}

func TestFraming_ByName(t *testing.T) {
	for name, want := range map[string]Framer{"": Binary2{}, FramingBinary2: Binary2{}, FramingASCII4: ASCII4{}, FramingBCD2: BCD2{}} {
		f, err := Framing(name, "", "")
		require.NoError(t, err, name)
		require.Equal(t, want, f, name)
	}
	for _, name := range []string{"morse", "Binary2", "ascii", "tpdu"} {
		_, err := Framing(name, "", "")
		require.ErrorContains(t, err, "want binary2, ascii4 or bcd2", name)
	}

	f, err := Framing(FramingASCII4, "", "603100310700")
	require.NoError(t, err)
	tf, ok := f.(TPDUFramer)
	require.True(t, ok, "a header alone brings the TPDU framing")
	require.Equal(t, DefaultTPDU, tf.TPDU, "with the default TPDU")
	require.Equal(t, [6]byte{0x60, 0x31, 0x00, 0x31, 0x07, 0x00}, tf.Header)
	require.Equal(t, "ascii4+tpdu", f.Name())

	f, err = Framing("", "6000050000", "")
	require.NoError(t, err)
	require.Equal(t, DefaultHeader, f.(TPDUFramer).Header, "a TPDU alone keeps the default header")
	require.Equal(t, [5]byte{0x60, 0, 5, 0, 0}, f.(TPDUFramer).TPDU)

	_, err = Framing("", "5000050000", "")
	require.ErrorContains(t, err, "must start with 60")
	_, err = Framing("", "", "6031")
	require.ErrorContains(t, err, "header")
}
