package load

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
)

// benchRoundTrips sends sales one after the other from one terminal: the
// cost of a round trip through the target, client included.
func benchRoundTrips(b *testing.B, addr string) {
	f, err := Dial(Options{Target: addr, Terminals: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	t, s := f.terms[0], newShard()
	b.ReportAllocs()
	for b.Loop() {
		f.one(context.Background(), t, s, time.Now(), new(atomic.Int64), new(atomic.Int64))
	}
	if s.sent != s.codes["00"] {
		b.Fatalf("%d sent, %d approved: %v", s.sent, s.codes["00"], s.errs)
	}
}

func BenchmarkRoundTripAcquirer(b *testing.B) {
	a, err := acquirer.New(acquirer.WithJournal(acquirer.NewRingJournal(10_000)), acquirer.WithRetention(10_000, 10_000))
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Listen("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	benchRoundTrips(b, a.Addr())
}

func BenchmarkRoundTripBaseline(b *testing.B) {
	bl, err := StartBaseline("127.0.0.1:0", wire.ISO87)
	if err != nil {
		b.Fatal(err)
	}
	defer bl.Close()
	benchRoundTrips(b, bl.Addr())
}
