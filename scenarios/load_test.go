package scenarios

import (
	"strings"
	"testing"

	"github.com/posim/posim/faults"
	"github.com/stretchr/testify/require"
)

const minimal = `name: t
title: {en: "T", zh: "测"}
steps:
  - sale: {amount: "1.00"}
`

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown top-level key", minimal + "colour: red\n", "s.yaml:5: unknown key \"colour\""},
		{"unknown nested key", "name: t\ntitle: {en: T}\nsetup:\n  terminal:\n    timout: 30s\nsteps:\n  - sale: {amount: \"1.00\"}\n", "s.yaml:5: unknown key \"timout\""},
		{"wrong type", "name: t\ntitle: {en: T}\nseed: lots\nsteps:\n  - sale: {amount: \"1.00\"}\n", "s.yaml:3: cannot unmarshal"},
		{"unknown step", "name: t\ntitle: {en: T}\nsteps:\n  - dance: {}\n", "s.yaml:4: unknown step \"dance\""},
		{"unknown action", "name: t\ntitle: {en: T}\nrules:\n  - id: r\n    when: {mti: \"0200\"}\n    do: [explode]\nsteps:\n  - sale: {amount: \"1.00\"}\n", "s.yaml:6: unknown action \"explode\""},
		{"bad duration", "name: t\ntitle: {en: T}\nsteps:\n  - wait: soon\n", "s.yaml:4: duration \"soon\""},
		{"bad amount", "name: t\ntitle: {en: T}\nsteps:\n  - sale: {amount: \"1.234\"}\n", "s.yaml:4: step 1: amount"},
		{"unknown card", "name: t\ntitle: {en: T}\nsteps:\n  - sale: {amount: \"1.00\", card: gold}\n", "unknown card \"gold\""},
		{"respond without code", "name: t\ntitle: {en: T}\nrules:\n  - id: r\n    when: {mti: \"0200\"}\n    do: [respond]\nsteps:\n  - sale: {amount: \"1.00\"}\n", "responds without process"},
		{"duplicate rule id", "name: t\ntitle: {en: T}\nrules:\n  - {id: r, when: {}, do: [process]}\n  - {id: r, when: {}, do: [process]}\nsteps:\n  - sale: {amount: \"1.00\"}\n", "s.yaml:5: rule id \"r\" already used"},
		{"bad close point", "name: t\ntitle: {en: T}\nrules:\n  - {id: r, when: {}, do: [process, {close: {at: never}}]}\nsteps:\n  - sale: {amount: \"1.00\"}\n", "close.at \"never\""},
		{"no steps", "name: t\ntitle: {en: T}\n", "at least one step"},
		{"missing name", "title: {en: T}\nsteps:\n  - sale: {amount: \"1.00\"}\n", "name is required"},
		{"two documents", minimal + "---\nname: u\n", "one scenario per file"},
		{"empty", "", "empty"},
		{"bad policy", "name: t\ntitle: {en: T}\nsetup:\n  acquirer: {duplicate: ignore}\nsteps:\n  - sale: {amount: \"1.00\"}\n", "s.yaml:4: policy duplicate"},
		{"rrn_of later step", "name: t\ntitle: {en: T}\nsteps:\n  - void: {rrn_of: 2}\n  - sale: {amount: \"1.00\"}\n", "rrn_of 2 must name an earlier"},
		{"bad line amount", minimal + "expect:\n  lines: [{stan: 1, fee: lots}]\n", "expect.lines: amount \"lots\""},
		{"bad fee anomaly", "name: t\ntitle: {en: T}\nrules:\n  - {id: r, when: {}, do: [process, {fee_anomaly: {kind: free_money}}]}\nsteps:\n  - sale: {amount: \"1.00\"}\n", "fee_anomaly kind \"free_money\""},
		{"bad contract", "name: t\ntitle: {en: T}\nsetup:\n  backoffice: {contracts: [{mid: M, debit: {rate: \"0.6\"}}]}\nsteps:\n  - sale: {amount: \"1.00\"}\n", "rate \"0.6\": want a percentage"},
		{"unknown journal kind", minimal + "expect:\n  journal: {explosions: 1}\n", "unknown kind \"explosions\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tt.src))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestParse_Actions(t *testing.T) {
	s, err := Parse("s.yaml", []byte(`name: t
title: {en: T}
rules:
  - id: all
    when: {mti: "0200", amount: {min: "1.00", max: "9.00"}, not: {card: lost}, scope: terminal, nth: 2}
    do:
      - process
      - {delay: 2s}
      - {delay: {distribution: uniform, min: 1s, max: 2s}}
      - {mutate: [stan, rrn]}
      - {respond: {de39: "05"}}
      - {close: {at: after_respond, mode: rst}}
steps:
  - sale: {amount: "2.00"}
`))
	require.NoError(t, err)
	do := s.Rules[0].Do
	require.Equal(t, []string{"process", "delay", "delay", "mutate", "respond", "close"}, names(do))
	require.Equal(t, "2s", do[1].Spec().(*faults.DelaySpec).Fixed.String())
	require.Equal(t, "uniform", do[2].Spec().(*faults.DelaySpec).Distribution)
	require.Equal(t, faults.MutateSpec{"stan", "rrn"}, *do[3].Spec().(*faults.MutateSpec))
	require.Equal(t, "05", (*do[4].Spec().(*faults.RespondSpec))["de39"])
	require.Equal(t, "rst", do[5].Spec().(*faults.CloseSpec).Mode)
	require.Equal(t, 2, s.Rules[0].When.Nth)
}

func names(do []faults.Action) []string {
	var out []string
	for _, a := range do {
		out = append(out, a.Name)
	}
	return out
}

func TestCatalog_Complete(t *testing.T) {
	all, err := Catalog()
	require.NoError(t, err)
	have := map[string]bool{}
	for _, s := range all {
		have[s.Name] = true
		require.NotEmpty(t, s.Title.ZH, "%s: title.zh", s.Name)
		require.NotEmpty(t, s.Story.EN, "%s: story.en", s.Name)
		require.NotEmpty(t, s.Story.ZH, "%s: story.zh", s.Name)
		require.NotEmpty(t, s.Source, "%s: source", s.Name)
		require.True(t, strings.HasSuffix(s.File, s.Name+".yaml"), "%s is in %s", s.Name, s.File)
		require.False(t, isEmptyExpect(s.Expect), "%s pins no end state", s.Name)
	}
	for _, name := range []string{
		"baseline-sale", "lost-response-reversal", "late-response", "upstream-timeout-68", "lost-request-orphan-reversal",
		"reversal-retries-exhausted", "reversal-retries-exhausted-block", "reversal-ack-lost", "power-cut-before-clear",
		"power-cut-after-clear", "duplicate-after-lost-approval", "duplicate-after-lost-approval-94", "velocity-decline",
		"amount-limits", "card-risk-declines", "wrong-payment-info", "insufficient-funds", "merchant-frozen",
		"maintenance-window", "void-reversed", "refund-limits", "out-of-balance-settlement", "preauth-reversed-then-completed",
	} {
		require.True(t, have[name], "catalogue lacks %s", name)
	}
}

func isEmptyExpect(e Expect) bool {
	return len(e.Records) == 0 && len(e.Received) == 0 && len(e.Order) == 0 && len(e.Journal) == 0 &&
		len(e.Balances) == 0 && e.Settlement == nil && e.Terminal == nil && len(e.Held) == 0 &&
		e.Fees == nil && len(e.Lines) == 0 && len(e.Statements) == 0 && e.Reversals == nil
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	data, _ := CatalogSource("lost-response-reversal")
	f.Add(data)
	f.Add([]byte("steps: [{sale: }]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.yaml", data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if s.Name == "" || len(s.Steps) == 0 {
			t.Fatal("an invalid scenario was accepted")
		}
	})
}
