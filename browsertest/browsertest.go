// Package browsertest drives headless Chromium (through chromedp) for the
// tests of posim's pages: the demo's live page and the HTML report. It is a
// test helper; production code does not import it.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium finds a Chromium binary, or skips the test saying how to get one.
func Chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("browser test skipped: no Chromium on this machine; install the Debian package chromium (.ci/run does)")
	return ""
}

// New starts headless Chromium and returns a context for chromedp actions,
// bounded by timeout. Chromium runs with the flags this workplace needs:
// no sandbox (root), no GPU, no background networking.
func New(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	exe := Chromium(t)
	// not t.TempDir: Chromium's helper processes may still write to the
	// profile for a moment after the browser is told to quit, which makes
	// the testing package's strict cleanup fail; remove it best-effort.
	profileDir, err := os.MkdirTemp("", "posim-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profileDir),
		chromedp.WindowSize(1400, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		for i := 0; i < 20 && os.RemoveAll(profileDir) != nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
	})
	return ctx
}

// LadderTexts returns the ladder's texts in document order: message labels,
// faults, timeouts, terminal screens and step headings.
const LadderTexts = `Array.from(document.querySelectorAll("#ladder [data-kind]")).map(g => g.getAttribute("data-kind") + " " + g.textContent)`

// Screenshot saves a full-page screenshot as a test artifact in
// artifacts/NAME.png beside the test (or in $POSIM_ARTIFACTS), and returns
// its path.
func Screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	var buf []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&buf, 100)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("POSIM_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot saved to %s", path)
	return path
}
