package scenarios

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// These scenarios need no timeout: a lost answer is a connection the host
// closes (the terminal sees it at once), so they run in real time (speed 1,
// the terminal's 30 s timeout never reached) and stay fast on a loaded
// machine.

// alternative is {{wrong|right}} in a scenario body: the value an
// expectation is given in the run that must fail, and in the one that must
// pass.
var alternative = regexp.MustCompile(`\{\{([^|}]*)\|([^}]*)\}\}`)

// variant writes every alternative of body one way.
func variant(body string, right bool) string {
	return alternative.ReplaceAllStringFunc(body, func(m string) string {
		alt := alternative.FindStringSubmatch(m)
		if right {
			return alt[2]
		}
		return alt[1]
	})
}

func stepFailure(step int, op string, line int, what, expected, actual string) Failure {
	return Failure{Scenario: "t", Step: step, Op: op, Line: line, What: what, Expected: expected, Actual: actual}
}

func endFailure(what, expected, actual string) Failure {
	return Failure{Scenario: "t", What: what, Expected: expected, Actual: actual}
}

// rrnOfStep in a wanted failure's Expected or Actual stands for the RRN the
// terminal received at step N; an Actual that starts with ~ is a pattern.
var rrnOfStep = regexp.MustCompile(`^RRN of step (\d+)$`)

// requireFailures checks a run's failures against want, in order.
func requireFailures(t *testing.T, want []Failure, res *Result) {
	t.Helper()
	require.Empty(t, res.Error)
	require.False(t, res.Passed)
	got := res.Failures
	require.Len(t, got, len(want), "failures: %v", got)
	want = append([]Failure(nil), want...)
	for i := range want {
		for _, v := range []*string{&want[i].Expected, &want[i].Actual} {
			if m := rrnOfStep.FindStringSubmatch(*v); m != nil {
				n, _ := strconv.Atoi(m[1])
				*v = res.Steps[n-1].RRN
				require.Regexp(t, `^\d{12}$`, *v)
			}
		}
		if pattern, ok := strings.CutPrefix(want[i].Actual, "~"); ok {
			require.Regexp(t, pattern, got[i].Actual, "failure %d", i)
			want[i].Actual = got[i].Actual
		}
	}
	require.Equal(t, want, got)
}

type expectCase struct {
	name string
	// body has lines from line 3 (play puts name and title first)
	body string
	// want are the failures of the run with the wrong alternatives
	want []Failure
}

// checkExpectations runs each case twice: its expectations written wrong
// must fail as want says (each naming its step, what, expected and
// actual), and written right must pass.
func checkExpectations(t *testing.T, tests []expectCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			requireFailures(t, tc.want, play(t, variant(tc.body, false), Options{Speed: 1}))
			right := play(t, variant(tc.body, true), Options{Speed: 1})
			requirePass(t, right)
			require.True(t, right.Passed)
		})
	}
}

func TestExpect_StepResults(t *testing.T) {
	checkExpectations(t, []expectCase{
		{
			name: "outcome, code, reversals, display, receipt, balance, late responses, settlement",
			body: `setup: {terminal: {reversal: {immediate: true}}}
rules:
  - {id: lose, when: {mti: "0200", nth: 2}, do: [process, {close: {at: before_respond}}]}
  - {id: stale, when: {mti: "0200", nth: 4}, do: [{send: {stale: true}}, process]}
steps:
  - sale: {card: insufficient-funds, amount: "1.00"}
    expect: {outcome: {{approved|declined}}, response_code: "{{00|51}}", display: "{{APPROVED|余额不足}}"}
  - sale: {card: visa-approve, amount: "10.00"}
    expect:
      outcome: {{approved|no_response}}
      reversal_pending: {{true|false}}
      reversals_sent: {{0|1}}
      reversal_reason: "{{06|98}}"
      receipt: {trace: {{1|2}}, rrn: {{true|false}}, auth_code: {{true|false}}, reversed: {{false|true}}}
  - sale: {card: visa-approve, amount: "2.00"}
    expect: {reversals_sent: {{1|0}}, receipt: {trace: {{3|4}}, rrn: {{false|true}}, auth_code: {{false|true}}, reversed: {{true|false}}}}
  - balance: {card: visa-approve}
    expect: {balance: "{{1.00|998.00}}", late_responses: {{0|1}}}
  - settle:
    expect: {settlement: {balanced: {{false|true}}, uploaded: {{3|0}}, tc_uploaded: {{1|0}}}}`,
			want: []Failure{
				// declined 51: the English display is what the failure shows,
				// the Chinese one matches too
				stepFailure(1, "sale", 8, "outcome", "approved", "declined"),
				stepFailure(1, "sale", 8, "response_code", "00", "51"),
				stepFailure(1, "sale", 8, "display", `text containing "APPROVED"`, `"DECLINED 51: insufficient funds"`),
				// the answer lost (the host closed), reversed at once with 98
				stepFailure(2, "sale", 10, "outcome", "approved", "no_response"),
				stepFailure(2, "sale", 10, "reversal_pending", "true", "false"),
				stepFailure(2, "sale", 10, "reversals_sent", "0", "1"),
				stepFailure(2, "sale", 10, "reversal_reason", "06", "98"),
				stepFailure(2, "sale", 10, "receipt trace", "000001", "000002"),
				stepFailure(2, "sale", 10, "receipt rrn", "true", "none"),
				stepFailure(2, "sale", 10, "receipt auth code", "true", "none"),
				stepFailure(2, "sale", 10, "receipt reversal", "false", "approved"),
				// trace 3 went to the reversal
				stepFailure(3, "sale", 17, "reversals_sent", "1", "0"),
				stepFailure(3, "sale", 17, "receipt trace", "000003", "000004"),
				stepFailure(3, "sale", 17, "receipt rrn", "false", "RRN of step 3"),
				stepFailure(3, "sale", 17, "receipt auth code", "false", `~^\d{6}$`),
				stepFailure(3, "sale", 17, "receipt reversal", "true", "none"),
				// 1000.00 less the 2.00 sale: the 10.00 came back
				stepFailure(4, "balance", 19, "late_responses", "0", "1"),
				stepFailure(4, "balance", 19, "balance", "1.00", "998.00"),
				stepFailure(5, "settle", 21, "settlement.balanced", "false", "true"),
				stepFailure(5, "settle", 21, "settlement.uploaded", "3", "0"),
				stepFailure(5, "settle", 21, "settlement.tc_uploaded", "1", "0"),
			},
		},
		{
			name: "a reversal dropped after its retries",
			body: `setup: {terminal: {reversal: {retries: 0, when_exhausted: drop}}}
rules:
  - {id: lose, when: {mti: "0200", nth: 1}, do: [process, {close: {at: before_respond}}]}
  - {id: lose-reversal, when: {op: reversal}, do: [{close: {at: on_receive}}]}
steps:
  - sale: {card: visa-approve, amount: "10.00"}
    expect: {reversal_pending: {{false|true}}, reversal_dropped: {{true|false}}}
  - sale: {card: visa-approve, amount: "1.00"}
    expect: {outcome: approved, reversals_sent: {{0|1}}, reversal_dropped: {{false|true}}, display: "{{冲正成功|冲正不成功}}"}`,
			want: []Failure{
				stepFailure(1, "sale", 8, "reversal_pending", "false", "true"),
				stepFailure(1, "sale", 8, "reversal_dropped", "true", "false"),
				stepFailure(2, "sale", 10, "reversals_sent", "0", "1"),
				stepFailure(2, "sale", 10, "reversal_dropped", "false", "true"),
				stepFailure(2, "sale", 10, "display", `text containing "冲正成功"`, `"REVERSAL FAILED, CALL SUPPORT / APPROVED"`),
			},
		},
		{
			name: "chip: cryptograms, second GENERATE AC, issuer script",
			body: `rules:
  - {id: bad-arpc, when: {mti: "0200", nth: 1}, do: [process, {mutate: [arpc]}]}
  - {id: script, when: {mti: "0200", nth: 2}, do: [process, {mutate: [script]}]}
steps:
  - sale: {card: chip-approve, amount: "66.00"}
    expect: {outcome: {{approved|chip_declined}}, arqc_verified: {{false|true}}, arpc_verified: {{true|false}}, second_ac: {{TC|AAC}}, reversal_reason: "{{98|06}}"}
  - sale: {card: chip-approve, amount: "10.00"}
    expect: {arpc_verified: {{false|true}}, second_ac: {{AAC|TC}}, script_result: "{{10|20}}"}`,
			want: []Failure{
				// the host approved; the card refused the damaged ARPC
				stepFailure(1, "sale", 7, "outcome", "approved", "chip_declined"),
				stepFailure(1, "sale", 7, "reversal_reason", "98", "06"),
				stepFailure(1, "sale", 7, "arqc_verified", "false", "true"),
				stepFailure(1, "sale", 7, "arpc_verified", "true", "false"),
				stepFailure(1, "sale", 7, "second_ac", "TC", "AAC"),
				stepFailure(2, "sale", 9, "arpc_verified", "false", "true"),
				stepFailure(2, "sale", 9, "second_ac", "AAC", "TC"),
				stepFailure(2, "sale", 9, "script_result", "10", "20"),
			},
		},
	})
}

func TestExpect_EndState(t *testing.T) {
	checkExpectations(t, []expectCase{
		{
			name: "records, received messages, reversals, order, within, journal, balances and holds, terminal",
			body: `setup: {terminal: {reversal: {immediate: true}}}
rules:
  - {id: lose, when: {mti: "0200", nth: 2}, do: [process, {close: {at: before_respond}}]}
steps:
  - sale: {card: visa-approve, amount: "10.00"}
  - sale: {card: visa-approve, amount: "20.00"}
  - preauth: {card: approve, amount: "30.00"}
  - sale: {card: insufficient-funds, amount: "5.00"}
expect:
  records:
    - {stan: 1, status: {{reversed|approved}}, reason: "{{98|}}", tc_uploaded: {{true|false}}, rc: "{{05|00}}", amount: "{{1.00|10.00}}"}
    - {stan: 2, op: sale, status: reversed, reason: "{{06|98}}"}
    - {stan: {{9|5}}, rc: "51"}
    - {op: {{refund|preauth}}, amount: "30.00"}
  received: {"0100": 1, "0200": {{4|3}}, "0400": {{0|1}}}
  reversals: {{2|1}}
  order: [{{"0100", |}}"0200", "0200", "0400", "0100", "0200"]
  within: [{mti: "{{0420|0400}}", after: "0200", max: 1m}]
  journal: {fault: {{0|1}}, orphan: {{1|0}}}
  balances: {visa-approve: "{{1000.00|990.00}}", approve: "10000.00"}
  held: {approve: "{{0.00|30.00}}"}
  terminal: {pending_reversal: {{true|false}}, log: {{0|2}}, batch: {{2|1}}}`,
			want: []Failure{
				endFailure("record stan 1 status", "reversed", "approved"),
				endFailure("record stan 1 reason", "98", "none"),
				endFailure("record stan 1 tc_uploaded", "true", "false"),
				endFailure("record stan 1 rc", "05", "00"),
				endFailure("record stan 1 amount", "1.00", "10.00"),
				endFailure("record stan 2 reason", "06", "98"),
				endFailure("record stan 9", "booked by the acquirer", "no such record"),
				endFailure("first refund record", "booked by the acquirer", "no such record"),
				// three sales, the reversal of the lost one (trace 3), the
				// pre-authorisation
				endFailure("received 0200", "4", "3"),
				endFailure("received 0400", "0", "1"),
				endFailure("reversal messages received", "2", "1"),
				endFailure("order of messages received", "0100 0200 0200 0400 0100 0200", "0200 0200 0400 0100 0200"),
				endFailure("0420 within 1m0s after 0200", "both received", "missing"),
				// the rule that fired, and no reversal without its original
				endFailure("journal fault entries", "0", "1"),
				endFailure("journal orphan entries", "1", "0"),
				endFailure("balance of visa-approve", "1000.00", "990.00"),
				endFailure("held of approve", "0.00", "30.00"),
				// the sale and the pre-authorisation are logged in batch 1
				endFailure("terminal pending reversal", "true", "false"),
				endFailure("terminal log entries", "0", "2"),
				endFailure("terminal batch", "2", "1"),
			},
		},
		{
			name: "settlement out of balance after a dropped reversal",
			body: `setup: {terminal: {reversal: {retries: 0, when_exhausted: drop}}}
rules:
  - {id: lose, when: {mti: "0200", nth: 2}, do: [process, {close: {at: before_respond}}]}
  - {id: lose-reversal, when: {op: reversal}, do: [{close: {at: on_receive}}]}
steps:
  - sale: {card: visa-approve, amount: "10.00"}
  - sale: {card: visa-approve, amount: "20.00"}
  - sale: {card: visa-approve, amount: "30.00"}
    expect: {outcome: approved, reversals_sent: 1, reversal_dropped: {{false|true}}}
  - settle:
    expect: {settlement: {balanced: {{true|false}}, uploaded: {{0|2}}}}
expect:
  settlement:
    balanced: {{true|false}}
    count: {{2|1}}
    discrepancies: [{kind: host_only, stan: {{4|2}}, amount: "{{30.00|20.00}}"}]
  terminal: {batch: {{1|2}}, log: 0, pending_reversal: false}
  balances: {visa-approve: "940.00"}`,
			want: []Failure{
				stepFailure(3, "sale", 10, "reversal_dropped", "false", "true"),
				// the host answers 95: the terminal uploads its two sales
				stepFailure(4, "settle", 12, "settlement.balanced", "true", "false"),
				stepFailure(4, "settle", 12, "settlement.uploaded", "0", "2"),
				endFailure("settlements", "2", "1"),
				endFailure("settlement balanced", "true", "false"),
				// the lost sale only the host knows
				endFailure("settlement discrepancies", "host_only stan 4 30.00", "host_only stan 2 20.00"),
				endFailure("terminal batch", "1", "2"),
			},
		},
	})
}

func TestExpect_BackOffice(t *testing.T) {
	const backOffice = `  backoffice:
    cutover: "23:00"
    contracts: [{mid: POSIM0000000001, debit: {rate: "0.60%", cap: "20.00"}, credit: {rate: "0.60%"}, cycle: T+1}]
`
	checkExpectations(t, []expectCase{
		{
			// 1000.00 on Thursday 2026-01-15, paid on Friday: 6.00 at the
			// contract's 0.60 %, 10.00 at the 1.00 % applied; a day later
			// the line is due that day and not paid yet
			name: "a fee at the wrong rate: fee report, line, statement",
			body: "setup:\n" + backOffice + `rules:
  - {id: wrong-rate, when: {op: sale, nth: 1}, do: [process, {fee_anomaly: {kind: wrong_rate, rate: "1.00%"}}]}
steps:
  - sale: {card: approve, amount: "1000.00"}
  - advance: 1d
expect:
  fees: {deviations: {{0|1}}, items: [{stan: 1, kind: fee, amount: "{{5.00|4.00}}", rule: "0.60%"}]}
  lines: [{stan: 1, gross: "{{100.00|1000.00}}", fee: "{{6.00|10.00}}", net: "{{994.00|990.00}}", status: {{paid|pending}}, payout: "{{2026-01-17|2026-01-16}}"}]
  statements:
    - {mid: POSIM0000000001, day: "2026-01-15", net_payout: "{{994.00|990.00}}", fees: "{{6.00|10.00}}", held: {{true|false}},
       returned: "{{990.00|0.00}}", merchant_balance: "{{0.00|990.00}}", review: {{true|false}}}`,
			want: []Failure{
				endFailure("fee report deviations", "0", "1 (fee stan 000001 6.00→10.00)"),
				endFailure("fee report fee deviation for stan 1", "5.00 0.60%", "not flagged"),
				endFailure("settlement line stan 1 gross", "100.00", "1000.00"),
				endFailure("settlement line stan 1 fee", "6.00", "10.00"),
				endFailure("settlement line stan 1 net", "994.00", "990.00"),
				endFailure("settlement line stan 1 status", "paid", "pending"),
				endFailure("settlement line stan 1 payout date", "2026-01-17", "2026-01-16"),
				endFailure("statement POSIM0000000001 2026-01-15 net payout", "994.00", "990.00"),
				endFailure("statement POSIM0000000001 2026-01-15 fees", "6.00", "10.00"),
				endFailure("statement POSIM0000000001 2026-01-15 held", "true", "false"),
				endFailure("statement POSIM0000000001 2026-01-15 returned", "990.00", "0.00"),
				endFailure("statement POSIM0000000001 2026-01-15 merchant balance", "0.00", "990.00"),
				endFailure("statement POSIM0000000001 2026-01-15 merchant under review", "true", "false"),
			},
		},
		{
			// Friday's payout comes back: the 994.00 is the merchant's
			// balance at the acquirer again
			name: "a payout returned",
			body: "setup:\n" + backOffice + `rules:
  - {id: wrong-account, when: {op: sale, nth: 1}, do: [process, {payout_returned: {reason: wrong_account}}]}
steps:
  - sale: {card: approve, amount: "1000.00"}
  - advance: 2d
expect:
  lines: [{stan: 1, net: "994.00", status: {{paid|returned}}, payout: "2026-01-16"}]
  statements: [{mid: POSIM0000000001, day: "2026-01-15", net_payout: "994.00", returned: "{{0.00|994.00}}", merchant_balance: "{{0.00|994.00}}"}]`,
			want: []Failure{
				endFailure("settlement line stan 1 status", "paid", "returned"),
				endFailure("statement POSIM0000000001 2026-01-15 returned", "0.00", "994.00"),
				endFailure("statement POSIM0000000001 2026-01-15 merchant balance", "0.00", "994.00"),
			},
		},
		{
			// one decline in the last two answers is over 30 %: the
			// merchant is under review and its 99.40 held
			name: "a merchant under review",
			body: "setup:\n  acquirer: {review: {declines: 30, over: 2}}\n" + backOffice + `steps:
  - sale: {card: approve, amount: "100.00"}
  - sale: {card: insufficient-funds, amount: "100.00"}
  - advance: 2d
expect:
  journal: {review: {{0|1}}}
  lines: [{stan: 1, net: "99.40", status: {{paid|held}}}]
  statements: [{mid: POSIM0000000001, day: "2026-01-15", net_payout: "99.40", held: {{false|true}}, review: {{false|true}}, merchant_balance: "{{0.00|99.40}}"}]`,
			want: []Failure{
				endFailure("journal review entries", "0", "1"),
				endFailure("settlement line stan 1 status", "paid", "held"),
				endFailure("statement POSIM0000000001 2026-01-15 held", "false", "true"),
				endFailure("statement POSIM0000000001 2026-01-15 merchant balance", "0.00", "99.40"),
				endFailure("statement POSIM0000000001 2026-01-15 merchant under review", "false", "true"),
			},
		},
	})
}

// An expectation of something the run did not produce fails, saying what
// was missing.
func TestExpect_WhatTheRunDidNotProduce(t *testing.T) {
	t.Parallel()
	res := play(t, `steps:
  - sale: {card: visa-approve, amount: "1.00"}
    expect: {arqc_verified: true, settlement: {balanced: true}}
  - balance: {card: visa-approve}
    expect: {receipt: {trace: 2}}
  - advance: 1h
    expect: {outcome: approved}
expect:
  settlement: {balanced: true, count: 0}
  lines: [{stan: 1}]
  fees: {deviations: 1, items: [{stan: 1, kind: fee, amount: "1.00", rule: "0.60%"}]}`, Options{Speed: 1})
	requireFailures(t, []Failure{
		stepFailure(1, "sale", 4, "chip", "a chip transaction", "none (the card has no chip, or it was swiped)"),
		stepFailure(1, "sale", 4, "settlement", "a settlement result", "none"),
		stepFailure(2, "balance", 6, "receipt", "a receipt", "none"),
		stepFailure(3, "advance", 8, "result", "an operation result", "none (this step runs no operation)"),
		endFailure("settlement", "a settled batch", "none"),
		endFailure("fee report deviations", "1", "0 (none)"),
		endFailure("fee report fee deviation for stan 1", "1.00 0.60%", "not flagged"),
		endFailure("settlement line stan 1", "a line", "none"),
	}, res)
}

// A receipt's numbers are checked against the acquirer's books: the RRN
// must name a record, and that record must have the receipt's trace and
// auth code.
func TestExpect_ReceiptAgainstTheBooks(t *testing.T) {
	checkExpectations(t, []expectCase{{
		name: "an RRN the books do not have, an auth code they do not show",
		body: `rules:
  - {id: other-rrn, when: {mti: "{{0200|9999}}", nth: 1}, do: [process, {mutate: [rrn]}]}
  - {id: other-auth, when: {mti: "{{0200|9999}}", nth: 2}, do: [process, {respond: {de38: "999999"}}]}
steps:
  - sale: {card: visa-approve, amount: "1.00"}
    expect: {outcome: approved, receipt: {rrn: true}}
  - sale: {card: visa-approve, amount: "2.00"}
    expect: {outcome: approved, receipt: {auth_code: true}}`,
		want: []Failure{
			stepFailure(1, "sale", 7, "receipt rrn in the acquirer's books", "RRN of step 1", "no record"),
			stepFailure(2, "sale", 9, "receipt against the acquirer's record", "trace 000002 auth 999999", `~^trace 000002 auth \d{6}$`),
		},
	}})
}
