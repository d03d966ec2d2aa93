package wire

import (
	"fmt"
)

// Track is the encoding of track 2 and track 3 data (DE35, DE36) in the cup
// dialect: packed BCD, left-aligned (a trailing 0 nibble pads an odd
// length), with the field separator '=' written as the nibble D, as CUP
// terminals write it (6222...D3012...). It implements moov-io/iso8583's
// encoding.Encoder.
var Track = trackEncoder{}

type trackEncoder struct{}

func (trackEncoder) Encode(src []byte) ([]byte, error) {
	dst := make([]byte, (len(src)+1)/2)
	for i, c := range src {
		var n byte
		switch {
		case c >= '0' && c <= '9':
			n = c - '0'
		case c == '=' || c == 'D' || c == 'd':
			n = 0xD
		default:
			return nil, fmt.Errorf("track data: %q is neither a digit nor the separator '='", c)
		}
		if i%2 == 0 {
			dst[i/2] = n << 4
		} else {
			dst[i/2] |= n
		}
	}
	return dst, nil
}

func (trackEncoder) Decode(src []byte, length int) ([]byte, int, error) {
	if length < 0 {
		return nil, 0, fmt.Errorf("track data: negative length %d", length)
	}
	read := (length + 1) / 2
	if len(src) < read {
		return nil, 0, fmt.Errorf("track data: need %d bytes, have %d", read, len(src))
	}
	out := make([]byte, length)
	for i := range out {
		n := src[i/2] >> 4
		if i%2 == 1 {
			n = src[i/2] & 0x0F
		}
		switch {
		case n <= 9:
			out[i] = '0' + n
		case n == 0xD:
			out[i] = '='
		default:
			return nil, 0, fmt.Errorf("track data: nibble %X is neither a digit nor the separator D", n)
		}
	}
	return out, read, nil
}
