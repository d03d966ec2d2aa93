package acquirer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// The control API's calls, each with its status codes, served by
// httptest over an acquirer that needs no ISO listener: the engine and
// the journal are fed directly.

var ctlDay = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC) // a Thursday

// controlAPI serves the control API of a new acquirer.
func controlAPI(t *testing.T, load acquirer.ScenarioLoader, opts ...acquirer.Option) (*acquirer.Acquirer, *acquirer.Control, *httptest.Server) {
	t.Helper()
	a, err := acquirer.New(append([]acquirer.Option{acquirer.WithClock(func() time.Time { return ctlDay })}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	ctl, err := acquirer.NewControl(a, load)
	require.NoError(t, err)
	srv := httptest.NewServer(ctl)
	t.Cleanup(srv.Close)
	return a, ctl, srv
}

// call makes a request and returns the status, the content type and the body.
func call(t *testing.T, method, url, contentType, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return r.StatusCode, r.Header.Get("Content-Type"), string(data)
}

var ctlSTAN int

func ctlSale(pan string, amount int64) *wire.Txn {
	ctlSTAN++
	return &wire.Txn{MTI: "0200", Op: wire.OpSale, ProcessingCode: wire.PCPurchase, PAN: pan, Amount: amount, HasAmount: true,
		STAN: fmt.Sprintf("%06d", ctlSTAN), TransmissionTime: "0115100000", TID: "T1", MID: "M1"}
}

func seqs(entries []acquirer.Entry) []int64 {
	var out []int64
	for _, e := range entries {
		out = append(out, e.Seq)
	}
	return out
}

func TestControlAPI_JournalFiltersAndPages(t *testing.T) {
	conns := acquirer.NewRingJournal(10)
	a, _, srv := controlAPI(t, nil, acquirer.WithConnectionLog(conns))
	j := a.Journal()
	for _, e := range []acquirer.Entry{
		{Kind: acquirer.KindIn, MTI: "0200", STAN: "000001", TID: "T1"},                                // 1
		{Kind: acquirer.KindDecision, MTI: "0200", STAN: "000001", TID: "T1", Status: "approved"},      // 2
		{Kind: acquirer.KindOut, MTI: "0210", STAN: "000001", TID: "T1", RC: "00"},                     // 3
		{Kind: acquirer.KindIn, MTI: "0200", STAN: "000002", TID: "T2"},                                // 4
		{Kind: acquirer.KindDecision, MTI: "0200", STAN: "000002", TID: "T2", Status: "declined"},      // 5
		{Kind: acquirer.KindIn, MTI: "0400", STAN: "000003", TID: "T1"},                                // 6
		{Kind: acquirer.KindDecision, MTI: "0400", STAN: "000003", TID: "T1", Status: "orphan"},        // 7
		{Kind: acquirer.KindOrphan, MTI: "0400", STAN: "000003", TID: "T1", Detail: "original unseen"}, // 8
	} {
		j.Append(e)
	}
	conns.Append(acquirer.Entry{Kind: acquirer.KindConnection, Detail: "open"})
	for _, c := range []struct {
		query string
		want  []int64
	}{
		{"", []int64{1, 2, 3, 4, 5, 6, 7, 8}},
		{"?kind=in", []int64{1, 4, 6}},
		{"?tid=T2", []int64{4, 5}},
		{"?kind=in&tid=T1", []int64{1, 6}},
		{"?stan=000003&mti=0400", []int64{6, 7, 8}},
		{"?mti=0210", []int64{3}},
		{"?status=declined", []int64{5}},
		{"?kind=decision&status=approved", []int64{2}},
		{"?after=2&limit=3", []int64{3, 4, 5}},
		{"?kind=in&after=1&limit=1", []int64{4}},
		{"?after=6", []int64{7, 8}},
		{"?limit=0", []int64{1, 2, 3, 4, 5, 6, 7, 8}},
		{"?token=whatever&kind=orphan", []int64{8}},
	} {
		var got []acquirer.Entry
		getJSONOK(t, srv.URL+"/journal"+c.query, &got)
		require.Equal(t, c.want, seqs(got), c.query)
	}

	code, _, body := call(t, http.MethodGet, srv.URL+"/journal?after=8", "", "")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, "[]", body, "an empty page is a list")

	var cl []acquirer.Entry
	getJSONOK(t, srv.URL+"/journal?kind=connection", &cl)
	require.Len(t, cl, 1, "the connection log, not the journal")
	require.Equal(t, "open", cl[0].Detail)

	for query, naming := range map[string]string{
		"?after=-1":         "after",
		"?after=x":          "after",
		"?limit=-5":         "limit",
		"?terminal=T1":      "terminal",
		"?kind=in&rc=00":    "rc",
		"?page=2&offset=10": "offset, page",
	} {
		code, _, body := call(t, http.MethodGet, srv.URL+"/journal"+query, "", "")
		require.Equal(t, http.StatusBadRequest, code, query)
		require.Contains(t, body, naming, query)
	}
}

func TestControlAPI_LedgerPages(t *testing.T) {
	a, _, srv := controlAPI(t, nil)
	for i := range 3 {
		d := a.Engine().Decide(ctlSale("6200000000000005", int64(100*(i+1))), ctlDay)
		require.Equal(t, "00", d.Response.ResponseCode)
	}
	ids := func(s acquirer.Snapshot) (recs, posts []int64) {
		for _, r := range s.Records {
			recs = append(recs, r.ID)
		}
		for _, p := range s.Postings {
			posts = append(posts, p.Record)
		}
		return recs, posts
	}
	for query, want := range map[string][]int64{
		"":                 {1, 2, 3},
		"?limit=2":         {1, 2},
		"?after=1&limit=1": {2},
		"?after=1":         {2, 3},
	} {
		var s acquirer.Snapshot
		getJSONOK(t, srv.URL+"/ledger"+query, &s)
		recs, posts := ids(s)
		require.Equal(t, want, recs, query)
		require.Equal(t, want, posts, "%s: the page's postings only", query)
		require.NotEmpty(t, s.Accounts, "accounts on every page")
	}
	code, _, body := call(t, http.MethodGet, srv.URL+"/ledger?after=3", "", "")
	require.Equal(t, http.StatusOK, code)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(body), &raw))
	for _, k := range []string{"records", "postings", "settlements"} {
		require.Equal(t, "[]", string(raw[k]), "%s: an empty list, not null", k)
	}
	for _, q := range []string{"?limit=x", "?after=-1", "?kind=in"} {
		code, _, _ := call(t, http.MethodGet, srv.URL+"/ledger"+q, "", "")
		require.Equal(t, http.StatusBadRequest, code, q)
	}
}

// GET /verify counts the requests received, as WireMock verifies.
func TestControlAPI_Verify(t *testing.T) {
	a, _, srv := controlAPI(t, nil)
	j := a.Journal()
	for _, e := range []acquirer.Entry{
		{Kind: acquirer.KindIn, MTI: "0200", Op: "sale", STAN: "000001", TID: "T1", MID: "M1"},
		{Kind: acquirer.KindOut, MTI: "0210", Op: "sale", STAN: "000001", TID: "T1", MID: "M1"},
		{Kind: acquirer.KindDecision, MTI: "0200", Op: "sale", STAN: "000001", TID: "T1", MID: "M1"},
		{Kind: acquirer.KindIn, MTI: "0400", Op: "reversal", STAN: "000002", TID: "T1", MID: "M1"},
		{Kind: acquirer.KindIn, MTI: "0400", Op: "reversal", STAN: "000002", TID: "T1", MID: "M1"},
		{Kind: acquirer.KindIn, MTI: "0400", Op: "reversal", STAN: "000009", TID: "T2", MID: "M2"},
	} {
		j.Append(e)
	}
	type answer struct {
		Count int               `json:"count"`
		Match map[string]string `json:"match"`
	}
	for query, want := range map[string]answer{
		"":                      {4, map[string]string{}},
		"?mti=0400&tid=T1":      {2, map[string]string{"mti": "0400", "tid": "T1"}},
		"?op=reversal":          {3, map[string]string{"op": "reversal"}},
		"?mid=M2":               {1, map[string]string{"mid": "M2"}},
		"?mti=0210":             {0, map[string]string{"mti": "0210"}},
		"?op=sale&tid=T1":       {1, map[string]string{"op": "sale", "tid": "T1"}},
		"?mti=0400&mid=M1&op=x": {0, map[string]string{"mti": "0400", "mid": "M1", "op": "x"}},
	} {
		var got answer
		getJSONOK(t, srv.URL+"/verify"+query, &got)
		require.Equal(t, want, got, query)
	}
	code, _, body := call(t, http.MethodGet, srv.URL+"/verify?rc=00", "", "")
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "rc")

	code, _, _ = call(t, http.MethodPost, srv.URL+"/reset", "application/json", "")
	require.Equal(t, http.StatusNoContent, code)
	var got answer
	getJSONOK(t, srv.URL+"/verify?op=reversal", &got)
	require.Zero(t, got.Count, "counted since the journal was reset")
}

// fakeRules is a rule set as the control API manages it.
type fakeRules struct {
	mu    sync.Mutex
	order []string
	on    map[string]bool
}

func (f *fakeRules) Handle(ctx context.Context, x *acquirer.Exchange) {
	acquirer.DefaultHandler.Handle(ctx, x)
}

func (f *fakeRules) RulesJSON() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []map[string]any{}
	for _, id := range f.order {
		out = append(out, map[string]any{"id": id, "enabled": f.on[id]})
	}
	return out
}

func (f *fakeRules) AddRule(data []byte) error {
	var r struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &r); err != nil || r.ID == "" {
		return errors.New("line 1: a rule needs an id")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, taken := f.on[r.ID]; taken {
		return errors.New("rule id " + r.ID + " is taken")
	}
	f.order = append(f.order, r.ID)
	f.on[r.ID] = true
	return nil
}

func (f *fakeRules) RemoveRule(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.on[id]; !ok {
		return errors.New("no rule " + id)
	}
	delete(f.on, id)
	f.order = slices.DeleteFunc(f.order, func(s string) bool { return s == id })
	return nil
}

func (f *fakeRules) EnableRule(id string, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.on[id]; !ok {
		return errors.New("no rule " + id)
	}
	f.on[id] = on
	return nil
}

var _ acquirer.RuleManager = (*fakeRules)(nil)

func TestControlAPI_Rules(t *testing.T) {
	const js = "application/json"
	t.Run("an acquirer without a rule factory lists none and takes none", func(t *testing.T) {
		a, _, srv := controlAPI(t, nil)
		code, _, body := call(t, http.MethodGet, srv.URL+"/rules", "", "")
		require.Equal(t, http.StatusOK, code)
		require.JSONEq(t, "[]", body)
		code, _, _ = call(t, http.MethodPost, srv.URL+"/rules", js, `{"id": "r1"}`)
		require.Equal(t, http.StatusNotImplemented, code)
		code, _, _ = call(t, http.MethodDelete, srv.URL+"/rules/r1", "", "")
		require.Equal(t, http.StatusNotFound, code)
		code, _, _ = call(t, http.MethodPatch, srv.URL+"/rules/r1", js, `{"enabled": false}`)
		require.Equal(t, http.StatusNotFound, code)
		require.Equal(t, acquirer.DefaultHandler, a.Handler())
	})
	t.Run("a factory that makes no rule set is refused", func(t *testing.T) {
		a, ctl, srv := controlAPI(t, nil)
		ctl.SetRuleFactory(func() (acquirer.Handler, error) { return acquirer.DefaultHandler, nil })
		code, _, _ := call(t, http.MethodPost, srv.URL+"/rules", js, `{"id": "r1"}`)
		require.Equal(t, http.StatusNotImplemented, code)
		require.Equal(t, acquirer.DefaultHandler, a.Handler())
	})

	a, ctl, srv := controlAPI(t, nil)
	rules := &fakeRules{on: map[string]bool{}}
	made := 0
	ctl.SetRuleFactory(func() (acquirer.Handler, error) { made++; return rules, nil })
	list := func() string {
		code, _, body := call(t, http.MethodGet, srv.URL+"/rules", "", "")
		require.Equal(t, http.StatusOK, code)
		return body
	}

	code, _, body := call(t, http.MethodPost, srv.URL+"/rules", js, `{"id": "r1"}`)
	require.Equal(t, http.StatusCreated, code)
	require.JSONEq(t, `[{"id": "r1", "enabled": true}]`, body, "the rules after the change")
	require.Same(t, rules, a.Handler(), "the rule set now handles the requests")
	code, _, _ = call(t, http.MethodPost, srv.URL+"/rules", js, `{"id": "r2"}`)
	require.Equal(t, http.StatusCreated, code)
	require.Equal(t, 1, made, "the second rule joins the first's set")

	code, _, body = call(t, http.MethodPost, srv.URL+"/rules", js, `{"when": {}}`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "line 1: a rule needs an id", "the rule set's own words")
	code, _, body = call(t, http.MethodPost, srv.URL+"/rules", js, `{"id": "r1"}`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "taken")
	code, _, _ = call(t, http.MethodPost, srv.URL+"/rules?id=r3", js, `{"id": "r3"}`)
	require.Equal(t, http.StatusBadRequest, code, "an unknown query parameter")
	code, _, _ = call(t, http.MethodPost, srv.URL+"/rules", js, `{"id": "`+strings.Repeat("x", 64<<10)+`"}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, code)
	require.JSONEq(t, `[{"id": "r1", "enabled": true}, {"id": "r2", "enabled": true}]`, list(), "refused rules were not added")

	code, _, body = call(t, http.MethodPatch, srv.URL+"/rules/r1", js, `{"enabled": false}`)
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `[{"id": "r1", "enabled": false}, {"id": "r2", "enabled": true}]`, body)
	for _, bad := range []string{`{}`, `{"enabled": "no"}`, `{"enabled": true, "times": 2}`, `enabled`} {
		code, _, _ = call(t, http.MethodPatch, srv.URL+"/rules/r1", js, bad)
		require.Equal(t, http.StatusBadRequest, code, bad)
	}
	code, _, _ = call(t, http.MethodPatch, srv.URL+"/rules/nope", js, `{"enabled": true}`)
	require.Equal(t, http.StatusNotFound, code)
	require.JSONEq(t, `[{"id": "r1", "enabled": false}, {"id": "r2", "enabled": true}]`, list())

	code, _, _ = call(t, http.MethodDelete, srv.URL+"/rules/r1", "", "")
	require.Equal(t, http.StatusNoContent, code)
	code, _, _ = call(t, http.MethodDelete, srv.URL+"/rules/r1", "", "")
	require.Equal(t, http.StatusNotFound, code, "deleted once")
	require.JSONEq(t, `[{"id": "r2", "enabled": true}]`, list())

	code, _, _ = call(t, http.MethodPost, srv.URL+"/reset", js, "")
	require.Equal(t, http.StatusNoContent, code)
	require.JSONEq(t, `[]`, list(), "a reset restores the default handler, with no rules")
}

func TestControlAPI_BackOfficeCalls(t *testing.T) {
	a, _, srv := controlAPI(t, nil)
	for _, path := range []string{"/lines", "/fees", "/disputes"} {
		code, ct, body := call(t, http.MethodGet, srv.URL+path, "", "")
		require.Equal(t, http.StatusOK, code, path)
		require.Equal(t, "application/json", ct)
		require.JSONEq(t, "[]", body, "%s: an empty list, never null", path)
		code, _, body = call(t, http.MethodGet, srv.URL+path+"?mid=M1", "", "")
		require.Equal(t, http.StatusBadRequest, code, path)
		require.Contains(t, body, "mid")
	}

	require.NoError(t, a.Engine().SetContracts(23*time.Hour, []acquirer.Contract{{MID: "M1", Debit: acquirer.FeeRule{PPM: 6000}, Cycle: "T+1"}}))
	require.Equal(t, "00", a.Engine().Decide(ctlSale("6200000000000005", 100000), ctlDay).Response.ResponseCode)
	a.Engine().Advance(ctlDay.Add(14 * time.Hour))
	var lines []acquirer.Line
	getJSONOK(t, srv.URL+"/lines", &lines)
	require.Len(t, lines, 1)
	require.Equal(t, int64(99400), lines[0].Net, "1000.00 less 0.60 %")

	var st acquirer.Statement
	getJSONOK(t, srv.URL+"/statement?mid=M1&day=2026-01-15", &st)
	require.Equal(t, "M1", st.MID)
	require.Equal(t, int64(100000), st.Sales)
	require.Equal(t, int64(99400), st.NetPayout)
	code, ct, body := call(t, http.MethodGet, srv.URL+"/statement?mid=M1&day=2026-01-15&format=text", "", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "text/plain; charset=utf-8", ct)
	require.Contains(t, body, "merchant M1, business day 2026-01-15")
	require.Contains(t, body, "net payout 994.00")
	for _, q := range []string{"?mid=M1", "?day=2026-01-15", "", "?mid=M1&day=2026-01-15&tid=T1"} {
		code, _, _ := call(t, http.MethodGet, srv.URL+"/statement"+q, "", "")
		require.Equal(t, http.StatusBadRequest, code, q)
	}
}

func TestControlAPI_Reset(t *testing.T) {
	a, _, srv := controlAPI(t, nil)
	start, _ := a.Engine().Account("6200000000000005")
	a.Engine().Decide(ctlSale("6200000000000005", 5000), ctlDay)
	a.Journal().Append(acquirer.Entry{Kind: acquirer.KindIn, MTI: "0200"})
	a.SetHandler(acquirer.HandlerFunc(func(context.Context, *acquirer.Exchange) {}))

	code, _, _ := call(t, http.MethodPost, srv.URL+"/reset?all=1", "application/json", "")
	require.Equal(t, http.StatusBadRequest, code)
	require.NotEmpty(t, a.Engine().Snapshot().Records, "a refused reset changes nothing")

	code, _, _ = call(t, http.MethodPost, srv.URL+"/reset", "application/json", "")
	require.Equal(t, http.StatusNoContent, code)
	require.Empty(t, a.Engine().Snapshot().Records)
	now, _ := a.Engine().Account("6200000000000005")
	require.Equal(t, start.Balance, now.Balance, "the ledger is back to its seed")
	require.Empty(t, a.Journal().List(acquirer.Filter{}))
	require.Equal(t, acquirer.DefaultHandler, a.Handler())
}

// PUT /scenario replaces the rules, policies and back office at once, or
// nothing when any part is refused.
func TestControlAPI_Scenario(t *testing.T) {
	t.Run("501 without a scenario loader", func(t *testing.T) {
		_, _, srv := controlAPI(t, nil)
		code, _, _ := call(t, http.MethodPut, srv.URL+"/scenario", "application/yaml", "name: x")
		require.Equal(t, http.StatusNotImplemented, code)
	})
	custom := acquirer.HandlerFunc(func(_ context.Context, x *acquirer.Exchange) { _ = x.Respond(x.Request.Response("91")) })
	setups := map[string]acquirer.Setup{}
	load := func(_ string, data []byte) (acquirer.Setup, error) {
		s, ok := setups[string(data)]
		if !ok {
			return acquirer.Setup{}, errors.New("scenario.yaml:3: unknown key \"colour\"")
		}
		return s, nil
	}
	bad := acquirer.DefaultPolicies()
	bad.Duplicate = "ignore"
	good := acquirer.DefaultPolicies()
	good.Duplicate = acquirer.Duplicate19
	setups["bad-policies"] = acquirer.Setup{Handler: custom, Policies: &bad, BackOffice: &acquirer.BackOffice{Cutover: 22 * time.Hour}}
	setups["bad-contract"] = acquirer.Setup{Handler: custom, Policies: &good,
		BackOffice: &acquirer.BackOffice{Cutover: 22 * time.Hour, Contracts: []acquirer.Contract{{MID: "M1", Cycle: "T+7"}}}}
	setups["good"] = acquirer.Setup{Handler: custom, Policies: &good,
		BackOffice: &acquirer.BackOffice{Cutover: 22 * time.Hour, Contracts: []acquirer.Contract{{MID: "M1", Cycle: "D0"}}}}

	for name, why := range map[string]string{"nonsense": "colour", "bad-policies": "duplicate", "bad-contract": "T+7"} {
		t.Run("refused: "+name, func(t *testing.T) {
			a, _, srv := controlAPI(t, load)
			a.Engine().Decide(ctlSale("6200000000000005", 1000), ctlDay)
			code, _, body := call(t, http.MethodPut, srv.URL+"/scenario", "application/yaml", name)
			require.Equal(t, http.StatusBadRequest, code)
			require.Contains(t, body, why)
			require.Equal(t, acquirer.DefaultHandler, a.Handler(), "no rules loaded")
			require.Equal(t, acquirer.DuplicateReplay, a.Engine().Policies().Duplicate, "no policies")
			a.Engine().Advance(ctlDay.Add(48 * time.Hour))
			require.Empty(t, a.Engine().Lines(), "no back office")
		})
	}
	a, _, srv := controlAPI(t, load)
	code, _, _ := call(t, http.MethodPut, srv.URL+"/scenario?name=good", "application/yaml", "good")
	require.Equal(t, http.StatusBadRequest, code, "an unknown query parameter")

	code, ct, body := call(t, http.MethodPut, srv.URL+"/scenario", "application/yaml", "good")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "application/json", ct)
	require.JSONEq(t, `{"status": "loaded"}`, body)
	require.Equal(t, acquirer.Duplicate19, a.Engine().Policies().Duplicate)
	require.IsType(t, acquirer.HandlerFunc(nil), a.Handler(), "the scenario's handler")
	a.Engine().Decide(ctlSale("6200000000000005", 1000), ctlDay)
	a.Engine().Advance(ctlDay.Add(12*time.Hour + time.Minute))
	require.Len(t, a.Engine().Lines(), 1, "the back office's day closed at 22:00")
}

func TestControlAPI_OpenAPIAndMetrics(t *testing.T) {
	a, _, srv := controlAPI(t, nil)
	code, ct, body := call(t, http.MethodGet, srv.URL+"/openapi.json", "", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "application/json", ct)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."), doc.OpenAPI)
	require.Contains(t, doc.Paths, "/journal")

	for _, e := range []acquirer.Entry{
		{Kind: acquirer.KindIn, MTI: "0200"}, {Kind: acquirer.KindOut, MTI: "0210", RC: "51"}, {Kind: acquirer.KindOut, MTI: "0210", RC: "51"},
		{Kind: acquirer.KindFault, Detail: "cut"}, {Kind: acquirer.KindDecision, MTI: "0200", RC: "51"},
	} {
		a.Journal().Append(e)
	}
	code, _, body = call(t, http.MethodGet, srv.URL+"/metrics", "", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `posim_messages_total{direction="in",mti="0200",rc=""} 1`)
	require.Contains(t, body, `posim_messages_total{direction="out",mti="0210",rc="51"} 2`)
	require.NotContains(t, body, `direction="decision"`, "decisions are not messages")
	require.Contains(t, body, "posim_faults_total 1")
	require.Contains(t, body, "posim_connections 0")
}

// Behind the guard: with a token every call needs it; without one, a
// change needs a JSON body; a foreign Host is refused either way.
func TestControlAPI_Guarded(t *testing.T) {
	serve := func(t *testing.T, token string) (*acquirer.Acquirer, *httptest.Server) {
		a, ctl, _ := controlAPI(t, nil)
		srv := httptest.NewUnstartedServer(nil)
		srv.Config.Handler = acquirer.Guard(ctl, acquirer.GuardConfig{Addr: srv.Listener.Addr().String(), Token: token})
		srv.Start()
		t.Cleanup(srv.Close)
		a.Engine().Decide(ctlSale("6200000000000005", 100), ctlDay)
		return a, srv
	}
	reset := func(srv *httptest.Server, token, contentType, host string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/reset", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if host != "" {
			req.Host = host
		}
		return do(t, req)
	}
	t.Run("with a token", func(t *testing.T) {
		a, srv := serve(t, "s3cret")
		code, _, _ := call(t, http.MethodGet, srv.URL+"/ledger", "", "")
		require.NotEqual(t, http.StatusOK, code, "no token")
		require.Less(t, 399, code)
		require.NotEqual(t, http.StatusNoContent, reset(srv, "wrong", "application/json", ""))
		require.Len(t, a.Engine().Snapshot().Records, 1, "not reset")
		var s acquirer.Snapshot
		getJSONOK(t, srv.URL+"/ledger?token=s3cret", &s)
		require.Len(t, s.Records, 1, "?token= opens the page, and is no unknown parameter")
		require.Equal(t, http.StatusNoContent, reset(srv, "s3cret", "", ""), "the token is enough")
		require.Empty(t, a.Engine().Snapshot().Records)
	})
	t.Run("without a token", func(t *testing.T) {
		a, srv := serve(t, "")
		require.Equal(t, http.StatusForbidden, reset(srv, "", "text/plain", ""))
		require.Equal(t, http.StatusForbidden, reset(srv, "", "application/json", "rebind.evil.example"))
		require.Len(t, a.Engine().Snapshot().Records, 1, "not reset")
		require.Equal(t, http.StatusNoContent, reset(srv, "", "application/json", ""))
		require.Empty(t, a.Engine().Snapshot().Records)
	})
}
