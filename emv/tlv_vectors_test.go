package emv

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// BER-TLV decoding known answers published with pyemv
// (knovichikhin/pyemv, tests/test_tlv.py, test_decode_tag): one-, two- and
// three-byte tags, empty values, and the 81 and 82 length forms.
func TestParse_PublishedVectors(t *testing.T) {
	for _, tc := range []struct {
		in    string
		tag   uint32
		value string
	}{
		{"9C00", 0x9C, ""},
		{"9C01FF", 0x9C, "FF"},
		{"9C8101FF", 0x9C, "FF"},
		{"9F0200", 0x9F02, ""},
		{"9F0201FF", 0x9F02, "FF"},
		{"9F820100", 0x9F8201, ""},
		{"9F820101FF", 0x9F8201, "FF"},
		{"9C8100", 0x9C, ""},
		{"9C820000", 0x9C, ""},
		{"9C820001FF", 0x9C, "FF"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			l, err := Parse(unhex(t, tc.in))
			require.NoError(t, err)
			require.Len(t, l, 1)
			require.Equal(t, tc.tag, l[0].Tag)
			require.Equal(t, tc.value, upper(l[0].Value))
		})
	}
}

// BER-TLV encoding known answers published with pyemv
// (knovichikhin/pyemv, tests/test_tlv.py, test_encode): the shortest
// length form, multi-byte tags, and a constructed object (E0) whose value
// is its children's encoding.
func TestBytes_PublishedVectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    List
		want string
	}{
		{"an empty list", List{}, ""},
		{"an empty value", List{{Tag: 0x9C, Value: []byte{}}}, "9C00"},
		{"a one-byte value", List{{Tag: 0x9C, Value: []byte{0xFF}}}, "9C01FF"},
		{"a two-byte tag", List{{Tag: 0x9F00, Value: []byte{0xFF}}}, "9F0001FF"},
		{"a three-byte tag", List{{Tag: 0x9F8001, Value: []byte{0xFF}}}, "9F800101FF"},
		{"128 bytes: the 81 form", List{{Tag: 0x9C, Value: bytes.Repeat([]byte{0xFF}, 128)}}, "9C8180" + strings.Repeat("FF", 128)},
		{"511 bytes: the 82 form", List{{Tag: 0x9C, Value: bytes.Repeat([]byte{0xFF}, 511)}}, "9C8201FF" + strings.Repeat("FF", 511)},
		{"a constructed object", List{{Tag: 0xE0, Value: List{{Tag: 0x9F00, Value: []byte{0xFF}}}.Bytes()}, {Tag: 0x9C, Value: []byte{0xFF}}}, "E0049F0001FF9C01FF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, upper(tc.l.Bytes()))
			back, err := Parse(tc.l.Bytes())
			require.NoError(t, err)
			require.Len(t, back, len(tc.l))
		})
	}
	t.Run("127 bytes: still the one-byte form", func(t *testing.T) {
		b := List{{Tag: 0x9C, Value: make([]byte, 127)}}.Bytes()
		require.Equal(t, []byte{0x9C, 0x7F}, b[:2])
	})
	t.Run("255 bytes: the last of the 81 form", func(t *testing.T) {
		b := List{{Tag: 0x9C, Value: make([]byte, 255)}}.Bytes()
		require.Equal(t, []byte{0x9C, 0x81, 0xFF}, b[:3])
		b = List{{Tag: 0x9C, Value: make([]byte, 256)}}.Bytes()
		require.Equal(t, []byte{0x9C, 0x82, 0x01, 0x00}, b[:4])
	})
}

// Malformed input is refused with ErrTLV, never a panic: pyemv's
// malformed cases (knovichikhin/pyemv, tests/test_tlv.py,
// test_decode_exception), then the forms posim does not read.
func TestParse_RefusesMalformed(t *testing.T) {
	for _, tc := range []struct{ name, in, msg string }{
		{"a tag cut short", "9F", "runs past the end"},
		{"a tag whose next byte says more follows", "9FF0", "runs past the end"},
		{"a tag without a length", "9C", "has no length"},
		{"an 81 length without its byte", "9C81", "length form"},
		{"an 82 length with one byte", "9C8200", "length form"},
		{"a value cut short", "9C01", "announces 1 bytes, 0 remain"},
		{"a two-byte value with one byte", "9C0200", "announces 2 bytes, 1 remain"},
		{"a constructed value cut short", "E001", "announces 1 bytes"},
		{"a second object without a length", "9C01FFAA", "tag AA at offset 3 has no length"},
		{"the indefinite length", "9C80", "length form posim does not read (80)"},
		{"the 83 length form", "9C83000001FF", "length form posim does not read (83)"},
		{"a four-byte tag", "DF81810101FF", "longer than three bytes"},
		{"a five-byte tag", "DF81818101FF", "longer than three bytes"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			_, err := Parse(unhex(t, tc.in))
			require.ErrorIs(t, err, ErrTLV)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestList_GetSet(t *testing.T) {
	l, err := Parse(unhex(t, "9F02020001"+"9F02020002"+"9C0100"))
	require.NoError(t, err)
	v, ok := l.Get(0x9F02)
	require.True(t, ok)
	require.Equal(t, "0001", upper(v), "the first of two")
	_, ok = l.Get(0x9F03)
	require.False(t, ok)

	l = l.Set(0x9F02, []byte{0x99})
	require.Equal(t, "9F020199"+"9F02020002"+"9C0100", upper(l.Bytes()), "Set replaces the first in place")
	l = l.Set(0x5F2A, []byte{0x01, 0x56})
	require.Equal(t, "9F020199"+"9F02020002"+"9C0100"+"5F2A020156", upper(l.Bytes()), "and appends a new tag")
}

func TestParse_CopiesValues(t *testing.T) {
	data := unhex(t, "9F0202ABCD")
	l, err := Parse(data)
	require.NoError(t, err)
	data[3] = 0x00
	require.Equal(t, "ABCD", upper(l[0].Value), "the list does not share the input's bytes")
}

// Whatever Parse reads, it writes back to bytes that read as the same
// list: no tag or length it accepts is one Bytes cannot write.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"9F2608852251D267A1271C9F360200549F10130701",
		"9C8101FF", "9F820101FF", "DF81810101FF", "00FF9F0201FF", "E0039C01FF", "9C820001FF",
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data)
		if err != nil {
			return
		}
		back, err := Parse(l.Bytes())
		if err != nil {
			t.Fatalf("%X read, then written as %X which does not read: %v", data, l.Bytes(), err)
		}
		if len(back) != len(l) {
			t.Fatalf("%X: %d objects, %d after writing", data, len(l), len(back))
		}
		for i := range l {
			if back[i].Tag != l[i].Tag || !bytes.Equal(back[i].Value, l[i].Value) {
				t.Fatalf("%X: object %d was %X=%X, written and read %X=%X", data, i, l[i].Tag, l[i].Value, back[i].Tag, back[i].Value)
			}
		}
	})
}
