package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// call sends a control API request and returns the status and body.
func call(t *testing.T, method, url, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer r.Body.Close()
	data, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(data)
}

// Rules one by one, as testers do with WireMock and toxiproxy: add one,
// watch it fire, disable it, delete it; count what a terminal sent.
func TestCLI_ControlRulesAndVerify(t *testing.T) {
	acq, ctl := deadAddr(t), deadAddr(t)
	serve(t, acq, "acquirer", "--listen", acq, "--control", ctl, "--log-level", "warn")
	serve(t, ctl)
	base := "http://" + ctl
	code, body := call(t, "GET", base+"/rules", "", "")
	require.Equal(t, 200, code)
	require.JSONEq(t, "[]", body, "an empty list, never null")

	code, body = call(t, "POST", base+"/rules", "application/json", `{"id": "decline-big", "when": {"amount": {"min": "100.00"}}, "do": [{"respond": {"de39": "61"}}]}`)
	require.Equal(t, 201, code, body)
	code, body = call(t, "POST", base+"/rules", "application/json", `{"id": "decline-big", "do": ["process"]}`)
	require.Equal(t, 400, code)
	require.Contains(t, body, "already used")
	code, body = call(t, "POST", base+"/rules", "application/json", `{"id": "x", "do": ["teleport"]}`)
	require.Equal(t, 400, code)
	require.Contains(t, body, `unknown action "teleport"`)

	state := t.TempDir()
	sale := func(amount string) string {
		_, out, _ := posim(t, "terminal", "sale", "--host", acq, "--amount", amount, "--json", "--state", state)
		return decode(t, out).ResponseCode
	}
	require.Equal(t, "61", sale("150.00"))
	require.Equal(t, "00", sale("5.00"))
	var rules []struct {
		ID      string `json:"id"`
		Enabled bool   `json:"enabled"`
		Matched int    `json:"matched"`
		Fired   int    `json:"fired"`
	}
	_, body = call(t, "GET", base+"/rules", "", "")
	require.NoError(t, json.Unmarshal([]byte(body), &rules))
	require.Equal(t, 1, rules[0].Fired)
	require.True(t, rules[0].Enabled)

	code, _ = call(t, "PATCH", base+"/rules/decline-big", "application/json", `{"enabled": false}`)
	require.Equal(t, 200, code)
	require.Equal(t, "00", sale("150.00"), "a disabled rule does not fire")
	code, _ = call(t, "DELETE", base+"/rules/decline-big", "application/json", "")
	require.Equal(t, 204, code)
	code, _ = call(t, "DELETE", base+"/rules/decline-big", "application/json", "")
	require.Equal(t, 404, code)

	var v struct {
		Count int `json:"count"`
	}
	_, body = call(t, "GET", base+"/verify?mti=0200&tid=POSIM001", "", "")
	require.NoError(t, json.Unmarshal([]byte(body), &v))
	require.Equal(t, 3, v.Count)
	code, body = call(t, "GET", base+"/verify?mit=0200", "", "")
	require.Equal(t, 400, code)
	require.Contains(t, body, "unknown query parameter mit")
	code, _ = call(t, "GET", base+"/journal?kinds=in", "", "")
	require.Equal(t, 400, code)
}

// The OpenAPI document and the handlers agree: every documented call is
// served, and every served call is documented.
func TestCLI_OpenAPIMatchesTheHandlers(t *testing.T) {
	acq, ctl := deadAddr(t), deadAddr(t)
	serve(t, acq, "acquirer", "--listen", acq, "--control", ctl, "--log-level", "warn")
	serve(t, ctl)
	base := "http://" + ctl
	code, body := call(t, "GET", base+"/openapi.json", "", "")
	require.Equal(t, 200, code)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	require.Equal(t, "3.0.3", doc.OpenAPI)
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := []string{"GET /journal", "GET /ledger", "PUT /scenario", "POST /reset", "GET /lines", "GET /fees", "GET /statement",
		"GET /disputes", "GET /events", "GET /rules", "POST /rules", "DELETE /rules/{id}", "PATCH /rules/{id}", "GET /verify",
		"GET /openapi.json", "GET /metrics"}
	for _, s := range served {
		require.True(t, documented[s], "%s is served but not documented", s)
	}
	require.Len(t, documented, len(served), "every documented call is one the handlers serve")
	for call := range documented {
		method, path, _ := strings.Cut(call, " ")
		if method != "GET" || path == "/events" {
			continue
		}
		path = strings.ReplaceAll(path, "{id}", "x")
		if path == "/statement" {
			path += "?mid=POSIM0000000001&day=2026-01-01"
		}
		r, err := http.Get(base + path)
		require.NoError(t, err)
		r.Body.Close()
		require.Equal(t, 200, r.StatusCode, "GET %s", path)
	}
}
