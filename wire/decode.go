package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/moov-io/iso8583"
	iso8583errors "github.com/moov-io/iso8583/errors"
	"github.com/posim/posim/emv"
)

// DecodedField is one field of a decoded message, ready to print: card
// data masked, track data and PIN blocks never shown.
type DecodedField struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Value string `json:"value"`
	// Tags are the data objects of chip data (DE55), tag by tag, when it
	// reads as BER-TLV.
	Tags []DecodedTag `json:"tags,omitempty"`
}

// DecodedTag is one data object of chip data: its tag in hex (9F26), its
// name and its value in hex (card data masked, tracks and PIN data never
// shown).
type DecodedTag struct {
	Tag   string `json:"tag"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// chipTags reads chip data (raw, or as hex text) tag by tag; nil when it
// is not BER-TLV.
func chipTags(v string) []DecodedTag {
	raw := []byte(v)
	if b, err := hex.DecodeString(v); err == nil && len(v) > 0 {
		raw = b // chip data sent as hexadecimal text
	}
	l, err := emv.Parse(raw)
	if err != nil || len(l) == 0 {
		return nil
	}
	out := make([]DecodedTag, 0, len(l))
	for _, t := range l {
		val := strings.ToUpper(hex.EncodeToString(t.Value))
		switch {
		case emv.Secret(t.Tag):
			val = fmt.Sprintf("(card data, %d bytes, not shown)", len(t.Value))
		case t.Tag == 0x5A:
			val = MaskPAN(strings.TrimRight(val, "F"))
		}
		out = append(out, DecodedTag{Tag: emv.TagHex(t.Tag), Name: emv.TagName(t.Tag), Value: val})
	}
	return out
}

// Decoded is a frame read field by field.
type Decoded struct {
	Profile string         `json:"profile"`
	Framing string         `json:"framing"`
	TPDU    string         `json:"tpdu,omitempty"`
	Header  string         `json:"header,omitempty"`
	MTI     string         `json:"mti"`
	Op      Op             `json:"op,omitempty"`
	Fields  []DecodedField `json:"fields"`
}

// frameHeaderLen is how many bytes a framing's length header takes.
func frameHeaderLen(f Framer) int {
	if f.Name() == FramingASCII4 {
		return 4
	}
	return 2
}

// DecodeFrame reads data, one message with its length header (the framing's)
// and, under a dialect with TPDU framing, its TPDU and header, as a message
// of the profile. Every byte must belong to the frame.
func DecodeFrame(data []byte, p Profile, f Framer) (*Decoded, error) {
	f = InnerFramer(f)
	r := bytes.NewReader(data)
	body, err := f.ReadFrame(r)
	if err != nil {
		return nil, err
	}
	if r.Len() > 0 {
		return nil, fmt.Errorf("%d bytes follow the frame its length header announces", r.Len())
	}
	d := &Decoded{Profile: p.Name(), Framing: f.Name()}
	if p.Capabilities().TPDU {
		if len(body) < 11 {
			return nil, fmt.Errorf("%w: %d bytes", ErrShortFrame, len(body))
		}
		d.TPDU, d.Header = strings.ToUpper(hex.EncodeToString(body[:5])), strings.ToUpper(hex.EncodeToString(body[5:11]))
		body = body[11:]
	}
	m := iso8583.NewMessage(p.Spec())
	if err := m.Unpack(body); err != nil {
		return nil, err
	}
	d.MTI, _ = m.GetMTI()
	if len(d.MTI) != 4 || d.MTI[1] == '0' {
		return nil, fmt.Errorf("MTI %q is no message type (class 0): bytes before the message, such as stray bytes after the header, or another dialect's layout", d.MTI)
	}
	if n := leftOver(body, p.Spec(), m); n > 0 {
		return nil, &LeftOverError{Bytes: body[len(body)-n:]}
	}
	if t, err := p.Decode(m); err == nil {
		d.Op = t.Op
	}
	d.Fields = DumpFields(m)
	return d, nil
}

// LeftOverError: bytes follow a message's last field inside its frame (a
// field read with another length than its writer gave it, or stray bytes
// after the header).
type LeftOverError struct {
	Bytes []byte
}

func (e *LeftOverError) Error() string {
	shown := e.Bytes
	if len(shown) > 16 {
		shown = shown[:16]
	}
	more := ""
	if len(e.Bytes) > 16 {
		more = " ..."
	}
	return fmt.Sprintf("%d bytes follow the last field (%X%s): a field the sender wrote otherwise than the spec, or bytes that are not the message's", len(e.Bytes), shown, more)
}

// leftOver is how many bytes of body follow the message's last field.
func leftOver(body []byte, spec *iso8583.MessageSpec, m *iso8583.Message) int {
	if c, err := CompileSpec(spec); err == nil {
		var f Fields
		if c.Unpack(body, &f) == nil {
			return len(body) - f.Len()
		}
	}
	packed, err := m.Pack() // a spec the compiled codec does not take
	if err != nil || len(packed) >= len(body) {
		return 0
	}
	return len(body) - len(packed)
}

// DumpFields lists a message's fields in number order with their names
// and values, card data masked (see DecodedField).
func DumpFields(m *iso8583.Message) []DecodedField {
	fields := m.GetFields()
	ids := make([]int, 0, len(fields))
	for id := range fields {
		if id > 1 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]DecodedField, 0, len(ids))
	for _, id := range ids {
		v, err := fields[id].String()
		if err != nil {
			v = "(unreadable: " + err.Error() + ")"
		}
		name := ""
		if s := fields[id].Spec(); s != nil {
			name = s.Description
		}
		f := DecodedField{ID: id, Name: name, Value: shown(id, v)}
		if id == 55 {
			f.Tags = chipTags(v)
		}
		out = append(out, f)
	}
	return out
}

// SyncWriter serialises writes from many goroutines (connections,
// scenarios run in parallel) to one writer, so that dumps do not
// interleave.
type SyncWriter struct {
	mu sync.Mutex
	W  io.Writer
}

func (s *SyncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.W.Write(p)
}

// Dump writes a message field by field, like jPOS's dump: a line with the
// direction and MTI, then one per field (card data masked). Errors of w are
// ignored: a dump is a diagnostic.
func Dump(w io.Writer, direction string, m *iso8583.Message) {
	mti, _ := m.GetMTI()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", direction, mti)
	for _, f := range DumpFields(m) {
		fmt.Fprintf(&b, "   DE%-3d %-40s %s\n", f.ID, f.Name, f.Value)
		for _, t := range f.Tags {
			fmt.Fprintf(&b, "         %-6s %-38s %s\n", t.Tag, t.Name, t.Value)
		}
	}
	_, _ = io.WriteString(w, b.String())
}

// shown is what a decoded field may show of its value: PANs masked (first
// six, last four), track data and PIN blocks never, binary data in hex.
func shown(id int, v string) string {
	switch id {
	case 2:
		return MaskPAN(v)
	case 35, 36, 45:
		return fmt.Sprintf("(track data, %d characters, not shown)", len(v))
	case 52:
		return "(PIN block, not shown)"
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7E {
			return strings.ToUpper(hex.EncodeToString([]byte(v)))
		}
	}
	return v
}

// framings are the length framings a diagnosis tries.
var framings = []Framer{Binary2{}, ASCII4{}, BCD2{}}

// Diagnose says why data does not read as a frame of p with framing f, and
// what it probably is instead: a length header that disagrees with the
// bytes, another framing, a TPDU present or missing, a binary bitmap where
// hex was expected, a field that breaks its spec. It returns the causes
// found, most likely first; none when the frame reads.
func Diagnose(data []byte, p Profile, f Framer) []string {
	f = InnerFramer(f)
	_, err := DecodeFrame(data, p, f)
	if err == nil {
		return nil
	}
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	hl := frameHeaderLen(f)
	if len(data) < hl {
		return []string{fmt.Sprintf("only %d bytes: a %s length header alone takes %d", len(data), f.Name(), hl)}
	}
	announced, herr := announcedLength(data, f)
	switch {
	case herr != nil:
		add("the first %d bytes (%X) are not the length header %s framing writes: %v", hl, data[:hl], f.Name(), herr)
	case announced != len(data)-hl:
		add("the %s length header announces %d bytes, but %d follow it", f.Name(), announced, len(data)-hl)
	}
	for _, other := range framings {
		if other.Name() == f.Name() {
			continue
		}
		if n, err := announcedLength(data, other); err == nil && n == len(data)-frameHeaderLen(other) && n > 0 {
			if _, derr := DecodeFrame(data, p, other); derr == nil {
				add("it reads as %s framing: use --framing %s", other.Name(), other.Name())
			} else {
				add("its length header fits %s framing (%d bytes follow)", other.Name(), n)
			}
		}
	}
	if herr == nil && announced == len(data)-hl {
		body := data[hl:]
		tpdu := p.Capabilities().TPDU
		switch {
		case tpdu && (len(body) < 11 || body[0] != 0x60):
			add("no TPDU: a %s frame starts with a TPDU (60, destination and source NII) and a 6-byte header after its length; this one starts with %X", p.Name(), body[:min(len(body), 5)])
		case !tpdu && len(body) > 11 && body[0] == 0x60:
			if _, derr := DecodeFrame(data, CUP, f); derr == nil {
				add("it starts with a TPDU (%X) and a header: it reads as a cup frame, use --profile cup", body[:5])
			} else {
				add("it starts with 60, as a TPDU does (%X): a TPDU and header may precede the MTI", body[:5])
			}
		}
		if !tpdu && len(body) >= 20 && body[0] != 0x60 && isHex(body[:4]) && !isHex(body[4:20]) {
			add("the bitmap after the MTI %q is binary (%X), where %s expects 16 hex characters", body[:4], body[4:12], p.Name())
		}
	}
	if len(out) > 0 {
		return out // the structure explains it; a field error would follow from it
	}
	return append(out, fieldCause(err, p))
}

// DiagnoseBody says why a message body (after framing, TPDU and header)
// does not unpack as a message of p: a TPDU where the MTI should be, a
// binary bitmap where hex was expected, or the field that breaks its
// spec. Card data never appears in what it says.
func DiagnoseBody(body []byte, p Profile) []string {
	m := iso8583.NewMessage(p.Spec())
	err := m.Unpack(body)
	if err == nil {
		return nil
	}
	switch {
	case len(body) > 11 && body[0] == 0x60 && !isHex(body[:4]):
		return []string{fmt.Sprintf("it starts with 60, as a TPDU does (%X): a TPDU and header seem to precede the MTI (a cup terminal?)", body[:5])}
	case !p.Capabilities().TPDU && len(body) >= 20 && isHex(body[:4]) && !isHex(body[4:20]):
		return []string{fmt.Sprintf("the bitmap after the MTI %q is binary (%X), where %s expects 16 hex characters", body[:4], body[4:12], p.Name())}
	}
	return []string{fieldCause(err, p)}
}

// fieldCause names the field an unpack error is about, with the error's
// text unless the field holds card data.
func fieldCause(err error, p Profile) string {
	var fe *iso8583errors.UnpackError
	if !errors.As(err, &fe) {
		return err.Error()
	}
	id := fieldID(fe.FieldID)
	name := ""
	if s, ok := p.Spec().Fields[id]; ok && s.Spec() != nil {
		name = " (" + s.Spec().Description + ")"
	}
	why := fe.Err.Error()
	switch id {
	case 2, 35, 36, 45, 52, 55:
		why = "its content is card data and is not shown"
	}
	return fmt.Sprintf("field %s%s does not read: %s; a field longer than its spec, or written in another encoding", fe.FieldID, name, why)
}

func fieldID(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// announcedLength is the body length a framing's header at the start of
// data announces.
func announcedLength(data []byte, f Framer) (int, error) {
	hl := frameHeaderLen(f)
	if len(data) < hl {
		return 0, fmt.Errorf("short")
	}
	switch f.Name() {
	case FramingASCII4:
		n := 0
		for _, c := range data[:4] {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("not four ASCII digits")
			}
			n = n*10 + int(c-'0')
		}
		return n, nil
	case FramingBCD2:
		n := 0
		for _, b := range data[:2] {
			hi, lo := b>>4, b&0x0F
			if hi > 9 || lo > 9 {
				return 0, fmt.Errorf("not BCD")
			}
			n = n*100 + int(hi)*10 + int(lo)
		}
		return n, nil
	}
	return int(data[0])<<8 | int(data[1]), nil
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
