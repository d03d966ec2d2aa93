package wire

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/padding"
)

// CompiledSpec is a message spec compiled for the hot paths: it reads a frame
// body by slicing each field out of it, and writes one by appending each
// field to a buffer, with none of the per-field objects a moov message
// builds. moov's spec stays the source of every field's layout (what is
// compiled is read from it), and moov stays the codec wherever a whole
// message object is wanted: dumps, recordings, the proxy, --spec files. A
// differential fuzz test (FuzzCompiledMatchesMoov) holds the two to the same
// bytes, accepted and refused.
type CompiledSpec struct {
	mti    compiledField
	bitmap bitmapKind
	fields [compiledMax + 1]*compiledField
}

const compiledMax = 192 // three bitmaps

type bitmapKind uint8

const (
	bitmapBinary8 bitmapKind = iota // 8 bytes, never expands (cup)
	bitmapHex                       // 16 hex characters per bitmap, expanding on bit 1 (iso87)
	bitmapBinary                    // 8 bytes per bitmap, expanding on bit 1
)

type encKind uint8

const (
	encASCII encKind = iota
	encBinary
	encBCD // moov's right-aligned BCD, decoded by moov
	encLeftBCD
	encTrack
)

type prefKind uint8

const (
	prefFixed prefKind = iota
	prefASCII
	prefBCD
)

type padKind uint8

const (
	padNone padKind = iota
	padRight
	padLeft // leading fill, kept when read (zeroFill)
)

type compiledField struct {
	id      int
	length  int
	enc     encKind
	encoder encoding.Encoder
	pref    prefKind
	digits  int // of a variable length prefix
	pad     padKind
	padChar byte
	unpad   bool
}

var (
	compiledMu    sync.Mutex
	compiledCache = map[*iso8583.MessageSpec]*CompiledSpec{}
)

// CompileSpec returns the compiled form of spec, or an error naming the first
// field whose type, encoding, prefix or padding it does not compile (then
// use moov). Compiled specs are kept: compile once, use anywhere.
func CompileSpec(spec *iso8583.MessageSpec) (*CompiledSpec, error) {
	compiledMu.Lock()
	defer compiledMu.Unlock()
	if c, ok := compiledCache[spec]; ok {
		return c, nil
	}
	c, err := compile(spec)
	if err != nil {
		return nil, err
	}
	compiledCache[spec] = c
	return c, nil
}

// mustCompile compiles a built-in spec; failing is a programming error caught
// at start-up.
func mustCompile(spec *iso8583.MessageSpec) *CompiledSpec {
	c, err := CompileSpec(spec)
	if err != nil {
		panic("wire: compiling " + spec.Name + ": " + err.Error())
	}
	return c
}

func compile(spec *iso8583.MessageSpec) (*CompiledSpec, error) {
	c := &CompiledSpec{}
	for id, f := range spec.Fields {
		if id < 0 || id > compiledMax {
			return nil, fmt.Errorf("field %d: out of range", id)
		}
		s := f.Spec()
		if id == 1 {
			if _, ok := f.(*field.Bitmap); !ok || s.Length != 8 {
				return nil, errors.New("field 1: not an 8-byte bitmap")
			}
			switch p := s.Pref.Inspect(); {
			case s.Enc == encoding.BytesToASCIIHex && p == "Hex.Fixed" && !s.DisableAutoExpand:
				c.bitmap = bitmapHex
			case s.Enc == encoding.Binary && p == "Binary.Fixed" && s.DisableAutoExpand:
				c.bitmap = bitmapBinary8
			case s.Enc == encoding.Binary && p == "Binary.Fixed":
				c.bitmap = bitmapBinary
			default:
				return nil, fmt.Errorf("field 1: bitmap %T %s not compiled", s.Enc, p)
			}
			continue
		}
		ff, err := compileField(id, f)
		if err != nil {
			return nil, err
		}
		if id == 0 {
			c.mti = *ff
		} else {
			c.fields[id] = ff
		}
	}
	if spec.Fields[0] == nil || spec.Fields[1] == nil {
		return nil, errors.New("spec without MTI or bitmap")
	}
	return c, nil
}

func compileField(id int, f field.Field) (*compiledField, error) {
	if _, ok := f.(*field.String); !ok {
		return nil, fmt.Errorf("field %d: %T not compiled (only strings)", id, f)
	}
	s := f.Spec()
	if s.Packer != nil || s.Unpacker != nil {
		return nil, fmt.Errorf("field %d: custom packer not compiled", id)
	}
	ff := &compiledField{id: id, length: s.Length, encoder: s.Enc}
	switch s.Enc {
	case encoding.ASCII:
		ff.enc = encASCII
	case encoding.Binary:
		ff.enc = encBinary
	case encoding.BCD:
		ff.enc = encBCD
	case LeftBCD:
		ff.enc = encLeftBCD
	case Track:
		ff.enc = encTrack
	default:
		return nil, fmt.Errorf("field %d: encoding %T not compiled", id, s.Enc)
	}
	p := s.Pref.Inspect()
	kind, ls, _ := strings.Cut(p, ".")
	switch {
	case ls == "Fixed" && (kind == "ASCII" || kind == "BCD" || kind == "Binary"):
		ff.pref = prefFixed
	case strings.Trim(ls, "L") == "" && len(ls) <= 4 && kind == "ASCII":
		ff.pref, ff.digits = prefASCII, len(ls)
	case strings.Trim(ls, "L") == "" && len(ls) <= 4 && kind == "BCD":
		ff.pref, ff.digits = prefBCD, len(ls)
	default:
		return nil, fmt.Errorf("field %d: prefix %s not compiled", id, p)
	}
	switch pd := s.Pad.(type) {
	case nil:
	case spaceFill:
		ff.pad, ff.padChar, ff.unpad = padRight, ' ', true
	case zeroFill:
		ff.pad, ff.padChar = padLeft, '0'
	default:
		if b := pd.Inspect(); len(b) == 1 && fmt.Sprintf("%T", pd) == fmt.Sprintf("%T", padding.Right(' ')) {
			ff.pad, ff.padChar, ff.unpad = padRight, b[0], true
			break
		}
		return nil, fmt.Errorf("field %d: padding %T not compiled", id, s.Pad)
	}
	if ff.pad != padNone && ff.pref != prefFixed {
		return nil, fmt.Errorf("field %d: padding of a variable field not compiled", id)
	}
	return ff, nil
}

// span is where one field's value is in a body: its encoded bytes and its
// length in characters.
type span struct{ off, n, length int32 }

// Fields is a message read by a CompiledSpec: its body and where each field
// is. It reads values on demand and is reused from message to message
// (Unpack resets it). GetMTI and GetString make it a field source for a
// profile's DecodeFields, as a moov message is.
type Fields struct {
	spec    *CompiledSpec
	body    []byte
	mti     span
	present [3]uint64
	end     int // bytes the message took
	pos     [compiledMax + 1]span
	// last: each field's last value read, given again without a new
	// string when the next message carries the same (a terminal's TID,
	// MID, MTI, processing code, currency ... repeat from message to
	// message): fewer allocations a message
	last [compiledMax + 1]string
}

// Has reports whether field id is present (a bitmap's presence bit is
// not a field).
func (f *Fields) Has(id int) bool { return isSet(&f.present, id) }

// isSet reports whether bitmaps hold field id (a bitmap's presence bit is
// not a field).
func isSet(maps *[3]uint64, id int) bool {
	return id >= 2 && id <= compiledMax && (id-1)%64 != 0 && maps[(id-1)/64]&bit(id) != 0
}

// bit is field id's bit in its bitmap word.
func bit(id int) uint64 { return 1 << (63 - uint((id-1)%64)) }

// Raw returns field id's value bytes as they are in the body (encoded,
// without the length prefix), nil when absent.
func (f *Fields) Raw(id int) []byte {
	if !f.Has(id) {
		return nil
	}
	s := f.pos[id]
	return f.body[s.off : s.off+s.n]
}

// GetMTI returns the message type.
func (f *Fields) GetMTI() (string, error) {
	v, err := f.spec.mti.decode(f.body[f.mti.off:f.mti.off+f.mti.n], int(f.mti.length))
	if err != nil {
		return "", err
	}
	if string(v) != f.last[0] {
		f.last[0] = string(v)
	}
	return f.last[0], nil
}

// GetString returns field id's value as a moov message's GetString does
// ("" when absent).
func (f *Fields) GetString(id int) (string, error) {
	if !f.Has(id) || id == 1 {
		return "", nil
	}
	s := f.pos[id]
	v, err := f.spec.fields[id].decode(f.body[s.off:s.off+s.n], int(s.length))
	if err != nil {
		return "", err
	}
	if string(v) != f.last[id] {
		f.last[id] = string(v)
	}
	return f.last[id], nil
}

// Unpack reads body into f: MTI, bitmaps and where each field is, checking
// every field as moov's Unpack does. body must not change while f is used.
func (c *CompiledSpec) Unpack(body []byte, f *Fields) error {
	f.spec, f.body, f.present = c, body, [3]uint64{}
	off, err := c.mti.scan(body, 0, &f.mti)
	if err != nil {
		return fmt.Errorf("failed to unpack MTI: %w", err)
	}
	if _, err := c.mti.decode(body[f.mti.off:f.mti.off+f.mti.n], int(f.mti.length)); err != nil {
		return fmt.Errorf("failed to unpack MTI: %w", err)
	}
	nmaps := 0
	for {
		var word uint64
		switch c.bitmap {
		case bitmapHex:
			if len(body)-off < 16 {
				return errors.New("failed to unpack bitmap: not enough data to read")
			}
			for _, h := range body[off : off+16] {
				n, ok := unhex(h)
				if !ok {
					return errors.New("failed to unpack bitmap: invalid hex")
				}
				word = word<<4 | uint64(n)
			}
			off += 16
		default:
			if len(body)-off < 8 {
				return errors.New("failed to unpack bitmap: not enough data to read")
			}
			for _, b := range body[off : off+8] {
				word = word<<8 | uint64(b)
			}
			off += 8
		}
		f.present[nmaps] = word
		nmaps++
		if c.bitmap == bitmapBinary8 || word>>63 == 0 {
			break
		}
		if nmaps == len(f.present) {
			return errors.New("failed to unpack bitmap: more than three bitmaps")
		}
	}
	for id := 2; id <= 64*nmaps; id++ {
		if (id-1)%64 == 0 || !f.Has(id) {
			continue // a bitmap's presence bit
		}
		ff := c.fields[id]
		if ff == nil {
			return fmt.Errorf("creating field %d: no specification found", id)
		}
		if off, err = ff.scan(body, off, &f.pos[id]); err == nil {
			s := f.pos[id]
			_, err = ff.decode(body[s.off:s.off+s.n], int(s.length))
		}
		if err != nil {
			return fmt.Errorf("failed to unpack field %d: %w", id, err)
		}
	}
	f.end = off
	return nil
}

// Len is how many bytes of the body the message took: fewer than the
// body's length when bytes follow its last field.
func (f *Fields) Len() int { return f.end }

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// scan finds the field at off: its length prefix and encoded value.
func (ff *compiledField) scan(body []byte, off int, s *span) (int, error) {
	length := ff.length
	switch ff.pref {
	case prefASCII:
		if len(body)-off < ff.digits {
			return 0, fmt.Errorf("not enough data to read %d length digits", ff.digits)
		}
		n, err := strconv.Atoi(string(body[off : off+ff.digits]))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid length prefix")
		}
		length, off = n, off+ff.digits
	case prefBCD:
		nb := (ff.digits + 1) / 2
		if len(body)-off < nb {
			return 0, fmt.Errorf("not enough data to read %d length digits", ff.digits)
		}
		var buf [8]byte
		d, err := decodeBCDRight(buf[:0], body[off:off+nb], ff.digits)
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(string(d))
		if err != nil {
			return 0, err
		}
		length, off = n, off+nb
	}
	if length > ff.length {
		return 0, fmt.Errorf("data length %d is larger than maximum %d", length, ff.length)
	}
	n := length
	switch ff.enc {
	case encBCD, encLeftBCD, encTrack:
		n = (length + 1) / 2
	}
	if len(body)-off < n {
		return 0, fmt.Errorf("not enough data to decode: expected %d bytes, got %d", n, len(body)-off)
	}
	*s = span{off: int32(off), n: int32(n), length: int32(length)}
	return off + n, nil
}

// decode returns the value of a field's encoded bytes, unpadded.
func (ff *compiledField) decode(raw []byte, length int) ([]byte, error) {
	var v []byte
	switch ff.enc {
	case encASCII:
		for _, b := range raw {
			if b > 127 {
				return nil, errors.New("invalid ASCII char")
			}
		}
		v = raw
	case encBinary:
		v = raw
	case encBCD:
		var err error
		if v, err = decodeBCDRight(nil, raw, length); err != nil {
			return nil, err
		}
	default:
		var err error
		if v, _, err = ff.encoder.Decode(raw, length); err != nil {
			return nil, err
		}
	}
	if ff.unpad {
		for len(v) > 0 && v[len(v)-1] == ff.padChar {
			v = v[:len(v)-1]
		}
	}
	return v, nil
}

// Builder collects a message's fields for a CompiledSpec to pack: the setter
// a profile's EncodeTo writes to, as it would to a moov message. Reset it
// to reuse it.
type Builder struct {
	mti     string
	present [3]uint64
	vals    [compiledMax + 1]string
}

// Reset empties b.
func (b *Builder) Reset() { b.mti, b.present = "", [3]uint64{} }

// MTI sets the message type.
func (b *Builder) MTI(mti string) { b.mti = mti }

// Field sets field id to v.
func (b *Builder) Field(id int, v string) error {
	if id < 2 || id > compiledMax || (id-1)%64 == 0 {
		return fmt.Errorf("field %d cannot be set", id)
	}
	b.vals[id] = v
	b.present[(id-1)/64] |= bit(id)
	return nil
}

// Has reports whether field id is set.
func (b *Builder) Has(id int) bool { return isSet(&b.present, id) }

// Get returns field id's value ("" when unset).
func (b *Builder) Get(id int) string {
	if !b.Has(id) {
		return ""
	}
	return b.vals[id]
}

// Append packs the message b holds onto dst, as moov's Pack would write
// it, and returns the extended buffer.
func (c *CompiledSpec) Append(dst []byte, b *Builder) ([]byte, error) {
	var err error
	if dst, err = c.mti.append(dst, b.mti); err != nil {
		return nil, fmt.Errorf("failed to pack field 0 (MTI): %w", err)
	}
	maps := b.present
	n := 1
	switch {
	case maps[2] != 0:
		n = 3
	case maps[1] != 0:
		n = 2
	}
	if c.bitmap == bitmapBinary8 {
		n = 1
	}
	for i := range n - 1 {
		maps[i] |= 1 << 63
	}
	for i := range n {
		w := maps[i]
		if c.bitmap == bitmapHex {
			const hexd = "0123456789ABCDEF"
			for s := 60; s >= 0; s -= 4 {
				dst = append(dst, hexd[(w>>uint(s))&0xF])
			}
			continue
		}
		for s := 56; s >= 0; s -= 8 {
			dst = append(dst, byte(w>>uint(s)))
		}
	}
	for id := 2; id <= 64*n; id++ {
		if !b.Has(id) {
			continue
		}
		ff := c.fields[id]
		if ff == nil {
			return nil, fmt.Errorf("failed to pack field %d: no specification found", id)
		}
		if dst, err = ff.append(dst, b.vals[id]); err != nil {
			return nil, fmt.Errorf("failed to pack field %d: %w", id, err)
		}
	}
	return dst, nil
}

// append packs one value: padded, length prefix, encoded.
func (ff *compiledField) append(dst []byte, v string) ([]byte, error) {
	n := len(v)
	if ff.pad != padNone && n < ff.length {
		n = ff.length
	}
	switch ff.pref {
	case prefFixed:
		if n != ff.length {
			return nil, fmt.Errorf("field length: %d should be fixed: %d", n, ff.length)
		}
	default:
		if n > ff.length {
			return nil, fmt.Errorf("field length: %d is larger than maximum: %d", n, ff.length)
		}
		width := 1
		for p := 10; n >= p; p *= 10 {
			width++
		}
		if width > ff.digits {
			return nil, fmt.Errorf("number of digits in length: %d exceeds: %d", n, ff.digits)
		}
		var digits [4]byte
		for i, x := ff.digits-1, n; i >= 0; i, x = i-1, x/10 {
			digits[i] = byte('0' + x%10)
		}
		if ff.pref == prefASCII {
			dst = append(dst, digits[:ff.digits]...)
		} else {
			dst = appendBCDRight(dst, digits[:ff.digits])
		}
	}
	var padded [64]byte
	val := v
	if n > len(v) {
		if n > len(padded) {
			return nil, fmt.Errorf("field length: %d over %d", n, len(padded))
		}
		fill := padded[:n]
		if ff.pad == padRight {
			copy(fill, v)
			for i := len(v); i < n; i++ {
				fill[i] = ff.padChar
			}
		} else {
			for i := range n - len(v) {
				fill[i] = ff.padChar
			}
			copy(fill[n-len(v):], v)
		}
		val = string(fill)
	}
	switch ff.enc {
	case encASCII:
		for i := 0; i < len(val); i++ {
			if val[i] > 127 {
				return nil, errors.New("invalid ASCII char")
			}
		}
		return append(dst, val...), nil
	case encBinary:
		return append(dst, val...), nil
	case encBCD:
		for i := 0; i < len(val); i++ {
			if val[i] < '0' || val[i] > '9' {
				return nil, errors.New("failed to perform BCD encoding")
			}
		}
		return appendBCDRight(dst, []byte(val)), nil
	case encLeftBCD:
		start := len(dst)
		for i := 0; i < len(val); i++ {
			c := val[i]
			if c < '0' || c > '9' {
				return nil, fmt.Errorf("BCD: %q is not a digit", c)
			}
			if i%2 == 0 {
				dst = append(dst, (c-'0')<<4)
			} else {
				dst[start+i/2] |= c - '0'
			}
		}
		return dst, nil
	default: // encTrack
		start := len(dst)
		for i := 0; i < len(val); i++ {
			nb, ok := trackNibble(val[i])
			if !ok {
				return nil, fmt.Errorf("track data: %q is neither a digit nor the separator '='", val[i])
			}
			if i%2 == 0 {
				dst = append(dst, nb<<4)
			} else {
				dst[start+i/2] |= nb
			}
		}
		return dst, nil
	}
}

// Answer turns the MTI at the start of body into its response's in place
// (0200 → 0210): what a bare echo server does to a request. It reports
// false when the MTI is not a request's.
func (c *CompiledSpec) Answer(body []byte) bool {
	switch {
	case c.mti.enc == encASCII && len(body) >= 4 && body[2] >= '0' && body[2] <= '8' && body[2]%2 == 0:
		body[2]++
	case c.mti.enc == encBCD && len(body) >= 2 && body[1]>>4 <= 8 && (body[1]>>4)%2 == 0:
		body[1] += 0x10
	default:
		return false
	}
	return true
}

// decodeBCDRight reads length digits of right-aligned BCD from src (all
// of it: (length+1)/2 bytes), appended to dst, exactly as moov's BCD
// encoding reads them (github.com/yerden/go-util/bcd, Standard): every
// byte two digits, except that the last may end with the filler nibble F
// (one digit, and a NUL where the second would be), and a leading digit
// of an odd length is dropped. moov builds its decoder's tables at each
// call; this builds none.
func decodeBCDRight(dst, src []byte, length int) ([]byte, error) {
	if length < 0 {
		return nil, fmt.Errorf("length should be positive, got %d", length)
	}
	even := length + length%2
	if len(src) < even/2 {
		return nil, fmt.Errorf("not enough data to decode. expected len %d, got %d", even/2, len(src))
	}
	start := len(dst)
	for i, b := range src[:even/2] {
		hi, lo := b>>4, b&0x0F
		switch {
		case hi <= 9 && lo <= 9:
			dst = append(dst, '0'+hi, '0'+lo)
		case hi <= 9 && lo == 0xF && i == even/2-1:
			dst = append(dst, '0'+hi, 0)
		default:
			return nil, errors.New("failed to perform BCD decoding")
		}
	}
	return dst[start+even-length:], nil
}

// appendBCDRight packs digits right-aligned (a leading 0 nibble pads an
// odd count), as moov's BCD encoding does.
func appendBCDRight(dst, digits []byte) []byte {
	i := 0
	if len(digits)%2 == 1 {
		dst = append(dst, digits[0]-'0')
		i = 1
	}
	for ; i < len(digits); i += 2 {
		dst = append(dst, (digits[i]-'0')<<4|(digits[i+1]-'0'))
	}
	return dst
}
