package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxFrame is the largest frame body accepted unless a Framer is told
// otherwise. POS messages are a few hundred bytes; a larger length header is
// far more likely to be garbage than a real message.
const DefaultMaxFrame = 8192

// ErrFrameTooLarge is returned by a Framer when a length header announces a
// body larger than its maximum. The stream cannot be resynchronised after it,
// so the connection must be closed.
var ErrFrameTooLarge = errors.New("frame length exceeds maximum")

// A Framer delimits messages on a byte stream. Implementations are safe for
// concurrent use.
type Framer interface {
	// ReadFrame reads one frame from r and returns its body. A zero-length
	// frame is returned as an empty, non-nil body (a keep-alive).
	ReadFrame(r io.Reader) ([]byte, error)
	// AppendFrame appends the framed body (header and body) to dst.
	AppendFrame(dst, body []byte) ([]byte, error)
	// Name is the framing's name as used on the command line.
	Name() string
}

// Binary2 frames each message with a 2-byte big-endian binary length header
// that counts the bytes after it.
type Binary2 struct {
	// MaxFrame is the largest body accepted; 0 means DefaultMaxFrame.
	MaxFrame int
}

var _ Framer = Binary2{}

// Name returns "binary2".
func (Binary2) Name() string { return "binary2" }

func (f Binary2) max() int {
	if f.MaxFrame <= 0 {
		return DefaultMaxFrame
	}
	return f.MaxFrame
}

// ReadFrame reads a 2-byte length header and the body it announces.
func (f Binary2) ReadFrame(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n > f.max() {
		return nil, fmt.Errorf("%w: header announces %d bytes, maximum is %d", ErrFrameTooLarge, n, f.max())
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("reading %d-byte frame body: %w", n, err)
	}
	return body, nil
}

// AppendFrame appends the 2-byte length header and body to dst.
func (f Binary2) AppendFrame(dst, body []byte) ([]byte, error) {
	if len(body) > f.max() || len(body) > 0xFFFF {
		return nil, fmt.Errorf("%w: body is %d bytes, maximum is %d", ErrFrameTooLarge, len(body), f.max())
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(body)))
	return append(dst, body...), nil
}
