package proxy_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/faults"
	"github.com/posim/posim/proxy"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// get asks the control API and returns the status and body.
func get(t *testing.T, c *proxy.Control, target string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	c.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w.Code, w.Body.String()
}

func journalDetails(t *testing.T, body string) []string {
	t.Helper()
	var es []acquirer.Entry
	require.NoError(t, json.Unmarshal([]byte(body), &es))
	var out []string
	for _, e := range es {
		out = append(out, e.Detail)
	}
	return out
}

// The control API counts what passed: an undecodable frame, a sale
// passed through, a sale a rule fired on.
func TestControl_CountsWhatPasses(t *testing.T) {
	h := newISOHost(t, approve)
	px, _, f := relay(t, h, `[{id: second, when: {op: sale, nth: 2}, do: [process, {respond: {de39: "05"}}]}]`)
	ctl, err := proxy.NewControl(px, f)
	require.NoError(t, err)
	p := dialPOS(t, px.Addr())
	junk := frame([]byte("not ISO 8583"))
	_, err = p.c.Write(junk)
	require.NoError(t, err)
	require.Equal(t, junk, h.frame(t))
	p.send(t, posSale("000001"))
	require.Equal(t, "00", decode(t, p.read(t)).ResponseCode)
	p.send(t, posSale("000002"))
	require.Equal(t, "05", decode(t, p.read(t)).ResponseCode)

	code, body := get(t, ctl, "/rules")
	require.Equal(t, http.StatusOK, code)
	var stats []faults.RuleStats
	require.NoError(t, json.Unmarshal([]byte(body), &stats))
	require.Len(t, stats, 1)
	require.Equal(t, []any{"second", 2, 1}, []any{stats[0].ID, stats[0].Matched, stats[0].Fired})

	_, metrics := get(t, ctl, "/metrics")
	for _, line := range []string{
		`posim_proxy_messages_total{direction="from terminal",mti="0200",rc=""} 2`,
		`posim_proxy_messages_total{direction="to host",mti="0200",rc=""} 2`,
		`posim_proxy_messages_total{direction="from host",mti="0210",rc="00"} 2`,
		`posim_proxy_messages_total{direction="to terminal",mti="0210",rc="00"} 1`,
		`posim_proxy_messages_total{direction="to terminal",mti="0210",rc="05"} 1`,
		`posim_proxy_rule_matched_total{rule="second"} 2`,
		`posim_proxy_rule_fired_total{rule="second"} 1`,
		`posim_proxy_faults_total 1`,
		`posim_proxy_undecoded_frames_total 1`,
		`posim_proxy_connections 1`,
	} {
		require.Contains(t, metrics, "\n"+line+"\n")
	}

	code, body = get(t, ctl, "/journal?stan=000002")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, []string{proxy.FromTerminal, proxy.ToHost, proxy.FromHost, "rule second: respond(de39=05)", proxy.ToTerminal},
		journalDetails(t, body))
	_, body = get(t, ctl, "/journal?kind=bad_frame")
	bad := journalDetails(t, body)
	require.Len(t, bad, 1)
	require.Contains(t, bad[0], proxy.FromTerminal+": ")
	require.Contains(t, bad[0], "passed through unchanged")
}

func TestControl_JournalPages(t *testing.T) {
	h := newISOHost(t, approve)
	px, j, _ := relay(t, h, "")
	ctl, err := proxy.NewControl(px, nil)
	require.NoError(t, err)
	p := dialPOS(t, px.Addr())
	p.send(t, posSale("000001"))
	p.read(t)
	all := j.List(acquirer.Filter{})
	require.GreaterOrEqual(t, len(all), 4)

	_, body := get(t, ctl, "/journal?after="+strconv.FormatInt(all[1].Seq, 10)+"&limit=2")
	var page []acquirer.Entry
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	require.Len(t, page, 2)
	require.Equal(t, []int64{all[2].Seq, all[3].Seq}, []int64{page[0].Seq, page[1].Seq})

	for _, q := range []string{"after=x", "after=-1", "limit=many"} {
		code, _ := get(t, ctl, "/journal?"+q)
		require.Equal(t, http.StatusBadRequest, code, q)
	}
	code, body := get(t, ctl, "/rules")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, "[]", body, "no rules: an empty list")
}

type otherJournal struct{ *acquirer.MemJournal }

func TestControl_NeedsTheInMemoryJournal(t *testing.T) {
	px, err := proxy.New(proxy.Config{Upstream: "127.0.0.1:1", Profile: wire.ISO87, Journal: otherJournal{acquirer.NewMemJournal()}})
	require.NoError(t, err)
	_, err = proxy.NewControl(px, nil)
	require.ErrorContains(t, err, "needs the in-memory journal")
}
