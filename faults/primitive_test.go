package faults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// fakeExchange records what a pipeline does to the exchange: each
// primitive is unit-tested against it, without a host or a network (as
// toxiproxy tests its toxics against a fake link).
type fakeExchange struct {
	mu       sync.Mutex
	conn     string // ConnID ("" is c1)
	req      *wire.Txn
	answer   *wire.Txn // what the host answers to Process (nil: none)
	events   []string  // in order: process, respond 00, send 0810, raw N, close, reset, forward, refuse, mark
	sent     []*wire.Txn
	raw      [][]byte
	noHost   bool // Forward fails (posim's acquirer)
	noBooks  bool // MarkAnomaly fails (the proxy)
	noFrame  bool // Frame fails
	noRefuse bool // Refuse fails
	onSend   func(t *wire.Txn)
	resumed  chan struct{}
}

func newFake() *fakeExchange {
	req := &wire.Txn{MTI: "0200", Op: wire.OpSale, ProcessingCode: "000000", PAN: "4761739001010010", Amount: 1000, HasAmount: true,
		STAN: "000042", TID: "TERM0001", MID: "MERCHANT0000001"}
	ans := req.Response("00")
	ans.RRN, ans.AuthCode = "000000000007", "123456"
	return &fakeExchange{req: req, answer: ans, resumed: make(chan struct{})}
}

func (x *fakeExchange) log(format string, a ...any) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.events = append(x.events, fmt.Sprintf(format, a...))
}

func (x *fakeExchange) Events() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]string(nil), x.events...)
}

func (x *fakeExchange) Request() *wire.Txn { return x.req }
func (x *fakeExchange) ConnID() string {
	if x.conn == "" {
		return "c1"
	}
	return x.conn
}
func (x *fakeExchange) Process() *wire.Txn {
	x.log("process %s stan %s amount %d", x.req.MTI, x.req.STAN, x.req.Amount)
	if x.answer == nil {
		return nil
	}
	cp := *x.answer
	return &cp
}
func (x *fakeExchange) Respond(t *wire.Txn) error {
	x.log("respond %s %s stan %s", t.MTI, t.ResponseCode, t.STAN)
	x.mu.Lock()
	x.sent = append(x.sent, t)
	x.mu.Unlock()
	return nil
}
func (x *fakeExchange) Send(t *wire.Txn) error {
	x.log("send %s stan %s", t.MTI, t.STAN)
	if x.onSend != nil {
		x.onSend(t)
	}
	return nil
}
func (x *fakeExchange) Frame(t *wire.Txn) ([]byte, error) {
	if x.noFrame {
		return nil, errors.New("cannot encode")
	}
	return []byte("FRAME:" + t.MTI + ":" + t.ResponseCode + ":0123456789"), nil
}
func (x *fakeExchange) WriteRaw(b []byte) error {
	x.log("raw %d", len(b))
	x.mu.Lock()
	x.raw = append(x.raw, append([]byte(nil), b...))
	x.mu.Unlock()
	return nil
}
func (x *fakeExchange) Close() { x.log("close") }
func (x *fakeExchange) Reset() { x.log("reset") }
func (x *fakeExchange) Forward() error {
	if x.noHost {
		return ErrNotHere
	}
	x.log("forward %s", x.req.MTI)
	return nil
}
func (x *fakeExchange) Refuse() (func() error, error) {
	if x.noRefuse {
		return nil, ErrNotHere
	}
	x.log("refuse")
	return func() error { x.log("resume"); close(x.resumed); return nil }, nil
}
func (x *fakeExchange) MarkAnomaly(an acquirer.Anomaly) (int64, error) {
	if x.noBooks {
		return 0, ErrNotHere
	}
	x.log("mark %s", an.Kind)
	return 7, nil
}

// pipeline compiles one rule whose do is the YAML flow sequence given and
// returns the rule set and its journal.
func pipeline(t *testing.T, do string) (*Faults, *acquirer.MemJournal) {
	t.Helper()
	var rule Rule
	require.NoError(t, yaml.Unmarshal([]byte("id: r\ndo: "+do), &rule))
	j := acquirer.NewMemJournal()
	f, err := Compile([]Rule{rule}, &Env{Seed: 1, Speed: 1000, Journal: j, Now: time.Now,
		After: func(d time.Duration, fn func()) { time.AfterFunc(d, fn) }})
	require.NoError(t, err)
	return f, j
}

// play runs a one-rule pipeline on x and returns what the exchange saw.
func playOn(t *testing.T, do string, x *fakeExchange) []string {
	t.Helper()
	f, _ := pipeline(t, do)
	f.Serve(context.Background(), x)
	return x.Events()
}

// checkPipeline validates a one-rule pipeline where the rules run and
// returns the problems found.
func checkPipeline(t *testing.T, do, where string) []string {
	t.Helper()
	var rule Rule
	require.NoError(t, yaml.Unmarshal([]byte("id: r\ndo: "+do), &rule))
	var out []string
	CheckPipeline(rule, 1, where, func(_ int, format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) })
	return out
}

func TestRegistry_EveryPrimitiveIsComplete(t *testing.T) {
	for _, name := range ActionNames() {
		def := registry[name]
		require.NotEmpty(t, def.doc, name)
		p := def.new()
		require.NotNil(t, p, name)
		require.NotEmpty(t, p.String(), name)
	}
	require.Len(t, ActionNames(), 17)
}

// engineFiles are the files of the package that are not a primitive.
var engineFiles = []string{"action.go", "check.go", "doc.go", "faults.go", "primitive.go", "rule.go", "timers.go"}

// A primitive is one file, NAME.go, that registers it, with its tests
// beside it and a heading in the README's fault catalogue: a primitive
// whose registration, tests or documentation went missing is noticed.
func TestRegistry_OneFileOneTestOneHeadingPerPrimitive(t *testing.T) {
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	var files []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") && !slices.Contains(engineFiles, n) {
			files = append(files, strings.TrimSuffix(n, ".go"))
		}
	}
	require.Equal(t, ActionNames(), files, "a file per registered primitive, named after it")
	for _, name := range files {
		_, err := os.Stat(name + "_test.go")
		require.NoError(t, err, "%s has no tests of its own", name)
	}

	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, catalogue, ok := strings.Cut(string(readme), "\n### Fault primitives\n")
	require.True(t, ok)
	catalogue, _, _ = strings.Cut(catalogue, "\n### ")
	var headings []string
	for _, line := range strings.Split(catalogue, "\n") {
		if h, ok := strings.CutPrefix(line, "#### "); ok {
			headings = append(headings, h)
		}
	}
	slices.Sort(headings)
	require.Equal(t, ActionNames(), headings, "one README heading per primitive")
}

func TestPipeline_NoRuleFiresProcessesAndAnswers(t *testing.T) {
	f, _ := pipeline(t, "[discard]")
	f.rules[0].When.MTI = "0800"
	x := newFake()
	f.Serve(context.Background(), x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"}, x.Events())
}

func TestPipeline_ActionsAfterOneThatEndsAreRefused(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[process, close, {delay: 1s}]", "")[0], "comes after close(before_respond,fin), which ends the pipeline")
}

func TestPipeline_RuleThatNeitherProcessesNorAnswersIsRefused(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[{delay: 1s}]", "")[0], "neither processes nor answers")
}

var faultsOnly = acquirer.Filter{Kind: acquirer.KindFault}

func contextCancelled() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
