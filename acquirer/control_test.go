package acquirer

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestControl(t *testing.T) {
	a := start(t)
	loader := func(name string, data []byte) (Setup, error) {
		if string(data) != "decline-all" {
			return Setup{}, io.ErrUnexpectedEOF
		}
		p := DefaultPolicies()
		p.Duplicate = Duplicate94
		return Setup{Handler: HandlerFunc(func(_ context.Context, x *Exchange) { _ = x.Respond(x.Request.Response("91")) }), Policies: &p}, nil
	}
	ctl, err := NewControl(a, loader)
	require.NoError(t, err)
	srv := httptest.NewServer(ctl)
	t.Cleanup(srv.Close)

	// subscribe before traffic; the stream must show the messages
	resp, err := http.Get(srv.URL + "/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	require.Equal(t, ": posim events", <-lines)

	c := dial(t, a)
	require.Equal(t, "00", c.roundTrip(t, sale(approvePAN, 100)).ResponseCode)
	waitFor(t, lines, "event: in")
	waitFor(t, lines, "event: out")

	// journal and ledger
	var entries []Entry
	getJSON(t, srv.URL+"/journal?kind=in&mti=0200", &entries)
	require.Len(t, entries, 1)
	var snap Snapshot
	getJSON(t, srv.URL+"/ledger", &snap)
	require.Len(t, snap.Records, 1)
	require.Equal(t, "620000******0005", snap.Records[0].MaskedPAN)

	// atomic scenario load
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/scenario", strings.NewReader("nonsense"))
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusBadRequest, r.StatusCode)
	req, _ = http.NewRequest(http.MethodPut, srv.URL+"/scenario", strings.NewReader("decline-all"))
	r, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, "91", c.roundTrip(t, sale(approvePAN, 100)).ResponseCode)
	require.Equal(t, Duplicate94, a.Engine().Policies().Duplicate)

	// metrics
	r, err = http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	require.Contains(t, string(body), `posim_messages_total{direction="in",mti="0200",rc=""} 2`)

	// reset
	r, err = http.Post(srv.URL+"/reset", "", nil)
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusNoContent, r.StatusCode)
	getJSON(t, srv.URL+"/ledger", &snap)
	require.Empty(t, snap.Records)
	require.Equal(t, "00", c.roundTrip(t, sale(approvePAN, 100)).ResponseCode, "reset restores the default handler")
}

func waitFor(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "stream ended before %q", want)
			if l == want {
				return
			}
		case <-timeout:
			t.Fatalf("no %q on the event stream", want)
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	r, err := http.Get(url)
	require.NoError(t, err)
	defer r.Body.Close()
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.NoError(t, json.NewDecoder(r.Body).Decode(v))
}

func BenchmarkHubPublishNoSubscriber(b *testing.B) {
	h := NewHub()
	e := Entry{Kind: KindIn}
	for b.Loop() {
		h.Publish(e)
	}
}

// BenchmarkHubPublishSubscribers publishes with 300 subscribers: the
// cost must not grow with them.
func BenchmarkHubPublishSubscribers(b *testing.B) {
	h := NewHub()
	h.SetMax(0)
	for range 300 {
		s, err := h.Subscribe()
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
	}
	e := Entry{Kind: KindIn, MTI: "0200", STAN: "000001", TID: "T1", PAN: "620000******0005"}
	for b.Loop() {
		h.Publish(e)
	}
}

// BenchmarkJournalAppendObserved appends through the control API's
// observer (metrics and the event hub) with one subscriber.
func BenchmarkJournalAppendObserved(b *testing.B) {
	a, err := New(WithJournal(NewRingJournal(10_000)))
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewControl(a, nil)
	if err != nil {
		b.Fatal(err)
	}
	sub, err := c.Hub().Subscribe()
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	e := Entry{Kind: KindOut, MTI: "0210", RC: "00", STAN: "000001", TID: "T1", PAN: "620000******0005"}
	for b.Loop() {
		a.Journal().Append(e)
	}
}
