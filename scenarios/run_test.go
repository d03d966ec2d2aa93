package scenarios

import (
	"context"
	"testing"

	"github.com/posim/posim/acquirer"
	"github.com/stretchr/testify/require"
)

// Runs that share a state directory are one terminal carrying its STANs,
// log and batch from one scenario to the next: what a scenario names
// (stan: 1, the log, the batch) counts from where it began.
func TestRun_StateCarriedOverCountsFromTheScenarioStart(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	sale := `steps:
  - sale: {card: visa-approve, amount: "1.00"}
    expect: {outcome: approved, receipt: {trace: 1}}
expect:
  records: [{stan: 1, amount: "1.00", status: approved}]
  terminal: {log: 1, batch: 1}`
	first := play(t, sale, Options{Speed: 1, StateDir: state})
	requirePass(t, first)
	require.Equal(t, "000001", first.Steps[0].STAN)
	again := play(t, sale, Options{Speed: 1, StateDir: state})
	requirePass(t, again)
	require.Equal(t, "000002", again.Steps[0].STAN, "the terminal's next STAN, which the scenario calls 1")
	settled := play(t, `steps:
  - sale: {card: visa-approve, amount: "2.00"}
    expect: {receipt: {trace: 1}}
  - settle:
    expect: {settlement: {balanced: false, uploaded: 3}}
expect:
  records: [{stan: 1, amount: "2.00"}]
  terminal: {log: 0, batch: 2}`, Options{Speed: 1, StateDir: state})
	// the batch holds the three sales; this run's host knows only its own
	requirePass(t, settled)
	require.Equal(t, "000003", settled.Steps[0].STAN)
}

// parse parses a scenario body as play does.
func parse(t *testing.T, body string) *Scenario {
	t.Helper()
	s, err := Parse(t.Name()+".yaml", []byte("name: t\ntitle: {en: T}\n"+body))
	require.NoError(t, err)
	return s
}

// Against someone else's host only what the terminal knows is checked, and
// steps that act on posim's own acquirer cannot run.
func TestRun_AgainstATargetHost(t *testing.T) {
	t.Parallel()
	other, err := StartHost(parse(t, oneSale), "127.0.0.1:0", HostOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })

	body := `steps:
  - sale: {card: visa-approve, amount: "1.00"}
    expect: {outcome: approved}
  - restart: terminal
  - sale: {card: insufficient-funds, amount: "1.00"}
    expect: {outcome: {{approved|declined}}}
expect:
  records: [{stan: 9, status: approved}]
  balances: {visa-approve: "1.00"}
  terminal: {log: {{2|1}}}`
	requireFailures(t, []Failure{
		stepFailure(3, "sale", 7, "outcome", "approved", "declined"),
		endFailure("terminal log entries", "2", "1"),
	}, Run(t.Context(), parse(t, variant(body, false)), Options{Speed: 1, Target: other.Addr()}))
	right := Run(t.Context(), parse(t, variant(body, true)), Options{Speed: 1, Target: other.Addr()})
	requirePass(t, right)
	require.True(t, right.Passed, "the records and balances of another host are not checked")
	// the sales went to the target host; the second run's terminal (a
	// fresh state) used the same STANs, which the host answered as
	// duplicates without booking them again
	require.Len(t, other.Engine().Snapshot().Records, 2)

	for _, tc := range []struct {
		name, step, err string
	}{
		{"the host going down", "  - host_down: 1m", "step 2 (host_down, line 5): host_down 1m0s acts on posim's own acquirer: not possible with a target host"},
		{"the host restarting", "  - restart: acquirer", "step 2 (restart, line 5): restart acquirer acts on posim's own acquirer: not possible with a target host"},
		{"a chargeback", `  - chargeback: {stan: "1"}`, "step 2 (chargeback, line 5): chargeback acts on posim's own acquirer: not possible with a target host"},
	} {
		res := Run(t.Context(), parse(t, "steps:\n  - echo:\n"+tc.step), Options{Speed: 1, Target: other.Addr()})
		require.Equal(t, tc.err, res.Error, tc.name)
		require.False(t, res.Passed)
	}
}

// A host built elsewhere from the scenario serves the run, which neither
// listens nor closes it; it must keep its journal in memory, where the run
// reads it.
func TestRun_OnAHostGiven(t *testing.T) {
	t.Parallel()
	s := parse(t, `steps:
  - sale: {card: visa-approve, amount: "7.00"}
    expect: {outcome: approved}
expect:
  records: [{stan: 1, amount: "7.00", status: approved}]
  balances: {visa-approve: "993.00"}
  journal: {in: 1}`)
	h, err := StartHost(s, "127.0.0.1:0", HostOptions{Epoch: Epoch, Journal: acquirer.NewMemJournal()})
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	res := Run(t.Context(), s, Options{Speed: 1, Host: h})
	requirePass(t, res)
	require.True(t, res.Passed)
	acc, ok := h.Engine().Account("4111111111111111")
	require.True(t, ok)
	require.Equal(t, int64(99300), int64(acc.Balance), "the given host booked the sale")
	require.NotEmpty(t, h.Addr(), "and still listens")

	elsewhere, err := StartHost(s, "127.0.0.1:0", HostOptions{Journal: otherJournal{acquirer.NewMemJournal()}})
	require.NoError(t, err)
	t.Cleanup(func() { elsewhere.Close() })
	res = Run(t.Context(), s, Options{Speed: 1, Host: elsewhere})
	require.Equal(t, "the host given to the run keeps its journal in a scenarios.otherJournal: the run needs an *acquirer.MemJournal", res.Error)
	require.False(t, res.Passed)
	require.Empty(t, elsewhere.Engine().Snapshot().Records, "nothing ran")
}

// otherJournal is a journal kept elsewhere than in memory.
type otherJournal struct{ *acquirer.MemJournal }

// The world steps that act on the link and the host: a restarted acquirer
// keeps its ledger, a dropped connection is made again, a host down
// refuses the terminal (before any trace number is used) until it comes
// back, a restarted terminal carries on from its state.
func TestRun_WorldSteps(t *testing.T) {
	t.Parallel()
	res := play(t, `steps:
  - sale: {card: visa-approve, amount: "1.00"}
  - restart: acquirer
  - sale: {card: visa-approve, amount: "2.00"}
    expect: {outcome: approved}
  - reconnect:
  - echo:
    expect: {outcome: approved}
  - host_down: 1h
  - sale: {card: visa-approve, amount: "3.00"}
    expect: {outcome: refused, reversal_pending: false}
  - host_up:
  - sale: {card: visa-approve, amount: "4.00"}
    expect: {outcome: approved}
  - restart: terminal
  - sale: {card: visa-approve, amount: "5.00"}
    expect: {outcome: approved, receipt: {trace: 5}}
expect:
  records:
    - {stan: 1, amount: "1.00", status: approved}
    - {stan: 2, amount: "2.00", status: approved}
    - {stan: 4, amount: "4.00", status: approved}
    - {stan: 5, amount: "5.00", status: approved}
  received: {"0200": 4, "0800": 1}
  balances: {visa-approve: "988.00"}
  terminal: {log: 4, pending_reversal: false}`, Options{Speed: 1})
	requirePass(t, res)
	require.True(t, res.Passed)
	require.Equal(t, "clock advanced 1h0m0s", play(t, "steps:\n  - advance: 1h\n", Options{Speed: 1}).Steps[0].Detail)
}

// Under cup a step's tid: is another terminal of the shop: it signs on
// with its own keys before its first sale, which is approved with MACs
// verifying under its own key, and signs on once; a deregistered terminal
// is refused at its sign-on (97) and sends no sale. Before, the request
// went out under the scenario terminal's keys and was answered 77.
func TestRun_StepTIDSignsThatTerminalOnUnderCUP(t *testing.T) {
	t.Parallel()
	res := play(t, `
setup:
  terminals: [{tid: "GONE0001", status: deregistered}]
steps:
  - {sale: {amount: "1.00"}, expect: {outcome: approved}}
  - {sale: {amount: "2.00", tid: "TILL0002"}, expect: {outcome: approved}}
  - {sale: {amount: "3.00", tid: "TILL0002"}, expect: {outcome: approved}}
  - {sale: {amount: "4.00", tid: "GONE0001"}, expect: {outcome: declined, response_code: "97"}}
expect:
  received: {"0800": 3, "0200": 3}
`, Options{Profile: "cup"})
	requirePass(t, res)
	signOns := map[string]int{}
	for _, e := range res.Events {
		if e.Source == "acquirer" && e.Kind == "decision" && e.MTI == "0800" {
			signOns[e.Detail]++
		}
	}
	require.Equal(t, map[string]int{"signon": 2, "sign-on refused: terminal GONE0001 deregistered": 1}, signOns)
}

// An approval whose answer carries no issuer authentication data (91, its
// DE55 dropped by a switch) is not reversed: issuer authentication is not
// performed and the card accepts (EMV Book 3 10.9); a 91 that does not
// verify still makes the card refuse.
func TestRun_ChipApprovalWithout91IsNotReversed(t *testing.T) {
	t.Parallel()
	for _, profile := range []string{"iso87", "cup"} {
		res := play(t, `
rules:
  - {id: no-91, when: {mti: "0200", nth: 1}, do: [process, {mutate: [drop_de55]}]}
  - {id: bad-91, when: {mti: "0200", nth: 2}, do: [process, {mutate: [arpc]}]}
steps:
  - sale: {card: chip-approve, amount: "10.00"}
    expect: {outcome: approved, reversals_sent: 0, second_ac: TC}
  - sale: {card: chip-approve, amount: "20.00"}
    expect: {outcome: chip_declined, arpc_verified: false, reversals_sent: 1}
expect:
  balances: {chip-approve: "9990.00"}
`, Options{Profile: profile})
		requirePass(t, res)
	}
}

// A contactless tap (qPBOC) sends one 0200 and nothing after it: no
// second GENERATE AC at the card, so no reversal when its answer carries
// no 91, and no TC upload at settlement.
func TestRun_ContactlessTapSendsOneRequest(t *testing.T) {
	t.Parallel()
	res := play(t, `
steps:
  - sale: {card: contactless, amount: "30.00"}
    expect: {outcome: approved}
  - settle:
    expect: {settlement: {balanced: true, tc_uploaded: 0}}
expect:
  order: ["0800", "0200", "0500"]
`, Options{Profile: "cup"})
	requirePass(t, res)
}

// The script advice reports the result and the identifier (9F18) of the
// script the issuer sent: DF31 2000000001 for the catalogue's script
// 00000001, processed; not performed (0x) when the ARPC failed.
func TestRun_ScriptAdviceCarriesTheScriptID(t *testing.T) {
	t.Parallel()
	s, err := FromCatalog("chip-issuer-script-advice")
	require.NoError(t, err)
	res := Run(context.Background(), s, Options{Profile: "cup", Speed: 50})
	requirePass(t, res)
	found := false
	for _, e := range res.Events {
		if e.Source == "acquirer" && e.Kind == "decision" && e.MTI == "0620" {
			require.Contains(t, e.Detail, "processed (DF31 2000000001)")
			found = true
		}
	}
	require.True(t, found, "a script advice reached the host")
}
