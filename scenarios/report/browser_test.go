package report_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/posim/posim/browsertest"
	"github.com/posim/posim/scenarios"
	"github.com/posim/posim/scenarios/report"
	"github.com/stretchr/testify/require"
)

// The HTML report, rendered by a real browser, shows lost-response-reversal
// as it happened: 0200, the cut, the timeout, 0400, 0410. The scenarios of
// these tests wait for nothing (the host cuts the line): they play in real
// time, where no timeout comes near (at speed 50 a 30 s timeout is 0.6 s).
func TestHTMLReport_InChromium(t *testing.T) {
	ctx := browsertest.New(t, 60*time.Second)
	s, err := scenarios.FromCatalog("lost-response-reversal")
	require.NoError(t, err)
	res := scenarios.Run(context.Background(), s, scenarios.Options{})
	require.True(t, res.Passed)
	var buf bytes.Buffer
	require.NoError(t, report.HTML(&buf, &report.Run{Speed: 1, Profile: "iso87", Results: []*scenarios.Result{res}}, "en"))
	path := filepath.Join(t.TempDir(), "report.html")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))

	var texts []string
	var title string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate("file://"+path),
		chromedp.WaitVisible("#ladder g[data-kind=in]", chromedp.ByQuery),
		chromedp.Evaluate(browsertest.LadderTexts, &texts),
		chromedp.Text("#title", &title, chromedp.ByQuery),
	))
	require.Equal(t, "Card debited, terminal shows failure: the response was lost", title)
	require.NoError(t, browsertest.InOrder(texts, "in 0200", "fault ✂ cut", "timeout", "in 0400", "out 0410"))
	// the debit shows at the step that made it, and the credit at the reversal's
	require.NoError(t, browsertest.InOrder(texts, "step Step 1", "balance balance: visa-approve 1000.00 → 900.00", "step Step 2",
		"balance balance: visa-approve 900.00 → 995.00"))
	browsertest.Screenshot(t, ctx, "report-lost-response-reversal")
	// beside the screen, the last transaction's receipt (签购单)
	var slip string
	require.NoError(t, chromedp.Run(ctx, chromedp.Text("#receipt", &slip, chromedp.ByQuery)))
	require.Contains(t, slip, "POS SALES SLIP")
	require.Contains(t, slip, "TRACE NO.:        000003")
	require.Contains(t, slip, "411111******1111", "masked")

	// the same page in Chinese
	var zh, slipZH string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SetValue("#lang", "zh", chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("lang").dispatchEvent(new Event("change")); document.getElementById("title").textContent`, &zh),
		chromedp.Text("#receipt", &slipZH, chromedp.ByQuery),
	))
	require.Equal(t, "交易失败但扣款了：应答丢失", zh)
	require.Contains(t, slipZH, "交易类型(TRANS TYPE): 消费 SALE")
}

// A report heads with its summary, names each scenario beside its title,
// and filters to the failed ones.
func TestHTMLReport_SummaryAndFailedFilter(t *testing.T) {
	ctx := browsertest.New(t, 60*time.Second)
	pass, err := scenarios.FromCatalog("baseline-sale")
	require.NoError(t, err)
	broken, err := scenarios.Parse("broken.yaml", []byte("name: broken-on-purpose\ntitle: {en: \"Expects a decline\"}\nsteps:\n  - sale: {card: visa-approve, amount: \"1.00\"}\n    expect: {outcome: declined}\n"))
	require.NoError(t, err)
	a := scenarios.Run(context.Background(), pass, scenarios.Options{})
	b := scenarios.Run(context.Background(), broken, scenarios.Options{})
	require.True(t, a.Passed)
	require.False(t, b.Passed)
	seed := int64(7)
	var buf bytes.Buffer
	require.NoError(t, report.HTML(&buf, &report.Run{Speed: 1, Profile: "iso87", Seed: &seed, Started: time.Now(), Results: []*scenarios.Result{a, b},
		Skipped: []report.Skipped{{Name: "chip-only", Reason: "does not run under profile iso87"}}}, "en"))
	path := filepath.Join(t.TempDir(), "report.html")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))

	var summary string
	var items []string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate("file://"+path),
		chromedp.WaitVisible("#summary", chromedp.ByQuery),
		chromedp.Text("#sum-text", &summary, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll("#list li")].map(li => li.textContent)`, &items),
	))
	for _, want := range []string{"1 passed", "1 failed", "1 skipped", "profile iso87", "seed 7", "speed 1"} {
		require.Contains(t, summary, want)
	}
	require.Len(t, items, 2)
	require.Contains(t, items[0], "baseline-sale", "the name beside the title")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#failed-only", chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll("#list li")].map(li => li.textContent)`, &items),
	))
	require.Len(t, items, 1)
	require.Contains(t, items[0], "broken-on-purpose")
	browsertest.Screenshot(t, ctx, "report-summary")
}

// Under --lang zh the Chinese is drawn by the embedded font, on a machine
// with no CJK font of its own (CI's): every glyph of the title and the
// terminal screen comes from it (TestFont_CoversEveryCJKCharacter checks
// it has every character posim uses).
func TestHTMLReport_ChineseRendersWithTheEmbeddedFont(t *testing.T) {
	ctx := browsertest.New(t, 60*time.Second)
	s, err := scenarios.FromCatalog("lost-response-reversal")
	require.NoError(t, err)
	res := scenarios.Run(context.Background(), s, scenarios.Options{})
	var buf bytes.Buffer
	require.NoError(t, report.HTML(&buf, &report.Run{Speed: 1, Profile: "iso87", Results: []*scenarios.Result{res}}, "zh"))
	path := filepath.Join(t.TempDir(), "report.html")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))

	var title []cdp.NodeID
	var result []cdp.NodeID
	var fontStatus []string
	require.NoError(t, chromedp.Run(ctx, css.Enable()))
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate("file://"+path),
		chromedp.SetValue("#lang", "zh", chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("lang").dispatchEvent(new Event("change")); document.fonts.ready.then(() => true)`, nil,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
		chromedp.WaitVisible("#ladder g[data-kind=result]", chromedp.ByQuery),
		chromedp.Evaluate(`Promise.all([...document.fonts].map(f => f.load().then(() => f.family + " " + f.status, e => f.family + " failed: " + e)))`, &fontStatus,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
		// the page laid out again with the loaded font
		chromedp.Evaluate(`render(); document.body.offsetHeight`, nil),
		chromedp.NodeIDs("#title", &title, chromedp.ByQuery),
		chromedp.NodeIDs("#screen", &result, chromedp.ByQuery),
	))
	require.Equal(t, []string{"posim CJK loaded"}, fontStatus)
	for name, ids := range map[string][]cdp.NodeID{"title": title, "terminal screen": result} {
		require.NotEmpty(t, ids, name)
		var fonts []*css.PlatformFontUsage
		require.NoError(t, chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
			if err := css.Enable().Do(ctx); err != nil {
				return err
			}
			var err error
			fonts, err = css.GetPlatformFontsForNode(ids[0]).Do(ctx)
			return err
		})))
		var custom float64
		for _, f := range fonts {
			if f.IsCustomFont {
				custom += f.GlyphCount
			}
		}
		for _, f := range fonts {
			t.Logf("%s: %s custom=%v glyphs=%v", name, f.FamilyName, f.IsCustomFont, f.GlyphCount)
		}
		require.Positive(t, custom, "%s: glyphs drawn by the embedded font", name)
		for _, f := range fonts {
			require.True(t, f.IsCustomFont, "%s: every glyph of the Chinese from the embedded font, not %s", name, f.FamilyName)
		}
	}
	browsertest.Screenshot(t, ctx, "report-zh")
}
