// Package recording writes and reads recordings of ISO 8583 traffic: one
// JSON line per message, with its direction, time, connection, MTI, every
// field decoded and the frame in hex, card data masked unless the recording
// is made in the clear. posim proxy and posim acquirer write them (--record);
// posim acquirer --replay answers like the recorded host (Replayer) and
// posim replay resends the recorded terminal side to a host.
package recording

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
	"github.com/posim/posim/wire"
)

// Directions of a recorded message.
const (
	// Request: from the terminal towards the host.
	Request = "request"
	// Response: from the host towards the terminal.
	Response = "response"
)

// Entry is one recorded message.
type Entry struct {
	Time time.Time `json:"time"`
	Conn string    `json:"conn"`
	Dir  string    `json:"dir"`
	MTI  string    `json:"mti"`
	// Fields are the message's fields by number, as the spec's string form
	// (binary fields in hex); the PAN masked (first six, last four), track
	// data and PIN blocks replaced, unless Clear.
	Fields map[string]string `json:"fields"`
	// Frame is the whole frame in hex: length header, TPDU and header when
	// the dialect has them, body. Masked like Fields unless Clear (the
	// masked digits are zeros, so that the frame still reads).
	Frame string `json:"frame"`
	// Clear: the recording holds card data in the clear (--record-clear).
	Clear bool `json:"clear,omitempty"`
	// Line is where the entry is in its file (not written).
	Line int `json:"-"`
}

// Field returns the value of field id ("" when absent).
func (e *Entry) Field(id int) string { return e.Fields[strconv.Itoa(id)] }

// Writer appends entries to a recording. It is safe for concurrent use.
type Writer struct {
	mu      sync.Mutex
	w       *bufio.Writer
	c       io.Closer
	clear   bool
	profile wire.Profile
	framer  wire.Framer // the length framing
	prefix  []byte      // the TPDU and header for a message given none
	now     func() time.Time
	err     error
}

// Create opens path for a new recording of messages of profile p, framed
// with f. clear keeps card data in the clear.
func Create(path string, p wire.Profile, f wire.Framer, clear bool) (*Writer, error) {
	file, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	return NewWriter(file, p, f, clear), nil
}

// NewWriter records to w; when w is an io.Closer, Close closes it.
func NewWriter(w io.Writer, p wire.Profile, f wire.Framer, clear bool) *Writer {
	c, _ := w.(io.Closer)
	wr := &Writer{w: bufio.NewWriter(w), c: c, clear: clear, profile: p, framer: wire.InnerFramer(f), now: time.Now}
	if tf, ok := f.(wire.TPDUFramer); ok {
		wr.prefix = tf.Prefix()
	}
	return wr
}

// Message records m, sent in direction dir on connection conn; prefix is
// the TPDU and header that preceded it (nil when the dialect has none) and
// raw, when known, the frame exactly as it was on the wire.
func (w *Writer) Message(dir, conn string, prefix []byte, m *iso8583.Message, raw []byte) error {
	e := Entry{Time: w.now().UTC(), Conn: conn, Dir: dir, Clear: w.clear, Fields: map[string]string{}}
	e.MTI, _ = m.GetMTI()
	for id, f := range m.GetFields() {
		if id < 2 {
			continue
		}
		v, err := f.String()
		if err != nil {
			v = "(unreadable: " + err.Error() + ")"
		}
		if !w.clear {
			v = maskShown(id, v)
		}
		e.Fields[strconv.Itoa(id)] = printable(v)
	}
	frame := raw
	if !w.clear || frame == nil {
		var err error
		if frame, err = w.frame(prefix, m); err != nil {
			frame = nil
			e.Fields["error"] = "frame not recorded: " + err.Error()
		}
	}
	e.Frame = strings.ToUpper(hex.EncodeToString(frame))
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.w.Write(line)
	w.w.WriteByte('\n')
	// flushed per message: a recording must survive a kill
	w.err = w.w.Flush()
	return w.err
}

// frame packs m again, card data zeroed unless clear, and frames it.
func (w *Writer) frame(prefix []byte, m *iso8583.Message) ([]byte, error) {
	if prefix == nil {
		prefix = w.prefix
	}
	if !w.clear {
		var err error
		if m, err = zeroCardData(m); err != nil {
			return nil, err
		}
	}
	body, err := m.Pack()
	if err != nil {
		return nil, err
	}
	return w.framer.AppendFrame(nil, append(slices.Clip(prefix), body...))
}

// Close flushes and closes the recording.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.w.Flush()
	if w.c != nil {
		err = errors.Join(err, w.c.Close())
	}
	return err
}

// printable returns v, or v in hex when it holds bytes that do not print
// (binary data in a character field, as cup's DE62).
func printable(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7E {
			return strings.ToUpper(hex.EncodeToString([]byte(v)))
		}
	}
	return v
}

// maskShown is what a recording shows of a field when not clear.
func maskShown(id int, v string) string {
	switch id {
	case 2:
		return wire.MaskPAN(v)
	case 35, 36, 45:
		return "(track data, not recorded)"
	case 52:
		return "(PIN block, not recorded)"
	}
	return v
}

// zeroCardData returns a copy of m whose PAN keeps only its first six and
// last four digits (the rest zeros), whose track data digits are zeros and
// whose PIN block is zero bytes: the frame still reads, the card is gone.
func zeroCardData(m *iso8583.Message) (*iso8583.Message, error) {
	body, err := m.Pack()
	if err != nil {
		return nil, err
	}
	cp := iso8583.NewMessage(m.GetSpec())
	if err := cp.Unpack(body); err != nil {
		return nil, err
	}
	fields := cp.GetFields()
	if f, ok := fields[2]; ok {
		pan, _ := f.String()
		if len(pan) >= 13 {
			masked := pan[:6] + strings.Repeat("0", len(pan)-10) + pan[len(pan)-4:]
			if err := cp.Field(2, masked); err != nil {
				return nil, fmt.Errorf("masking DE2: %w", err)
			}
		} else if err := cp.Field(2, strings.Repeat("0", len(pan))); err != nil {
			return nil, fmt.Errorf("masking DE2: %w", err)
		}
	}
	for _, id := range []int{35, 36, 45} {
		if f, ok := fields[id]; ok {
			v, _ := f.String()
			z := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return '0'
				}
				return r
			}, v)
			if err := cp.Field(id, z); err != nil {
				return nil, fmt.Errorf("masking DE%d: %w", id, err)
			}
		}
	}
	if f, ok := fields[52]; ok {
		if b, ok := f.(*field.Binary); ok {
			v, _ := b.Bytes()
			b.SetValue(make([]byte, len(v)))
		} else if sp := f.Spec(); sp != nil && sp.Enc == encoding.Binary {
			// bytes in a string field (cup's b64): zero bytes, not '0's
			v, _ := f.Bytes()
			if err := cp.BinaryField(52, make([]byte, len(v))); err != nil {
				return nil, fmt.Errorf("masking DE52: %w", err)
			}
		} else {
			v, _ := f.String()
			if err := cp.Field(52, strings.Repeat("0", len(v))); err != nil {
				return nil, fmt.Errorf("masking DE52: %w", err)
			}
		}
	}
	return cp, nil
}

// Load reads a recording. An error names the line that does not read.
func Load(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads a recording from r; name is used in errors.
func Read(r io.Reader, name string) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var e Entry
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("%s:%d: not a recorded message: %v", name, line, err)
		}
		if e.Dir != Request && e.Dir != Response {
			return nil, fmt.Errorf("%s:%d: dir %q: want request or response", name, line, e.Dir)
		}
		if e.MTI == "" {
			return nil, fmt.Errorf("%s:%d: no mti", name, line)
		}
		e.Line = line
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no recorded messages", name)
	}
	return out, nil
}

// Message unpacks an entry's frame as a message of profile p framed with f,
// returning it with the TPDU and header that preceded it.
func (e *Entry) Message(p wire.Profile, f wire.Framer) (*iso8583.Message, []byte, error) {
	raw, err := hex.DecodeString(e.Frame)
	if err != nil || len(raw) == 0 {
		return nil, nil, fmt.Errorf("line %d: frame is not hex", e.Line)
	}
	body, err := wire.InnerFramer(f).ReadFrame(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("line %d: %w", e.Line, err)
	}
	var prefix []byte
	if p.Capabilities().TPDU {
		if len(body) < 11 {
			return nil, nil, fmt.Errorf("line %d: %w", e.Line, wire.ErrShortFrame)
		}
		prefix, body = body[:11], body[11:]
	}
	m := iso8583.NewMessage(p.Spec())
	if err := m.Unpack(body); err != nil {
		return nil, nil, fmt.Errorf("line %d: %w", e.Line, err)
	}
	return m, prefix, nil
}
