package acquirer

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// Every change to the books is handed to the change log, in the order it
// applies, with what replaying it needs; refused disputes too (they are
// replayed, and refused again), refused policies not (nothing changed).
func TestChanges_EveryChangeIsLogged(t *testing.T) {
	log := &memLog{}
	e := contracted(t)
	e.SetChangeLog(log)
	s := sale(approvePAN, 40000)
	d := e.Decide(s, d0)
	e.MarkAnomaly(d.Record.ID, Anomaly{Kind: AnomalyActivationFee, Amount: 100})
	e.Advance(d0.Add(24 * time.Hour))
	_, _ = e.Retrieval("T1", s.STAN, d0.AddDate(0, 0, 2))
	_, _ = e.Chargeback("T1", s.STAN, "4515", 1500, d0.AddDate(0, 0, 3))
	_, _ = e.Represent("T1", s.STAN, true, d0.AddDate(0, 0, 4))
	_, err := e.SecondChargeback("T1", s.STAN, d0.AddDate(0, 0, 5))
	require.ErrorIs(t, err, ErrDispute, "refused for a debit card")
	_, _ = e.SetSettlementAccount("M1", ReturnWrongAccount, d0.AddDate(0, 0, 6))
	bad := DefaultPolicies()
	bad.Duplicate = "ignore"
	require.Error(t, e.SetPolicies(bad))
	p := DefaultPolicies()
	p.PINKey = "1111111111111111" + "2222222222222222"
	require.NoError(t, e.SetPolicies(p))
	require.NoError(t, e.SetContracts(22*time.Hour, nil))
	e.Reset()

	var kinds []string
	for _, c := range log.ops {
		kinds = append(kinds, c.Kind)
	}
	require.Equal(t, []string{ChangeDecide, ChangeMarkAnomaly, ChangeAdvance, ChangeRetrieval, ChangeChargeback, ChangeRepresent,
		ChangeSecondChargeback, ChangeSettlementAccount, ChangeSetPolicies, ChangeSetContracts, ChangeReset}, kinds)
	ops := log.ops
	require.Equal(t, s.STAN, ops[0].Req.STAN)
	require.True(t, d0.Equal(ops[0].At))
	require.Equal(t, Anomaly{Kind: AnomalyActivationFee, Amount: 100}, *ops[1].Anomaly)
	require.Equal(t, d.Record.ID, ops[1].Record)
	require.Equal(t, Change{Kind: ChangeChargeback, At: d0.AddDate(0, 0, 3), TID: "T1", STAN: s.STAN, Reason: "4515", Fee: 1500}, ops[4])
	require.True(t, ops[5].Won)
	require.Equal(t, "M1", ops[7].MID)
	require.Equal(t, ReturnWrongAccount, ops[7].Reason)
	require.Equal(t, p.PINKey, ops[8].PINKey, "the PIN key travels beside the policies, whose JSON leaves it out")
	require.Equal(t, 22*time.Hour, ops[9].Cutover)

	log.ops = nil
	e.SetChangeLog(nil)
	e.Decide(sale(approvePAN, 100), d0)
	require.Empty(t, log.ops, "a log removed is told nothing")
}

// Replay applies each kind of change as the engine's own call did.
func TestChanges_ReplayEachKind(t *testing.T) {
	e := contracted(t)
	replay := func(c Change) {
		t.Helper()
		// as a store keeps it: written as JSON and read back
		data, err := json.Marshal(c)
		require.NoError(t, err)
		var back Change
		require.NoError(t, json.Unmarshal(data, &back))
		require.NoError(t, e.Replay(back))
	}
	start := balOf(t, e, approvePAN)
	s := sale(approvePAN, 40000)

	replay(Change{Kind: ChangeDecide, At: d0, Req: s})
	require.Len(t, e.Snapshot().Records, 1)
	require.Equal(t, start-40000, balOf(t, e, approvePAN))

	replay(Change{Kind: ChangeMarkAnomaly, Record: 1, Anomaly: &Anomaly{Kind: AnomalyWrongRate, PPM: 10000}})
	replay(Change{Kind: ChangeAdvance, At: d0.Add(24 * time.Hour)})
	lines := e.Lines()
	require.Len(t, lines, 1, "the day closed")
	require.Equal(t, int64(400), lines[0].Fee, "1.00 % instead of the contract's 0.60 %")

	replay(Change{Kind: ChangeRetrieval, At: d0.AddDate(0, 0, 30), TID: "T1", STAN: s.STAN})
	require.Equal(t, DisputeRetrieval, e.Disputes()[0].Stage)
	replay(Change{Kind: ChangeChargeback, At: d0.AddDate(0, 0, 31), TID: "T1", STAN: s.STAN, Reason: "4512", Fee: 1500})
	dp := e.Disputes()[0]
	require.Equal(t, DisputeChargeback, dp.Stage)
	require.Equal(t, "4512", dp.Reason)
	require.Equal(t, int64(1500), dp.Fee)
	require.Equal(t, start, balOf(t, e, approvePAN), "the card got the sale back")
	replay(Change{Kind: ChangeRepresent, At: d0.AddDate(0, 0, 40), TID: "T1", STAN: s.STAN, Won: false})
	require.Equal(t, DisputeLost, e.Disputes()[0].Stage)
	require.Equal(t, start, balOf(t, e, approvePAN), "a lost representment takes nothing back")
	disputes := e.Disputes()
	replay(Change{Kind: ChangeSecondChargeback, At: d0.AddDate(0, 0, 41), TID: "T1", STAN: s.STAN})
	require.Equal(t, disputes, e.Disputes(), "refused as it was the first time: replaying it is not an error")

	lines = e.Lines()
	replay(Change{Kind: ChangeSettlementAccount, At: d0.AddDate(0, 0, 41), MID: "M1", Reason: "bogus"})
	require.Equal(t, lines, e.Lines(), "a refused account change replays as refused")

	p := DefaultPolicies()
	p.Duplicate = Duplicate19
	key := "1111111111111111" + "2222222222222222"
	replay(Change{Kind: ChangeSetPolicies, Policies: &p, PINKey: key})
	require.Equal(t, Duplicate19, e.Policies().Duplicate)
	require.Equal(t, key, e.Policies().PINKey)
	k, err := wire.ParsePINKey(key)
	require.NoError(t, err)
	block, err := k.EncryptPIN("1234", wrongPINPAN)
	require.NoError(t, err)
	req := sale(wrongPINPAN, 100)
	req.PINBlock = block
	require.Equal(t, "00", e.Decide(req, d0.AddDate(0, 0, 42)).Response.ResponseCode, "PIN blocks under the replayed key")

	replay(Change{Kind: ChangeSetContracts, Cutover: 22 * time.Hour, Contracts: []Contract{{MID: "M2", Cycle: "D0"}}})
	m2 := at(sale(approvePAN, 500), "T2", "M2")
	at2 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	e.Decide(m2, at2)
	e.Advance(at2.Add(12*time.Hour + 30*time.Minute))
	var m2Lines int
	for _, l := range e.Lines() {
		if l.MID == "M2" {
			m2Lines++
		}
	}
	require.Equal(t, 1, m2Lines, "the replayed contract's day closed at 22:00")

	replay(Change{Kind: ChangeReset})
	require.Empty(t, e.Snapshot().Records)
	require.Equal(t, start, balOf(t, e, approvePAN))
}

func TestChanges_BadChangesAreRefused(t *testing.T) {
	e := newEngine(t)
	for name, c := range map[string]Change{
		"decide without a request":      {Kind: ChangeDecide, At: t0},
		"policies without policies":     {Kind: ChangeSetPolicies, PINKey: "00"},
		"anomaly without an anomaly":    {Kind: ChangeMarkAnomaly, Record: 1},
		"a kind this engine never made": {Kind: "rewind"},
		"no kind":                       {},
	} {
		t.Run(name, func(t *testing.T) {
			require.ErrorIs(t, e.Replay(c), ErrBadChange)
		})
	}
	require.ErrorContains(t, e.Replay(Change{Kind: "rewind"}), `"rewind"`)
	require.Empty(t, e.Snapshot().Records, "nothing applied")

	t.Run("a change its call refuses fails its replay too", func(t *testing.T) {
		bad := DefaultPolicies()
		bad.PINTries = 0
		err := e.Replay(Change{Kind: ChangeSetPolicies, Policies: &bad, PINKey: bad.PINKey})
		require.ErrorContains(t, err, "pin_tries")
		require.NotErrorIs(t, err, ErrBadChange)
		require.Equal(t, 3, e.Policies().PINTries, "the old policies stay")
		require.ErrorContains(t, e.Replay(Change{Kind: ChangeSetContracts, Contracts: []Contract{{MID: "M1", Holidays: []string{"10/01"}}}}), "10/01")
	})
}
