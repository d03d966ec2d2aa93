package report

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/posim/posim/scenarios"
	"github.com/stretchr/testify/require"
)

func sample() *Run {
	seed := int64(9)
	return &Run{Seed: &seed, Speed: 20, Profile: "iso87", Started: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Results: []*scenarios.Result{
			{Name: "ok-one", Title: scenarios.Text{EN: "Fine"}, Passed: true, Seed: 9, Profile: "iso87",
				Events: []scenarios.Event{
					{Source: "terminal", Kind: "step", Step: 1, Detail: "sale 1.00"},
					{Source: "acquirer", Kind: "in", MTI: "0200", STAN: "000001", Amount: "1.00"},
					{Source: "acquirer", Kind: "fault", Detail: "rule r: close(before_respond,fin)"},
					{Source: "acquirer", Kind: "out", MTI: "0210", STAN: "000001", RC: "00"},
				}},
			{Name: "bad-one", Title: scenarios.Text{EN: "Broken <&>"}, Seed: 9, Profile: "iso87",
				Failures: []scenarios.Failure{{Scenario: "bad-one", Step: 2, Op: "sale", Line: 7, What: "outcome", Expected: "approved", Actual: "declined"}}},
		},
		Skipped: []Skipped{{Name: "cup-only", Reason: "does not run under profile iso87"}},
	}
}

func TestJUnit(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, JUnit(&buf, sample()))
	var parsed junitSuites
	require.NoError(t, xml.Unmarshal(buf.Bytes(), &parsed), buf.String())
	s := parsed.Suites[0]
	require.Equal(t, 3, s.Tests)
	require.Equal(t, 1, s.Failures)
	require.Equal(t, 1, s.Skipped)
	require.Nil(t, s.Cases[0].Failure)
	require.Equal(t, "bad-one: step 2 (sale, line 7): outcome: expected approved, got declined", s.Cases[1].Failure.Message)
	require.NotNil(t, s.Cases[2].Skipped)
	require.NotContains(t, buf.String(), "\x1b[")
	require.Contains(t, buf.String(), `name="seed" value="9"`)
}

func TestMarkdownMermaid(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Markdown(&buf, sample()))
	md := buf.String()
	require.Contains(t, md, "```mermaid\nsequenceDiagram")
	require.Contains(t, md, "T->>A: 0200 stan 000001 1.00")
	require.Contains(t, md, "A-->>T: 0210 stan 000001 rc 00 approved")
	require.Contains(t, md, "Note over N: ✂ rule r - close(before_respond,fin)")
	require.Contains(t, md, "seed 9")
	require.True(t, strings.Index(md, "T->>A") < strings.Index(md, "A-->>T"))
}

func TestJSONHasSeedAndCounts(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, JSON(&buf, sample()))
	require.Contains(t, buf.String(), `"seed": 9`)
	require.Contains(t, buf.String(), `"passed": 1`)
	require.Contains(t, buf.String(), `"failed": 1`)
}
