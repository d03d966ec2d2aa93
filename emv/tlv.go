package emv

import (
	"errors"
	"fmt"
)

// TLV is one BER-TLV data object: a tag (one to three bytes, written here
// as an unsigned integer: 0x9F26) and its value. Constructed objects keep
// their value as raw bytes; Parse them again to look inside.
type TLV struct {
	Tag   uint32
	Value []byte
}

// List is the data objects of a chip field (DE55), in the order they came.
// Unknown tags are kept as they are, so that a list read and written again
// is the same bytes.
type List []TLV

// ErrTLV is wrapped by every malformed BER-TLV error.
var ErrTLV = errors.New("emv: malformed BER-TLV")

// Parse reads BER-TLV data objects (EMV Book 3 annex B): tags of one byte,
// or more when the low five bits of the first are all ones; lengths of one
// byte below 0x80, else 0x81 or 0x82 followed by one or two bytes. Padding
// bytes 00 and FF between objects are skipped.
func Parse(data []byte) (List, error) {
	var out List
	for i := 0; i < len(data); {
		if data[i] == 0x00 || data[i] == 0xFF {
			i++
			continue
		}
		start := i
		tag := uint32(data[i])
		i++
		if tag&0x1F == 0x1F {
			for {
				if i >= len(data) {
					return out, fmt.Errorf("%w: tag at offset %d runs past the end", ErrTLV, start)
				}
				tag = tag<<8 | uint32(data[i])
				i++
				if tag > 0xFFFFFF {
					return out, fmt.Errorf("%w: tag at offset %d is longer than three bytes", ErrTLV, start)
				}
				if data[i-1]&0x80 == 0 {
					break
				}
			}
		}
		if i >= len(data) {
			return out, fmt.Errorf("%w: tag %X at offset %d has no length", ErrTLV, tag, start)
		}
		n := int(data[i])
		i++
		switch {
		case n == 0x81 && i < len(data):
			n = int(data[i])
			i++
		case n == 0x82 && i+1 < len(data):
			n = int(data[i])<<8 | int(data[i+1])
			i += 2
		case n >= 0x80:
			return out, fmt.Errorf("%w: tag %X at offset %d has a length form posim does not read (%02X)", ErrTLV, tag, start, data[i-1])
		}
		if i+n > len(data) {
			return out, fmt.Errorf("%w: tag %X at offset %d announces %d bytes, %d remain", ErrTLV, tag, start, n, len(data)-i)
		}
		out = append(out, TLV{Tag: tag, Value: append([]byte{}, data[i:i+n]...)})
		i += n
	}
	return out, nil
}

// Bytes writes the list as BER-TLV, in order.
func (l List) Bytes() []byte {
	var out []byte
	for _, o := range l {
		switch {
		case o.Tag > 0xFFFF:
			out = append(out, byte(o.Tag>>16), byte(o.Tag>>8), byte(o.Tag))
		case o.Tag > 0xFF:
			out = append(out, byte(o.Tag>>8), byte(o.Tag))
		default:
			out = append(out, byte(o.Tag))
		}
		switch n := len(o.Value); {
		case n < 0x80:
			out = append(out, byte(n))
		case n <= 0xFF:
			out = append(out, 0x81, byte(n))
		default:
			out = append(out, 0x82, byte(n>>8), byte(n))
		}
		out = append(out, o.Value...)
	}
	return out
}

// Get returns the value of the first object with the tag.
func (l List) Get(tag uint32) ([]byte, bool) {
	for _, o := range l {
		if o.Tag == tag {
			return o.Value, true
		}
	}
	return nil, false
}

// Set replaces the value of the first object with the tag, or appends one.
func (l List) Set(tag uint32, value []byte) List {
	for i, o := range l {
		if o.Tag == tag {
			l[i].Value = value
			return l
		}
	}
	return append(l, TLV{Tag: tag, Value: value})
}
