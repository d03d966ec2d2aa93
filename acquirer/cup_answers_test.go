package acquirer

import (
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// signedOnCUPEngine is an engine as posim's cup acquirer runs it: working keys
// issued at sign-on, the dialect's settlement, terminal T1 signed on.
func signedOnCUPEngine(t *testing.T, at time.Time) *Engine {
	t.Helper()
	e := newEngine(t)
	require.NoError(t, e.EnableKeys(wire.TestTMK, wire.MACCUP))
	e.SetDialect(wire.CUP.Capabilities())
	d := e.Decide(&wire.Txn{MTI: "0800", Op: wire.OpSignOn, STAN: "000001", TID: "T1", MID: "M1", NetworkCode: wire.KeysDouble, Batch: "000001"}, at)
	require.Equal(t, "00", d.Response.ResponseCode)
	return e
}

// What a CUP host's answers carry besides the request's echo: the host's
// time and date in every answer, the settlement date and a reference in a
// settlement's, the acquirer and a reference in a network management
// answer; and the request's DE60 echoed whole.
func TestEngine_CUPAnswersAreComplete(t *testing.T) {
	at := time.Date(2026, 3, 4, 15, 16, 17, 0, time.UTC)
	t.Run("a sign-on's answer names the acquirer and a reference", func(t *testing.T) {
		e := newEngine(t)
		require.NoError(t, e.EnableKeys(wire.TestTMK, wire.MACCUP))
		e.SetDialect(wire.CUP.Capabilities())
		r := e.Decide(&wire.Txn{MTI: "0800", Op: wire.OpSignOn, STAN: "000001", TID: "T1", MID: "M1", NetworkCode: wire.KeysDouble}, at).Response
		require.Equal(t, AcquirerID, r.AcquirerID)
		require.Len(t, r.RRN, 12)
		require.Equal(t, "151617", r.LocalTime)
		require.Equal(t, "0304", r.LocalDate)
	})
	t.Run("a sale's answer carries the host's time, not the terminal's", func(t *testing.T) {
		e := signedOnCUPEngine(t, at)
		req := sale("6200000000000005", 100)
		req.TID, req.LocalTime, req.LocalDate = "T1", "090000", "0101"
		req.DE60, req.Batch = "22000001000"+"60", "000001" // 60.4 6, 60.5 0: a chip-reading terminal, as decoded
		r := e.Decide(req, at).Response
		require.Equal(t, "00", r.ResponseCode)
		require.Equal(t, "151617", r.LocalTime)
		require.Equal(t, "0304", r.LocalDate)
		m, err := wire.CUP.Encode(r)
		require.NoError(t, err)
		de60, _ := m.GetString(60)
		require.Equal(t, "22000001000"+"60", de60, "DE60 echoed with 60.4 and 60.5")
	})
	t.Run("a settlement's answer carries its settlement date and a reference", func(t *testing.T) {
		e := signedOnCUPEngine(t, at)
		r := e.Decide(&wire.Txn{MTI: "0500", Op: wire.OpSettle, STAN: "000002", TID: "T1", MID: "M1", Batch: "000001", Totals: &wire.Totals{}}, at).Response
		require.Equal(t, "0304", r.SettlementDate)
		require.Len(t, r.RRN, 12)
		require.Equal(t, "151617", r.LocalTime)
	})
	t.Run("an answer to a 60.1 posim does not know keeps its DE60 well formed", func(t *testing.T) {
		e := signedOnCUPEngine(t, at)
		req := &wire.Txn{MTI: "0220", ProcessingCode: "000000", STAN: "000003", TID: "T1", MID: "M1", DE60: "30000001000", Batch: "000001"}
		r := e.Decide(req, at).Response
		m, err := wire.CUP.Encode(r)
		require.NoError(t, err)
		de60, _ := m.GetString(60)
		require.Equal(t, "30000001000", de60, "60.1, 60.2 and 60.3: eleven digits")
	})
	t.Run("iso87 answers are left as they were", func(t *testing.T) {
		e := newEngine(t)
		req := sale("6200000000000005", 100)
		req.LocalTime, req.LocalDate = "090000", "0101"
		r := e.Decide(req, at).Response
		require.Equal(t, "090000", r.LocalTime)
		require.Equal(t, "0101", r.LocalDate)
	})
}
