package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/posim/posim/scenarios"
	"github.com/stretchr/testify/require"
)

// The trainer's controls: each accepted one changes the play's state and
// tells the pages; bad values are refused and change nothing.
func TestControl_ActionsAndBadValues(t *testing.T) {
	s := bare("en", nil)
	changed := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs[changed] = struct{}{}
	s.mu.Unlock()
	told := func() bool {
		select {
		case <-changed:
			return true
		default:
			return false
		}
	}

	require.NoError(t, s.Control("pause", 0))
	require.True(t, s.data().Paused)
	require.True(t, told())
	require.NoError(t, s.Control("pause", 0), "pausing twice")
	require.NoError(t, s.Control("play", 0))
	require.False(t, s.data().Paused)
	require.NoError(t, s.Control("play", 0), "playing twice")
	require.NoError(t, s.Control("speed", 8))
	require.Equal(t, 8.0, s.data().Speed)
	require.NoError(t, s.Control("speed", 1000))
	require.NoError(t, s.Control("speed", 0.25))
	require.Equal(t, 0.25, s.data().Speed)
	for range 3 { // a control the play has not taken yet is not queued twice, and never blocks
		require.NoError(t, s.Control("next", 0))
		require.NoError(t, s.Control("restart", 0))
		require.NoError(t, s.Control("again", 1))
	}
	require.Equal(t, 1, <-s.again)
	told()

	for _, c := range []struct {
		action string
		value  float64
		err    string
	}{
		{"speed", 0, "between 0 and 1000"},
		{"speed", -2, "between 0 and 1000"},
		{"speed", 1000.5, "between 0 and 1000"},
		{"again", -1, "want 0 to 1"},
		{"again", 2, "want 0 to 1"},
		{"again", 0.5, "want 0 to 1"},
		{"dance", 0, `unknown action "dance"`},
		{"", 0, `unknown action ""`},
	} {
		require.ErrorContains(t, s.Control(c.action, c.value), c.err, "%s %v", c.action, c.value)
	}
	require.Equal(t, 0.25, s.data().Speed, "refused values change nothing")
	require.False(t, told(), "and tell nobody")
	select {
	case i := <-s.again:
		t.Fatalf("scenario %d queued by a refused control", i)
	default:
	}
}

// gate paces the steps: the pause divided by the speed, or at once on
// next; while paused it waits for play or next; it gives up when the play
// is stopped.
func TestGate_PacesTheSteps(t *testing.T) {
	waited := func(s *Server, ctx context.Context, before func()) (time.Duration, error) {
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- s.gate(ctx, 1) }()
		synctest.Wait()
		if before != nil {
			before()
		}
		err := <-done
		return time.Since(start), err
	}
	newServer := func() *Server {
		return New(Options{Scenarios: []*scenarios.Scenario{{Name: "x"}}, StepPause: 3 * time.Second})
	}
	synctest.Test(t, func(t *testing.T) {
		s := newServer()
		took, err := waited(s, t.Context(), nil)
		require.NoError(t, err)
		require.Equal(t, 3*time.Second, took, "the default speed")

		require.NoError(t, s.Control("speed", 4))
		took, _ = waited(s, t.Context(), nil)
		require.Equal(t, 750*time.Millisecond, took, "4 times as fast")

		took, _ = waited(s, t.Context(), func() { require.NoError(t, s.Control("next", 0)) })
		require.Zero(t, took, "next does not wait for the pause")
	})
	synctest.Test(t, func(t *testing.T) {
		s := newServer()
		require.NoError(t, s.Control("pause", 0))
		took, err := waited(s, t.Context(), func() {
			time.Sleep(time.Hour) // fake time: the pause holds
			require.NoError(t, s.Control("play", 0))
		})
		require.NoError(t, err)
		require.Equal(t, time.Hour, took, "paused until play")

		require.NoError(t, s.Control("pause", 0))
		took, _ = waited(s, t.Context(), func() {
			time.Sleep(time.Minute)
			require.NoError(t, s.Control("next", 0))
		})
		require.Equal(t, time.Minute, took, "one step through while paused")
		require.True(t, s.data().Paused, "still paused after it")

		ctx, cancel := context.WithCancel(t.Context())
		took, err = waited(s, ctx, func() {
			time.Sleep(time.Minute)
			cancel()
		})
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, time.Minute, took)

		ctx, cancel = context.WithCancel(t.Context())
		require.NoError(t, s.Control("play", 0))
		_, err = waited(s, ctx, cancel)
		require.ErrorIs(t, err, context.Canceled, "stopped during the pause between steps")
	})
}

// The page, its data and its controls over HTTP on 127.0.0.1.
func TestLivePage_ServesDataAndControls(t *testing.T) {
	s := bare("zh", nil)
	url, err := s.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)
	s.event(0, scenarios.Event{Source: "terminal", Kind: "step", Step: 1, Op: "sale", Amount: "1.00"})

	r, err := http.Get(url)
	require.NoError(t, err)
	page, _ := io.ReadAll(r.Body)
	r.Body.Close()
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", r.Header.Get("Content-Type"))
	require.Contains(t, string(page), `"live":true`)
	require.Contains(t, string(page), `"name":"fed"`)
	require.Contains(t, string(page), `"lang":"zh"`)

	var run struct {
		Live      bool            `json:"live"`
		Lang      string          `json:"lang"`
		Speed     float64         `json:"speed"`
		Paused    bool            `json:"paused"`
		Codes     json.RawMessage `json:"codes"`
		Scenarios []struct {
			Name   string            `json:"name"`
			Events []scenarios.Event `json:"events"`
		} `json:"scenarios"`
	}
	getRun := func() {
		t.Helper()
		r, err := http.Get(url + "api/run")
		require.NoError(t, err)
		defer r.Body.Close()
		require.Equal(t, http.StatusOK, r.StatusCode)
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		require.NoError(t, json.NewDecoder(r.Body).Decode(&run))
	}
	getRun()
	require.True(t, run.Live)
	require.Equal(t, "zh", run.Lang)
	require.Equal(t, 1.0, run.Speed)
	require.Equal(t, "null", string(run.Codes), "the page has the codes already")
	require.Len(t, run.Scenarios, 2)
	require.Equal(t, "fed", run.Scenarios[0].Name)
	require.Len(t, run.Scenarios[0].Events, 1)
	require.Equal(t, "sale", run.Scenarios[0].Events[0].Op)

	// the event stream says hello, then that something changed
	stream, err := http.Get(url + "api/events")
	require.NoError(t, err)
	defer stream.Body.Close()
	require.Equal(t, "text/event-stream", stream.Header.Get("Content-Type"))
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stream.Body)
		for sc.Scan() {
			if sc.Text() != "" {
				lines <- sc.Text()
			}
		}
		close(lines)
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(10 * time.Second):
			t.Fatal("nothing on the event stream")
			return ""
		}
	}
	require.Equal(t, "data: hello", next())

	control := func(contentType, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, url+"api/control", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		r, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer r.Body.Close()
		msg, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(msg)
	}
	code, _ := control("application/json", `{"action": "speed", "value": 8}`)
	require.Equal(t, http.StatusNoContent, code)
	require.Equal(t, "data: changed", next())
	code, _ = control("application/json", `{"action": "pause"}`)
	require.Equal(t, http.StatusNoContent, code)
	require.Equal(t, "data: changed", next())
	getRun()
	require.Equal(t, 8.0, run.Speed)
	require.True(t, run.Paused)

	for body, why := range map[string]string{
		`{"action": "speed", "value": 5000}`: "between 0 and 1000",
		`{"action": "again", "value": 7}`:    "want 0 to 1",
		`{"action": "rewind"}`:               "unknown action",
		`play`:                               "want {",
	} {
		code, msg := control("application/json", body)
		require.Equal(t, http.StatusBadRequest, code, body)
		require.Contains(t, msg, why, body)
	}
	code, _ = control("text/plain", `{"action": "play"}`)
	require.Equal(t, http.StatusForbidden, code, "no cross-site form drives the play")
	getRun()
	require.Equal(t, 8.0, run.Speed, "refused controls changed nothing")
	require.True(t, run.Paused)

	require.NoError(t, s.Close())
	for range lines { // Close ends the stream
	}
}

func TestServer_CloseWithoutListen(t *testing.T) {
	require.NoError(t, bare("en", nil).Close())
}

// After the run, "play this scenario again" plays that one alone and
// restart plays them all; a restart during the play starts over.
func TestEncore_AgainAndRestart(t *testing.T) {
	sale, err := scenarios.FromCatalog("baseline-sale")
	require.NoError(t, err)
	titles := func(out *lockedBuffer) int { return strings.Count(out.String(), "\n== ") }
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		require.Eventually(t, cond, 30*time.Second, 2*time.Millisecond, what)
	}

	t.Run("restart while playing starts over", func(t *testing.T) {
		out := &lockedBuffer{}
		s := New(Options{Scenarios: []*scenarios.Scenario{sale}, Out: out, Speed: 50, StepPause: 100 * time.Millisecond})
		require.NoError(t, s.Control("pause", 0))
		played := make(chan int, 1)
		go func() { played <- len(s.Play(t.Context()).Results) }()
		waitFor("the first scenario runs", func() bool { return s.data().Scenarios[0].Running })
		require.NoError(t, s.Control("restart", 0))
		waitFor("it starts over", func() bool { return titles(out) == 2 })
		require.NoError(t, s.Control("play", 0))
		require.Equal(t, 1, <-played, "one run, from the start")
		require.Equal(t, 1, strings.Count(out.String(), "-> passed"), "the first play was cut short, not judged")
	})

	t.Run("again and restart after the run", func(t *testing.T) {
		other, err := scenarios.FromCatalog("insufficient-funds")
		require.NoError(t, err)
		out := &lockedBuffer{}
		s := New(Options{Scenarios: []*scenarios.Scenario{sale, other}, Out: out, Speed: 50, StepPause: 100 * time.Millisecond})
		run := s.Play(t.Context())
		require.Len(t, run.Results, 2)
		require.Equal(t, 2, titles(out))
		events := len(s.data().Scenarios[1].Events)
		ctx, stop := context.WithCancel(t.Context())
		last := make(chan int, 1)
		go func() { last <- len(s.Encore(ctx, run).Results) }()

		require.NoError(t, s.Control("pause", 0))
		require.NoError(t, s.Control("again", 1))
		waitFor("the second scenario starts again", func() bool { return titles(out) == 3 })
		d := s.data()
		require.False(t, d.Done)
		require.Nil(t, d.Scenarios[1].Passed, "no verdict yet")
		require.Less(t, len(d.Scenarios[1].Events), events, "its ladder starts afresh")
		require.NotNil(t, d.Scenarios[0].Passed, "the other keeps its verdict")
		require.NoError(t, s.Control("play", 0))
		waitFor("the second scenario plays again", func() bool { return s.data().Done })
		lastPlay := out.String()[strings.LastIndex(out.String(), "\n== "):]
		require.True(t, strings.HasPrefix(lastPlay, "\n== "+other.Title.In("en")+"\n"), "the one asked for: %s", lastPlay)
		require.Len(t, s.data().Scenarios[1].Events, events, "its ladder drawn anew, not added to the old one")

		require.NoError(t, s.Control("restart", 0))
		waitFor("everything plays again", func() bool { return titles(out) == 5 && s.data().Done })
		stop()
		require.Equal(t, 2, <-last, "Encore returns the last whole run")
		require.Equal(t, 5, strings.Count(out.String(), "-> passed"))
	})
}
