package acquirer

import (
	"fmt"
	"testing"
	"time"

	"github.com/posim/posim/wire"
)

func BenchmarkEngineSale(b *testing.B) {
	b.Run("no limits", func(b *testing.B) { benchSales(b, DefaultPolicies()) })
	// every limit on, never reached: what checking them costs when the
	// card has a day's history (the builtin rich card, millions of sales)
	p := DefaultPolicies()
	p.MaxAmount, p.DailyAmount, p.DailyCount = 1_000_000_00, 1<<60, 1<<40
	p.VelocityCount, p.VelocityWindow = 1<<40, time.Minute
	b.Run("every limit", func(b *testing.B) { benchSales(b, p) })
}

func benchSales(b *testing.B, p Policies) {
	e, err := NewEngine(builtinWithRich(), p)
	if err != nil {
		b.Fatal(err)
	}
	e.SetRetention(100_000, 100_000) // steady state, as in a load run
	n := 0
	for b.Loop() {
		n++
		req := &wire.Txn{MTI: "0200", Op: wire.OpSale, ProcessingCode: wire.PCPurchase, PAN: approvePAN, Amount: 1, HasAmount: true,
			STAN: fmt.Sprintf("%06d", n%1000000), TransmissionTime: "1122100000", TID: fmt.Sprintf("T%07d", n/1000000), MID: "M1"}
		if d := e.Decide(req, t0.Add(time.Duration(n)*time.Millisecond)); d.Response.ResponseCode != "00" {
			b.Fatalf("declined %s: %s", d.Response.ResponseCode, d.Why)
		}
	}
}

func BenchmarkJournalAppend(b *testing.B) {
	j := NewMemJournal()
	e := Entry{Kind: KindIn, MTI: "0200", STAN: "000001", TID: "T1", PAN: "620000******0005"}
	for b.Loop() {
		j.Append(e)
	}
}

func BenchmarkRingJournalAppend(b *testing.B) {
	j := NewRingJournal(10_000)
	e := Entry{Kind: KindIn, MTI: "0200", STAN: "000001", TID: "T1", PAN: "620000******0005"}
	for b.Loop() {
		j.Append(e)
	}
}
