package wire

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/specs"
	"github.com/moov-io/iso8583/utils"
)

// Framing names for user-supplied specs.
const (
	FramingBinary2 = "binary2" // 2-byte binary length
	FramingASCII4  = "ascii4"  // 4 ASCII digits
	FramingBCD2    = "bcd2"    // 2-byte BCD length (up to 9999)
)

// ASCII4 frames with a 4-digit ASCII length header.
type ASCII4 struct{ MaxFrame int }

// Name returns "ascii4".
func (ASCII4) Name() string { return FramingASCII4 }

// ReadFrame reads a 4-digit length and the body.
func (f ASCII4) ReadFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	if !allDigits(string(hdr[:])) { // not a sign or a blank either
		return nil, fmt.Errorf("%w: length header %q is not 4 digits", ErrFrameTooLarge, hdr[:])
	}
	n, _ := strconv.Atoi(string(hdr[:]))
	return readBody(r, n, f.MaxFrame)
}

// AppendFrame appends the 4-digit length and the body.
func (f ASCII4) AppendFrame(dst, body []byte) ([]byte, error) {
	if err := checkBody(len(body), f.MaxFrame); err != nil {
		return nil, err
	}
	return append(append(dst, fmt.Sprintf("%04d", len(body))...), body...), nil
}

// BCD2 frames with a 2-byte BCD length header.
type BCD2 struct{ MaxFrame int }

// Name returns "bcd2".
func (BCD2) Name() string { return FramingBCD2 }

// ReadFrame reads a 2-byte BCD length and the body.
func (f BCD2) ReadFrame(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(fmt.Sprintf("%02x%02x", hdr[0], hdr[1]))
	if err != nil {
		return nil, fmt.Errorf("%w: length header %X is not BCD", ErrFrameTooLarge, hdr[:])
	}
	return readBody(r, n, f.MaxFrame)
}

// AppendFrame appends the BCD length and the body.
func (f BCD2) AppendFrame(dst, body []byte) ([]byte, error) {
	if err := checkBody(len(body), f.MaxFrame); err != nil {
		return nil, err
	}
	s := fmt.Sprintf("%04d", len(body))
	hi, _ := strconv.ParseUint(s[:2], 16, 8)
	lo, _ := strconv.ParseUint(s[2:], 16, 8)
	return append(append(dst, byte(hi), byte(lo)), body...), nil
}

// checkBody refuses to write a body that the 4-digit header cannot count,
// or that a reader of the same framing would refuse.
func checkBody(n, max int) error {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	if n > 9999 || n > max {
		return fmt.Errorf("%w: body is %d bytes, maximum is %d", ErrFrameTooLarge, n, min(max, 9999))
	}
	return nil
}

func readBody(r io.Reader, n, max int) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	if n > max {
		return nil, fmt.Errorf("%w: header announces %d bytes, maximum is %d", ErrFrameTooLarge, n, max)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("reading %d-byte frame body: %w", n, err)
	}
	return body, nil
}

// Framing returns a length framing by name, optionally wrapped in the CUP
// TPDU and header (hex; both empty for none).
func Framing(name, tpdu, header string) (Framer, error) {
	var f Framer
	switch name {
	case FramingBinary2, "":
		f = Binary2{}
	case FramingASCII4:
		f = ASCII4{}
	case FramingBCD2:
		f = BCD2{}
	default:
		return nil, fmt.Errorf("framing %q: want binary2, ascii4 or bcd2", name)
	}
	if tpdu == "" && header == "" {
		return f, nil
	}
	return NewTPDUFramer(f, tpdu, header, "")
}

// custom is a user-supplied spec with the ISO 8583:1987 field assignments.
type custom struct {
	iso87
	name   string
	spec   *iso8583.MessageSpec
	framer Framer
}

func (c custom) Name() string               { return CustomName }
func (c custom) String() string             { return "custom (" + c.name + ")" }
func (c custom) Spec() *iso8583.MessageSpec { return c.spec }
func (c custom) Framer() Framer             { return c.framer }

// Capabilities are iso87's, with TPDU framing when the framing has one.
func (c custom) Capabilities() Capabilities {
	caps := c.iso87.Capabilities()
	_, caps.TPDU = c.framer.(TPDUFramer)
	return caps
}
func (c custom) Encode(t *Txn) (*iso8583.Message, error) { return encode87(c.spec, t) }

// fieldsPosimNeeds are the data elements the iso87 mapping cannot do without.
var fieldsPosimNeeds = map[int]string{0: "MTI", 1: "bitmap", 3: "processing code", 4: "amount", 11: "STAN", 39: "response code", 41: "terminal id"}

// CustomProfile loads a user-supplied field spec (moov-io/iso8583 JSON
// format) that uses the ISO 8583:1987 field assignments, with a framing.
// A spec that contradicts itself is refused with a message naming the field.
func CustomProfile(name string, specJSON []byte, framer Framer) (Profile, error) {
	spec, err := specs.ImportJSON(specJSON)
	if err != nil {
		// the user's own file: show the whole reason, which moov hides
		var se *utils.SafeError
		if errors.As(err, &se) && se.Err != nil {
			err = fmt.Errorf("%s: %w", se.Msg, se.Err)
		}
		return nil, fmt.Errorf("spec %s: %w", name, err)
	}
	if err := checkSpec(spec); err != nil {
		return nil, fmt.Errorf("spec %s: %w", name, err)
	}
	return custom{name: name, spec: spec, framer: framer}, nil
}

func checkSpec(spec *iso8583.MessageSpec) error {
	ids := make([]int, 0, len(spec.Fields))
	for id := range spec.Fields {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		f := spec.Fields[id]
		s := f.Spec()
		_, isBitmap := f.(*field.Bitmap)
		where := fmt.Sprintf("DE%d (%s)", id, s.Description)
		switch {
		case id == 1 && !isBitmap:
			return fmt.Errorf("%s: field 1 must be the bitmap", where)
		case id != 1 && isBitmap:
			return fmt.Errorf("%s: a bitmap is only allowed as field 1", where)
		case id > 64 && isBitmap:
			return fmt.Errorf("%s: bitmap out of place", where)
		case s.Length <= 0:
			return fmt.Errorf("%s: length must be positive", where)
		case id == 0 && s.Length != 4:
			return fmt.Errorf("%s: the MTI has 4 digits, not %d", where, s.Length)
		}
		if s.Pref == nil || s.Enc == nil {
			return fmt.Errorf("%s: prefix and encoding are required", where)
		}
		pref := s.Pref.Inspect()
		family, kind, _ := strings.Cut(pref, ".")
		if ls := strings.Count(kind, "L"); ls > 0 && kind == strings.Repeat("L", ls) {
			// each L is a decimal digit (ASCII, BCD, EBCDIC), or a byte
			// (Binary; Hex: a byte as two hex characters)
			base := 10
			if family == "Binary" || family == "Hex" {
				base = 256
			}
			max := 1
			for i := 0; i < ls && max <= s.Length; i++ {
				max *= base
			}
			if s.Length >= max {
				return fmt.Errorf("%s: maximum length %d does not fit a %s prefix (at most %d)", where, s.Length, pref, max-1)
			}
		}
	}
	for id, what := range fieldsPosimNeeds {
		if _, ok := spec.Fields[id]; !ok {
			return fmt.Errorf("DE%d (%s) is missing: posim needs it", id, what)
		}
	}
	return nil
}
