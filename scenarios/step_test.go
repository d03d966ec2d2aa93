package scenarios

import (
	"testing"
	"unicode"

	"github.com/posim/posim/terminal"
	"github.com/stretchr/testify/require"
)

// the world steps the README's Steps table documents, with their names for
// people
var worldLabels = map[string]Text{
	"wait":               {EN: "wait", ZH: "等待"},
	"advance":            {EN: "clock advances", ZH: "时钟前进"},
	"restart":            {EN: "restart", ZH: "重启"},
	"reconnect":          {EN: "reconnect", ZH: "重新连接"},
	"host_down":          {EN: "host goes down", ZH: "主机离线"},
	"host_up":            {EN: "host comes back", ZH: "主机恢复"},
	"retrieval":          {EN: "retrieval request", ZH: "调单"},
	"chargeback":         {EN: "chargeback", ZH: "拒付"},
	"representment":      {EN: "representment", ZH: "再请款"},
	"second_chargeback":  {EN: "second chargeback", ZH: "二次拒付"},
	"settlement_account": {EN: "settlement account", ZH: "结算账户"},
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func TestStepKinds_TheTerminalsOperationsThenTheWorldSteps(t *testing.T) {
	var want []string
	for _, op := range terminal.Operations() {
		want = append(want, op.Name())
	}
	ops := len(want)
	kinds := StepKinds()
	require.Equal(t, want, kinds[:ops], "every operation of the terminal's catalogue, in its order")
	require.ElementsMatch(t, mapKeys(worldLabels), kinds[ops:], "then every world step")
	seen := map[string]bool{}
	for _, k := range kinds {
		require.False(t, seen[k], "%s twice", k)
		seen[k] = true
	}
}

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestStepLabel(t *testing.T) {
	for _, op := range terminal.Operations() {
		t.Run(op.Name(), func(t *testing.T) {
			require.NotEmpty(t, op.Label)
			require.True(t, hasHan(op.LabelZH), "%s has a Chinese label: %q", op.Name(), op.LabelZH)
			require.Equal(t, op.Label, StepLabel(op.Name(), "en"))
			require.Equal(t, op.LabelZH, StepLabel(op.Name(), "zh"))
		})
	}
	for kind, want := range worldLabels {
		t.Run(kind, func(t *testing.T) {
			require.Equal(t, want.EN, StepLabel(kind, "en"))
			require.Equal(t, want.ZH, StepLabel(kind, "zh"))
		})
	}
	t.Run("a language it does not have reads English", func(t *testing.T) {
		require.Equal(t, "pre-authorisation", StepLabel("preauth", "fr"))
		require.Equal(t, "host goes down", StepLabel("host_down", ""))
	})
	t.Run("a kind it does not know is returned as it is", func(t *testing.T) {
		require.Equal(t, "dance", StepLabel("dance", "en"))
		require.Equal(t, "dance", StepLabel("dance", "zh"))
		require.Equal(t, "", StepLabel("", "zh"))
	})
}

func TestStepLabels(t *testing.T) {
	labels := StepLabels()
	require.ElementsMatch(t, StepKinds(), mapKeys(labels), "one label per step kind, no more")
	en, zh := map[string]string{}, map[string]string{}
	for kind, l := range labels {
		require.Equal(t, StepLabel(kind, "en"), l.EN, kind)
		require.Equal(t, StepLabel(kind, "zh"), l.ZH, kind)
		require.NotEmpty(t, l.EN, kind)
		require.True(t, hasHan(l.ZH), "%s: %q", kind, l.ZH)
		require.Empty(t, en[l.EN], "%s and %s are both called %q", kind, en[l.EN], l.EN)
		require.Empty(t, zh[l.ZH], "%s and %s are both called %q", kind, zh[l.ZH], l.ZH)
		en[l.EN], zh[l.ZH] = kind, kind
	}
}
