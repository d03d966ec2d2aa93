package wire

import (
	"fmt"
	"io"
	"sync"

	"github.com/moov-io/iso8583"
	connection "github.com/moov-io/iso8583-connection"
	iso8583errors "github.com/moov-io/iso8583/errors"
)

// BadMessage describes a frame that arrived whole but could not be unpacked.
// Partial holds the fields that could be read before the error (at least the
// MTI when it was readable), so a host can still answer with a format error.
type BadMessage struct {
	Raw     []byte
	Partial *iso8583.Message
	Err     error
}

// Codec reads and writes framed messages of one profile. It implements the
// moov-io/iso8583-connection MessageReader and MessageWriter interfaces and is
// safe for concurrent use.
type Codec struct {
	Profile Profile
	Framer  Framer
	// OnBadMessage, when set, receives frames that could not be unpacked; the
	// reader then carries on with the next frame. When nil, such frames are
	// returned as *errors.UnpackError, which the connection also skips.
	OnBadMessage func(BadMessage)
	// MACKeyFor, when set, returns the MAC key of a terminal (DE41); the
	// codec then signs every message that carries DE64.
	MACKeyFor func(tid string) *MACKey
}

var (
	_ connection.MessageReader = (*Codec)(nil)
	_ connection.MessageWriter = (*Codec)(nil)
)

// NewCodec returns a codec for the profile with its default framing.
func NewCodec(p Profile) *Codec {
	return &Codec{Profile: p, Framer: p.Framer()}
}

// Frame packs m and returns the complete frame: length header and body.
func (c *Codec) Frame(m *iso8583.Message) ([]byte, error) {
	body, err := m.Pack()
	if err != nil {
		return nil, fmt.Errorf("packing message: %w", err)
	}
	c.sign(m, body)
	return c.Framer.AppendFrame(make([]byte, 0, len(body)+16), body)
}

// sign writes the MAC over everything before DE64 into the body's last 8
// bytes, when the message carries DE64 and the terminal has a MAC key.
func (c *Codec) sign(m *iso8583.Message, body []byte) {
	if c.MACKeyFor == nil || len(body) < 8 {
		return
	}
	f, has := m.GetFields()[64]
	if !has {
		return
	}
	placeholder, _ := f.String()
	tid, _ := m.GetString(41)
	c.SignBody(body, placeholder, tid)
}

// SignBody writes the MAC of terminal tid over everything before DE64
// into the body's last 8 bytes (a body that ends with DE64, whose value was
// placeholder), when the codec has the terminal's MAC key. A placeholder
// that asks for a wrong MAC gets one.
func (c *Codec) SignBody(body []byte, placeholder, tid string) {
	if c.MACKeyFor == nil || len(body) < 8 {
		return
	}
	k := c.MACKeyFor(tid)
	if k == nil {
		return
	}
	mac := k.Sum(body[:len(body)-8])
	if placeholder == macFlip {
		mac[0] ^= 0x01
	}
	copy(body[len(body)-8:], mac)
}

// VerifyMAC checks the MAC of a received message body that ends with DE64:
// over every byte before it, exactly as they arrived. Never verify over a
// re-encoding: a peer may write a field differently and still validly (an
// F pad nibble, say), and its MAC covers what it wrote.
func VerifyMAC(k *MACKey, body []byte) bool {
	if len(body) < 8 {
		return false
	}
	return k.Verify(body[:len(body)-8], body[len(body)-8:])
}

// WriteMessage packs m and writes header and body in a single Write, so the
// frame leaves as one TCP segment when it fits: some hosts read one frame per
// segment.
func (c *Codec) WriteMessage(w io.Writer, m *iso8583.Message) error {
	frame, err := c.Frame(m)
	if err != nil {
		return err
	}
	_, err = w.Write(frame)
	return err
}

// ReadMessage reads one frame and unpacks it. A keep-alive (empty frame)
// returns a nil message and nil error, which the connection skips.
func (c *Codec) ReadMessage(r io.Reader) (*iso8583.Message, error) {
	m, _, err := c.ReadBody(r)
	return m, err
}

// ReadBody is ReadMessage that also returns the frame's body as it arrived:
// what a MAC is checked over (VerifyMAC).
func (c *Codec) ReadBody(r io.Reader) (*iso8583.Message, []byte, error) {
	body, err := c.Framer.ReadFrame(r)
	if err != nil {
		return nil, nil, err
	}
	if len(body) == 0 {
		return nil, nil, nil
	}
	m, err := c.UnpackBody(body)
	if m == nil || err != nil {
		return nil, nil, err
	}
	return m, body, nil
}

// UnpackBody unpacks a frame body read by the framer. A body that cannot be
// unpacked goes to OnBadMessage, and UnpackBody returns nil and no error;
// without OnBadMessage it returns an *errors.UnpackError.
func (c *Codec) UnpackBody(body []byte) (*iso8583.Message, error) {
	m := iso8583.NewMessage(c.Profile.Spec())
	if err := m.Unpack(body); err != nil {
		if c.OnBadMessage != nil {
			c.OnBadMessage(BadMessage{Raw: body, Partial: m, Err: err})
			return nil, nil
		}
		return nil, &iso8583errors.UnpackError{Err: err, RawMessage: body}
	}
	return m, nil
}

// Unpack decodes a frame body into a message of the codec's profile.
func (c *Codec) Unpack(body []byte) (*iso8583.Message, error) {
	m := iso8583.NewMessage(c.Profile.Spec())
	if err := m.Unpack(body); err != nil {
		return m, err
	}
	return m, nil
}

// RequestIDByClass pairs a response with its request by message class and
// STAN (an iso8583-connection RequestIDGenerator): under cup a reversal
// keeps its original's STAN, and a late 0210 must not pass for the 0410.
type RequestIDByClass struct{}

// GenerateRequestID returns the first two MTI digits and DE11.
func (RequestIDByClass) GenerateRequestID(m *iso8583.Message) (string, error) {
	mti, err := m.GetMTI()
	if err != nil || len(mti) != 4 {
		return "", fmt.Errorf("message without an MTI")
	}
	stan, err := m.GetString(11)
	if err != nil || stan == "" {
		return "", fmt.Errorf("message without a STAN (DE11)")
	}
	return mti[:2] + "|" + stan, nil
}

var (
	builders = sync.Pool{New: func() any { return new(Builder) }}
	bodies   = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}
)

// FrameCompiled is Frame for a profile with a compiled spec: t is encoded and
// packed without a moov message, signed as Frame signs, and framed.
func (c *Codec) FrameCompiled(fp CompiledProfile, t *Txn) ([]byte, error) {
	b := builders.Get().(*Builder)
	defer builders.Put(b)
	b.Reset()
	if err := fp.EncodeTo(t, b); err != nil {
		return nil, err
	}
	bp := bodies.Get().(*[]byte)
	defer bodies.Put(bp)
	body, err := fp.Compiled().Append((*bp)[:0], b)
	if err != nil {
		return nil, fmt.Errorf("packing message: %w", err)
	}
	*bp = body
	if b.Has(64) {
		c.SignBody(body, b.Get(64), b.Get(41))
	}
	return c.Framer.AppendFrame(make([]byte, 0, len(body)+16), body)
}
