package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// getJSON decodes GET url into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	r, err := http.Get(url)
	require.NoError(t, err)
	defer r.Body.Close()
	require.Equal(t, http.StatusOK, r.StatusCode, url)
	require.NoError(t, json.NewDecoder(r.Body).Decode(v))
}

// The acceptance test: posim terminal → posim proxy → posim
// acquirer over loopback, the proxy losing the 0210 of the second sale
// after the host booked it.
func TestCLI_ProxyLosesTheSecondApproval(t *testing.T) {
	t.Parallel() // it waits out the lost answer
	dir := t.TempDir()
	rules := filepath.Join(dir, "lose-second.yaml")
	require.NoError(t, os.WriteFile(rules, []byte(`name: lose-second-approval
title: {en: "The host approves the second sale; its answer is lost on the way back"}
rules:
  - id: lose-second
    when: {op: sale, nth: 2}
    do: [process, no_response]
steps:
  - sale: {amount: "1.00"}
`), 0o644))
	acq, acqCtl, px, pxCtl := deadAddr(t), deadAddr(t), deadAddr(t), deadAddr(t)
	serve(t, acq, "acquirer", "--listen", acq, "--control", acqCtl, "--log-level", "warn")
	serve(t, acqCtl)
	serve(t, px, "proxy", "--listen", px, "--upstream", acq, "--scenario", rules, "--control", pxCtl, "--log-level", "warn")
	serve(t, pxCtl)

	state := filepath.Join(dir, "terminal")
	// the timeout that must fire on the lost answer is also the one of the
	// immediate reversal, which must not: 5 s, above a loaded machine's
	// scheduling jitter
	sale := func(amount string) jsonResult {
		_, out, _ := posim(t, "terminal", "sale", "--host", px, "--amount", amount, "--timeout", "5s", "--immediate-reversal", "--json", "--state", state)
		return decode(t, out)
	}
	first := sale("10.00")
	require.Equal(t, "approved", first.Outcome)
	second := sale("20.00")
	require.Equal(t, "no_response", second.Outcome, "the terminal timed out")
	require.Len(t, second.ReversalsSent, 1, "and reversed")
	require.Equal(t, "00", second.ReversalsSent[0].ResponseCode)

	var ledger acquirer.Snapshot
	getJSON(t, "http://"+acqCtl+"/ledger", &ledger)
	var booked *acquirer.Record
	for i, r := range ledger.Records {
		if r.STAN == second.STAN && r.Op == "sale" {
			booked = &ledger.Records[i]
		}
	}
	require.NotNil(t, booked, "the host booked the second sale")
	require.Equal(t, acquirer.StatusReversed, booked.Status, "and its ledger shows it reversed")

	var journal []acquirer.Entry
	getJSON(t, "http://"+pxCtl+"/journal?stan="+second.STAN, &journal)
	var dropped, answered, delivered bool
	for _, e := range journal {
		switch {
		case e.Kind == "fault" && e.Detail == "rule lose-second: no response":
			dropped = true
		case e.Kind == "in" && e.MTI == "0210" && e.Detail == "from host":
			answered = true
		case e.Kind == "out" && e.MTI == "0210" && e.Detail == "to terminal":
			delivered = true
		}
	}
	require.True(t, answered, "the proxy journal shows the host's 0210")
	require.True(t, dropped, "and the rule that dropped it")
	require.False(t, delivered, "which never reached the terminal")

	// an undecodable frame passes through unchanged
	c, err := net.Dial("tcp", px)
	require.NoError(t, err)
	defer c.Close()
	body := []byte("0200 not a message")
	junk := append(binary.BigEndian.AppendUint16(nil, uint16(len(body))), body...)
	_, err = c.Write(junk)
	require.NoError(t, err)
	seen := func(url, kind, want string) bool {
		var es []acquirer.Entry
		getJSON(t, url+"?kind="+kind, &es)
		for _, e := range es {
			if strings.Contains(e.Detail, want) {
				return true
			}
		}
		return false
	}
	require.Eventually(t, func() bool {
		return seen("http://"+pxCtl+"/journal", "bad_frame", "passed through unchanged") &&
			seen("http://"+acqCtl+"/journal", "bad_frame", fmt.Sprintf("%d-byte frame", len(body)))
	}, 10*time.Second, 20*time.Millisecond, "the host got the frame as it was sent")

	var stats []struct {
		ID    string `json:"id"`
		Fired int    `json:"fired"`
	}
	getJSON(t, "http://"+pxCtl+"/rules", &stats)
	require.Equal(t, 1, stats[0].Fired)
	r, err := http.Get("http://" + pxCtl + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(r.Body)
	r.Body.Close()
	require.Contains(t, string(metrics), `posim_proxy_rule_fired_total{rule="lose-second"} 1`)
	r, err = http.Get("http://" + pxCtl + "/")
	require.NoError(t, err)
	page, _ := io.ReadAll(r.Body)
	r.Body.Close()
	require.Contains(t, string(page), "EventSource")
}

// Record through the proxy, stop the host, and replay the recording: the
// same terminal operations get the same answers.
func TestCLI_RecordThenReplay(t *testing.T) {
	for _, profile := range wire.ProfileNames() {
		t.Run(profile, func(t *testing.T) {
			dir := t.TempDir()
			rec := filepath.Join(dir, "traffic.jsonl")
			acq, px := deadAddr(t), deadAddr(t)
			stopAcq := serveStoppable(t, acq, "acquirer", "--listen", acq, "--profile", profile, "--log-level", "warn")
			stopPx := serveStoppable(t, px, "proxy", "--listen", px, "--upstream", acq, "--profile", profile, "--record", rec, "--log-level", "warn")
			type op struct{ card, amount string }
			ops := []op{{"visa-approve", "12.34"}, {"insufficient-funds", "50.00"}, {"approve", "7.00"}}
			run := func(host, state string) []jsonResult {
				var out []jsonResult
				for _, o := range ops {
					_, stdout, _ := posim(t, "terminal", "sale", "--host", host, "--profile", profile, "--card", o.card, "--amount", o.amount,
						"--json", "--state", state)
					out = append(out, decode(t, stdout))
				}
				return out
			}
			live := run(px, filepath.Join(dir, "t1"))
			stopPx()
			stopAcq()

			data, err := os.ReadFile(rec)
			require.NoError(t, err)
			for _, clear := range []string{"4111111111111111", "34313131313131313131313131313131"} {
				require.NotContains(t, string(data), clear, "the PAN is masked in the recording, fields and frame")
			}
			require.Contains(t, string(data), `"2":"411111******1111"`)
			require.Contains(t, string(data), `"35":"(track data, not recorded)"`)

			replay := deadAddr(t)
			serve(t, replay, "acquirer", "--listen", replay, "--profile", profile, "--replay", rec, "--replay-fallback", "96", "--log-level", "warn")
			again := run(replay, filepath.Join(dir, "t2"))
			for i := range ops {
				require.Equal(t, live[i].Outcome, again[i].Outcome, "%d %v", i, ops[i])
				require.Equal(t, live[i].ResponseCode, again[i].ResponseCode, "%d", i)
				require.Equal(t, live[i].RRN, again[i].RRN, "the recorded host's RRN, %d", i)
				require.Equal(t, live[i].AuthCode, again[i].AuthCode, "%d", i)
			}
			// a request the recording does not hold gets the fallback
			_, stdout, _ := posim(t, "terminal", "sale", "--host", replay, "--profile", profile, "--amount", "99.99", "--json", "--state", filepath.Join(dir, "t2"))
			require.Equal(t, "96", decode(t, stdout).ResponseCode)
		})
	}
}

// Record through the proxy, then resend the terminal side to other hosts:
// a host like the first answers the same, one with a lower limit differs
// in the answer to the sale above it, and posim replay says where.
func TestCLI_ReplayReportsDifferences(t *testing.T) {
	for _, profile := range wire.ProfileNames() {
		t.Run(profile, func(t *testing.T) {
			dir := t.TempDir()
			rec := filepath.Join(dir, "traffic.jsonl")
			acq, px := deadAddr(t), deadAddr(t)
			serve(t, acq, "acquirer", "--listen", acq, "--profile", profile, "--log-level", "warn")
			stopPx := serveStoppable(t, px, "proxy", "--listen", px, "--upstream", acq, "--profile", profile, "--record", rec, "--log-level", "warn")
			state := filepath.Join(dir, "t")
			for _, amount := range []string{"5.00", "12.34"} {
				code, out, errOut := posim(t, "terminal", "sale", "--host", px, "--profile", profile, "--card", "visa-approve", "--amount", amount, "--json", "--state", state)
				require.Equal(t, 0, code, out+errOut)
			}
			stopPx()

			same := deadAddr(t)
			serve(t, same, "acquirer", "--listen", same, "--profile", profile, "--log-level", "warn")
			code, out, errOut := posim(t, "replay", rec, "--target", same, "--profile", profile)
			require.Equal(t, 0, code, out+errOut)
			require.Contains(t, out, "0 differ")
			require.Contains(t, out, "card data of visa-approve restored from the card book")

			strict := deadAddr(t)
			serve(t, strict, "acquirer", "--listen", strict, "--profile", profile, "--max-amount", "10.00", "--log-level", "warn")
			code, out, _ = posim(t, "replay", rec, "--target", strict, "--profile", profile)
			require.Equal(t, 4, code, out)
			require.Contains(t, out, "1 differ")
			require.Regexp(t, `0200 STAN \d+ +recorded 0210 00 +now 0210 61 +DIFFERS`, out)
			require.Contains(t, out, "DE39")
			require.Contains(t, out, "00 → 61")

			code, _, _ = posim(t, "replay", rec, "--target", deadAddr(t), "--profile", profile, "--timeout", "1s")
			require.Equal(t, 3, code, "an unreachable host")
			code, _, _ = posim(t, "replay", filepath.Join(dir, "missing.jsonl"), "--target", same)
			require.Equal(t, 2, code)
		})
	}
}

func TestCLI_AcquirerRecords(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "host.jsonl")
	acq := deadAddr(t)
	stop := serveStoppable(t, acq, "acquirer", "--listen", acq, "--record", rec, "--log-level", "warn")
	code, out, _ := posim(t, "terminal", "sale", "--host", acq, "--card", "visa-approve", "--amount", "3.00", "--json", "--state", filepath.Join(dir, "t"))
	require.Equal(t, 0, code, out)
	stop()
	data, err := os.ReadFile(rec)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 2)
	require.Contains(t, lines[0], `"dir":"request","mti":"0200"`)
	require.Contains(t, lines[1], `"dir":"response","mti":"0210"`)
	require.NotContains(t, string(data), "4111111111111111")

	code, _, errOut := posim(t, "acquirer", "--listen", deadAddr(t), "--record-clear")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "--record-clear needs --record")
	code, _, errOut = posim(t, "acquirer", "--listen", deadAddr(t), "--replay", filepath.Join(dir, "nothing.jsonl"))
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--replay")
}

// A control API other machines can reach, without a token, is refused
// before anything listens.
func TestCLI_ControlOffLoopbackNeedsAToken(t *testing.T) {
	for _, cmd := range [][]string{
		{"acquirer", "--listen", deadAddr(t), "--control", "192.0.2.1:8584"},
		{"proxy", "--listen", deadAddr(t), "--upstream", deadAddr(t), "--control", "192.0.2.1:8584"},
	} {
		code, _, errOut := posim(t, cmd...)
		require.Equal(t, 2, code, errOut)
		require.Contains(t, errOut, "--control-token")
	}
}

func TestCLI_ControlRefusesACrossSiteReset(t *testing.T) {
	acq, ctl := deadAddr(t), deadAddr(t)
	serve(t, acq, "acquirer", "--listen", acq, "--control", ctl, "--log-level", "warn")
	serve(t, ctl)
	r, err := http.Post("http://"+ctl+"/reset", "application/x-www-form-urlencoded", strings.NewReader("a=1"))
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusForbidden, r.StatusCode)
	r, err = http.Post("http://"+ctl+"/reset", "application/json", nil)
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusNoContent, r.StatusCode)
}
