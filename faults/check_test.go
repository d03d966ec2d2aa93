package faults

import (
	"fmt"
	"testing"

	"github.com/posim/posim/cards"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// problem is one thing a check reported, where.
type problem struct {
	line int
	msg  string
}

func collect(out *[]problem) Report {
	return func(line int, format string, a ...any) { *out = append(*out, problem{line, fmt.Sprintf(format, a...)}) }
}

func TestCheckWhen_RefusesBadTriggersAtTheRulesLine(t *testing.T) {
	for _, tc := range []struct {
		name, when string
		want       []string
	}{
		{"a good trigger", `{mti: "0200", op: sale, card: approve, amount: {min: "1.00", max: "2.00"}, scope: terminal, probability: 0.5, nth: 1}`, nil},
		{"mti of three digits", `{mti: "200"}`, []string{`when.mti "200": want four digits`}},
		{"mti with a letter", `{mti: "02x0"}`, []string{`when.mti "02x0": want four digits`}},
		{"unknown op", `{op: buy}`, []string{`when.op "buy": want one of sale, `}},
		{"unknown card alias", `{card: nobody}`, []string{`when.card "nobody" is not a card alias (known: aml, approve, `}},
		{"amount with three decimals", `{amount: {equal: "1.234"}}`, []string{`when.amount: amount "1.234": want at most two decimals`}},
		{"amount min not a number", `{amount: {min: "ten"}}`, []string{`when.amount: amount "ten": want digits`}},
		{"amount max negative", `{amount: {max: "-1"}}`, []string{`when.amount: amount "-1": want digits`}},
		{"unknown scope", `{scope: planet}`, []string{`when.scope "planet": want global, connection, terminal or merchant`}},
		{"probability over 1", `{probability: 1.5}`, []string{"when.probability 1.5: want 0 to 1"}},
		{"probability below 0", `{probability: -0.1}`, []string{"when.probability -0.1: want 0 to 1"}},
		{"negative nth", `{nth: -1}`, []string{"when: nth, times, after and every must not be negative"}},
		{"negative times", `{times: -1}`, []string{"when: nth, times, after and every must not be negative"}},
		{"negative after", `{after: -1}`, []string{"when: nth, times, after and every must not be negative"}},
		{"negative every", `{every: -1}`, []string{"when: nth, times, after and every must not be negative"}},
		{"inside and", `{and: [{mti: "02"}]}`, []string{`when.mti "02": want four digits`}},
		{"inside or", `{or: [{op: sale}, {op: buy}]}`, []string{`when.op "buy"`}},
		{"inside not", `{not: {scope: planet}}`, []string{`when.scope "planet"`}},
		{"every problem is reported", `{mti: "1", op: buy, not: {card: nobody}}`,
			[]string{`when.mti "1"`, `when.op "buy"`, `when.card "nobody"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w When
			require.NoError(t, yaml.Unmarshal([]byte(tc.when), &w))
			var got []problem
			CheckWhen(w, cards.Builtin(), 7, collect(&got))
			require.Len(t, got, len(tc.want), "%v", got)
			for i, p := range got {
				require.Equal(t, 7, p.line)
				require.Contains(t, p.msg, tc.want[i])
			}
		})
	}
}

func TestCheckPipeline_RefusesBadPipelinesAtTheirLines(t *testing.T) {
	for _, tc := range []struct {
		name, rule string
		want       []problem
	}{
		{"a good pipeline", "id: r\ndo:\n  - process\n  - {delay: 1s}\n", nil},
		{"nothing to do", "id: r\ndo: []\n",
			[]problem{{1, `rule "r": do is empty (use process for the default behaviour)`}}},
		{"an action after close never runs", "id: r\ndo:\n  - process\n  - close\n  - {delay: 1s}\n",
			[]problem{{5, `rule "r": delay(1s) comes after close(before_respond,fin), which ends the pipeline: it would never run`}}},
		{"an action after refuse never runs", "id: r\ndo:\n  - {refuse: {for: 1s}}\n  - process\n",
			[]problem{{4, `rule "r": process comes after refuse(1s,down), which ends the pipeline: it would never run`}}},
		{"neither processed nor answered", "id: r\ndo:\n  - {delay: 1s}\n",
			[]problem{{1, `rule "r" neither processes nor answers: add process, or respond: {de39: ...}`}}},
		{"a primitive's own check at its line", "id: r\ndo:\n  - process\n  - {close: {mode: slam}}\n",
			[]problem{{4, `close.mode "slam": want fin or rst`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Rule
			require.NoError(t, yaml.Unmarshal([]byte(tc.rule), &r))
			var got []problem
			CheckPipeline(r, 1, "", collect(&got))
			require.Equal(t, tc.want, got)
		})
	}
}

func TestCheckPipeline_WhereTheRulesRun(t *testing.T) {
	for _, tc := range []struct {
		do              string
		acquirer, proxy bool // accepted there
	}{
		{"[process, {fee_anomaly: {kind: late_fee}}]", true, false},
		{"[process, {payout_returned: {reason: wrong_account}}]", true, false},
		{"[{duplicate: {to: host}}, process]", false, true},
		{"[process, {duplicate: {gap: 1s}}]", true, true},
		{"[{refuse: {for: 1s}}]", true, true},
	} {
		t.Run(tc.do, func(t *testing.T) {
			require.Equal(t, tc.acquirer, len(checkPipeline(t, tc.do, WhereAcquirer)) == 0, "acquirer")
			require.Equal(t, tc.proxy, len(checkPipeline(t, tc.do, WhereProxy)) == 0, "proxy")
			require.Empty(t, checkPipeline(t, tc.do, ""), "either")
		})
	}
}

func TestCheck_NamesFileAndLine(t *testing.T) {
	var rules []Rule
	require.NoError(t, yaml.Unmarshal([]byte(`
- id: good
  do: [process]
- id: idle
  do:
    - {delay: 1s}
- id: books
  do: [process, {fee_anomaly: {kind: late_fee}}]
- id: empty
  do: []
`), &rules))
	require.NoError(t, Check("s.yaml", rules[:1], WhereProxy))
	err := Check("s.yaml", rules, WhereProxy)
	require.EqualError(t, err, `s.yaml:6: rule "idle" neither processes nor answers: add process, or respond: {de39: ...}`+"\n"+
		`s.yaml:8: rule "books": fee_anomaly marks posim's own books; a proxy keeps none`+"\n"+
		`s.yaml: rule "empty": do is empty (use process for the default behaviour)`)
	require.NoError(t, Check("s.yaml", rules[2:3], WhereAcquirer))
}
