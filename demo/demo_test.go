package demo

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/posim/posim/browsertest"
	"github.com/posim/posim/scenarios"
	"github.com/stretchr/testify/require"
)

func newServer(t *testing.T, names ...string) *Server {
	t.Helper()
	var list []*scenarios.Scenario
	for _, n := range names {
		s, err := scenarios.FromCatalog(n)
		require.NoError(t, err)
		list = append(list, s)
	}
	// real time: these scenarios wait for nothing (at speed 50 their 30 s
	// terminal timeout would be 0.6 s, short enough to fire under load)
	srv := New(Options{Scenarios: list, StepPause: 100 * time.Millisecond})
	return srv
}

// The live page in a real browser shows lost-response-reversal as it plays:
// 0200, the cut, the timeout, 0400 and 0410 in that order.
func TestLivePage_InChromium(t *testing.T) {
	ctx := browsertest.New(t, 90*time.Second)
	srv := newServer(t, "lost-response-reversal")
	url, err := srv.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })

	played := make(chan bool, 1)
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(url), chromedp.WaitVisible("#ladder", chromedp.ByQuery)))
	go func() {
		run := srv.Play(context.Background())
		played <- len(run.Results) == 1 && run.Results[0].Passed
	}()
	select {
	case ok := <-played:
		require.True(t, ok)
	case <-time.After(60 * time.Second):
		t.Fatal("the demo did not finish")
	}
	var texts []string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.WaitVisible("#list li .pass", chromedp.ByQuery), // the page saw the end
		chromedp.WaitVisible("#ladder g[data-kind=result]", chromedp.ByQuery),
		chromedp.Evaluate(browsertest.LadderTexts, &texts),
	))
	require.NoError(t, browsertest.InOrder(texts, "in 0200", "fault ✂ cut", "timeout", "in 0400", "out 0410"))
	browsertest.Screenshot(t, ctx, "live-lost-response-reversal")
}

// Pause holds the play before the next step; next releases one step.
func TestControls(t *testing.T) {
	srv := newServer(t, "baseline-sale")
	require.NoError(t, srv.Control("pause", 0))
	done := make(chan struct{})
	go func() { srv.Play(context.Background()); close(done) }()

	steps := func() int {
		d := srv.data()
		n := 0
		for _, e := range d.Scenarios[0].Events {
			if e.Kind == "step" {
				n++
			}
		}
		return n
	}
	for want := 1; want <= 2; want++ {
		require.NoError(t, srv.Control("next", 0))
		require.Eventually(t, func() bool { return steps() == want }, 10*time.Second, 5*time.Millisecond)
	}
	select {
	case <-done:
		t.Fatal("the play went on while paused")
	case <-time.After(300 * time.Millisecond):
	}
	require.Equal(t, 2, steps())
	require.NoError(t, srv.Control("play", 0))
	<-done
	require.Equal(t, 3, steps())
	require.True(t, srv.data().Done)
	require.Error(t, srv.Control("dance", 0))
	require.Error(t, srv.Control("speed", -1))
}

// Projector mode at 1024x768: the ladder's text is at least 18 px on
// screen; the keyboard drives the play (p pauses, space steps, r restarts)
// and, after the run, a scenario can be played again.
func TestProjectorMode_InChromium(t *testing.T) {
	ctx := browsertest.New(t, 90*time.Second)
	srv := newServer(t, "lost-response-reversal")
	url, err := srv.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	require.NoError(t, chromedp.Run(ctx,
		chromedp.EmulateViewport(1024, 768),
		chromedp.Navigate(url+"?present=1"),
		chromedp.WaitVisible("#ladder", chromedp.ByQuery),
	))
	// p pauses before the first step; space lets one step through
	require.NoError(t, chromedp.Run(ctx, chromedp.KeyEvent("p")))
	require.Eventually(t, func() bool { return srv.data().Paused }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, chromedp.Run(ctx, chromedp.WaitVisible(`//span[@id="status"][text()="waiting"]`)), "the page knows")
	playCtx, stop := context.WithCancel(context.Background())
	defer stop()
	played := make(chan struct{})
	go func() {
		run := srv.Play(playCtx)
		srv.Encore(playCtx, run)
		close(played)
	}()
	steps := func() int {
		n := 0
		for _, e := range srv.data().Scenarios[0].Events {
			if e.Kind == "step" {
				n++
			}
		}
		return n
	}
	require.NoError(t, chromedp.Run(ctx, chromedp.KeyEvent(" ")))
	require.Eventually(t, func() bool { return steps() == 1 }, 20*time.Second, 5*time.Millisecond)
	require.NoError(t, chromedp.Run(ctx, chromedp.KeyEvent("p"))) // play on
	require.Eventually(t, func() bool { return !srv.data().Paused }, 10*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { return srv.data().Done }, 60*time.Second, 10*time.Millisecond)

	var px float64
	require.NoError(t, chromedp.Run(ctx,
		chromedp.WaitVisible("#ladder g[data-kind=balance]", chromedp.ByQuery),
		chromedp.Evaluate(`(() => { const t = document.querySelector("#ladder g.msg text"); return t.getBoundingClientRect().height; })()`, &px),
	))
	require.GreaterOrEqual(t, px, 18.0, "ladder text on a 1024 px projector")
	browsertest.Screenshot(t, ctx, "projector-lost-response-reversal")

	// after the run: play this scenario again
	first := len(srv.data().Scenarios[0].Events)
	require.NoError(t, chromedp.Run(ctx, chromedp.WaitVisible("#again", chromedp.ByQuery), chromedp.Click("#again", chromedp.ByQuery)))
	require.Eventually(t, func() bool {
		d := srv.data()
		return !d.Done || len(d.Scenarios[0].Events) < first
	}, 10*time.Second, 5*time.Millisecond, "it plays again")
	require.Eventually(t, func() bool { return srv.data().Done && len(srv.data().Scenarios[0].Events) == first }, 60*time.Second, 10*time.Millisecond)
	stop()
	<-played
}
