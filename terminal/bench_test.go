package terminal_test

import (
	"context"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/terminal"
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
