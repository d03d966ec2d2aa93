package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/terminal"
	"github.com/stretchr/testify/require"
)

// posim runs the CLI in-process and returns its exit code and output.
func posim(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	code := exitCode(err, &errOut)
	return code, out.String(), errOut.String()
}

func startAcquirer(t *testing.T) string {
	t.Helper()
	a, err := acquirer.New()
	require.NoError(t, err)
	require.NoError(t, a.Listen("127.0.0.1:0"))
	t.Cleanup(func() { a.Close() })
	return a.Addr()
}

func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func silent(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// catalogSpeed is the --speed the tests play catalogue scenarios at when
// time must pass faster than real time (a lost answer to wait out, a pause
// between demo steps): the slowest that any of the named scenarios needs.
// The catalogue's terminals wait 30 s for an answer, and in a scenario
// about a lost answer the same timeout guards the steps whose answers do
// come: at 6 it lasts 5 s, above a loaded 2-core machine's scheduling
// jitter under the race detector (at 20 it was 1.5 s, and answered steps
// timed out beside another make test). Two scenarios time something
// against that timeout and play slower, so that the gap is 5 s too:
// late-response's answer comes 10 s after the terminal gave up,
// upstream-timeout-68's host answers 20 s before it would. A scenario in
// which nothing waits runs at --speed 1: it is no slower, and no timeout
// comes near.
func catalogSpeed(names ...string) string {
	speed := 6
	for _, name := range names {
		switch name {
		case "late-response":
			speed = min(speed, 2)
		case "upstream-timeout-68":
			speed = min(speed, 4)
		}
	}
	return strconv.Itoa(speed)
}

type jsonResult struct {
	Outcome         string `json:"outcome"`
	ResponseCode    string `json:"response_code"`
	Meaning         string `json:"meaning"`
	STAN            string `json:"stan"`
	RRN             string `json:"rrn"`
	AuthCode        string `json:"auth_code"`
	PAN             string `json:"pan"`
	Amount          string `json:"amount"`
	ReversalPending bool   `json:"reversal_pending"`
	ReversalsSent   []struct {
		STAN         string `json:"stan"`
		Reason       string `json:"reason"`
		ResponseCode string `json:"response_code"`
		MTI          string `json:"mti"`
	} `json:"reversals_sent"`
}

func decode(t *testing.T, out string) jsonResult {
	t.Helper()
	var r jsonResult
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	return r
}

func TestCLI_TerminalSale(t *testing.T) {
	addr := startAcquirer(t)
	state := t.TempDir()

	code, out, _ := posim(t, "terminal", "sale", "--host", addr, "--amount", "12.34", "--json", "--state", state)
	require.Equal(t, 0, code)
	r := decode(t, out)
	require.Equal(t, "approved", r.Outcome)
	require.Equal(t, "00", r.ResponseCode)
	require.Equal(t, "620000******0005", r.PAN)
	require.Equal(t, "12.34", r.Amount)
	require.NotEmpty(t, r.RRN)
	require.NotEmpty(t, r.AuthCode)
	require.NotNil(t, r.ReversalsSent)

	code, out, _ = posim(t, "terminal", "sale", "--host", addr, "--amount", "12.34", "--card", "insufficient-funds", "--json", "--state", state)
	require.Equal(t, 4, code)
	require.Equal(t, "51", decode(t, out).ResponseCode)
}

func TestCLI_NothingListening(t *testing.T) {
	state := t.TempDir()
	code, out, _ := posim(t, "terminal", "sale", "--host", deadAddr(t), "--amount", "1.00", "--json", "--state", state, "--connect-timeout", "1s")
	require.Equal(t, 3, code)
	r := decode(t, out)
	require.Equal(t, "refused", r.Outcome)
	require.False(t, r.ReversalPending)
	st, err := terminal.ReadState(state)
	require.NoError(t, err)
	require.Nil(t, st.Pending, "nothing left the terminal: nothing to reverse")
}

func TestCLI_TimeoutThenReversalFirst(t *testing.T) {
	state := t.TempDir()
	code, out, _ := posim(t, "terminal", "sale", "--host", silent(t), "--amount", "25.00", "--timeout", "300ms", "--json", "--state", state)
	require.Equal(t, 3, code)
	r := decode(t, out)
	require.Equal(t, "no_response", r.Outcome)
	require.True(t, r.ReversalPending)

	addr := startAcquirer(t)
	code, out, _ = posim(t, "terminal", "sale", "--host", addr, "--amount", "5.00", "--json", "--state", state)
	require.Equal(t, 0, code)
	r2 := decode(t, out)
	require.Len(t, r2.ReversalsSent, 1)
	require.Equal(t, "0400", r2.ReversalsSent[0].MTI)
	require.Equal(t, "98", r2.ReversalsSent[0].Reason)
	require.Equal(t, "00", r2.ReversalsSent[0].ResponseCode)
	require.False(t, r2.ReversalPending)
}

func TestCLI_ExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown command", []string{"frobnicate"}, 1, "unknown command"},
		{"unknown flag", []string{"terminal", "sale", "--colour", "red"}, 1, "unknown flag"},
		{"missing operation", []string{"terminal"}, 1, "needs an operation"},
		{"unknown operation", []string{"terminal", "dance"}, 1, "unknown terminal operation"},
		{"missing amount", []string{"terminal", "sale"}, 1, "needs --amount"},
		{"bad amount", []string{"terminal", "sale", "--amount", "12.345"}, 2, "--amount"},
		{"bad duration", []string{"terminal", "sale", "--amount", "1", "--timeout", "soon"}, 2, "invalid argument"},
		{"unknown card", []string{"terminal", "sale", "--amount", "1", "--card", "gold"}, 2, "unknown card"},
		{"bad profile", []string{"acquirer", "--profile", "x25"}, 2, "unknown profile"},
		{"bad duplicate policy", []string{"acquirer", "--duplicate", "ignore"}, 2, "duplicate"},
		{"missing cards file", []string{"acquirer", "--cards", "/nonexistent/cards.yaml"}, 2, "--cards"},
		{"bad gc percent", []string{"acquirer", "--gc-percent", "0"}, 2, "--gc-percent"},
		{"bad log level", []string{"acquirer", "--log-level", "loud"}, 2, "--log-level"},
		{"negative retention", []string{"acquirer", "--retain", "-1"}, 2, "--retain"},
		{"void without rrn", []string{"terminal", "void"}, 1, "--rrn"},
		{"when-exhausted", []string{"terminal", "sale", "--amount", "1", "--when-exhausted", "panic"}, 2, "drop or block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if len(args) > 0 && args[0] == "terminal" && len(args) > 1 {
				args = append(args, "--state", t.TempDir())
			}
			code, _, errOut := posim(t, args...)
			require.Equal(t, tt.code, code, errOut)
			require.Contains(t, errOut, tt.msg)
		})
	}
}

func TestCLI_PortBusy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	code, _, errOut := posim(t, "acquirer", "--listen", ln.Addr().String())
	require.Equal(t, 3, code)
	require.Contains(t, errOut, "address already in use")
}

func TestCLI_BadCardsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cards.yaml")
	require.NoError(t, os.WriteFile(path, []byte("cards:\n  - alias: x\n    pan: \"6200000000001300\"\n    colour: red\n"), 0o600))
	code, _, errOut := posim(t, "acquirer", "--cards", path)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, path+":4: unknown key \"colour\"")
}

func TestCLI_AcquirerRunsUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addr := deadAddr(t)
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"acquirer", "--listen", addr, "--log-format", "json"}, &out, &errOut)
	}()
	state := t.TempDir()
	listening(t, addr)
	code, res, _ := posim(t, "terminal", "sale", "--host", addr, "--amount", "1.00", "--json", "--state", state)
	require.Equal(t, 0, code, res)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second): // only bounds a failure
		t.Fatal("acquirer did not stop")
	}
	require.Contains(t, errOut.String(), `"mti":"0200"`)
	require.Contains(t, errOut.String(), `"pan":"620000******0005"`)
	require.False(t, strings.Contains(errOut.String(), "6200000000000005"))
}

func TestCLI_Demo(t *testing.T) {
	t.Parallel()
	html := filepath.Join(t.TempDir(), "demo.html")
	code, out, errOut := posim(t, "demo", "--no-browser", "--ui", "127.0.0.1:0", "--speed", catalogSpeed("lost-response-reversal"), "--report", "html:"+html, "lost-response-reversal")
	require.Equal(t, 0, code, out+errOut)
	require.Contains(t, out, "open http://127.0.0.1:")
	require.Contains(t, out, "terminal shows: NO RESPONSE")
	require.Contains(t, out, "1 passed, 0 failed")
	page, err := os.ReadFile(html)
	require.NoError(t, err)
	require.Contains(t, string(page), `"name":"lost-response-reversal"`)
	require.NotContains(t, string(page), "http://", "the report loads nothing from the network")

	code, _, errOut = posim(t, "demo", "--all", "baseline-sale")
	require.Equal(t, 1, code, errOut)

	code, out, _ = posim(t, "demo", "--no-browser", "--ui", "127.0.0.1:0", "--speed", catalogSpeed("insufficient-funds"), "--lang", "zh", "insufficient-funds")
	require.Equal(t, 0, code)
	require.Contains(t, out, "余额不足")
	require.Contains(t, out, "终端显示：交易失败 51")
	require.Contains(t, out, "步骤 1: 消费 50.01 卡 low-balance")
	require.Contains(t, out, "← 0210 000001 51 余额不足")
}

// Without names posim demo plays the short story, then exits: no display
// here, or none asked for. It runs in a process of its own, whose
// environment has no display: the test need not change its own (which
// would keep it from running beside the others while the story plays).
func TestCLI_DemoStory(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "demo", "--ui", "127.0.0.1:0", "--speed", catalogSpeed(demoStory...))
	cmd.Env = append(os.Environ(), "POSIM_TEST_MAIN=1", "DISPLAY=", "WAYLAND_DISPLAY=")
	out, err := cmd.Output()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "no browser could be started here")
	require.Contains(t, string(out), "4 passed, 0 failed")
	require.NotContains(t, string(out), "is open in your browser")
}

func TestCLI_Version(t *testing.T) {
	code, out, _ := posim(t, "version")
	require.Equal(t, 0, code)
	require.True(t, strings.HasPrefix(out, "posim "))
	require.Contains(t, out, runtime.Version())
	code, again, _ := posim(t, "--version")
	require.Equal(t, 0, code)
	require.Equal(t, out, again)
	code, out, _ = posim(t, "completion", "bash")
	require.Equal(t, 0, code)
	require.Contains(t, out, "bash completion")
}

func TestCLI_RunCatalogSubset(t *testing.T) {
	dir := t.TempDir()
	j, js, md := filepath.Join(dir, "j.xml"), filepath.Join(dir, "r.json"), filepath.Join(dir, "r.md")
	// nothing times out and nothing waits in these three: real time costs
	// nothing and no timeout can fire under load
	code, out, errOut := posim(t, "run", "--catalog", "--tags", "baseline,power",
		"--report", "junit:"+j, "--report", "json:"+js, "--report", "md:"+md)
	require.Equal(t, 0, code, out+errOut)
	require.Contains(t, out, "3 passed, 0 failed")
	xml, err := os.ReadFile(j)
	require.NoError(t, err)
	require.Equal(t, 3, strings.Count(string(xml), "<testcase "))
	require.NotContains(t, string(xml), "\x1b[")
	require.NotContains(t, string(xml), "<failure")
	data, err := os.ReadFile(js)
	require.NoError(t, err)
	var rep struct {
		Passed    int `json:"passed"`
		Scenarios []struct {
			Name   string `json:"name"`
			Seed   int64  `json:"seed"`
			Events []any  `json:"events"`
		} `json:"scenarios"`
	}
	require.NoError(t, json.Unmarshal(data, &rep))
	require.Equal(t, 3, rep.Passed)
	require.NotEmpty(t, rep.Scenarios[0].Events)
	mdData, err := os.ReadFile(md)
	require.NoError(t, err)
	require.Contains(t, string(mdData), "```mermaid\nsequenceDiagram")
}

func TestCLI_RunBrokenExpectation(t *testing.T) {
	code, src, _ := posim(t, "catalog", "show", "lost-response-reversal")
	require.Equal(t, 0, code)
	changed := strings.Replace(src, `balances: {visa-approve: "995.00"}`, `balances: {visa-approve: "990.00"}`, 1)
	require.NotEqual(t, src, changed)
	changed = strings.Replace(changed, `reversal_reason: "98"`, `reversal_reason: "96"`, 1)
	path := filepath.Join(t.TempDir(), "broken.yaml")
	require.NoError(t, os.WriteFile(path, []byte(changed), 0o600))
	code, out, _ := posim(t, "run", path) // its host cuts the line: nothing waits
	require.Equal(t, 4, code, out)
	require.Contains(t, out, "lost-response-reversal: step 2 (sale, line 28): reversal_reason: expected 96, got 98")
	require.Contains(t, out, "end state: balance of visa-approve: expected 990.00, got 995.00")
}

func TestCLI_RunNothingSelected(t *testing.T) {
	code, _, errOut := posim(t, "run", "--catalog", "--tags", "no-such-tag")
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "no scenario selected")
	code, _, _ = posim(t, "run")
	require.Equal(t, 1, code)
}

func TestCLI_Validate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(good, []byte("name: g\ntitle: {en: G}\nsteps:\n  - sale: {amount: \"1.00\"}\n"), 0o600))
	require.NoError(t, os.WriteFile(bad, []byte("name: b\ntitle: {en: B}\nsteps:\n  - sale: {amount: \"1.00\", colour: red}\n"), 0o600))
	code, out, _ := posim(t, "validate", good)
	require.Equal(t, 0, code)
	require.Contains(t, out, "ok")
	code, _, errOut := posim(t, "validate", good, bad)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, bad+":4: unknown key \"colour\"")
	code, _, errOut = posim(t, "run", bad)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, bad+":4:")
}

func TestCLI_CatalogList(t *testing.T) {
	code, out, _ := posim(t, "catalog", "list", "--json")
	require.Equal(t, 0, code)
	var entries []struct {
		Name string `json:"name"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &entries))
	require.GreaterOrEqual(t, len(entries), 23)
	code, _, errOut := posim(t, "catalog", "show", "nope")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "no catalogue scenario")
}

func TestCLI_AcquirerScenario(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addr := deadAddr(t)
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"acquirer", "--scenario", "lost-response-reversal", "--listen", addr}, &out, &errOut)
	}()
	listening(t, addr)
	state := t.TempDir()
	code, res, _ := posim(t, "terminal", "sale", "--host", addr, "--card", "visa-approve", "--amount", "100.00", "--json", "--state", state)
	require.Equal(t, 3, code)
	require.True(t, decode(t, res).ReversalPending)
	code, res, _ = posim(t, "terminal", "sale", "--host", addr, "--card", "visa-approve", "--amount", "5.00", "--json", "--state", state)
	require.Equal(t, 0, code)
	require.Len(t, decode(t, res).ReversalsSent, 1)
	cancel()
	require.NoError(t, <-done)
	require.Contains(t, errOut.String(), "mti=0400")
	require.Contains(t, errOut.String(), "fault")
}

func TestCLI_RunTarget(t *testing.T) {
	addr := startAcquirer(t)
	// baseline-sale waits for nothing: at --speed 20 its 30 s timeout
	// became 1.5 s and fired under load; at real time it costs nothing
	code, out, errOut := posim(t, "run", "--catalog", "--tags", "baseline", "--target", addr)
	require.Equal(t, 0, code, out+errOut)
	require.Contains(t, out, "terminal steps only")
	require.Contains(t, out, "1 passed")
	code, _, _ = posim(t, "run", "--catalog", "--tags", "baseline", "--target", "nonsense")
	require.Equal(t, 2, code)
}

func TestCLI_Spec(t *testing.T) {
	good, err := os.ReadFile("../../wire/testdata/custom-host.json")
	require.NoError(t, err)
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(good), `"length": 19,`, `"length": 150,`, 1)), 0o600))
	for _, args := range [][]string{
		{"acquirer", "--spec", bad},
		{"terminal", "sale", "--amount", "1.00", "--spec", bad, "--state", t.TempDir()},
		{"run", "--catalog", "--spec", bad},
	} {
		code, _, errOut := posim(t, args...)
		require.Equal(t, 2, code, args)
		require.Contains(t, errOut, "DE2 (Primary Account Number): maximum length 150 does not fit")
	}
	code, out, errOut := posim(t, "run", "--catalog", "--tags", "baseline", "--spec", "../../wire/testdata/custom-host.json", "--framing", "ascii4")
	require.Equal(t, 0, code, out+errOut)
	code, _, errOut = posim(t, "acquirer", "--spec", "../../wire/testdata/custom-host.json", "--framing", "morse")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--framing")
}

// backOfficeHost starts an acquirer with a back office (a T+1 contract at
// 0.60 % for POSIM0000000001) and its control API; it returns the
// acquirer and the control API's host:port.
func backOfficeHost(t *testing.T, opts ...acquirer.Option) (*acquirer.Acquirer, string) {
	t.Helper()
	a, err := acquirer.New(opts...)
	require.NoError(t, err)
	require.NoError(t, a.Engine().SetContracts(23*time.Hour, []acquirer.Contract{{MID: "POSIM0000000001", Debit: acquirer.FeeRule{PPM: 6000}, Cycle: "T+1"}}))
	require.NoError(t, a.Listen("127.0.0.1:0"))
	t.Cleanup(func() { a.Close() })
	ctl, err := acquirer.NewControl(a, nil)
	require.NoError(t, err)
	srv := httptest.NewServer(ctl)
	t.Cleanup(srv.Close)
	return a, strings.TrimPrefix(srv.URL, "http://")
}

func TestCLI_Statement(t *testing.T) {
	_, host := backOfficeHost(t)

	code, out, errOut := posim(t, "statement", "--control", host, "--mid", "POSIM0000000001", "--day", "2026-01-15")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "merchant POSIM0000000001, business day 2026-01-15")
	require.Contains(t, out, "net payout 0.00")
	code, out, _ = posim(t, "statement", "--control", host, "--mid", "POSIM0000000001", "--day", "2026-01-15", "--json")
	require.Equal(t, 0, code)
	require.Contains(t, out, `"mid": "POSIM0000000001"`)
	code, _, _ = posim(t, "statement", "--control", host, "--day", "15/01/2026", "--mid", "M")
	require.Equal(t, 2, code)
	code, _, _ = posim(t, "statement", "--control", deadAddr(t), "--mid", "M", "--day", "2026-01-15")
	require.Equal(t, 3, code)
}

func TestCLI_Load(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	code, out, errOut := posim(t, "load", "--terminals", "4", "--duration", "1s", "--baseline", "--json", path)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "ratio acquirer/baseline:")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var rep struct {
		Acquirer struct{ Responses int64 } `json:"acquirer"`
		Baseline struct{ Responses int64 } `json:"baseline"`
		Ratio    float64                   `json:"ratio"`
	}
	require.NoError(t, json.Unmarshal(data, &rep))
	require.Positive(t, rep.Acquirer.Responses)
	require.Positive(t, rep.Baseline.Responses)
	require.Positive(t, rep.Ratio)
	code, _, _ = posim(t, "load", "--terminals", "0")
	require.Equal(t, 2, code)
	for _, bad := range [][]string{{"--mix", "sale=1,payout=2"}, {"--report", "pdf:x"}, {"--scenario", "baseline-sale", "--target", "127.0.0.1:1"},
		{"--pan", "4111111111111112"}, {"--tid-prefix", "TOOLONGX"}, {"--tid-prefix", "ABCDEF", "--terminals", "100"}} {
		code, _, errOut := posim(t, append([]string{"load", "--duration", "1s"}, bad...)...)
		require.Equal(t, 2, code, "%v: %s", bad, errOut)
	}
}

func TestCLI_LoadFaultsReconciled(t *testing.T) {
	t.Parallel() // it waits out the lost answers' timeouts
	dir := t.TempDir()
	html, js := filepath.Join(dir, "load.html"), filepath.Join(dir, "load.json")
	// a tenth of the approvals lost: every one must time out, be reversed and
	// leave no approval standing in the ledger. Seed 10 loses the first
	// answer, so a drop comes however few sales a loaded machine makes (seed
	// 3 lost the 46th first)
	scenario := filepath.Join(dir, "drop.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte(`name: drop-tenth
title: {en: "drop a tenth"}
seed: 10
rules:
  - id: drop
    when: {op: sale, card: unlimited, probability: 0.1}
    do: [process, no_response]
steps:
  - sale: {card: unlimited, amount: "1.00"}
`), 0o644))
	// the timeout (5 s, the default) is far above any answer's time on a
	// loaded 2-core machine under -race: a real timeout would count as a
	// dropped answer that never was (at 1 s it was not far enough)
	code, out, errOut := posim(t, "load", "--scenario", scenario, "--terminals", "4", "--duration", "2s", "--warmup", "200ms",
		"--mix", "sale=8,void=1,decline=1", "--json", js, "--report", "html:"+html)
	require.Equal(t, 0, code, out+errOut)
	require.Contains(t, out, "faults OK:")
	var rep struct {
		Faults struct {
			OK         bool
			Dropped    int64
			Timeouts   int64
			Unreversed []any
			Rules      []struct{ Fired, Matched int }
		} `json:"faults"`
	}
	data, err := os.ReadFile(js)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &rep))
	require.True(t, rep.Faults.OK)
	require.Positive(t, rep.Faults.Dropped)
	require.Equal(t, rep.Faults.Dropped, rep.Faults.Timeouts)
	require.Empty(t, rep.Faults.Unreversed)
	page, err := os.ReadFile(html)
	require.NoError(t, err)
	for _, want := range []string{"<svg", "Throughput", "Latency, acquirer", `id="faults" class="ok"`} {
		require.Contains(t, string(page), want)
	}
	require.NotContains(t, string(page), "http://", "the page loads nothing")

	// a host that cuts the connection instead of answering: the terminals
	// connect again and reverse, and no approval stays standing. Seed 14
	// cuts the first sale (seed 5 cut the 30th or so, and a loaded machine
	// made fewer in the second: nothing was cut)
	cut := filepath.Join(dir, "cut.yaml")
	require.NoError(t, os.WriteFile(cut, []byte(`name: cut
title: {en: "cut the line"}
seed: 14
rules:
  - id: cut
    when: {op: sale, probability: 0.05}
    do: [process, {close: {at: before_respond}}]
steps:
  - sale: {card: unlimited, amount: "1.00"}
`), 0o644))
	code, out, errOut = posim(t, "load", "--scenario", cut, "--terminals", "4", "--duration", "1s", "--warmup", "0s", "--json", js)
	require.Equal(t, 0, code, out+errOut)
	data, err = os.ReadFile(js)
	require.NoError(t, err)
	var cutRep struct {
		Acquirer struct{ Errors map[string]int64 }
		Faults   struct {
			OK         bool
			Lost       int64 `json:"connection_lost"`
			Checked    int
			Unreversed []any
		}
	}
	require.NoError(t, json.Unmarshal(data, &cutRep))
	require.True(t, cutRep.Faults.OK, out)
	require.Positive(t, cutRep.Faults.Lost)
	require.Equal(t, cutRep.Acquirer.Errors["connection"], cutRep.Acquirer.Errors["reconnected"], "every dropped terminal came back")
	require.Equal(t, int(cutRep.Faults.Lost), cutRep.Faults.Checked)
	require.Empty(t, cutRep.Faults.Unreversed)

	// a host that loses answers but whose terminals give up too late to
	// reverse within the run still drains: the check waits for them
	code, out, _ = posim(t, "load", "--scenario", scenario, "--terminals", "2", "--duration", "300ms", "--warmup", "0s", "--timeout", "5s")
	require.Equal(t, 0, code, out)
}

// serve runs a long-running command until the test ends and waits for addr
// to accept connections.
func serve(t *testing.T, addr string, args ...string) {
	t.Helper()
	serveStoppable(t, addr, args...)
}

// serveStoppable runs posim with args in the background until the
// returned function (or the test's end) stops it, and waits until addr
// accepts connections.
func serveStoppable(t *testing.T, addr string, args ...string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var out, errOut bytes.Buffer
		done <- run(ctx, args, &out, &errOut)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	listening(t, addr)
	return stop
}

func TestCLI_LoadSeparateProcesses(t *testing.T) {
	acq, ctl, base := deadAddr(t), deadAddr(t), deadAddr(t)
	serve(t, acq, "acquirer", "--listen", acq, "--control", ctl, "--log-level", "warn")
	serve(t, base, "baseline", "--listen", base)
	serve(t, ctl) // the control API listens once the acquirer does
	path := filepath.Join(t.TempDir(), "out.json")
	code, out, errOut := posim(t, "load", "--target", acq, "--baseline-target", base, "--terminals", "2", "--duration", "1s",
		"--warmup", "0s", "--control", "http://"+ctl, "--json", path)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "ratio acquirer/baseline:")
	require.Contains(t, out, "host:")
	var rep struct {
		Ratio float64
		Host  struct {
			RSS         float64 `json:"rss_mib"`
			Connections float64
		}
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &rep))
	require.Positive(t, rep.Ratio)
	require.Positive(t, rep.Host.RSS)

	// the host accepts the 20 connections while they are held: a second
	// leaves its accept loop room on a loaded machine
	code, out, errOut = posim(t, "load", "--target", acq, "--idle", "--terminals", "20", "--duration", "1s", "--control", "http://"+ctl)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "held 20 idle connections")
	require.Contains(t, out, "20 connections", "the host saw them all while they were held")

	code, _, errOut = posim(t, "load", "--target", acq, "--duration", "300ms", "--control", "http://"+base)
	require.Equal(t, 3, code, "a control URL that is not posim's: %s", errOut)
}

func TestCLI_ConcurrentSalesOnOneStateDirectory(t *testing.T) {
	// the host holds the first sale's answer until the others have tried
	arrived := make(chan struct{}, 8)
	release := make(chan struct{})
	a, err := acquirer.New(acquirer.WithHandler(acquirer.HandlerFunc(func(ctx context.Context, x *acquirer.Exchange) {
		resp := x.Process()
		arrived <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
			return
		}
		_ = x.Respond(resp)
	})))
	require.NoError(t, err)
	require.NoError(t, a.Listen("127.0.0.1:0"))
	t.Cleanup(func() { a.Close() })
	state := t.TempDir()
	sale := func() (int, string, string) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"terminal", "sale", "--host", a.Addr(), "--amount", "1.00", "--json", "--state", state}, &out, &errOut)
		return exitCode(err, &errOut), out.String(), errOut.String()
	}
	first := make(chan int, 1)
	go func() {
		code, _, _ := sale()
		first <- code
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the first sale never reached the host")
	}
	for range 2 {
		code, _, errOut := sale()
		require.Equal(t, 2, code, errOut)
		require.Contains(t, errOut, filepath.Join(state, "lock"))
		require.Contains(t, errOut, "in use")
	}
	close(release)
	require.Equal(t, 0, <-first, "the one that runs is approved")
	require.Len(t, a.Journal().List(acquirer.Filter{Kind: acquirer.KindIn, MTI: "0200"}), 1, "the others sent nothing: no STAN reused, no 94")
}
