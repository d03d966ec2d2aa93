package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
)

// What a host does with a message whose TPDU or header it does not expect.
const (
	MismatchDiscard = "discard" // drop it silently, as real hosts do
	MismatchReject  = "reject"  // drop it and say so in the log
	MismatchAccept  = "accept"  // take it anyway
)

// How a host compares a frame's header with the one it expects.
const (
	HeaderMatchVersion = "version" // application type and version only (the default)
	HeaderMatchExact   = "exact"   // byte for byte
)

// SetHeaderMatch sets how headers are compared: version (default, empty
// too) or exact.
func (f *TPDUFramer) SetHeaderMatch(how string) error {
	switch how {
	case "", HeaderMatchVersion:
		f.ExactHeader = false
	case HeaderMatchExact:
		f.ExactHeader = true
	default:
		return fmt.Errorf("header match %q: want version or exact", how)
	}
	return nil
}

// Mismatch describes a frame dropped for its TPDU or header.
type Mismatch struct {
	TPDU, Header         []byte
	WantTPDU, WantHeader []byte
	Policy               string
}

func (m Mismatch) String() string {
	return fmt.Sprintf("TPDU %X header %X, expected TPDU %X header %X", m.TPDU, m.Header, m.WantTPDU, m.WantHeader)
}

// TPDUFramer is the China UnionPay framing: a length header (by default 2
// bytes binary) that counts TPDU(5) + header(6) + body. It writes its TPDU
// and header; on read it checks them against what it expects (NIIs in either
// order, since responses swap destination and source) and applies the
// mismatch policy. It is a value: configure it, then use it from any
// goroutine.
type TPDUFramer struct {
	Inner  Framer  // length framing; nil means Binary2
	TPDU   [5]byte // written on every frame
	Header [6]byte // written on every frame
	// Expect, when set, is the TPDU and header a frame must carry; by
	// default the framer's own (NIIs in either order).
	ExpectTPDU   *[5]byte
	ExpectHeader *[6]byte
	// Policy is discard (default), reject or accept.
	Policy string
	// OnMismatch is told of every frame dropped.
	OnMismatch func(Mismatch)
	// Reply swaps destination and source NII when writing (the host side).
	Reply bool
	// ExactHeader makes a frame's header match only byte for byte; by
	// default a header that differs only in the terminal status, the
	// processing request (the third byte) or the software sub-version (the
	// last three) matches, as field hosts accept a terminal upgraded within
	// one version and terminals read the host's requests there.
	ExactHeader bool
	// Echo, when set, remembers the TPDU and header of the frames read, and
	// a replying framer answers with that TPDU, destination and source
	// swapped, and that header, as field hosts do. Give each connection its
	// own (NewTPDUEcho).
	Echo *TPDUEcho
	// Request, when not zero, is the processing request a replying framer
	// writes in the low nibble of the header's third byte: what a CUP host
	// asks the terminal to do next (wire.HostRequest*).
	Request byte
}

// Processing requests a CUP host writes in its answer's header (the low
// nibble of the third byte) [assumed: the values as public terminal code
// reads them; posim's host sends HostRequestParams after a sign-on until the
// terminal has downloaded, and posim's terminal downloads on any of them].
const (
	HostRequestNone     byte = 0 // nothing to do
	HostRequestParams   byte = 1 // download the terminal parameters
	HostRequestStatus   byte = 2 // upload the terminal's status
	HostRequestSignOn   byte = 3 // sign on again
	HostRequestCAPK     byte = 4 // update the chip CA public keys
	HostRequestICParams byte = 5 // download the chip parameters
)

// HostRequestOf is the processing request a header carries.
func HostRequestOf(header []byte) byte {
	if len(header) < 3 {
		return HostRequestNone
	}
	return header[2] & 0x0F
}

// TPDUEcho is what a connection's last frame carried: the TPDU and header
// its answers echo. It is safe for concurrent use.
type TPDUEcho struct {
	mu     sync.Mutex
	seen   bool
	tpdu   [5]byte
	header [6]byte
}

// NewTPDUEcho returns an empty echo: until a frame is read, answers carry
// the framer's own TPDU and header.
func NewTPDUEcho() *TPDUEcho { return &TPDUEcho{} }

func (e *TPDUEcho) set(tp, hd []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	copy(e.tpdu[:], tp)
	copy(e.header[:], hd)
	e.seen = true
}

func (e *TPDUEcho) get() (tp [5]byte, hd [6]byte, ok bool) {
	if e == nil {
		return tp, hd, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tpdu, e.header, e.seen
}

// Last returns the TPDU and header of the last frame read; ok is false
// before the first.
func (e *TPDUEcho) Last() (tpdu [5]byte, header [6]byte, ok bool) { return e.get() }

// DefaultTPDU and DefaultHeader are the documented test defaults: TPDU 60
// 0003 0000 (to NII 0003 from 0000) and header 60 31 00 31 07 30.
var (
	DefaultTPDU   = [5]byte{0x60, 0x00, 0x03, 0x00, 0x00}
	DefaultHeader = [6]byte{0x60, 0x31, 0x00, 0x31, 0x07, 0x30}
)

// ParseTPDU parses 10 hex digits; ParseHeader 12.
func ParseTPDU(s string) ([5]byte, error) {
	var out [5]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 5 {
		return out, fmt.Errorf("TPDU %q: want 10 hex digits such as 6000030000", s)
	}
	if b[0] != 0x60 {
		return out, fmt.Errorf("TPDU %q: must start with 60", s)
	}
	copy(out[:], b)
	return out, nil
}

// ParseHeader parses a 6-byte CUP application header written as 12 hex digits.
func ParseHeader(s string) ([6]byte, error) {
	var out [6]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 6 {
		return out, fmt.Errorf("header %q: want 12 hex digits such as 603100310730", s)
	}
	copy(out[:], b)
	return out, nil
}

var _ Framer = TPDUFramer{}

// NewTPDUFramer builds the cup framing around inner (nil: binary2) from a
// TPDU and header in hex (empty: the defaults) and a mismatch policy
// (empty: discard).
func NewTPDUFramer(inner Framer, tpdu, header, policy string) (TPDUFramer, error) {
	f := TPDUFramer{Inner: inner, TPDU: DefaultTPDU, Header: DefaultHeader, Policy: policy}
	var err error
	if tpdu != "" {
		if f.TPDU, err = ParseTPDU(tpdu); err != nil {
			return f, err
		}
	}
	if header != "" {
		if f.Header, err = ParseHeader(header); err != nil {
			return f, err
		}
	}
	switch policy {
	case "", MismatchDiscard, MismatchReject, MismatchAccept:
	default:
		return f, fmt.Errorf("mismatch policy %q: want discard, reject or accept", policy)
	}
	return f, nil
}

// Name returns "binary2+tpdu".
func (f TPDUFramer) Name() string { return f.inner().Name() + "+tpdu" }

// InnerFramer is the framing inside a TPDU framer (its length header), or
// f itself when it has no TPDU.
func InnerFramer(f Framer) Framer {
	if tf, ok := f.(TPDUFramer); ok {
		return tf.inner()
	}
	return f
}

func (f TPDUFramer) inner() Framer {
	if f.Inner == nil {
		return Binary2{}
	}
	return f.Inner
}

// ForHost returns the framer a host uses: it answers with destination and
// source swapped.
func (f TPDUFramer) ForHost() Framer {
	f.Reply = true
	return f
}

// out returns the TPDU and header written before a body: the framer's
// own; a replying framer's are those of the last frame read when it echoes,
// destination and source swapped, with its processing request.
func (f TPDUFramer) out() ([5]byte, [6]byte) {
	t, h := f.TPDU, f.Header
	if !f.Reply {
		return t, h
	}
	if f.Echo != nil {
		if et, eh, ok := f.Echo.get(); ok {
			t, h = et, eh
		}
	}
	t[1], t[2], t[3], t[4] = t[3], t[4], t[1], t[2]
	if f.Request != 0 {
		h[2] = h[2]&0xF0 | f.Request&0x0F
	}
	return t, h
}

// Prefix returns the TPDU and header the framer writes before a body.
func (f TPDUFramer) Prefix() []byte {
	tp, hd := f.out()
	return append(tp[:], hd[:]...)
}

// AppendFrame writes length, TPDU, header and body in one buffer.
func (f TPDUFramer) AppendFrame(dst, body []byte) ([]byte, error) {
	tp, hd := f.out()
	full := make([]byte, 0, 11+len(body))
	full = append(append(append(full, tp[:]...), hd[:]...), body...)
	return f.inner().AppendFrame(dst, full)
}

// ErrShortFrame: a frame too short to hold TPDU and header.
var ErrShortFrame = errors.New("frame shorter than TPDU and header")

// ReadFrame reads frames until one carries the expected TPDU and header and
// returns its body; dropped frames are reported to OnMismatch.
func (f TPDUFramer) ReadFrame(r io.Reader) ([]byte, error) {
	for {
		full, err := f.inner().ReadFrame(r)
		if err != nil {
			return nil, err
		}
		if len(full) == 0 {
			return full, nil // keep-alive
		}
		if len(full) < 11 {
			return nil, fmt.Errorf("%w: %d bytes", ErrShortFrame, len(full))
		}
		tp, hd, body := full[:5], full[5:11], full[11:]
		if f.Policy == MismatchAccept || f.matches(tp, hd) {
			if f.Echo != nil {
				f.Echo.set(tp, hd)
			}
			return body, nil
		}
		if f.OnMismatch != nil {
			wantT, wantH := f.want()
			f.OnMismatch(Mismatch{TPDU: tp, Header: hd, WantTPDU: wantT[:], WantHeader: wantH[:], Policy: f.policy()})
		}
	}
}

func (f TPDUFramer) policy() string {
	if f.Policy == "" {
		return MismatchDiscard
	}
	return f.Policy
}

func (f TPDUFramer) want() ([5]byte, [6]byte) {
	t, h := f.TPDU, f.Header
	if f.ExpectTPDU != nil {
		t = *f.ExpectTPDU
	}
	if f.ExpectHeader != nil {
		h = *f.ExpectHeader
	}
	return t, h
}

func (f TPDUFramer) matches(tp, hd []byte) bool {
	t, h := f.want()
	// the application type and the version: not the terminal status and
	// processing request (an answer's asks the terminal for something), nor
	// the software sub-version
	compared := 2
	if f.ExactHeader {
		compared = 6
	}
	if tp[0] != t[0] || !bytes.Equal(hd[:compared], h[:compared]) {
		return false
	}
	a, b := tp[1:3], tp[3:5]
	x, y := t[1:3], t[3:5]
	return (bytes.Equal(a, x) && bytes.Equal(b, y)) || (bytes.Equal(a, y) && bytes.Equal(b, x))
}
