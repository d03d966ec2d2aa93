package demo

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posim/posim/scenarios"
	"github.com/stretchr/testify/require"
)

// lockedBuffer is the narration's writer when a play runs in another
// goroutine than the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// bare is a demo of one scenario that plays nothing: its events are fed
// by the test.
func bare(lang string, out *lockedBuffer) *Server {
	o := Options{Scenarios: []*scenarios.Scenario{{Name: "fed"}, {Name: "other"}}, Lang: lang}
	if out != nil {
		o.Out = out
	}
	return New(o)
}

// The console tells each step as the page shows it, in the trainer's
// language: steps by scenarios.StepLabel, what the terminal shows, faults,
// messages in and out with the response code's meaning.
func TestNarration_InEnglishAndChinese(t *testing.T) {
	events := []scenarios.Event{
		{Source: "terminal", Kind: "step", Step: 1, Op: "sale", Amount: "100.00", Card: "visa-approve"},
		{Source: "acquirer", Kind: "in", MTI: "0200", STAN: "000001"},
		{Source: "acquirer", Kind: "out", MTI: "0210", STAN: "000001", RC: "51"},
		{Source: "network", Kind: "fault", Detail: "✂ cut"},
		{Source: "terminal", Kind: "result", Display: "DECLINED 51", DisplayZH: "交易失败 51：余额不足", Pending: true},
		{Source: "terminal", Kind: "step", Step: 2, Op: "host_down"},
		{Source: "terminal", Kind: "result", Display: "OK", DisplayZH: "成功"},
		{Source: "terminal", Kind: "step", Step: 3, Op: "dance"},
		{Source: "acquirer", Kind: "balance"},                   // shown on the page only
		{Source: "acquirer", Kind: "step", Step: 4, Op: "sale"}, // not the terminal's
	}
	for lang, want := range map[string]string{
		"en": "  step 1: sale 100.00 card visa-approve\n" +
			"    → 0200 000001\n" +
			"    ← 0210 000001 51 insufficient funds\n" +
			"    fault: ✂ cut\n" +
			"    terminal shows: DECLINED 51\n" +
			"    reversal record pending\n" +
			"  step 2: host goes down\n" +
			"    terminal shows: OK\n" +
			"  step 3: dance\n",
		"zh": "  步骤 1: 消费 100.00 卡 visa-approve\n" +
			"    → 0200 000001\n" +
			"    ← 0210 000001 51 余额不足\n" +
			"    故障：✂ cut\n" +
			"    终端显示：交易失败 51：余额不足\n" +
			"    终端保存了冲正记录\n" +
			"  步骤 2: 主机离线\n" +
			"    终端显示：成功\n" +
			"  步骤 3: dance\n",
	} {
		t.Run(lang, func(t *testing.T) {
			out := &lockedBuffer{}
			s := bare(lang, out)
			for _, e := range events {
				s.event(0, e)
			}
			require.Equal(t, want, out.String())
			d := s.data()
			require.Equal(t, events, d.Scenarios[0].Events, "the page gets every event, in order")
			require.Empty(t, d.Scenarios[1].Events)
			require.Equal(t, lang, d.Lang)
		})
	}
	t.Run("no writer, no narration", func(t *testing.T) {
		s := New(Options{Scenarios: []*scenarios.Scenario{{Name: "fed"}}})
		s.event(0, events[0])
		require.Len(t, s.data().Scenarios[0].Events, 1)
	})
}

// A play is narrated from the scenario's title and story to its verdict.
func TestNarration_AScenarioFromTitleToVerdict(t *testing.T) {
	sc, err := scenarios.FromCatalog("baseline-sale")
	require.NoError(t, err)
	for lang, verdict := range map[string]string{"en": "-> passed\n", "zh": "-> 通过\n"} {
		t.Run(lang, func(t *testing.T) {
			out := &lockedBuffer{}
			s := New(Options{Scenarios: []*scenarios.Scenario{sc}, Lang: lang, Out: out, Speed: 50, StepPause: 100 * time.Millisecond})
			run := s.Play(t.Context())
			require.Len(t, run.Results, 1)
			require.True(t, run.Results[0].Passed)
			text := out.String()
			require.True(t, strings.HasPrefix(text, "\n== "+sc.Title.In(lang)+"\n"+sc.Story.In(lang)+"\n"), text)
			require.True(t, strings.HasSuffix(text, verdict), text)
			require.Contains(t, text, scenarios.StepLabel("sale", lang))
			d := s.data()
			require.True(t, d.Done)
			require.NotNil(t, d.Scenarios[0].Passed)
			require.True(t, *d.Scenarios[0].Passed)
			require.False(t, d.Scenarios[0].Running)
		})
	}
}
