package acquirer

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// GuardConfig locks down an HTTP API served on Addr: the control APIs of
// the acquirer and the proxy, and the demo page.
type GuardConfig struct {
	// Addr is the address the API is served on (host:port).
	Addr string
	// Token, when set, must come with every request as "Authorization:
	// Bearer TOKEN" (or ?token=TOKEN, for a browser opening a page).
	Token string
	// Hosts are extra names the Host header may give (a DNS name the API
	// is reached by); IP literals and localhost are always accepted.
	Hosts []string
}

// CheckControlAddr refuses to serve an API on an address other machines
// can reach unless it needs a token: a control API can wipe the books.
func CheckControlAddr(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("control address %q: %w", addr, err)
	}
	if isLoopback(host) || token != "" {
		return nil
	}
	return fmt.Errorf("control address %s can be reached from other machines: give --control-token (a secret every request must carry), or listen on 127.0.0.1", addr)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ErrGuard is what a refused request's error wraps.
var ErrGuard = errors.New("refused")

// Guard wraps h with the checks of an API that must not be reachable from
// a web page the tester happens to visit:
//   - the Host header must be an IP literal, localhost or a name in Hosts
//     (a DNS rebinding attack reaches the API under the attacker's name);
//   - with a token, every request must carry it;
//   - without one, a request that changes state (any method but GET, HEAD
//     and OPTIONS) must come from the same origin (Origin and
//     Sec-Fetch-Site, when the browser sends them) with a content type no
//     cross-site HTML form can send (application/json, or YAML for a
//     scenario): a form on another site cannot reset the books or load
//     rules.
func Guard(h http.Handler, cfg GuardConfig) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := cfg.check(r); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (cfg GuardConfig) check(r *http.Request) error {
	if err := cfg.checkHost(r.Host); err != nil {
		return err
	}
	if cfg.Token != "" {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if got == "" {
			got = r.URL.Query().Get("token")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(cfg.Token)) != 1 {
			return fmt.Errorf("%w: this API needs its token (Authorization: Bearer TOKEN)", ErrGuard)
		}
		return nil
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return fmt.Errorf("%w: a %s request from another site (Sec-Fetch-Site: %s)", ErrGuard, r.Method, site)
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return fmt.Errorf("%w: a %s request from origin %s, not this one", ErrGuard, r.Method, o)
		}
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json", "application/yaml", "application/x-yaml", "text/yaml":
		return nil
	}
	return fmt.Errorf("%w: a %s request needs Content-Type: application/json (or application/yaml for a scenario), which no cross-site form can send", ErrGuard, r.Method)
}

func (cfg GuardConfig) checkHost(hostport string) error {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "" || host == "localhost" || net.ParseIP(host) != nil {
		return nil
	}
	if want, _, err := net.SplitHostPort(cfg.Addr); err == nil && strings.EqualFold(want, host) {
		return nil
	}
	for _, h := range cfg.Hosts {
		if strings.EqualFold(h, host) {
			return nil
		}
	}
	return fmt.Errorf("%w: Host %q is not a name this API is served under (DNS rebinding?); give it with --control-host", ErrGuard, hostport)
}
