package acquirer_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func listen(t *testing.T, opts ...acquirer.Option) *acquirer.Acquirer {
	t.Helper()
	a, err := acquirer.New(opts...)
	require.NoError(t, err)
	require.NoError(t, a.Listen("127.0.0.1:0"))
	t.Cleanup(func() { a.Close() })
	return a
}

// closedByHost waits until the host closes c.
func closedByHost(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	require.Error(t, err)
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the host closed the connection (EOF or reset): %v", err)
}

func TestLimits_ConnectionsOverTheBoundAreClosedAtOnce(t *testing.T) {
	a := listen(t, acquirer.WithLimits(2, 0))
	for range 2 {
		c, err := net.Dial("tcp", a.Addr())
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
	}
	require.Eventually(t, func() bool { return a.Conns() == 2 }, 5*time.Second, time.Millisecond)
	extra, err := net.Dial("tcp", a.Addr())
	require.NoError(t, err)
	defer extra.Close()
	closedByHost(t, extra)
	require.Equal(t, 2, a.Conns())
}

func TestLimits_IdleAndSlowlorisConnectionsAreClosed(t *testing.T) {
	a := listen(t, acquirer.WithLimits(0, 200*time.Millisecond))
	silent, err := net.Dial("tcp", a.Addr())
	require.NoError(t, err)
	defer silent.Close()
	closedByHost(t, silent)

	// a frame that never completes: a length header, then a byte now and then
	slow, err := net.Dial("tcp", a.Addr())
	require.NoError(t, err)
	defer slow.Close()
	_, err = slow.Write([]byte{0x00, 0x40})
	require.NoError(t, err)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if _, err := slow.Write([]byte("0")); err != nil {
					return
				}
			case <-stop:
				return
			}
		}
	}()
	closedByHost(t, slow)
}

// Connection churn goes to the connection log: the transactions stay in a
// bounded journal however many connections come and go.
func TestLimits_ChurnCannotEvictTransactions(t *testing.T) {
	j := acquirer.NewRingJournal(20)
	conns := acquirer.NewRingJournal(20)
	a := listen(t, acquirer.WithJournal(j), acquirer.WithConnectionLog(conns))
	c, err := net.Dial("tcp", a.Addr())
	require.NoError(t, err)
	codec := wire.NewCodec(wire.ISO87)
	m, err := wire.ISO87.Encode(&wire.Txn{MTI: "0800", Op: wire.OpEcho, STAN: "000001", TID: "T1", NetworkCode: "301", TransmissionTime: "1127101010"})
	require.NoError(t, err)
	require.NoError(t, codec.WriteMessage(c, m))
	_, err = codec.ReadMessage(bufio.NewReader(c))
	require.NoError(t, err)
	c.Close()
	before := len(j.List(acquirer.Filter{}))
	require.Positive(t, before)
	for range 50 {
		c, err := net.Dial("tcp", a.Addr())
		require.NoError(t, err)
		c.Close()
	}
	require.Eventually(t, func() bool { return len(conns.List(acquirer.Filter{})) == 20 }, 5*time.Second, time.Millisecond)
	require.Len(t, j.List(acquirer.Filter{}), before, "the journal kept every transaction entry")
	require.Empty(t, j.List(acquirer.Filter{Kind: acquirer.KindConnection}))
}

func TestLimits_EventSubscribersAreBounded(t *testing.T) {
	a := listen(t)
	ctl, err := acquirer.NewControl(a, nil)
	require.NoError(t, err)
	ctl.Hub().SetMax(1)
	srv := httptest.NewServer(ctl)
	t.Cleanup(srv.Close)
	first, err := http.Get(srv.URL + "/events")
	require.NoError(t, err)
	defer first.Body.Close()
	require.Equal(t, http.StatusOK, first.StatusCode)
	second, err := http.Get(srv.URL + "/events")
	require.NoError(t, err)
	second.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, second.StatusCode)
	a.Close() // ends the first stream before the server closes
}

func TestControl_JournalAndLedgerPages(t *testing.T) {
	a := listen(t)
	for i := range 5 {
		a.Journal().Append(acquirer.Entry{Kind: acquirer.KindFault, Detail: string(rune('a' + i))})
	}
	ctl, err := acquirer.NewControl(a, nil)
	require.NoError(t, err)
	srv := httptest.NewServer(ctl)
	t.Cleanup(srv.Close)
	var page []acquirer.Entry
	getJSONOK(t, srv.URL+"/journal?after=2&limit=2", &page)
	require.Len(t, page, 2)
	require.Equal(t, int64(3), page[0].Seq)
	require.Equal(t, int64(4), page[1].Seq)
	r, err := http.Get(srv.URL + "/journal?limit=x")
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusBadRequest, r.StatusCode)
	var ledger acquirer.Snapshot
	getJSONOK(t, srv.URL+"/ledger?after=0&limit=1", &ledger)
	require.Empty(t, ledger.Records, "no sale yet")
	require.NotEmpty(t, ledger.Accounts)
}

func getJSONOK(t *testing.T, url string, v any) {
	t.Helper()
	r, err := http.Get(url)
	require.NoError(t, err)
	defer r.Body.Close()
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.NoError(t, json.NewDecoder(r.Body).Decode(v))
}

func TestControl_LargeScenarioIs413NotTruncated(t *testing.T) {
	a := listen(t)
	loaded := false
	ctl, err := acquirer.NewControl(a, func(string, []byte) (acquirer.Setup, error) { loaded = true; return acquirer.Setup{}, nil })
	require.NoError(t, err)
	srv := httptest.NewServer(ctl)
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/scenario", strings.NewReader(strings.Repeat("#", acquirer.MaxScenarioBody+1)))
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode)
	require.False(t, loaded, "nothing half-read was loaded")
}

func TestHub_OneChunkForEverySubscriber(t *testing.T) {
	h := acquirer.NewHub()
	h.Publish(acquirer.Entry{Seq: 1, Kind: acquirer.KindIn}) // nobody listens: not kept
	a, err := h.Subscribe()
	require.NoError(t, err)
	defer a.Close()
	b, err := h.Subscribe()
	require.NoError(t, err)
	defer b.Close()
	for i := int64(2); i <= 4; i++ {
		h.Publish(acquirer.Entry{Seq: i, Kind: acquirer.KindIn})
	}
	chunkA, chunkB := <-a.C, <-b.C
	require.Equal(t, string(chunkA), string(chunkB))
	require.NotContains(t, string(chunkA), "id: 1\n")
	for i := 2; i <= 4; i++ {
		require.Contains(t, string(chunkA), fmt.Sprintf("id: %d\n", i))
	}

	// more than a chunk's budget: the newest go, the rest are counted
	n := 3 * acquirer.StreamBudget
	for i := range n {
		h.Publish(acquirer.Entry{Seq: int64(100 + i), Kind: acquirer.KindIn})
	}
	var all strings.Builder
	for !strings.Contains(all.String(), fmt.Sprintf("id: %d\n", 100+n-1)) {
		all.Write(<-a.C)
	}
	require.Contains(t, all.String(), ": skipped ")
}
