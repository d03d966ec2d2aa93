package acquirer_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/posim/posim/acquirer"
	"github.com/stretchr/testify/require"
)

// guarded serves a stand-in API behind the guard and counts the calls
// that got through.
func guarded(t *testing.T, token string) (*httptest.Server, *int) {
	t.Helper()
	calls := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { calls++; w.WriteHeader(http.StatusNoContent) })
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.Handler = acquirer.Guard(h, acquirer.GuardConfig{Addr: srv.Listener.Addr().String(), Token: token, Hosts: []string{"posim.lab.example"}})
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &calls
}

func do(t *testing.T, req *http.Request) int {
	t.Helper()
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	r.Body.Close()
	return r.StatusCode
}

// A page on another site can post a form to 127.0.0.1: it must not reset
// the books.
func TestGuard_CrossSiteFormPostIsRefused(t *testing.T) {
	srv, calls := guarded(t, "")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/reset", strings.NewReader(url.Values{"x": {"1"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	require.Equal(t, http.StatusForbidden, do(t, req))

	// even with a JSON body, a browser says where the request comes from
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/reset", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, do(t, req))

	// a form posted without an Origin (an old browser) still has a form type
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/reset", strings.NewReader("x=1"))
	req.Header.Set("Content-Type", "text/plain")
	require.Equal(t, http.StatusForbidden, do(t, req))
	require.Zero(t, *calls)

	// curl or the page itself: JSON, same origin
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/reset", nil)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", srv.URL)
	require.Equal(t, http.StatusNoContent, do(t, req))
	require.Equal(t, 1, *calls)
}

// DNS rebinding: the attacker's name resolves to 127.0.0.1, and the
// browser sends it as the Host.
func TestGuard_ForeignHostIsRefused(t *testing.T) {
	srv, calls := guarded(t, "")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/journal", nil)
	req.Host = "rebind.evil.example"
	require.Equal(t, http.StatusForbidden, do(t, req))
	require.Zero(t, *calls)
	for _, host := range []string{"localhost:1234", "127.0.0.1", "posim.lab.example:8584"} {
		req, _ = http.NewRequest(http.MethodGet, srv.URL+"/journal", nil)
		req.Host = host
		require.Equal(t, http.StatusNoContent, do(t, req), host)
	}
}

func TestGuard_TokenIsRequiredForEverything(t *testing.T) {
	srv, calls := guarded(t, "s3cret")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/journal", nil)
	require.Equal(t, http.StatusForbidden, do(t, req))
	req.Header.Set("Authorization", "Bearer wrong")
	require.Equal(t, http.StatusForbidden, do(t, req))
	require.Zero(t, *calls)
	req.Header.Set("Authorization", "Bearer s3cret")
	require.Equal(t, http.StatusNoContent, do(t, req))
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/?token=s3cret", nil)
	require.Equal(t, http.StatusNoContent, do(t, req), "a browser opening the page")
}

func TestCheckControlAddr(t *testing.T) {
	require.NoError(t, acquirer.CheckControlAddr("127.0.0.1:8584", ""))
	require.NoError(t, acquirer.CheckControlAddr("[::1]:8584", ""))
	require.NoError(t, acquirer.CheckControlAddr("localhost:8584", ""))
	require.ErrorContains(t, acquirer.CheckControlAddr("0.0.0.0:8584", ""), "--control-token")
	require.ErrorContains(t, acquirer.CheckControlAddr(":8584", ""), "--control-token")
	require.NoError(t, acquirer.CheckControlAddr("0.0.0.0:8584", "s3cret"))
}
