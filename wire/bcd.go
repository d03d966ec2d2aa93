package wire

import "fmt"

// LeftBCD is the encoding of the cup dialect's left-aligned numeric fields
// (DE2, DE22, DE32, DE48, DE60, DE61): packed BCD, an odd length padded
// with a trailing nibble. It writes the pad as 0, as most CUP terminals do,
// and reads either 0 or F there (some terminals pad with F), so that a peer
// that pads otherwise still reads and, since MACs are checked over the bytes
// received, still verifies. It implements moov-io/iso8583's
// encoding.Encoder.
var LeftBCD = leftBCD{}

type leftBCD struct{}

func (leftBCD) Encode(src []byte) ([]byte, error) {
	dst := make([]byte, (len(src)+1)/2)
	for i, c := range src {
		if c < '0' || c > '9' {
			return nil, fmt.Errorf("BCD: %q is not a digit", c)
		}
		if i%2 == 0 {
			dst[i/2] = (c - '0') << 4
		} else {
			dst[i/2] |= c - '0'
		}
	}
	return dst, nil
}

func (leftBCD) Decode(src []byte, length int) ([]byte, int, error) {
	if length < 0 {
		return nil, 0, fmt.Errorf("BCD: negative length %d", length)
	}
	read := (length + 1) / 2
	if len(src) < read {
		return nil, 0, fmt.Errorf("BCD: need %d bytes, have %d", read, len(src))
	}
	out := make([]byte, length)
	for i := range out {
		n := src[i/2] >> 4
		if i%2 == 1 {
			n = src[i/2] & 0x0F
		}
		if n > 9 {
			return nil, 0, fmt.Errorf("BCD: nibble %X is not a digit", n)
		}
		out[i] = '0' + n
	}
	if length%2 == 1 {
		if pad := src[read-1] & 0x0F; pad != 0 && pad != 0xF {
			return nil, 0, fmt.Errorf("BCD: pad nibble %X, want 0 or F", pad)
		}
	}
	return out, read, nil
}
