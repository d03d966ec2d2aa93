package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/spf13/cobra"
)

func newDemoCmd() *cobra.Command {
	var timeout time.Duration
	var lang string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Play a short demonstration: a sale, a decline, a lost response and its reversal",
		Long: `Start an acquirer and a terminal in this process, on 127.0.0.1, and play:
a sign-on, an approved sale, a declined sale, a sale whose approval is lost on the
way back (the card is debited, the terminal shows a failure), the next sale that
first sends the reversal, and a balanced settlement. Nothing else is needed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if lang != "en" && lang != "zh" {
				return invalid(fmt.Errorf("--lang %q: want en or zh", lang))
			}
			if timeout <= 0 {
				return invalid(fmt.Errorf("--timeout %s: must be positive", timeout))
			}
			return runDemo(cmd.Context(), cmd.OutOrStdout(), timeout, lang)
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Second, "the terminal's response timeout in the demo")
	cmd.Flags().StringVar(&lang, "lang", "en", "language of the terminal display: en or zh")
	return cmd
}

// loseOnce processes every request, but drops the response to the first
// sale of the amount: the card is debited and the terminal never hears it.
func loseOnce(amount int64) acquirer.Handler {
	var fired atomic.Bool
	return acquirer.HandlerFunc(func(_ context.Context, x *acquirer.Exchange) {
		resp := x.Process()
		if x.Request.Op == wire.OpSale && x.Request.Amount == amount && fired.CompareAndSwap(false, true) {
			return
		}
		if resp != nil {
			_ = x.Respond(resp)
		}
	})
}

func runDemo(ctx context.Context, w io.Writer, timeout time.Duration, lang string) error {
	const lost = 10000
	a, err := acquirer.New(acquirer.WithHandler(loseOnce(lost)))
	if err != nil {
		return err
	}
	if err := a.Listen("127.0.0.1:0"); err != nil {
		return runtimeErr(err)
	}
	defer a.Close()

	cfg := terminal.DefaultConfig()
	cfg.Host = a.Addr()
	cfg.Timeout = timeout
	cfg.ConnectTimeout = timeout
	term, err := terminal.New(cfg)
	if err != nil {
		return err
	}
	defer term.Close()

	card, _ := cfg.Cards.ByAlias("approve")
	bal := func() string {
		acc, _ := a.Engine().Account(card.PAN)
		return wire.FormatAmount(acc.Balance)
	}
	fmt.Fprintf(w, "posim demo: acquirer on %s, terminal %s, card %s (balance %s)\n\n", a.Addr(), cfg.TID, wire.MaskPAN(card.PAN), bal())

	show := func(step, story string, res *terminal.Result) {
		fmt.Fprintf(w, "%s\n  %s\n", step, story)
		for _, rs := range res.ReversalsSent {
			fmt.Fprintf(w, "  → %s reversal (stan %s, reason %s) of stan %s ← %s\n", rs.MTI, rs.STAN, rs.Reason, rs.OriginalSTAN, rs.ResponseCode)
		}
		disp := res.Display
		if lang == "zh" {
			disp = res.DisplayZH
		}
		line := fmt.Sprintf("  terminal shows: %s", disp)
		if res.ResponseCode != "" {
			line += fmt.Sprintf("   [%s %s]", res.ResponseCode, wire.Meaning(res.ResponseCode, lang))
		}
		fmt.Fprintln(w, line)
		if res.ReversalPending {
			fmt.Fprintln(w, "  reversal record pending in the terminal (reason 98)")
		}
		fmt.Fprintf(w, "  card balance at the acquirer: %s\n\n", bal())
	}

	steps := []struct {
		title, story string
		do           func() (*terminal.Result, error)
	}{
		{"1. sign-on (0800/0810)", "The terminal signs on to the acquirer.", func() (*terminal.Result, error) { return term.SignOn(ctx) }},
		{"2. sale 12.34 (0200/0210)", "An ordinary approved sale.", func() (*terminal.Result, error) {
			return term.Sale(ctx, terminal.Request{Card: "approve", Amount: 1234})
		}},
		{"3. sale 12.34 on card insufficient-funds", "The issuer declines: the terminal clears its reversal record on any valid answer.", func() (*terminal.Result, error) {
			return term.Sale(ctx, terminal.Request{Card: "insufficient-funds", Amount: 1234})
		}},
		{"4. sale 100.00, response lost", fmt.Sprintf("The acquirer approves and debits the card, but the 0210 never arrives; after %s the terminal gives up.", timeout), func() (*terminal.Result, error) {
			return term.Sale(ctx, terminal.Request{Card: "approve", Amount: lost})
		}},
		{"5. next sale 5.00", "Before the next transaction the terminal sends the pending reversal (0400, reason 98); the acquirer credits the 100.00 back.", func() (*terminal.Result, error) {
			return term.Sale(ctx, terminal.Request{Card: "approve", Amount: 500})
		}},
		{"6. settlement (0500/0510)", "Terminal and acquirer agree on the batch: one reversed sale counts nowhere.", func() (*terminal.Result, error) { return term.Settle(ctx) }},
	}
	for _, s := range steps {
		res, _ := s.do()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		show(s.title, s.story, res)
	}
	fmt.Fprintln(w, "acquirer journal:")
	for _, e := range a.Journal().List(acquirer.Filter{Kind: acquirer.KindDecision}) {
		fmt.Fprintf(w, "  %s stan=%s %-8s rc=%-2s %s\n", e.MTI, e.STAN, e.Status, e.RC, e.Detail)
	}
	return nil
}
