package load

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/posim/posim/browsertest"
	"github.com/stretchr/testify/require"
)

// TestHTMLReport_InChromium renders the report of a real run and reads the
// charts back from the page: one throughput chart with both targets and a
// latency chart per target, each line with a point a second.
func TestHTMLReport_InChromium(t *testing.T) {
	ctx := browsertest.New(t, 60*time.Second)
	fa, fb := fleetPair(t)
	ra, rb, err := Compare(context.Background(), fa, fb, 2*time.Second, 0, 2)
	require.NoError(t, err)

	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, &Report{Command: "posim load --baseline", Acquirer: ra, Baseline: rb, Ratio: ra.Throughput / rb.Throughput}))
	path := filepath.Join(t.TempDir(), "load.html")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))

	var charts []string
	var points []int
	var ratio string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate("file://"+path),
		chromedp.WaitVisible("svg.chart polyline", chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll("svg.chart")].map(s => s.getAttribute("aria-label"))`, &charts),
		chromedp.Evaluate(`[...document.querySelectorAll("svg.chart polyline")].map(p => p.points.numberOfItems)`, &points),
		chromedp.Text("#ratio", &ratio, chromedp.ByQuery),
	))
	require.Equal(t, []string{"Throughput", "Latency, acquirer", "Latency, baseline"}, charts)
	require.Len(t, points, 2+3+3, "two throughput lines, p50/p90/p99 for each target")
	for _, n := range points {
		require.Equal(t, 2, n, "one point per measured second")
	}
	require.Contains(t, ratio, "Ratio acquirer/baseline")
	browsertest.Screenshot(t, ctx, "load-report")
}
