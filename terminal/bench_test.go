package terminal_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
)

// BenchmarkSaleRoundTrip measures one sale from terminal to acquirer and
// back over loopback TCP, with the ledger, journal and state in memory.
func BenchmarkSaleRoundTrip(b *testing.B) {
	book := cards.Builtin()
	for i := range book.Cards {
		book.Cards[i].Balance = 1 << 60
	}
	a, err := acquirer.New(acquirer.WithCards(book))
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Listen("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	cfg := terminal.DefaultConfig()
	cfg.Host, cfg.Timeout, cfg.Cards = a.Addr(), 5*time.Second, book
	term, err := terminal.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer term.Close()
	ctx := context.Background()
	for b.Loop() {
		if _, err := term.Sale(ctx, terminal.Request{Amount: 1, NoPIN: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaleFromStateDir is what one `posim terminal sale` costs the
// terminal: start on its state directory, sell, stop; with an empty open
// batch and with 10 000 transactions in it. The two should cost the same.
func BenchmarkSaleFromStateDir(b *testing.B) {
	book := cards.Builtin()
	for i := range book.Cards {
		book.Cards[i].Balance = 1 << 60
	}
	a, err := acquirer.New(acquirer.WithCards(book), acquirer.WithRetention(1000, 1000))
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Listen("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	for _, n := range []int{0, 10_000} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			st := terminal.State{Batch: 1, STAN: n}
			for i := range n {
				st.Log = append(st.Log, terminal.LogEntry{Op: wire.OpSale, MTI: "0200", PC: "000000", STAN: fmt.Sprintf("%06d", i+1),
					PAN: "6200000000000005", Amount: 100, RRN: fmt.Sprintf("%012d", i+1), AuthCode: "000001", Time: time.Now()})
			}
			if err := terminal.WriteState(dir, st); err != nil {
				b.Fatal(err)
			}
			cfg := terminal.DefaultConfig()
			cfg.Host, cfg.Timeout, cfg.Cards, cfg.StateDir = a.Addr(), 5*time.Second, book, dir
			ctx := context.Background()
			if term, err := terminal.New(cfg); err == nil { // an older state.json is split at the first start
				term.Close()
			}
			for b.Loop() {
				term, err := terminal.New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := term.Sale(ctx, terminal.Request{Amount: 1, NoPIN: true}); err != nil {
					b.Fatal(err)
				}
				term.Close()
			}
		})
	}
}
