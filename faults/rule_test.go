package faults

import (
	"testing"
	"time"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// ruleSet compiles rules written as a YAML list, with the built-in cards.
func ruleSet(t *testing.T, env *Env, doc string) *Faults {
	t.Helper()
	var rs []Rule
	require.NoError(t, yaml.Unmarshal([]byte(doc), &rs))
	if env.Cards == nil {
		env.Cards = cards.Builtin()
	}
	if env.Speed == 0 {
		env.Speed = 1000
	}
	f, err := Compile(rs, env)
	require.NoError(t, err)
	return f
}

// oneRule compiles one rule with the trigger given (a YAML flow mapping)
// and a pipeline that discards.
func oneRule(t *testing.T, env *Env, when string) *Faults {
	t.Helper()
	return ruleSet(t, env, "[{id: r, when: "+when+", do: [discard]}]")
}

// firings offers the requests in turn and returns the 1-based positions
// of those a rule fired on.
func firings(f *Faults, xs []*fakeExchange) []int {
	var out []int
	for i, x := range xs {
		if f.Pick(x) != nil {
			out = append(out, i+1)
		}
	}
	return out
}

func sales(n int) []*fakeExchange {
	xs := make([]*fakeExchange, n)
	for i := range xs {
		xs[i] = newFake()
	}
	return xs
}

func TestWhen_MatchesDecodedFields(t *testing.T) {
	req := func() *fakeExchange {
		x := newFake()
		x.req.PAN = "4111111111111111" // the built-in visa-approve
		x.req.EntryMode, x.req.Currency = "051", "156"
		return x
	}
	for _, tc := range []struct {
		name, when string
		match      bool
	}{
		{"no condition matches every request", `{}`, true},
		{"mti", `{mti: "0200"}`, true},
		{"another mti", `{mti: "0100"}`, false},
		{"op", `{op: sale}`, true},
		{"another op", `{op: refund}`, false},
		{"processing code", `{processing_code: "000000"}`, true},
		{"another processing code", `{processing_code: "200000"}`, false},
		{"pan", `{pan: "4111111111111111"}`, true},
		{"another pan", `{pan: "4111111111111112"}`, false},
		{"bin is a prefix of the pan", `{bin: "411111"}`, true},
		{"another bin", `{bin: "622"}`, false},
		{"card alias of the pan", `{card: visa-approve}`, true},
		{"card alias of another pan", `{card: approve}`, false},
		{"card alias nobody has", `{card: nobody}`, false},
		{"tid", `{tid: TERM0001}`, true},
		{"another tid", `{tid: TERM0002}`, false},
		{"mid", `{mid: MERCHANT0000001}`, true},
		{"another mid", `{mid: MERCHANT0000002}`, false},
		{"stan", `{stan: "000042"}`, true},
		{"another stan", `{stan: "000043"}`, false},
		{"entry mode", `{entry_mode: "051"}`, true},
		{"another entry mode", `{entry_mode: "021"}`, false},
		{"currency", `{currency: "156"}`, true},
		{"another currency", `{currency: "840"}`, false},
		{"amount equal", `{amount: {equal: "10.00"}}`, true},
		{"amount not equal", `{amount: {equal: "10.01"}}`, false},
		{"amount min is inclusive", `{amount: {min: "10.00"}}`, true},
		{"amount below min", `{amount: {min: "10.01"}}`, false},
		{"amount max is inclusive", `{amount: {max: "10"}}`, true},
		{"amount above max", `{amount: {max: "9.99"}}`, false},
		{"amount within min and max", `{amount: {min: "5", max: "20"}}`, true},
		{"fields of one trigger all have to match", `{mti: "0200", tid: TERM0002}`, false},
		{"and: all match", `{and: [{mti: "0200"}, {tid: TERM0001}]}`, true},
		{"and: one does not", `{and: [{mti: "0200"}, {tid: TERM0002}]}`, false},
		{"or: one matches", `{or: [{tid: TERM0002}, {stan: "000042"}]}`, true},
		{"or: none matches", `{or: [{tid: TERM0002}, {stan: "000043"}]}`, false},
		{"not: inverts a miss", `{not: {op: refund}}`, true},
		{"not: inverts a match", `{not: {op: sale}}`, false},
		{"or beside a field: both must hold", `{op: refund, or: [{stan: "000042"}]}`, false},
		{"nested: not (refund or a sale of 100.00 and more)",
			`{not: {or: [{op: refund}, {and: [{op: sale}, {amount: {min: "100.00"}}]}]}}`, true},
		{"nested: not (refund or a sale of 5.00 and more)",
			`{not: {or: [{op: refund}, {and: [{op: sale}, {amount: {min: "5.00"}}]}]}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.match, oneRule(t, &Env{}, tc.when).Pick(req()) != nil)
		})
	}
}

func TestWhen_AnAmountNeverMatchesARequestWithoutDE4(t *testing.T) {
	x := newFake()
	x.req.Amount, x.req.HasAmount = 0, false
	require.Nil(t, oneRule(t, &Env{}, `{amount: {min: "0"}}`).Pick(x))
	require.NotNil(t, oneRule(t, &Env{}, `{amount: {max: "0"}}`).Pick(newFakeWithAmount(0)))
}

func newFakeWithAmount(minor int64) *fakeExchange {
	x := newFake()
	x.req.Amount = minor
	return x
}

func TestWhen_Counters(t *testing.T) {
	for _, tc := range []struct {
		when  string
		fires []int
	}{
		{`{}`, []int{1, 2, 3, 4, 5, 6, 7, 8}},
		{`{nth: 3}`, []int{3}},
		{`{times: 2}`, []int{1, 2}},
		{`{after: 2}`, []int{3, 4, 5, 6, 7, 8}},
		{`{every: 3}`, []int{3, 6}},
		{`{after: 1, every: 3}`, []int{4, 7}},
		{`{every: 2, times: 2}`, []int{2, 4}},
		{`{after: 2, times: 3}`, []int{3, 4, 5}},
		{`{probability: 0}`, nil},
		{`{probability: 1}`, []int{1, 2, 3, 4, 5, 6, 7, 8}},
		{`{nth: 2, probability: 1}`, []int{2}},
	} {
		t.Run(tc.when, func(t *testing.T) {
			require.Equal(t, tc.fires, firings(oneRule(t, &Env{}, tc.when), sales(8)))
		})
	}
}

func TestWhen_CountersCountOnlyMatchingRequests(t *testing.T) {
	xs := sales(4)
	xs[0].req.MTI, xs[2].req.MTI = "0800", "0800"
	require.Equal(t, []int{4}, firings(oneRule(t, &Env{}, `{mti: "0200", nth: 2}`), xs))
}

func TestWhen_ScopeKeepsCountersApart(t *testing.T) {
	// five requests whose connection, terminal and merchant vary apart
	conns := []string{"c1", "c1", "c2", "c2", "c1"}
	tids := []string{"T1", "T2", "T1", "T2", "T2"}
	mids := []string{"M1", "M2", "M3", "M3", "M2"}
	reqs := func() []*fakeExchange {
		xs := sales(5)
		for i, x := range xs {
			x.conn, x.req.TID, x.req.MID = conns[i], tids[i], mids[i]
		}
		return xs
	}
	for _, tc := range []struct {
		when  string
		fires []int
	}{
		{`{nth: 2}`, []int{2}},
		{`{nth: 2, scope: global}`, []int{2}},
		{`{nth: 2, scope: connection}`, []int{2, 4}},
		{`{nth: 2, scope: terminal}`, []int{3, 4}},
		{`{nth: 2, scope: merchant}`, []int{4, 5}},
		{`{times: 1, scope: terminal}`, []int{1, 2}},
		{`{times: 1, scope: merchant}`, []int{1, 2, 3}},
	} {
		t.Run(tc.when, func(t *testing.T) {
			require.Equal(t, tc.fires, firings(oneRule(t, &Env{}, tc.when), reqs()))
		})
	}
}

func TestWhen_ProbabilityIsDrawnFromTheSeed(t *testing.T) {
	seq := func(seed int64, id string) []int {
		f := ruleSet(t, &Env{Seed: seed}, "[{id: "+id+", when: {probability: 0.5}, do: [discard]}]")
		return firings(f, sales(64))
	}
	a := seq(1, "r")
	require.Equal(t, a, seq(1, "r"), "same seed, same rule: the same requests fire")
	require.NotEqual(t, a, seq(2, "r"), "another seed: another sequence")
	require.NotEqual(t, a, seq(1, "s"), "each rule draws from a stream of its own")
	require.InDelta(t, 32, len(a), 16, "about half of them fire")
}

func TestWhen_WindowAgainstScenarioTime(t *testing.T) {
	var now time.Duration
	env := &Env{Elapsed: func() time.Duration { return now }}
	bounded := oneRule(t, env, `{window: {from: 10s, until: 20s}}`)
	open := oneRule(t, env, `{window: {from: 10s}}`)
	for _, tc := range []struct {
		at            time.Duration
		bounded, open bool
	}{
		{0, false, false},
		{10*time.Second - 1, false, false},
		{10 * time.Second, true, true},
		{20*time.Second - 1, true, true},
		{20 * time.Second, false, true},
		{72 * time.Hour, false, true},
	} {
		now = tc.at
		require.Equal(t, tc.bounded, bounded.Pick(newFake()) != nil, "from 10s until 20s, at %s", tc.at)
		require.Equal(t, tc.open, open.Pick(newFake()) != nil, "from 10s, at %s", tc.at)
	}
}

func TestWhen_RequestsOutsideTheWindowAreNotCounted(t *testing.T) {
	var now time.Duration
	f := oneRule(t, &Env{Elapsed: func() time.Duration { return now }}, `{window: {from: 10s}, nth: 2}`)
	var fired []bool
	for _, at := range []time.Duration{0, 5 * time.Second, 10 * time.Second, 11 * time.Second} {
		now = at
		fired = append(fired, f.Pick(newFake()) != nil)
	}
	require.Equal(t, []bool{false, false, false, true}, fired, "the second request inside the window")
	require.Equal(t, 2, f.Stats()[0].Matched)
}

func TestRules_FirstThatFiresWinsAndEveryRuleCountsEveryMatch(t *testing.T) {
	f := ruleSet(t, &Env{}, `
- {id: a, when: {nth: 1}, do: [{respond: {de39: "01"}}]}
- {id: b, when: {nth: 2}, do: [{respond: {de39: "02"}}]}
- {id: c, when: {times: 2}, do: [{respond: {de39: "03"}}]}
`)
	var codes []string
	for range 5 {
		x := newFake()
		f.Serve(t.Context(), x)
		require.Len(t, x.sent, 1)
		codes = append(codes, x.sent[0].ResponseCode)
	}
	// c matched the first two as well, but a and b fired on them: times
	// counts what c fired on, so it fires on the third and fourth
	require.Equal(t, []string{"01", "02", "03", "03", "00"}, codes)
	var counts [][2]int
	for _, st := range f.Stats() {
		counts = append(counts, [2]int{st.Matched, st.Fired})
	}
	require.Equal(t, [][2]int{{5, 1}, {5, 1}, {5, 2}}, counts)
}

func TestCompile_LeavesOutRulesForOtherProfiles(t *testing.T) {
	doc := `
- {id: any, do: [process]}
- {id: cup-only, profiles: [cup], do: [process]}
- {id: iso-only, profiles: [iso87], do: [process]}
`
	ids := func(profile string) []string {
		var out []string
		for _, st := range ruleSet(t, &Env{Profile: profile}, doc).Stats() {
			out = append(out, st.ID)
		}
		return out
	}
	require.Equal(t, []string{"any", "cup-only"}, ids("cup"))
	require.Equal(t, []string{"any", "iso-only"}, ids("iso87"))
	require.Equal(t, []string{"any", "cup-only", "iso-only"}, ids(""), "no profile: every rule")
}

func TestPick_AReversalReleasesTheHeldAnswerEvenWhenNoRuleFires(t *testing.T) {
	f := ruleSet(t, &Env{}, `[{id: r, when: {mti: "0200"}, do: [process, {hold_until: {reversal: true}}]}]`)
	ch := make(chan struct{})
	f.holds[holdKey("TERM0001", "0200", "000042")] = ch
	other := make(chan struct{})
	f.holds[holdKey("TERM0001", "0200", "000041")] = other
	rev := newFake()
	rev.req = &wire.Txn{MTI: "0400", Op: wire.OpReversal, STAN: "000043", TID: "TERM0001",
		Original: &wire.Original{MTI: "0200", STAN: "000042"}}
	require.Nil(t, f.Pick(rev), "the rule is for 0200s")
	select {
	case <-ch:
	default:
		t.Fatal("the held answer of STAN 000042 was not released")
	}
	select {
	case <-other:
		t.Fatal("another request's held answer was released")
	default:
	}
}
