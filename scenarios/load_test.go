package scenarios

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
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

func TestPolicies(t *testing.T) {
	t.Run("an empty acquirer setup keeps every default", func(t *testing.T) {
		p, err := Policies(AcquirerSetup{})
		require.NoError(t, err)
		require.Equal(t, acquirer.DefaultPolicies(), p)
	})
	t.Run("each key of the acquirer setup reaches its policy", func(t *testing.T) {
		s, err := Parse("s.yaml", []byte(setup("  acquirer:",
			`    {duplicate: "94", reversal_unknown: "25", reversal_repeat: "22", reversal_declined: "12", late_reversal: C3,`,
			`     unsigned: A0, arqc_failure: "51", fallback: "05", refund_over_balance: "51", card_type_refused: "58",`,
			`     limits: {max_amount: "5000.00", daily_amount: "20000.00", daily_count: 20}, velocity: {count: 2, window: 30m},`,
			`     pin_tries: 5, magic_amounts: false, auto_register: false, review: {declines: 30, over: 50}}`)))
		require.NoError(t, err)
		p, err := Policies(s.Setup.Acquirer)
		require.NoError(t, err)
		want := acquirer.DefaultPolicies()
		want.Duplicate, want.ReversalUnknown, want.ReversalRepeat, want.ReversalDeclined = acquirer.Duplicate94, "25", "22", "12"
		want.LateReversal, want.Unsigned, want.ARQCFailure, want.Fallback = "C3", "A0", "51", "05"
		want.RefundOverBalance, want.CardTypeRefused = "51", "58"
		want.MaxAmount, want.DailyAmount, want.DailyCount = 500000, 2000000, 20
		want.VelocityCount, want.VelocityWindow = 2, 30*time.Minute
		want.PINTries, want.MagicAmounts, want.AutoRegister = 5, false, false
		want.Review = &acquirer.ReviewRule{Declines: 30, Over: 50}
		require.Equal(t, want, p)
	})
	t.Run("a velocity count alone counts within the default ten minutes", func(t *testing.T) {
		p, err := Policies(AcquirerSetup{Velocity: VelocitySetup{Count: 2}})
		require.NoError(t, err)
		require.Equal(t, 2, p.VelocityCount)
		require.Equal(t, 10*time.Minute, p.VelocityWindow)
	})
	t.Run("magic amounts and auto-registration stay on unless turned off", func(t *testing.T) {
		on := true
		p, err := Policies(AcquirerSetup{MagicAmounts: &on, AutoRegister: &on})
		require.NoError(t, err)
		require.True(t, p.MagicAmounts)
		require.True(t, p.AutoRegister)
	})
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	t.Run("reads, validates and names the file", func(t *testing.T) {
		path := filepath.Join(dir, "ok.yaml")
		require.NoError(t, os.WriteFile(path, []byte(minimal), 0o644))
		s, err := LoadFile(path)
		require.NoError(t, err)
		require.Equal(t, path, s.File)
		require.Equal(t, "t", s.Name)
	})
	t.Run("reports problems at the file's path", func(t *testing.T) {
		path := filepath.Join(dir, "bad.yaml")
		require.NoError(t, os.WriteFile(path, []byte(steps("  - dance: {}")), 0o644))
		_, err := LoadFile(path)
		require.ErrorContains(t, err, path+`:4: unknown step "dance"`)
	})
	t.Run("a missing file is a reading error", func(t *testing.T) {
		_, err := LoadFile(filepath.Join(dir, "none.yaml"))
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.ErrorContains(t, err, "reading scenario: ")
	})
}

func TestLoadPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(name, name2 string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte("name: "+name2+"\ntitle: {en: T}\n"+oneSale+"\n"), 0o644))
		return path
	}
	write("b.yaml", "b")
	write("a.yml", "a")
	write("notes.txt", "not-a-scenario")
	write("sub/c.yaml", "c")
	single := write("single/z.yaml", "z")
	t.Run("a directory gives its .yaml and .yml files by file name, not its subdirectories", func(t *testing.T) {
		list, err := LoadPaths([]string{dir})
		require.NoError(t, err)
		require.Equal(t, []string{"a", "b"}, scenarioNames(list))
	})
	t.Run("files and directories in the order named", func(t *testing.T) {
		list, err := LoadPaths([]string{single, dir, filepath.Join(dir, "sub")})
		require.NoError(t, err)
		require.Equal(t, []string{"z", "a", "b", "c"}, scenarioNames(list))
	})
	t.Run("every bad file is reported and the good ones still load", func(t *testing.T) {
		bad := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(bad, "1.yaml"), []byte(steps("  - dance: {}")), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(bad, "2.yaml"), []byte(minimal), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(bad, "3.yaml"), []byte(""), 0o644))
		list, err := LoadPaths([]string{bad})
		require.Equal(t, []string{"t"}, scenarioNames(list))
		require.EqualError(t, err, filepath.Join(bad, "1.yaml")+`:4: unknown step "dance" (known: `+strings.Join(StepKinds(), ", ")+
			", plus expect, repeat and profiles)\n"+filepath.Join(bad, "3.yaml")+": the file is empty")
	})
	t.Run("a path that does not exist stops the loading", func(t *testing.T) {
		list, err := LoadPaths([]string{dir, filepath.Join(dir, "gone")})
		require.Nil(t, list)
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.ErrorContains(t, err, "reading scenarios: ")
	})
}
