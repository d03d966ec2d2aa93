package wire

import (
	"testing"

	"github.com/moov-io/iso8583"
)

func BenchmarkPackSale(b *testing.B) {
	codec := NewCodec(ISO87)
	txn := sampleSale()
	for b.Loop() {
		m, err := ISO87.Encode(txn)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := codec.Frame(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnpackSale(b *testing.B) {
	m, _ := ISO87.Encode(sampleSale())
	body, _ := m.Pack()
	for b.Loop() {
		msg := iso8583.NewMessage(Spec87)
		if err := msg.Unpack(body); err != nil {
			b.Fatal(err)
		}
		if _, err := ISO87.Decode(msg); err != nil {
			b.Fatal(err)
		}
	}
}
