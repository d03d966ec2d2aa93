package wire

import (
	"bytes"
	"testing"

	"github.com/moov-io/iso8583"
)

func FuzzReadFrame(f *testing.F) {
	m, _ := ISO87.Encode(sampleSale())
	frame, _ := NewCodec(ISO87).Frame(m)
	f.Add(frame)
	f.Add([]byte{0, 0})
	f.Add([]byte{0xFF, 0xFF, 1})
	f.Add([]byte{0, 4, '0', '8', '0', '0'})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewCodec(ISO87)
		c.OnBadMessage = func(BadMessage) {}
		r := bytes.NewReader(data)
		for i := 0; i < 16; i++ {
			if _, err := c.ReadMessage(r); err != nil {
				return
			}
		}
	})
}

func FuzzUnpack(f *testing.F) {
	m, _ := ISO87.Encode(sampleSale())
	body, _ := m.Pack()
	f.Add(body)
	f.Add([]byte("0800822000000000000004000000000000001122023140000001001"))
	f.Add([]byte("0200"))
	f.Fuzz(func(t *testing.T, body []byte) {
		msg := iso8583.NewMessage(Spec87)
		if err := msg.Unpack(body); err != nil {
			return
		}
		txn, err := ISO87.Decode(msg)
		if err != nil {
			return
		}
		// whatever decodes must encode again and decode to the same value
		again, err := ISO87.Encode(txn)
		if err != nil {
			return
		}
		if _, err := again.Pack(); err != nil {
			return
		}
	})
}
