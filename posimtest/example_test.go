package posimtest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/posim/posim/posimtest"
	"github.com/posim/posim/terminal"
)

// A test of POS code starts the acquirer with a catalogue scenario and
// checks what the host saw. Here posim's own terminal plays the POS.
func Example() {
	t := &testing.T{} // in a real test, the *testing.T you are given
	host := posimtest.NewAcquirer(t, posimtest.Scenario("lost-response-reversal"))
	defer host.Close()

	cfg := terminal.DefaultConfig()
	cfg.Host = host.Addr()
	pos, _ := terminal.New(cfg)
	defer pos.Close()

	ctx := context.Background()
	first, _ := pos.Sale(ctx, terminal.Request{Card: "visa-approve", Amount: 10000})
	fmt.Println("first sale:", first.Outcome, "balance", host.Balance("visa-approve"))
	second, _ := pos.Sale(ctx, terminal.Request{Card: "visa-approve", Amount: 500})
	fmt.Println("second sale:", second.Outcome, "after", len(second.ReversalsSent), "reversal")
	fmt.Println("0400 received:", host.Received("0400"), "balance", host.Balance("visa-approve"))
	// Output:
	// first sale: no_response balance 900.00
	// second sale: approved after 1 reversal
	// 0400 received: 1 balance 995.00
}

func TestNewAcquirer_DefaultApproves(t *testing.T) {
	host := posimtest.NewAcquirer(t)
	cfg := terminal.DefaultConfig()
	cfg.Host, cfg.StateDir = host.Addr(), ""
	pos, err := terminal.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pos.Close()
	res, err := pos.Sale(context.Background(), terminal.Request{Amount: 100})
	if err != nil || res.Outcome != terminal.Approved {
		t.Fatalf("sale: %v %v", res.Outcome, err)
	}
	if host.Received("0200") != 1 || len(host.Records()) != 1 {
		t.Fatalf("host saw %d sales and booked %d records", host.Received("0200"), len(host.Records()))
	}
}
