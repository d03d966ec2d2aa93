package proxy_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/posim/posim/browsertest"
	"github.com/posim/posim/proxy"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// The live ladder page draws the traffic as it passes: the lost answer
// reaches the proxy from the host and never goes on to the terminal, and
// the fault says why.
func TestLadderPage_ShowsTheLostAnswerLive(t *testing.T) {
	ctx := browsertest.New(t, 60*time.Second)
	_, px, _, f := chain(t, wire.ISO87, `[{id: lose-second, when: {op: sale, nth: 2}, do: [process, no_response]}]`)
	ctl, err := proxy.NewControl(px, f)
	require.NoError(t, err)
	srv := httptest.NewServer(ctl)
	// the proxy first: its end ends the page's event stream
	t.Cleanup(func() { px.Close(); srv.Close() })

	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`//span[@id="status"][text()="live"]`)))
	term := newTerminal(t, wire.ISO87, px.Addr())
	_, err = term.Sale(context.Background(), terminal.Request{Card: "approve", Amount: 1000})
	require.NoError(t, err)
	_, _ = term.Sale(context.Background(), terminal.Request{Card: "approve", Amount: 2000})

	var arrows []string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.WaitVisible(`.note.fault`, chromedp.ByQuery),
		chromedp.WaitVisible(`//div[contains(@class,"arrow")]//div[contains(text(),"0410")]`),
		chromedp.Evaluate(`[...document.querySelectorAll(".arrow")].map(a => a.dataset.detail + ": " + a.textContent)`, &arrows),
	))
	text := strings.Join(arrows, "\n")
	require.Contains(t, text, "from terminal: 0200 sale STAN 000002")
	require.Contains(t, text, "from host: 0210 sale STAN 000002 · 00 approved")
	require.NotContains(t, text, "to terminal: 0210 sale STAN 000002")
	require.Contains(t, text, "to terminal: 0210 sale STAN 000001 · 00 approved")
	require.Regexp(t, `from terminal: 0400 reversal STAN \d+ · reason 98`, text)
	var fault string
	require.NoError(t, chromedp.Run(ctx, chromedp.Text(`.note.fault`, &fault, chromedp.ByQuery)))
	require.Contains(t, fault, "rule lose-second: no response")
	var rules string
	require.NoError(t, chromedp.Run(ctx, chromedp.WaitVisible(`#rules tbody tr`, chromedp.ByQuery), chromedp.Text(`#rules tbody`, &rules, chromedp.ByQuery)))
	require.Contains(t, rules, "lose-second")
	browsertest.Screenshot(t, ctx, "proxy-ladder")
}
