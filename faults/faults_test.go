package faults

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/yamlx"
	"github.com/stretchr/testify/require"
)

func TestAddRule_TheNextRequestMeetsIt(t *testing.T) {
	f := ruleSet(t, &Env{}, `[{id: first, when: {stan: "000001"}, do: [process]}]`)
	x := newFake()
	f.Serve(t.Context(), x)
	require.Equal(t, "00", x.sent[0].ResponseCode, "no rule fires yet")

	require.NoError(t, f.AddRule([]byte(`{"id": "json", "when": {"op": "sale"}, "do": ["process", {"respond": {"de39": "05"}}]}`)))
	x = newFake()
	f.Serve(t.Context(), x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 05 stan 000042"}, x.Events())

	require.NoError(t, f.AddRule([]byte("id: yaml\ndo: [discard]\n")))
	require.Equal(t, []string{"first", "json", "yaml"}, statIDs(f), "appended after the others")
}

func TestAddRule_Refusals(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"no id", `{do: [process]}`, "POST /rules:1: a rule needs an id"},
		{"a bad trigger", `{id: x, when: {mti: "1"}, do: [process]}`, `POST /rules:1: when.mti "1": want four digits`},
		{"an empty pipeline", `{id: x, do: []}`, `POST /rules:1: rule "x": do is empty`},
		{"a primitive posim's acquirer cannot run", "id: x\ndo:\n  - {duplicate: {to: host}}\n  - process\n",
			`POST /rules:3: rule "x": duplicate to host needs a host behind posim`},
		{"an unknown key", "id: x\ncolour: red\ndo: [process]\n", `line 2: unknown key "colour"`},
		{"an unknown action", "id: x\ndo:\n  - teleport\n", `line 3: unknown action "teleport"`},
		{"an unknown argument", "id: x\ndo:\n  - process\n  - {delay: {fixed: 1s, jitter: 2s}}\n", `line 4: unknown key "jitter"`},
		{"an empty body", "", "the body holds no rule"},
		{"not YAML", `{id: x, do: [process`, "did not find expected"},
		{"an id in use", `{id: taken, do: [process]}`, `rule id "taken" is already used`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := ruleSet(t, &Env{}, `[{id: taken, do: [process]}]`)
			require.ErrorContains(t, f.AddRule([]byte(tc.body)), tc.want)
			require.Equal(t, []string{"taken"}, statIDs(f), "nothing added")
		})
	}
}

func TestAddRule_ReportsEveryProblem(t *testing.T) {
	f := ruleSet(t, &Env{}, `[]`)
	err := f.AddRule([]byte(`{when: {op: buy}, do: [{delay: 1s}]}`))
	var fe *yamlx.FileError
	require.ErrorAs(t, err, &fe)
	require.Len(t, err.(interface{ Unwrap() []error }).Unwrap(), 3, "%v", err)
}

func TestRemoveRule(t *testing.T) {
	f := ruleSet(t, &Env{}, `
- {id: a, when: {stan: "000042"}, do: [{respond: {de39: "01"}}]}
- {id: b, do: [{respond: {de39: "02"}}]}
`)
	require.NoError(t, f.RemoveRule("a"))
	x := newFake()
	f.Serve(t.Context(), x)
	require.Equal(t, "02", x.sent[0].ResponseCode, "the next rule fires instead")
	require.Equal(t, []string{"b"}, statIDs(f))
	require.ErrorIs(t, f.RemoveRule("a"), ErrNoRule)
	require.NoError(t, f.AddRule([]byte(`{id: a, do: [process]}`)), "its id is free again")
}

func TestEnableRule_ADisabledRuleNeitherCountsNorFires(t *testing.T) {
	f := ruleSet(t, &Env{}, `[{id: r, when: {nth: 2}, do: [discard]}]`)
	require.Empty(t, firings(f, sales(1)), "the first: counted")
	require.NoError(t, f.EnableRule("r", false))
	require.Empty(t, firings(f, sales(3)), "off")
	require.False(t, f.Stats()[0].Enabled)
	require.Equal(t, 1, f.Stats()[0].Matched, "requests while off are not counted")
	require.NoError(t, f.EnableRule("r", true))
	require.Equal(t, []int{1}, firings(f, sales(2)), "on again: the next request is its second")
	require.True(t, f.Stats()[0].Enabled)
	require.ErrorIs(t, f.EnableRule("nope", true), ErrNoRule)
}

func TestStats(t *testing.T) {
	f := ruleSet(t, &Env{}, `
- {id: slow, when: {op: sale, probability: 1}, do: [process, {delay: 2s}]}
- {id: lose, do: [process, no_response]}
- {id: drop, do: [discard]}
`)
	firings(f, sales(3))
	st := f.Stats()
	require.Len(t, st, 3)
	require.Equal(t, []string{"process", "delay(2s)"}, st[0].Actions)
	require.Equal(t, 1.0, *st[0].Probability)
	require.Equal(t, "sale", st[0].When.Op)
	require.Equal(t, []bool{false, true, true}, []bool{st[0].Drops, st[1].Drops, st[2].Drops}, "no_response and discard leave the terminal waiting")
	require.Equal(t, []int{3, 3, 3}, []int{st[0].Matched, st[1].Matched, st[2].Matched})
	require.Equal(t, []int{3, 0, 0}, []int{st[0].Fired, st[1].Fired, st[2].Fired})
	require.Nil(t, st[1].Probability)
	require.True(t, st[2].Enabled)
}

func statIDs(f *Faults) []string {
	var ids []string
	for _, st := range f.Stats() {
		ids = append(ids, st.ID)
	}
	return ids
}

func TestFault_JournalsAndLogsEachAction(t *testing.T) {
	var logs bytes.Buffer
	at := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	j := acquirer.NewMemJournal()
	f := ruleSet(t, &Env{Journal: j, Now: func() time.Time { return at }, Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		`[{id: r, do: [process, {mutate: [rrn]}, {delay: 1ms}]}]`)
	x := newFake()
	x.conn = "c9"
	f.Serve(t.Context(), x)
	es := j.List(faultsOnly)
	require.Len(t, es, 2)
	require.Equal(t, "rule r: mutate(rrn)", es[0].Detail)
	require.Equal(t, "rule r: delay 1ms", es[1].Detail)
	require.Equal(t, acquirer.Entry{Seq: es[0].Seq, Time: at, Kind: acquirer.KindFault, Conn: "c9", MTI: "0200", STAN: "000042", TID: "TERM0001",
		Detail: "rule r: mutate(rrn)"}, es[0])
	require.Contains(t, logs.String(), "rule=r action=mutate(rrn)")
	require.Contains(t, logs.String(), "rule=r action=\"delay 1ms\"")
}

func TestPick_IsServeInTwoHalves(t *testing.T) {
	f := ruleSet(t, &Env{}, `[{id: r, when: {stan: "000001"}, do: [{respond: {de39: "91"}}]}]`)
	x := newFake()
	require.Nil(t, f.Pick(x), "no rule fires")
	require.Empty(t, x.Events(), "Pick leaves a request no rule fires on to its caller")
	f.Serve(t.Context(), x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"}, x.Events(), "Serve processes it")

	y := newFake()
	y.req.STAN = "000001"
	run := f.Pick(y)
	require.NotNil(t, run)
	require.Empty(t, y.Events(), "nothing runs until the caller runs it")
	run(t.Context())
	require.Equal(t, []string{"respond 0210 91 stan 000001"}, y.Events())
}

func TestServe_RemembersTheLastAnswerPerTerminal(t *testing.T) {
	f := ruleSet(t, &Env{}, `[{id: stale, when: {tid: B}, do: [{send: {stale: true}}, process]}]`)
	a := newFake()
	a.req.TID, a.answer.TID, a.answer.STAN = "A", "A", "000001"
	f.Serve(t.Context(), a)
	b := newFake()
	b.req.TID, b.answer.TID = "B", "B"
	f.Serve(t.Context(), b)
	require.Equal(t, "process 0200 stan 000042 amount 1000", b.Events()[0], "terminal A's answer is not B's to be sent stale")
	b2 := newFake()
	b2.req.TID, b2.req.STAN, b2.answer.TID = "B", "000043", "B"
	f.Serve(t.Context(), b2)
	require.Equal(t, "send 0210 stan 000042", b2.Events()[0], "B's own previous answer")
}

func TestDuplicate_ToHostWithoutAHostIsJournalledAndTheRuleGoesOn(t *testing.T) {
	x := newFake()
	x.noHost = true
	f, j := pipeline(t, "[{duplicate: {to: host}}, process]")
	f.Serve(t.Context(), x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"}, x.Events())
	var details []string
	for _, e := range j.List(faultsOnly) {
		details = append(details, e.Detail)
	}
	require.Contains(t, details, "rule r: duplicate to host: "+ErrNotHere.Error())
}
