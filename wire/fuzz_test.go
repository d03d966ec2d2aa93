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
		packed, err := again.Pack()
		if err != nil {
			return
		}
		back := iso8583.NewMessage(Spec87)
		if err := back.Unpack(packed); err != nil {
			t.Fatalf("posim's own encoding does not unpack: %v", err)
		}
		txn2, err := ISO87.Decode(back)
		if err != nil {
			t.Fatalf("posim's own encoding does not decode: %v", err)
		}
		if txn.MTI != txn2.MTI || txn.STAN != txn2.STAN || txn.Amount != txn2.Amount || txn.PAN != txn2.PAN ||
			txn.ResponseCode != txn2.ResponseCode || txn.TID != txn2.TID || txn.Op != txn2.Op {
			t.Fatalf("round trip changed the transaction: %s → %s", txn.Describe(), txn2.Describe())
		}
	})
}

// FuzzFramers reads frames with every length framing: a bad header is an
// error, never a panic or a read past what was announced.
func FuzzFramers(f *testing.F) {
	f.Add([]byte("0004ABCD"))
	f.Add([]byte{0x00, 0x04, 'A', 'B', 'C', 'D'})
	f.Add([]byte{0x00, 0x12, 'x'})
	f.Add([]byte("9999"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fr := range []Framer{ASCII4{}, BCD2{}, Binary2{}} {
			r := bytes.NewReader(data)
			for range 8 {
				body, err := fr.ReadFrame(r)
				if err != nil {
					break
				}
				// what reads must write back to the same bytes
				again, err := fr.AppendFrame(nil, body)
				if err != nil {
					t.Fatalf("%s: a body it read does not frame again: %v", fr.Name(), err)
				}
				back, err := fr.ReadFrame(bytes.NewReader(again))
				if err != nil || !bytes.Equal(back, body) {
					t.Fatalf("%s: round trip changed the body", fr.Name())
				}
			}
		}
	})
}

// FuzzCustomSpec loads --spec JSON: anything but a panic.
func FuzzCustomSpec(f *testing.F) {
	f.Add([]byte(`{"name":"x","fields":{"0":{"type":"String","length":4,"description":"MTI","enc":"ASCII","prefix":"ASCII.Fixed"},"1":{"type":"Bitmap","length":8,"description":"Bitmap","enc":"HexToASCII","prefix":"Hex.Fixed"}}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"fields":{"2":{"type":"String","length":-1}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := CustomProfile("fuzz", data, Binary2{})
		if err != nil {
			return
		}
		m, err := p.Encode(sampleSale())
		if err == nil {
			_, _ = m.Pack()
		}
	})
}
