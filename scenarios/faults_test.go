package scenarios

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// answerTimeout is how long, in real time, the terminal of a scenario
// played by play waits for an answer unless its body sets a timeout: far
// above a loaded 2-core machine's scheduling jitter under the race detector
// (the 30 s default at speed 50 is 0.6 s, which answered steps exceeded).
// A body in which the timeout must fire sets a short one, and then nothing
// in it races against that timeout; one that also needs the answers after
// it keeps this one and waits it out.
const answerTimeout = 5 * time.Second

// play parses a scenario body (everything after name and title) and runs it
// at speed 50 unless o says otherwise: 50 s of scenario time pass in one
// real second.
func play(t *testing.T, body string, o Options) *Result {
	t.Helper()
	s, err := Parse(t.Name()+".yaml", []byte("name: t\ntitle: {en: T}\n"+body))
	require.NoError(t, err)
	if o.Speed == 0 {
		o.Speed = 50
	}
	if s.Setup.Terminal.Timeout == nil {
		d := Duration(float64(answerTimeout) * o.Speed)
		s.Setup.Terminal.Timeout = &d
	}
	return Run(context.Background(), s, o)
}

func requirePass(t *testing.T, res *Result) {
	t.Helper()
	require.Empty(t, res.Error)
	for _, f := range res.Failures {
		t.Error(f.String())
	}
}

// Each primitive and trigger gets a small scenario whose expectations show
// its effect; a primitive that did nothing would break them.
func TestFaults_Primitives(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"respond overrides a processed approval": `
rules: [{id: r, when: {mti: "0200"}, do: [process, {respond: {de39: "05"}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: declined, response_code: "05", reversal_pending: false}
expect: {balances: {visa-approve: "990.00"}, journal: {fault: 1}}`,
		"respond without process books nothing": `
rules: [{id: r, when: {mti: "0200"}, do: [{respond: {de39: "51"}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: declined, response_code: "51"}
expect: {balances: {visa-approve: "1000.00"}, records: []}`,
		"delay under the timeout still answers": `
rules: [{id: r, when: {mti: "0200"}, do: [process, {delay: 10s}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: approved}
expect: {balances: {visa-approve: "990.00"}}`,
		"a delay drawn from a distribution past the timeout loses the answer": `
setup: {terminal: {timeout: 15s}}
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [process, {delay: {distribution: uniform, min: 5m, max: 6m}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: no_response, reversal_pending: true}
expect: {balances: {visa-approve: "990.00"}}`,
		"no_response then close": `
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [process, {no_response: {hold: 5s, then: close}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: no_response, reversal_pending: true}
  - sale: {card: visa-approve, amount: "1.00"}
    expect: {outcome: approved, reversals_sent: 1}
expect: {balances: {visa-approve: "999.00"}}`,
		"close on receive books nothing": `
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [{close: {at: on_receive}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: no_response, reversal_pending: true}
expect: {balances: {visa-approve: "1000.00"}}`,
		"close after respond answers first": `
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [process, {close: {at: after_respond}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: approved}
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: approved}
expect: {balances: {visa-approve: "980.00"}}`,
		"close with rst": `
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [process, {close: {at: before_respond, mode: rst}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: no_response, reversal_pending: true}
expect: {journal: {fault: 1}}`,
		"truncate leaves the terminal waiting": `
setup: {terminal: {timeout: 15s}}
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [process, truncate]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: no_response, reversal_pending: true}`,
		"fragment is reassembled": `
rules: [{id: r, when: {mti: "0200"}, do: [process, {fragment: {parts: 4, gap: 100ms}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: approved}`,
		"garbage instead of the answer": `
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [process, {garbage: {bytes: 40}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: no_response, reversal_pending: true}`,
		"garbage with a bad length header": `
setup: {terminal: {timeout: 15s}}
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [process, {garbage: {bytes: 10, mode: bad_length}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: no_response, reversal_pending: true}`,
		"mutate stan: the answer matches nothing": `
setup: {terminal: {timeout: 15s}}
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [process, {mutate: [stan]}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: no_response, reversal_pending: true}`,
		"mutate amount: an invalid response keeps the record": `
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [process, {mutate: [amount]}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: invalid_response, reversal_pending: true}
  - sale: {card: visa-approve, amount: "1.00"}
    expect: {outcome: approved, reversal_reason: "06"}
expect: {balances: {visa-approve: "999.00"}}`,
		"mutate drop_de39": `
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [process, {mutate: [drop_de39]}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: invalid_response, reversal_pending: true}`,
		"duplicate: the second copy is a late response": `
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [process, {duplicate: {gap: 1s}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: approved}
  - wait: 250s
  - echo:
    expect: {late_responses: 1}
expect: {received: {"0200": 1}, balances: {visa-approve: "990.00"}}`,
		"send a stale response first": `
rules: [{id: r, when: {mti: "0200", nth: 2}, do: [{send: {stale: true}}, process]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
  - sale: {card: visa-approve, amount: "20.00"}
    expect: {outcome: approved}
  - wait: 5s
  - echo:
    expect: {late_responses: 1}
expect: {balances: {visa-approve: "970.00"}}`,
		"hold until the reversal arrives": `
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [process, {hold_until: {reversal: true}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: no_response, reversal_pending: true}
  - sale: {card: visa-approve, amount: "1.00"}
    expect: {outcome: approved, reversals_sent: 1}
  - wait: 250s
  - echo:
    expect: {late_responses: 1}
expect:
  records: [{stan: 1, status: reversed}]
  balances: {visa-approve: "999.00"}`,
		"refuse takes the host down": `
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [{refuse: {for: 250s}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: no_response, reversal_pending: true}
  - sale: {card: visa-approve, amount: "1.00"}
    expect: {outcome: refused, reversal_pending: true}
  - wait: 500s
  - sale: {card: visa-approve, amount: "1.00"}
    expect: {outcome: approved, reversals_sent: 1}
expect: {journal: {orphan: 1}, balances: {visa-approve: "999.00"}}`,
		"discard": `
setup: {terminal: {timeout: 15s}}
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [discard]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: no_response}
expect: {received: {"0200": 1}, balances: {visa-approve: "1000.00"}}`,
		"upstream within its timeout approves": `
rules: [{id: r, when: {mti: "0200"}, do: [{upstream: {latency: 2s, timeout: 10s}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: approved}
expect: {balances: {visa-approve: "990.00"}}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			requirePass(t, play(t, body, Options{}))
		})
	}
}

func TestFaults_TerminalSide(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"slow fragmented writes are reassembled by the host": `
setup: {terminal: {write: {chunk: 7, gap: 500ms}}}
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {outcome: approved}
expect: {balances: {visa-approve: "990.00"}, journal: {bad_frame: 0}}`,
		"close before reading leaves a reversal": `
steps:
  - sale: {card: visa-approve, amount: "10.00", close_before_read: true}
    expect: {outcome: no_response, reversal_pending: true}
  - sale: {card: visa-approve, amount: "1.00"}
    expect: {outcome: approved, reversals_sent: 1}
expect: {balances: {visa-approve: "999.00"}, records: [{stan: 1, status: reversed}]}`,
		"power cut after send": `
steps:
  - sale: {card: visa-approve, amount: "10.00", power_cut: after_send}
    expect: {outcome: power_cut, reversal_pending: true}
  - sale: {card: visa-approve, amount: "1.00"}
    expect: {outcome: power_cut}
  - restart: terminal
  - sale: {card: visa-approve, amount: "1.00"}
    expect: {outcome: approved, reversals_sent: 1, reversal_reason: "98"}
expect: {balances: {visa-approve: "999.00"}}`,
		"within bounds how soon the reversal followed": `
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [process, {close: {at: before_respond}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
  - sale: {card: visa-approve, amount: "1.00"}
expect:
  within: [{mti: "0400", after: "0200", max: 250s}]`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			requirePass(t, play(t, body, Options{}))
		})
	}
}

func TestFaults_Triggers(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"times fires a limited number of times": `
rules: [{id: r, when: {mti: "0200", times: 2}, do: [{respond: {de39: "91"}}]}]
steps:
  - {sale: {amount: "1.00"}, expect: {response_code: "91"}}
  - {sale: {amount: "1.00"}, expect: {response_code: "91"}}
  - {sale: {amount: "1.00"}, expect: {response_code: "00"}}`,
		"after skips the first matches": `
rules: [{id: r, when: {mti: "0200", after: 2}, do: [{respond: {de39: "91"}}]}]
steps:
  - {sale: {amount: "1.00"}, expect: {response_code: "00"}}
  - {sale: {amount: "1.00"}, expect: {response_code: "00"}}
  - {sale: {amount: "1.00"}, expect: {response_code: "91"}}`,
		"every fires on every second match": `
rules: [{id: r, when: {mti: "0200", every: 2}, do: [{respond: {de39: "91"}}]}]
steps:
  - {sale: {amount: "1.00"}, expect: {response_code: "00"}}
  - {sale: {amount: "1.00"}, expect: {response_code: "91"}}
  - {sale: {amount: "1.00"}, expect: {response_code: "00"}}
  - {sale: {amount: "1.00"}, expect: {response_code: "91"}}`,
		"and/or/not on decoded fields": `
rules:
  - id: r
    when:
      or: [{card: lost}, {amount: {min: "100.00"}}]
      not: {bin: "411111"}
    do: [{respond: {de39: "62"}}]
steps:
  - {sale: {card: visa-approve, amount: "150.00"}, expect: {response_code: "00"}}
  - {sale: {card: approve, amount: "150.00"}, expect: {response_code: "62"}}
  - {sale: {card: approve, amount: "10.00"}, expect: {response_code: "00"}}`,
		"scope terminal keeps counters per terminal": `
rules: [{id: r, when: {mti: "0200", nth: 1, scope: terminal}, do: [{respond: {de39: "91"}}]}]
steps:
  - {sale: {amount: "1.00"}, expect: {response_code: "91"}}
  - {sale: {amount: "1.00"}, expect: {response_code: "00"}}
  - {sale: {amount: "1.00", tid: "OTHER001"}, expect: {response_code: "91"}}`,
		"window limits a rule in scenario time": `
rules: [{id: r, when: {mti: "0200", window: {from: 0s, until: 10m}}, do: [{respond: {de39: "91"}}]}]
steps:
  - {sale: {amount: "1.00"}, expect: {response_code: "91"}}
  - advance: 20m
  - {sale: {amount: "1.00"}, expect: {response_code: "00"}}`,
		"first matching rule wins": `
rules:
  - {id: a, when: {mti: "0200", nth: 1}, do: [{respond: {de39: "91"}}]}
  - {id: b, when: {mti: "0200", nth: 2}, do: [{respond: {de39: "96"}}]}
steps:
  - {sale: {amount: "1.00"}, expect: {response_code: "91"}}
  - {sale: {amount: "1.00"}, expect: {response_code: "96"}}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			requirePass(t, play(t, body, Options{}))
		})
	}
}

func TestFaults_ProbabilityIsSeeded(t *testing.T) {
	body := `
rules: [{id: coin, when: {mti: "0200", probability: 0.5}, do: [{respond: {de39: "91"}}]}]
steps:
` + repeatSale(12)
	pattern := func(seed int64) string {
		res := play(t, body, Options{Seed: &seed})
		require.Empty(t, res.Error)
		s := ""
		for _, st := range res.Steps {
			s += st.ResponseCode + " "
		}
		return s
	}
	a, b := pattern(1), pattern(1)
	require.Equal(t, a, b, "the same seed gives the same draws")
	require.Contains(t, a, "91")
	require.Contains(t, a, "00")
	differs := false
	for seed := int64(2); seed < 6 && !differs; seed++ {
		differs = pattern(seed) != a
	}
	require.True(t, differs, "other seeds give other draws")
}

func repeatSale(n int) string {
	s := ""
	for i := 0; i < n; i++ {
		s += fmt.Sprintf("  - sale: {amount: \"%d.00\"}\n", i+1)
	}
	return s
}

func TestRun_SameSeedSameEvents(t *testing.T) {
	t.Parallel() // it waits out two lost answers
	s, err := FromCatalog("reversal-ack-lost")
	require.NoError(t, err)
	strip := func(res *Result) []Event {
		var out []Event
		// times, and the RRNs made of them, follow the clock (a receipt
		// carries both): a loaded machine moves them by a second
		// (on its lines, and in the advice of a failed transaction's slip)
		clock := regexp.MustCompile(`((?:REF\. NO\.|DATE/TIME)\)?:\s*)[0-9/: ]+\n`)
		stamp := regexp.MustCompile(`[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}`)
		mask := func(r string) string {
			return stamp.ReplaceAllString(clock.ReplaceAllString(r, "${1}CLOCK\n"), "CLOCK")
		}
		for _, e := range res.Events {
			e.AtMS = 0
			e.Receipt, e.ReceiptZH = mask(e.Receipt), mask(e.ReceiptZH)
			out = append(out, e)
		}
		return out
	}
	// both at once: each waits out its lost answers at the catalogue's speed
	var a, b *Result
	var wg sync.WaitGroup
	wg.Go(func() { a = Run(context.Background(), s, Options{Speed: catalogSpeed(s)}) })
	wg.Go(func() { b = Run(context.Background(), s, Options{Speed: catalogSpeed(s)}) })
	wg.Wait()
	require.True(t, a.Passed)
	require.Equal(t, strip(a), strip(b))
}

func TestRun_FailureNamesStepExpectedActual(t *testing.T) {
	res := play(t, `
steps:
  - sale: {card: insufficient-funds, amount: "1.00"}
    expect: {outcome: approved}
expect: {balances: {visa-approve: "1.00"}}`, Options{})
	require.False(t, res.Passed)
	require.Len(t, res.Failures, 2)
	require.Equal(t, "t: step 1 (sale, line 5): outcome: expected approved, got declined", res.Failures[0].String())
	require.Equal(t, "t: end state: balance of visa-approve: expected 1.00, got 1000.00", res.Failures[1].String())
}

func TestExpect_WithinCanFail(t *testing.T) {
	// the scenario clock moves a minute between the lost answer and the
	// reversal: the host cuts the line, nothing waits
	res := play(t, `
rules: [{id: r, when: {mti: "0200", nth: 1}, do: [process, {close: {at: before_respond}}]}]
steps:
  - sale: {card: visa-approve, amount: "10.00"}
  - advance: 1m
  - sale: {card: visa-approve, amount: "1.00"}
expect:
  within: [{mti: "0400", after: "0200", max: 20s}]`, Options{})
	require.Len(t, res.Failures, 1)
	require.Contains(t, res.Failures[0].What, "0400 within 20s after 0200")
}
