package faults

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/posim/posim/yamlx"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// action decodes one action written at line 3 of a rule.
func action(src string) (Action, error) {
	var r Rule
	err := yaml.Unmarshal([]byte("id: r\ndo:\n  - "+src+"\n"), &r)
	if err != nil {
		return Action{}, err
	}
	return r.Do[0], nil
}

func dur(s string) yamlx.Duration {
	d, err := yamlx.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return yamlx.Duration(d)
}

// Every primitive, in each form it may be written, decodes to its
// arguments and describes itself for journals.
func TestAction_DecodesEachForm(t *testing.T) {
	cases := []struct {
		src  string
		spec any
		str  string
	}{
		{"close", &CloseSpec{}, "close(before_respond,fin)"},
		{"{close: {at: after_respond, mode: rst}}", &CloseSpec{At: AtAfterRespond, Mode: "rst"}, "close(after_respond,rst)"},
		{"{delay: 2s}", &DelaySpec{Fixed: dur("2s")}, "delay(2s)"},
		{"{delay: 1d}", &DelaySpec{Fixed: dur("24h")}, "delay(24h0m0s)"},
		{"{delay: {distribution: uniform, min: 1s, max: 3s}}", &DelaySpec{Distribution: "uniform", Min: dur("1s"), Max: dur("3s")}, "delay(uniform)"},
		{"{delay: {distribution: normal, mean: 1s, stddev: 100ms}}", &DelaySpec{Distribution: "normal", Mean: dur("1s"), StdDev: dur("100ms")}, "delay(normal)"},
		{"discard", &DiscardSpec{}, "discard"},
		{"duplicate", &DuplicateSpec{}, "duplicate"},
		{"{duplicate: {gap: 50ms}}", &DuplicateSpec{Gap: dur("50ms")}, "duplicate(50ms)"},
		{"{duplicate: {to: host}}", &DuplicateSpec{To: "host"}, "duplicate(to host)"},
		{`{fee_anomaly: {kind: wrong_rate, rate: "1.00%"}}`, &AnomalySpec{Kind: "wrong_rate", Rate: "1.00%"}, "fee_anomaly(wrong_rate)"},
		{"fragment", &FragmentSpec{}, "fragment(2)"},
		{"{fragment: {parts: 4, gap: 100ms}}", &FragmentSpec{Parts: 4, Gap: dur("100ms")}, "fragment(4)"},
		{"garbage", &GarbageSpec{}, "garbage(random)"},
		{"{garbage: {bytes: 40, mode: bad_length}}", &GarbageSpec{Bytes: 40, Mode: "bad_length"}, "garbage(bad_length)"},
		{"{hold_until: {reversal: true, timeout: 120s}}", &HoldSpec{Reversal: true, Timeout: dur("120s")}, "hold_until(reversal)"},
		{"{mutate: amount}", &MutateSpec{"amount"}, "mutate(amount)"},
		{"{mutate: [stan, rrn]}", &MutateSpec{"stan", "rrn"}, "mutate(stan,rrn)"},
		{"no_response", &NoResponseSpec{}, "no_response"},
		{"{no_response: {hold: 5s, then: close}}", &NoResponseSpec{Hold: dur("5s"), Then: "close"}, "no_response(close after 5s)"},
		{"{payout_returned: {reason: wrong_account}}", &PayoutReturnedSpec{Reason: "wrong_account"}, "payout_returned(wrong_account)"},
		{"process", &ProcessSpec{}, "process"},
		{"{process: }", &ProcessSpec{}, "process"},
		{"{refuse: {for: 30s}}", &RefuseSpec{For: dur("30s")}, "refuse(30s,down)"},
		{"{refuse: {for: 1m, mode: close}}", &RefuseSpec{For: dur("1m"), Mode: "close"}, "refuse(1m0s,close)"},
		{"respond", &RespondSpec{}, "respond"},
		{`{respond: {de39: "05", de38: "ABC123"}}`, &RespondSpec{"de39": "05", "de38": "ABC123"}, "respond(de38=ABC123,de39=05)"},
		{"{send: {stale: true}}", &SendSpec{Stale: true}, "send(stale)"},
		{`{send: {mti: "0810", fields: {de39: "00"}}}`, &SendSpec{MTI: "0810", Fields: map[string]string{"de39": "00"}}, "send(0810)"},
		{"truncate", &TruncateSpec{}, "truncate"},
		{"{truncate: {bytes: 10}}", &TruncateSpec{Bytes: 10}, "truncate(10)"},
		{"{upstream: {latency: 20s, timeout: 10s}}", &UpstreamSpec{Latency: dur("20s"), Timeout: dur("10s")}, "upstream(20s,10s)"},
	}
	var covered []string
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			a, err := action(tc.src)
			require.NoError(t, err)
			require.Equal(t, 3, a.Line)
			require.Equal(t, tc.spec, a.Spec())
			require.Equal(t, tc.str, a.String())
			covered = append(covered, a.Name)
		})
	}
	slices.Sort(covered)
	require.Equal(t, ActionNames(), slices.Compact(covered), "every primitive has its forms in this table")
}

func TestAction_BareNameOnlyWhereEveryArgumentHasADefault(t *testing.T) {
	bare := []string{"close", "discard", "duplicate", "fragment", "garbage", "no_response", "process", "respond", "truncate"}
	for _, name := range ActionNames() {
		_, err := action(name)
		if slices.Contains(bare, name) {
			require.NoError(t, err, name)
			continue
		}
		var le *yamlx.LineError
		require.ErrorAs(t, err, &le, name)
		require.Equal(t, yamlx.LineError{Line: 3, Msg: "action " + name + " needs arguments"}, *le)
	}
}

func TestAction_ScalarShortFormOnlyForDelayAndMutate(t *testing.T) {
	for _, name := range ActionNames() {
		_, err := action("{" + name + ": 1s}")
		if name == ActDelay || name == ActMutate {
			require.NoError(t, err, name)
			continue
		}
		require.EqualError(t, err, "3: action "+name+" takes a mapping of arguments")
	}
	_, err := action("{delay: soon}")
	require.ErrorContains(t, err, `3: duration "soon": want a duration`)
}

func TestAction_UnknownArgumentsAreRefusedAtTheirLine(t *testing.T) {
	for _, name := range ActionNames() {
		t.Run(name, func(t *testing.T) {
			var r Rule
			err := yaml.Unmarshal([]byte("id: r\ndo:\n  - process\n  - "+name+":\n      colour: red\n"), &r)
			switch name {
			case ActRespond:
				// its arguments are a map of fields: the check names the
				// one it does not know
				require.NoError(t, err)
				var got []problem
				CheckPipeline(r, 1, "", collect(&got))
				require.Equal(t, []problem{{4, `respond: unknown field "colour" (known: mti, de3, de4, de11, de37, de38, de39, de41, de42, de49)`}}, got)
			case ActProcess, ActDiscard:
				require.EqualError(t, err, "5: action "+name+" takes no arguments")
			case ActMutate:
				require.EqualError(t, err, "5: cannot unmarshal !!map into faults.MutateSpec")
			default:
				require.ErrorContains(t, err, `5: unknown key "colour" (known: `)
			}
		})
	}
}

func TestAction_MalformedActions(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"teleport", `3: unknown action "teleport" (known: close, delay, discard, `},
		{"{teleport: {}}", `3: unknown action "teleport"`},
		{"{process: , close: }", "3: an action is one name, or a mapping with one key: the name (known: close, "},
		{"[process, close]", "3: an action is a name or a one-key mapping"},
	} {
		_, err := action(tc.src)
		require.ErrorContains(t, err, tc.want, tc.src)
	}
}

func TestAction_MarshalJSON(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"process", `{"name": "process", "line": 3}`},
		{"discard", `{"name": "discard", "line": 3}`},
		{"{garbage: {bytes: 40, mode: bad_length}}", `{"name": "garbage", "line": 3, "garbage": {"bytes": 40, "mode": "bad_length"}}`},
		{"{mutate: [stan]}", `{"name": "mutate", "line": 3, "mutate": ["stan"]}`},
	} {
		a, err := action(tc.src)
		require.NoError(t, err)
		b, err := json.Marshal(a)
		require.NoError(t, err)
		require.JSONEq(t, tc.want, string(b), tc.src)
	}
}
