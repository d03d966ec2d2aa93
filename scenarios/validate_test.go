package scenarios

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/yamlx"
	"github.com/stretchr/testify/require"
)

// scenario is a scenario file: its name and title on lines 1 and 2, then
// lines from line 3 on.
func scenario(lines ...string) string {
	return "name: t\ntitle: {en: T}\n" + strings.Join(lines, "\n") + "\n"
}

// oneSale is a steps section of one valid step, on one line.
const oneSale = `steps: [{sale: {amount: "1.00"}}]`

// steps is a scenario whose steps start on line 4.
func steps(lines ...string) string { return scenario(append([]string{"steps:"}, lines...)...) }

// setup is a scenario whose setup section starts on line 3 (its first key
// on line 4), followed by one valid step.
func setup(lines ...string) string {
	return scenario(append(append([]string{"setup:"}, lines...), oneSale)...)
}

// contract is a scenario whose back office has one contract, on line 6;
// the validator reports contracts at the backoffice key, line 4.
func contract(c string) string {
	return setup("  backoffice:", "    contracts:", "      - "+c)
}

// expecting is a scenario with one valid step (line 3) and an end state
// whose first key is on line 5.
func expecting(lines ...string) string {
	return scenario(append([]string{oneSale, "expect:"}, lines...)...)
}

// fileErrors returns every problem an error from Parse reports.
func fileErrors(t *testing.T, err error) []*yamlx.FileError {
	t.Helper()
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	var out []*yamlx.FileError
	for _, e := range list {
		var fe *yamlx.FileError
		require.True(t, errors.As(e, &fe), "%v is not a file error", e)
		out = append(out, fe)
	}
	return out
}

type refusal struct {
	name, src string
	// line is where the problem is reported (0: the file as a whole)
	line int
	// msg is the whole message, or its beginning when it ends in "…"
	msg string
}

func checkRefusals(t *testing.T, tests []refusal) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tc.src))
			require.Error(t, err)
			errs := fileErrors(t, err)
			require.Len(t, errs, 1, "one problem, reported once: %v", err)
			fe := errs[0]
			require.Equal(t, "s.yaml", fe.File)
			require.Equal(t, tc.line, fe.Line, "reported at line %d: %v", tc.line, err)
			if prefix, ok := strings.CutSuffix(tc.msg, "…"); ok {
				require.True(t, strings.HasPrefix(fe.Msg, prefix), "%q does not begin with %q", fe.Msg, prefix)
			} else {
				require.Equal(t, tc.msg, fe.Msg)
			}
			where := "s.yaml: "
			if tc.line > 0 {
				where = fmt.Sprintf("s.yaml:%d: ", tc.line)
			}
			require.True(t, strings.HasPrefix(err.Error(), where), "%q reads file:line: message", err.Error())
		})
	}
}

func TestParse_RefusesTheFile(t *testing.T) {
	big := scenario(oneSale) + "#" + strings.Repeat("x", cards.MaxFileSize) + "\n"
	checkRefusals(t, []refusal{
		{"an empty file", "", 0, "the file is empty"},
		{"a file of blank lines and comments", "\n# nothing yet\n\n", 0, "the file is empty"},
		{"a file larger than posim reads, whatever it holds", big, 0,
			fmt.Sprintf("%d bytes, more than the 1048576 posim reads", len(big))},
		{"a second YAML document, where it starts", scenario(oneSale, "---", "name: u"), 4,
			"one scenario per file: a second YAML document starts here"},
		{"a second YAML document even when empty", scenario(oneSale, "---"), 4,
			"one scenario per file: a second YAML document starts here"},
		{"a tab where YAML wants spaces", steps("\t- sale: {amount: \"1.00\"}"), 4,
			"found character that cannot start any token"},
		{"a key given twice", scenario(oneSale, "name: again"), 4, `mapping key "name" already defined at line 1`},
		{"an unknown top-level key", scenario(oneSale, "colour: red"), 4, `unknown key "colour" (known: …`},
		{"a value of the wrong type", scenario("seed: lots", oneSale), 3, "cannot unmarshal !!str `lots` into int64"},
	})
}

func TestParse_RefusesTheScenario(t *testing.T) {
	checkRefusals(t, []refusal{
		{"no name", "title: {en: T}\n" + oneSale, 1, "name is required"},
		{"a name with capitals and underscores", "name: Lost_Response\ntitle: {en: T}\n" + oneSale, 1,
			`name "Lost_Response": use lower-case letters, digits and dashes`},
		{"a name starting with a dash", "name: -lost\ntitle: {en: T}\n" + oneSale, 1,
			`name "-lost": use lower-case letters, digits and dashes`},
		{"a title without English", "name: t\ntitle: {zh: 测试}\n" + oneSale, 2, "title.en is required"},
		{"an empty list of steps", scenario("steps: []"), 3, "a scenario needs at least one step"},
		{"no steps at all", scenario("seed: 1"), 1, "a scenario needs at least one step"},
		{"an unknown profile, at its item", scenario("profiles:", "  - iso87", "  - cpu", oneSale), 5,
			`unknown profile "cpu" (known: cup, iso87)`},
		{"a step limited to an unknown profile, at its item", steps(`  - sale: {amount: "1.00"}`, "    profiles:", "      - cup", "      - iso8583"), 7,
			`unknown profile "iso8583" (known: cup, iso87)`},
		{"a rule limited to an unknown profile, at its item", scenario("rules:", "  - id: r", "    profiles: [cpu]", "    when: {}",
			"    do: [process]", oneSale), 5, `unknown profile "cpu" (known: cup, iso87)`},
	})
}

func TestParse_RefusesTheSetup(t *testing.T) {
	checkRefusals(t, []refusal{
		// cards, merchants and terminals, at their item
		{"a card without a PAN", setup("  cards: [{alias: mine}]"), 4, "card has no pan"},
		{"a card of an unknown type", setup(`  cards: [{alias: mine, pan: "6200000000009006", type: prepaid}]`), 4,
			`type "prepaid": want debit or credit`},
		{"a merchant without a mid", setup("  merchants:", "    - {mid: SHOP00000000001}", "    - {name: SHOP}"), 6,
			"mid must be 1 to 15 characters"},
		{"a merchant of an unknown status", setup("  merchants: [{mid: M, status: sleepy}]"), 4,
			`status "sleepy": want active, frozen or restricted`},
		{"a merchant refusing an unknown kind of card", setup("  merchants: [{mid: M, refuse: [debit]}]"), 4,
			`refuse "debit": want credit or foreign`},
		{"a terminal id longer than 8", setup("  terminals: [{tid: POSIM0001}]"), 4, "tid must be 1 to 8 characters"},
		{"a terminal of an unknown status", setup("  terminals: [{tid: T1, status: gone}]"), 4,
			`status "gone": want active, deregistered or restricted`},

		// the emulated terminal
		{"a reversal rule that is neither drop nor block", setup("  terminal:", "    reversal: {when_exhausted: retry}"), 5,
			`when_exhausted "retry": want drop or block`},
		{"more than 9 reversal retries", setup("  terminal:", "    reversal: {retries: 10}"), 5, "retries 10: want 0 to 9"},
		{"negative reversal retries", setup("  terminal:", "    reversal: {retries: -1}"), 5, "retries -1: want 0 to 9"},
		{"a zero timeout", setup("  terminal:", "    timeout: 0s"), 5, "timeout must be positive"},
		{"a negative timeout", setup("  terminal:", "    timeout: -30s"), 5, `duration "-30s" must not be negative`},
		{"a terminal id longer than 8 characters", setup("  terminal: {tid: POSIM0001}"), 4,
			"tid is at most 8 characters, mid at most 15"},
		{"a merchant id longer than 15 characters", setup("  terminal: {mid: POSIM00000000001}"), 4,
			"tid is at most 8 characters, mid at most 15"},
		{"a terminal TPDU of 4 bytes", setup(`  terminal: {tpdu: "60000300"}`), 4,
			`TPDU "60000300": want 10 hex digits such as 6000030000`},
		{"a terminal TPDU that is not a TPDU", setup(`  terminal: {tpdu: "7000030000"}`), 4,
			`TPDU "7000030000": must start with 60`},
		{"a terminal header that is not hex", setup(`  terminal: {header: "60310031073z"}`), 4,
			`header "60310031073z": want 12 hex digits such as 603100310730`},
		{"writes in chunks of nothing", setup("  terminal:", "    write: {chunk: 0, gap: 50ms}"), 5,
			"write.chunk must be at least 1 byte"},
		{"more than 9 retransmissions", setup("  terminal:", "    retransmit: 10"), 5, "retransmit 10: want 0 to 9"},
		{"negative retransmissions", setup("  terminal:", "    retransmit: -1"), 5, "retransmit -1: want 0 to 9"},

		// the acquirer's policies, at the acquirer key
		{"an unknown duplicate policy", setup("  acquirer: {duplicate: ignore}"), 4,
			`policy duplicate: "ignore" is not one of [replay 94 19]`},
		{"an unknown-reversal answer that is neither 00 nor 25", setup(`  acquirer: {reversal_unknown: "05"}`), 4,
			`policy reversal_unknown: "05" is not one of [00 25]`},
		{"a repeated-reversal answer that is neither 00 nor 22", setup(`  acquirer: {reversal_repeat: "05"}`), 4,
			`policy reversal_repeat: "05" is not one of [00 22]`},
		{"a declined-reversal answer that is neither 00 nor 12", setup(`  acquirer: {reversal_declined: "05"}`), 4,
			`policy reversal_declined: "05" is not one of [00 12]`},
		{"an unknown late-reversal answer", setup(`  acquirer: {late_reversal: "05"}`), 4,
			`policy late_reversal: "05" is not one of [00 12 25 C3]`},
		{"an unknown answer to an unsigned terminal", setup(`  acquirer: {unsigned: "05"}`), 4,
			`policy unsigned: "05" is not one of [77 A0 99]`},
		{"a card-type refusal that is neither 57 nor 58", setup(`  acquirer: {card_type_refused: "05"}`), 4,
			`policy card_type_refused: "05" is not one of [57 58]`},
		{"an ARQC failure answered with an approval", setup(`  acquirer: {arqc_failure: "00"}`), 4,
			`policy arqc_failure: "00" is not a decline code`},
		{"a fallback policy that is neither approve nor a code", setup("  acquirer: {fallback: maybe}"), 4,
			`policy fallback: "maybe" is not a decline code`},
		{"a refund policy that is neither allow nor a code", setup("  acquirer: {refund_over_balance: never}"), 4,
			`policy refund_over_balance: "never" is not a decline code`},
		{"a maximum amount that is not an amount", setup("  acquirer: {limits: {max_amount: lots}}"), 4,
			`limits.max_amount: amount "lots": want digits and one decimal point, like 12.34`},
		{"a daily amount with three decimals", setup(`  acquirer: {limits: {daily_amount: "1.234"}}`), 4,
			`limits.daily_amount: amount "1.234": want at most two decimals, like 12.34`},
		{"a negative daily count", setup("  acquirer: {limits: {daily_count: -1}}"), 4, "policy limits must not be negative"},
		{"a negative velocity count", setup("  acquirer: {velocity: {count: -1, window: 10m}}"), 4,
			"policy limits must not be negative"},
		{"a review over every decline", setup("  acquirer: {review: {declines: 100, over: 50}}"), 4,
			"policy review.declines 100: want a per cent from 0 to 99 (more than this share of declines puts a merchant under review)"},
		{"a review over no answers", setup("  acquirer: {review: {declines: 30}}"), 4,
			"policy review.over 0: want how many of a merchant's last answers count (at least 1)"},
		{"negative PIN tries", setup("  acquirer: {pin_tries: -1}"), 4, "policy pin_tries must be at least 1"},
		{"an unknown mismatch policy, at its key", setup("  acquirer:", "    mismatch: drop"), 5,
			`mismatch "drop": want discard, reject or accept`},
		{"an acquirer TPDU of 2 bytes", setup(`  acquirer: {tpdu: "6000"}`), 4,
			`TPDU "6000": want 10 hex digits such as 6000030000`},
		{"an acquirer header of 2 bytes", setup(`  acquirer: {header: "6031"}`), 4,
			`header "6031": want 12 hex digits such as 603100310730`},
	})
}

func TestParse_RefusesTheBackOffice(t *testing.T) {
	checkRefusals(t, []refusal{
		{"a cut-over that is no time of day", setup("  backoffice:", `    cutover: "25:00"`), 4, `cutover "25:00": want HH:MM`},
		{"a contract without a mid", contract(`{debit: {rate: "0.60%"}}`), 4, "contract without a mid"},
		{"an unknown kind of fee", contract("{mid: M, debit: {kind: flat}}"), 4,
			`contract M debit: fee kind "flat": want rate, tiered_fixed or tiered_rate`},
		{"an unknown rounding", contract(`{mid: M, debit: {rate: "0.60%", rounding: nearest}}`), 4,
			`contract M debit: rounding "nearest": want half_up, up or down`},
		{"a rate without its per cent sign", contract(`{mid: M, credit: {rate: "0.6"}}`), 4,
			`contract M credit: rate "0.6": want a percentage such as 0.60%`},
		{"a rate over 100 %", contract(`{mid: M, credit: {rate: "101%"}}`), 4,
			`contract M credit: rate "101%": want a percentage such as 0.60%`},
		{"a cap that is not an amount", contract(`{mid: M, debit: {rate: "0.60%", cap: lots}}`), 4,
			`contract M debit: cap: amount "lots": want digits and one decimal point, like 12.34`},
		{"a floor of a tenth of a cent", contract(`{mid: M, debit: {rate: "0.60%", floor: "0.001"}}`), 4,
			`contract M debit: floor: amount "0.001": want at most two decimals, like 12.34`},
		{"a tier bound that is not an amount", contract(`{mid: M, debit: {kind: tiered_fixed, tiers: [{up_to: lots, fee: "1.00"}]}}`), 4,
			`contract M debit: tier up_to: amount "lots": want digits and one decimal point, like 12.34`},
		{"a tier fee that is not an amount", contract(`{mid: M, debit: {kind: tiered_fixed, tiers: [{up_to: "100.00", fee: x}]}}`), 4,
			`contract M debit: tier fee: amount "x": want digits and one decimal point, like 12.34`},
		{"a tier rate without its per cent sign", contract(`{mid: M, credit: {kind: tiered_rate, tiers: [{up_to: "100.00", rate: "1"}]}}`), 4,
			`contract M credit: rate "1": want a percentage such as 0.60%`},
		{"an activation fee that is not an amount", contract("{mid: M, activation_fee: lots}"), 4,
			`contract M activation_fee: amount "lots": want digits and one decimal point, like 12.34`},
		{"an unknown payout cycle", contract("{mid: M, cycle: T+2}"), 4, `contract M: cycle "T+2": want D0 or T+1`},
		{"a holiday in month 13", contract(`{mid: M, holidays: ["2026-10-01", "2026-13-01"]}`), 4,
			`contract M: holiday "2026-13-01": want YYYY-MM-DD`},
		{"a holiday written day first", contract(`{mid: M, holidays: ["01/10/2026"]}`), 4,
			`contract M: holiday "01/10/2026": want YYYY-MM-DD`},
		{"a rebate rate without its per cent sign", contract(`{mid: M, rebate: {rate: "0.38", after: 30d}}`), 4,
			`contract M rebate: rate "0.38": want a percentage such as 0.60%`},
		{"a rebate without a rate", contract("{mid: M, rebate: {after: 30d}}"), 4,
			`contract M rebate: rate "": want a percentage such as 0.60%`},
	})
}

func TestParse_RefusesRules(t *testing.T) {
	checkRefusals(t, []refusal{
		{"a rule without an id", scenario("rules:", `  - {when: {mti: "0200"}, do: [process]}`, oneSale), 4, "rule 1 has no id"},
		{"a rule naming a card the scenario does not have", scenario("rules:", "  - id: r",
			"    when: {card: gold}", "    do: [process]", oneSale), 5, `when.card "gold" is not a card alias (known: …`},
		{"an action after one that ends the pipeline, at the pipeline", scenario("rules:", "  - id: r", "    when: {}",
			"    do: [{close: {at: before_respond}}, process]", oneSale), 6,
			`rule "r": process comes after close(before_respond,fin), which ends the pipeline: it would never run`},
	})
}

// Every step kind, each in its own way of being wrong.
func TestParse_RefusesSteps(t *testing.T) {
	kinds := strings.Join(StepKinds(), ", ")
	checkRefusals(t, []refusal{
		// what a step is
		{"a step that is not a mapping", steps("  - sale"), 4, `a step is a mapping such as {sale: {amount: "10.00"}}`},
		{"a step that names no action", steps("  - {expect: {outcome: approved}}"), 4, "the step names no action (known: " + kinds + ")"},
		{"an empty step", steps("  - {}"), 4, "the step names no action (known: " + kinds + ")"},
		{"an unknown step", steps("  - dance: {}"), 4, `unknown step "dance" (known: ` + kinds + ", plus expect, repeat and profiles)"},
		{"a posim terminal subcommand's spelling", steps(`  - preauth-void: {rrn: "000000000001"}`), 4, `unknown step "preauth-void" (known: …`},
		{"a step doing two things, at the second", steps(`  - sale: {amount: "1.00"}`, `    void: {rrn: "123456789012"}`), 5,
			`a step does one thing: "sale" and "void"`},
		{"a step doing one thing twice", steps(`  - {sale: {amount: "1.00"}, sale: {amount: "2.00"}}`), 4,
			`mapping key "sale" already defined at line 4`},
		{"a step expecting twice, at the second", steps(`  - sale: {card: insufficient-funds, amount: "1.00"}`,
			"    expect: {outcome: approved}", "    expect: {outcome: declined}"), 6, `mapping key "expect" already defined at line 5`},
		{"a step repeated twice", steps(`  - {sale: {amount: "1.00"}, repeat: 2, repeat: 3}`), 4, `mapping key "repeat" already defined at line 4`},
		{"a step limited to profiles twice", steps(`  - {sale: {amount: "1.00"}, profiles: [cup], profiles: [iso87]}`), 4,
			`mapping key "profiles" already defined at line 4`},
		{"a step repeated no times", steps(`  - sale: {amount: "1.00"}`, "    repeat: 0"), 5, "repeat must be at least 1"},
		{"an unknown step expectation", steps(`  - sale: {amount: "1.00"}`, "    expect: {outcom: approved}"), 5, `unknown key "outcom" (known: …`},

		// bare steps take nothing
		{"echo given arguments", steps("  - echo: {card: approve}"), 4, "echo takes no arguments"},
		{"settle given a value", steps("  - settle: now"), 4, "settle takes no arguments"},
		{"signon given a value", steps("  - signon: [1]"), 4, "signon takes no arguments"},
		{"reconnect given a duration", steps("  - reconnect: 1s"), 4, "reconnect takes no arguments"},
		{"host_up given arguments", steps("  - host_up: {for: 1m}"), 4, "host_up takes no arguments"},

		// restart targets and durations
		{"a restart of an unknown side", steps("  - restart: router"), 4, "restart takes terminal or acquirer"},
		{"a restart of no side", steps("  - restart:"), 4, "restart takes terminal or acquirer"},
		{"a restart given a mapping", steps("  - restart: {terminal: true}"), 4, "restart takes terminal or acquirer"},
		{"a wait for a word", steps("  - wait: soon"), 4, `duration "soon": want a duration such as 30s, 250ms, 10m, 2h or 3d`},
		{"a negative wait", steps("  - wait: -1s"), 4, `duration "-1s" must not be negative`},
		{"a wait of nothing", steps("  - wait:"), 4, "step 1: wait needs a positive duration"},
		{"a zero wait", steps("  - wait: 0s"), 4, "step 1: wait needs a positive duration"},
		{"an advance by a list", steps("  - advance: [1d]"), 4, "want a duration such as 30s, 250ms or 2d"},
		{"an advance of nothing", steps("  - advance:"), 4, "step 1: advance needs a positive duration"},
		{"an advance of no days", steps("  - advance: 0d"), 4, "step 1: advance needs a positive duration"},
		{"a host down for a day and a half", steps("  - host_down: 1.5d"), 4, `duration "1.5d": want a whole number of days, like 3d`},
		{"a host down for no time", steps("  - host_down: 0s"), 4, "step 1: host_down needs a positive duration"},

		// keys an operation does not take, at the key
		{"a sale given an rrn", steps(`  - sale: {amount: "1.00", rrn: "123456789012"}`), 4,
			`unknown key "rrn": sale takes amount, card, pan, pin, no_pin, card_response, fallback, tid, mid, power_cut, close_before_read, bad_mac`},
		{"a void given a PIN, at the key's own line", steps("  - void:", `      rrn: "123456789012"`, `      pin: "1234"`), 6,
			`unknown key "pin": void takes rrn, rrn_of, card, pan, amount, tid, mid, power_cut, close_before_read, bad_mac`},
		{"a completion given a chip response", steps(`  - completion: {amount: "1.00", rrn: "123456789012", fallback: true}`), 4,
			`unknown key "fallback": completion takes amount, rrn, rrn_of, auth_code, card, pan, pin, no_pin, tid, mid, power_cut, close_before_read, bad_mac`},
		{"a refund given an auth code", steps(`  - refund: {amount: "1.00", rrn: "123456789012", auth_code: "123456"}`), 4,
			`unknown key "auth_code": refund takes amount, rrn, rrn_of, card, pan, tid, mid, power_cut, close_before_read, bad_mac`},
		{"a balance inquiry given an amount", steps(`  - balance: {amount: "1.00"}`), 4,
			`unknown key "amount": balance takes card, pan, pin, no_pin, tid, mid, power_cut, close_before_read, bad_mac`},
		{"a reversal given an amount", steps(`  - reversal: {amount: "1.00"}`), 4,
			`unknown key "amount": reversal takes stan, tid, mid, power_cut, close_before_read, bad_mac`},
		{"a chargeback given an amount", steps(`  - chargeback: {stan: "1", amount: "1.00"}`), 4,
			`unknown key "amount": chargeback takes stan, tid, reason, fee, won`},
		{"a settlement account given a stan", steps(`  - settlement_account: {status: corrected, stan: "1"}`), 4,
			`unknown key "stan": settlement_account takes status, mid`},
		{"an argument of the wrong type", steps(`  - sale: {amount: "1.00", no_pin: maybe}`), 4, "cannot unmarshal !!str `maybe` into bool"},
		{"arguments that are not a mapping", steps(`  - sale: "1.00"`), 4, "cannot unmarshal !!str `1.00` into …"},
		{"an argument given twice", steps(`  - sale: {amount: "1.00", amount: "2.00"}`), 4, `mapping key "amount" already defined at line 4`},

		// what the arguments say
		{"an amount with three decimals", steps(`  - sale: {amount: "1.234"}`), 4,
			`step 1: amount: amount "1.234": want at most two decimals, like 12.34`},
		{"a card the book does not have", steps(`  - sale: {amount: "1.00", card: gold}`), 4, `step 1: unknown card "gold": use a PAN or one of [aml approve …`},
		{"a PAN that is no card number", steps(`  - sale: {amount: "1.00", pan: "4111-1111"}`), 4, `step 1: unknown card "4111-1111": use a PAN or one of [aml approve …`},
		{"an unknown power cut point", steps(`  - sale: {amount: "1.00", power_cut: before_send}`), 4,
			`step 1: power_cut "before_send": want after_send, after_response, after_clear`},
		{"an unknown chip card response", steps(`  - sale: {amount: "1.00", card: chip-approve, card_response: maybe}`), 4,
			`step 1: card_response "maybe": want aac, remove_early, offline_decline`},
		{"an unknown outcome expected", steps(`  - sale: {amount: "1.00"}`, "    expect: {outcome: ok}"), 4,
			`step 1: expect.outcome "ok": want approved, declined, no_response, refused, invalid_response, blocked, power_cut, chip_declined`},
		{"an expected balance that is not an amount", steps("  - balance:", "    expect: {balance: lots}"), 4,
			`step 1: expect.balance: amount "lots": want digits and one decimal point, like 12.34`},

		// back-office steps
		{"a retrieval of no sale", steps("  - retrieval: {}"), 4, "step 1: retrieval needs the stan of the disputed sale"},
		{"a chargeback of nothing", steps("  - chargeback:"), 4, "step 1: chargeback needs the stan of the disputed sale"},
		{"a representment without its sale", steps("  - representment: {won: true}"), 4, "step 1: representment needs the stan of the disputed sale"},
		{"a second chargeback without its sale", steps(`  - second_chargeback: {reason: "4515"}`), 4,
			"step 1: second_chargeback needs the stan of the disputed sale"},
		{"a chargeback fee that is not an amount", steps(`  - chargeback: {stan: "1", fee: lots}`), 4,
			`step 1: fee: amount "lots": want digits and one decimal point, like 12.34`},
		{"an unknown settlement account status", steps("  - settlement_account: {status: fixed}"), 4,
			`step 1: settlement_account status "fixed": want corrected or one of wrong_account, closed_account, name_mismatch`},
		{"a settlement account step that says nothing", steps("  - settlement_account:"), 4,
			`step 1: settlement_account status "": want corrected or one of wrong_account, closed_account, name_mismatch`},
	})
}

// Each operation needs its own arguments; the message names the keys that
// would do.
func TestParse_RefusesOperationsWithoutTheirArguments(t *testing.T) {
	checkRefusals(t, []refusal{
		{"a sale without an amount", steps("  - sale: {card: approve}"), 4, "step 1: sale needs amount"},
		{"a sale of nothing", steps("  - sale:"), 4, "step 1: sale needs amount"},
		{"a pre-authorisation without an amount", steps("  - preauth: {card: approve}"), 4, "step 1: preauth needs amount"},
		{"a completion without its original", steps(`  - completion: {amount: "1.00"}`), 4,
			"step 1: completion needs rrn, rrn_of or auth_code"},
		{"a completion without an amount", steps(`  - completion: {rrn: "123456789012"}`), 4, "step 1: completion needs amount"},
		{"a void without its original", steps("  - void: {card: approve}"), 4, "step 1: void needs rrn or rrn_of"},
		{"a void of an auth code", steps(`  - void: {auth_code: "123456"}`), 4,
			`unknown key "auth_code": void takes rrn, rrn_of, card, pan, amount, tid, mid, power_cut, close_before_read, bad_mac`},
		{"a pre-authorisation void without its original", steps("  - preauth_void: {}"), 4,
			"step 1: preauth_void needs rrn, rrn_of or auth_code"},
		{"a completion void without its original", steps(`  - completion_void: {amount: "1.00"}`), 4,
			"step 1: completion_void needs rrn or rrn_of"},
		{"a refund without its original", steps(`  - refund: {amount: "1.00"}`), 4, "step 1: refund needs rrn or rrn_of"},
		{"a refund without an amount", steps(`  - refund: {rrn: "123456789012"}`), 4, "step 1: refund needs amount"},
	})
	// and the catalogue of operations as a whole: an operation that needs
	// something is refused without it, naming its first need
	for _, op := range terminal.Operations() {
		if len(op.Needs) == 0 {
			continue
		}
		t.Run(op.Name()+" with nothing", func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(steps("  - "+op.Name()+": {}")))
			require.EqualError(t, err, "s.yaml:4: step 1: "+op.Name()+" needs "+argNames(op.Needs[0]))
		})
	}
}

func TestParse_RefusesRRNOfAnythingButAnEarlierTransaction(t *testing.T) {
	const msg = "must name an earlier transaction step"
	checkRefusals(t, []refusal{
		{"a later step", steps("  - void: {rrn_of: 2}", `  - sale: {amount: "1.00"}`), 4, "step 1: rrn_of 2 " + msg},
		{"its own step", steps(`  - sale: {amount: "1.00"}`, "  - void: {rrn_of: 2}"), 5, "step 2: rrn_of 2 " + msg},
		{"a step past the end", steps(`  - sale: {amount: "1.00"}`, "  - void: {rrn_of: 9}"), 5, "step 2: rrn_of 9 " + msg},
		{"a negative step", steps(`  - sale: {amount: "1.00"}`, "  - void: {rrn_of: -1}"), 5, "step 2: rrn_of -1 " + msg},
		{"an echo", steps("  - echo:", "  - void: {rrn_of: 1}"), 5, "step 2: rrn_of 1 " + msg},
		{"a settlement", steps("  - settle:", "  - refund: {amount: \"1.00\", rrn_of: 1}"), 5, "step 2: rrn_of 1 " + msg},
		{"a world step", steps("  - wait: 1s", "  - completion_void: {rrn_of: 1}"), 5, "step 2: rrn_of 1 " + msg},
		{"a back-office step", steps(`  - retrieval: {stan: "1"}`, "  - void: {rrn_of: 1}"), 5, "step 2: rrn_of 1 " + msg},
	})
}

func TestParse_RefusesTheEndState(t *testing.T) {
	const notAmount = `amount "lots": want digits and one decimal point, like 12.34`
	checkRefusals(t, []refusal{
		{"a balance of a card the scenario does not have", expecting(`  balances: {gold: "1.00"}`), 4, `expect: "gold" is not a card alias`},
		{"a balance that is not an amount", expecting("  balances: {visa-approve: lots}"), 4, "expect: visa-approve: " + notAmount},
		{"a hold on a card the scenario does not have", expecting(`  held: {gold: "1.00"}`), 4, `expect: "gold" is not a card alias`},
		{"a hold that is not an amount", expecting("  held: {approve: lots}"), 4, "expect: approve: " + notAmount},
		{"an unknown journal kind", expecting("  journal: {explosions: 1}"), 5,
			`expect.journal: unknown kind "explosions" (known: in, out, decision, bad_frame, duplicate, orphan, late_reversal, settlement, connection, fault, unexpected, review)`},
		{"a fee deviation that is not an amount", expecting("  fees: {items: [{stan: 1, kind: fee, amount: lots}]}"), 5, "expect.fees: " + notAmount},
		{"a line's gross that is not an amount", expecting("  lines: [{stan: 1, gross: lots}]"), 5, "expect.lines: " + notAmount},
		{"a line's fee that is not an amount", expecting("  lines: [{stan: 1, fee: lots}]"), 5, "expect.lines: " + notAmount},
		{"a line's net that is not an amount", expecting("  lines: [{stan: 1, net: lots}]"), 5, "expect.lines: " + notAmount},
		{"a statement's net payout that is not an amount", expecting(`  statements: [{mid: M, day: "2026-01-15", net_payout: lots}]`), 5,
			"expect.statements: " + notAmount},
		{"a statement's fees that are not an amount", expecting(`  statements: [{mid: M, day: "2026-01-15", fees: lots}]`), 5,
			"expect.statements: " + notAmount},
		{"a statement's returned payouts that are not an amount", expecting(`  statements: [{mid: M, day: "2026-01-15", returned: lots}]`), 5,
			"expect.statements: " + notAmount},
		{"a merchant balance that is not an amount", expecting(`  statements: [{mid: M, day: "2026-01-15", merchant_balance: "O.00"}]`), 5,
			`expect.statements: amount "O.00": want digits and one decimal point, like 12.34`},
		{"a record's amount that is not an amount, at its item", expecting("  records:", "    - {stan: 1}", "    - {stan: 2, amount: lots}"), 7,
			"expect.records: " + notAmount},
		{"a discrepancy's amount that is not an amount, at its item", expecting("  settlement:", "    discrepancies:",
			"      - {kind: host_only, stan: 1, amount: \"1.00\"}", "      - {kind: host_only, stan: 2, amount: lots}"), 8,
			"expect.settlement.discrepancies: " + notAmount},
		{"a record named by neither stan nor op, at its item", expecting("  records:", "    - {stan: 1}", "    - {status: approved}"), 7,
			"expect.records: give a stan or an op"},
		{"a bound that is not a duration", expecting(`  within: [{mti: "0400", after: "0200", max: soon}]`), 5,
			`duration "soon": want a duration such as 30s, 250ms, 10m, 2h or 3d`},
		{"an unknown end-state key", expecting("  record: []"), 5, `unknown key "record" (known: …`},
	})
}

// The validator reports every problem at once, each at its line, in the
// order of the file.
func TestParse_ReportsEveryProblem(t *testing.T) {
	_, err := Parse("s.yaml", []byte(scenario(
		"setup:",
		"  terminal: {tid: POSIM0001}",
		"steps:",
		`  - sale: {amount: "1.234"}`,
		"  - void: {card: approve}",
		"expect:",
		"  journal: {explosions: 1}",
	)))
	require.EqualError(t, err, strings.Join([]string{
		"s.yaml:4: tid is at most 8 characters, mid at most 15",
		`s.yaml:6: step 1: amount: amount "1.234": want at most two decimals, like 12.34`,
		"s.yaml:7: step 2: void needs rrn or rrn_of",
		`s.yaml:9: expect.journal: unknown kind "explosions" (known: in, out, decision, bad_frame, duplicate, orphan, late_reversal, settlement, connection, fault, unexpected, review)`,
	}, "\n"))
}

// A minimal valid scenario of each step kind, and what the loader makes of
// it.
func TestParse_AcceptsEveryStepKind(t *testing.T) {
	sale := `  - sale: {amount: "1.00"}`
	tests := []struct {
		name  string
		lines []string
		want  Step // the last step
	}{
		{"a sale", []string{`  - sale: {amount: "12.34", card: visa-approve, pin: "1234"}`},
			Step{Op: "sale", Args: OpArgs{Amount: "12.34", Card: "visa-approve", PIN: "1234"}}},
		{"a sale by PAN without a PIN", []string{`  - sale: {amount: "1.00", pan: "6200000000000005", no_pin: true}`},
			Step{Op: "sale", Args: OpArgs{Amount: "1.00", PAN: "6200000000000005", NoPIN: true}}},
		{"a chip sale the card declines", []string{`  - sale: {amount: "1.00", card: chip-approve, card_response: aac}`},
			Step{Op: "sale", Args: OpArgs{Amount: "1.00", Card: "chip-approve", CardResponse: "aac"}}},
		{"a sale with terminal-side faults", []string{`  - sale: {amount: "1.00", power_cut: after_clear, close_before_read: true, bad_mac: true, tid: T2, mid: M2}`},
			Step{Op: "sale", Args: OpArgs{Amount: "1.00", PowerCut: "after_clear", CloseBeforeRead: true, BadMAC: true, TID: "T2", MID: "M2"}}},
		{"a pre-authorisation", []string{`  - preauth: {amount: "30.00"}`}, Step{Op: "preauth", Args: OpArgs{Amount: "30.00"}}},
		{"a completion by RRN", []string{`  - completion: {amount: "30.00", rrn: "123456789012"}`},
			Step{Op: "completion", Args: OpArgs{Amount: "30.00", RRN: "123456789012"}}},
		{"a completion by auth code", []string{`  - completion: {amount: "30.00", auth_code: "123456"}`},
			Step{Op: "completion", Args: OpArgs{Amount: "30.00", AuthCode: "123456"}}},
		{"a completion of an earlier pre-authorisation", []string{`  - preauth: {amount: "30.00"}`, `  - completion: {amount: "30.00", rrn_of: 1}`},
			Step{Op: "completion", Args: OpArgs{Amount: "30.00", RRNOf: 1}}},
		{"a void by RRN", []string{`  - void: {rrn: "123456789012"}`}, Step{Op: "void", Args: OpArgs{RRN: "123456789012"}}},
		{"a void of an earlier sale", []string{sale, "  - void: {rrn_of: 1}"}, Step{Op: "void", Args: OpArgs{RRNOf: 1}}},
		{"a pre-authorisation void by auth code", []string{`  - preauth_void: {auth_code: "123456"}`},
			Step{Op: "preauth_void", Args: OpArgs{AuthCode: "123456"}}},
		{"a completion void", []string{`  - completion_void: {rrn: "123456789012", amount: "30.00"}`},
			Step{Op: "completion_void", Args: OpArgs{RRN: "123456789012", Amount: "30.00"}}},
		{"a refund of an earlier sale", []string{sale, `  - refund: {amount: "0.50", rrn_of: 1}`},
			Step{Op: "refund", Args: OpArgs{Amount: "0.50", RRNOf: 1}}},
		{"an offline sale", []string{`  - offline_sale: {amount: "8.80", card: visa-approve}`},
			Step{Op: "offline_sale", Args: OpArgs{Amount: "8.80", Card: "visa-approve"}}},
		{"an offline sale's adjustment", []string{`  - adjust: {stan: "1", amount: "9.90"}`},
			Step{Op: "adjust", Args: OpArgs{STAN: "1", Amount: "9.90"}}},
		{"a tip", []string{`  - tip: {stan: "1", amount: "1.50"}`},
			Step{Op: "tip", Args: OpArgs{STAN: "1", Amount: "1.50"}}},
		{"a balance inquiry of the default card", []string{"  - balance:"}, Step{Op: "balance"}},
		{"a balance inquiry of a card", []string{"  - balance: {card: visa-approve}"}, Step{Op: "balance", Args: OpArgs{Card: "visa-approve"}}},
		{"the pending reversal", []string{"  - reversal:"}, Step{Op: "reversal"}},
		{"a reversal of a logged sale", []string{sale, `  - reversal: {stan: "1"}`}, Step{Op: "reversal", Args: OpArgs{STAN: "1"}}},
		{"an echo", []string{"  - echo:"}, Step{Op: "echo"}},
		{"a sign-on written as an empty mapping", []string{"  - signon: {}"}, Step{Op: "signon"}},
		{"a sign-off", []string{"  - signoff:"}, Step{Op: "signoff"}},
		{"a parameter download", []string{"  - download:"}, Step{Op: "download"}},
		{"a master key download", []string{"  - master_key:"}, Step{Op: "master_key"}},
		{"a settlement", []string{"  - settle:"}, Step{Op: "settle"}},
		{"a wait", []string{"  - wait: 250ms"}, Step{Op: "wait", Duration: Duration(250 * time.Millisecond)}},
		{"an advance by days", []string{"  - advance: 3d"}, Step{Op: "advance", Duration: Duration(72 * time.Hour)}},
		{"a restart of the terminal", []string{"  - restart: terminal"}, Step{Op: "restart", Target: "terminal"}},
		{"a restart of the acquirer", []string{"  - restart: acquirer"}, Step{Op: "restart", Target: "acquirer"}},
		{"a reconnect", []string{"  - reconnect:"}, Step{Op: "reconnect"}},
		{"a host down for a minute", []string{"  - host_down: 1m"}, Step{Op: "host_down", Duration: Duration(time.Minute)}},
		{"the host back", []string{"  - host_up: {}"}, Step{Op: "host_up"}},
		{"a retrieval", []string{`  - retrieval: {stan: "1", tid: POSIM001}`}, Step{Op: "retrieval", Args: OpArgs{STAN: "1", TID: "POSIM001"}}},
		{"a chargeback", []string{`  - chargeback: {stan: "1", reason: "4515", fee: "15.00"}`},
			Step{Op: "chargeback", Args: OpArgs{STAN: "1", Reason: "4515", Fee: "15.00"}}},
		{"a representment won", []string{`  - representment: {stan: "1", won: true}`}, Step{Op: "representment", Args: OpArgs{STAN: "1", Won: true}}},
		{"a second chargeback", []string{`  - second_chargeback: {stan: "1"}`}, Step{Op: "second_chargeback", Args: OpArgs{STAN: "1"}}},
		{"a settlement account corrected", []string{"  - settlement_account: {status: corrected}"},
			Step{Op: "settlement_account", Args: OpArgs{Status: "corrected"}}},
		{"another merchant's settlement account gone wrong", []string{"  - settlement_account: {status: closed_account, mid: SHOP00000000001}"},
			Step{Op: "settlement_account", Args: OpArgs{Status: "closed_account", MID: "SHOP00000000001"}}},
		{"a step repeated under one dialect", []string{`  - sale: {amount: "1.00"}`, "    repeat: 3", "    profiles: [cup]"},
			Step{Op: "sale", Args: OpArgs{Amount: "1.00"}, Repeat: 3, Profiles: []string{"cup"}}},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("s.yaml", []byte(steps(tc.lines...)))
			require.NoError(t, err)
			require.Equal(t, "s.yaml", s.File)
			// the last step starts at the last line beginning "  - "
			// (the steps start on line 4)
			for i, l := range tc.lines {
				if strings.HasPrefix(l, "  - ") {
					tc.want.Line = 4 + i
				}
			}
			require.Equal(t, tc.want, s.Steps[len(s.Steps)-1])
		})
		covered[tc.want.Op] = true
	}
	for _, kind := range StepKinds() {
		require.True(t, covered[kind], "no valid %s step is tried", kind)
	}
}
