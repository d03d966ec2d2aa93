package acquirer

import (
	"github.com/posim/posim/emv"
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func cupEngine(t *testing.T) *Engine {
	t.Helper()
	e := newEngine(t)
	require.NoError(t, e.EnableKeys(wire.TestTMK, wire.MACCUP))
	return e
}

func signOn(tid, batch string) *wire.Txn {
	stanSeq++
	return &wire.Txn{MTI: "0800", Op: wire.OpSignOn, NetworkCode: wire.KeysDouble, STAN: pad6(stanSeq), TID: tid, MID: "M1", Batch: batch}
}

func TestEngine_SignOnEnforcedUnderCUP(t *testing.T) {
	at := time.Date(2026, 3, 4, 15, 16, 17, 0, time.UTC)
	t.Run("an unsigned 0200 gets 77 and books nothing; after sign-on the same sale is approved", func(t *testing.T) {
		e := cupEngine(t)
		start := balOf(t, e, approvePAN)
		s := sale(approvePAN, 100)
		d := e.Decide(s, at)
		require.Equal(t, "77", d.Response.ResponseCode)
		require.Nil(t, d.Record)
		require.Empty(t, e.Snapshot().Records)
		require.Equal(t, start, balOf(t, e, approvePAN))

		on := e.Decide(signOn("T1", "000001"), at)
		require.Equal(t, "00", on.Response.ResponseCode)
		require.Len(t, on.Response.Keys, 40, "double-length keys")
		require.Equal(t, "000001", on.Response.Batch)
		require.Equal(t, "151617", on.Response.LocalTime, "the host's time, DE12")
		require.Equal(t, "0304", on.Response.LocalDate, "and date, DE13")
		require.Equal(t, "00", e.Decide(s, at).Response.ResponseCode)
	})
	t.Run("an echo signs nothing on; a sign-off ends the session", func(t *testing.T) {
		e := cupEngine(t)
		stanSeq++
		echo := &wire.Txn{MTI: "0820", Op: wire.OpEcho, NetworkCode: wire.NetEcho, STAN: pad6(stanSeq), TID: "T1", MID: "M1"}
		require.Equal(t, "00", e.Decide(echo, at).Response.ResponseCode)
		require.Equal(t, "77", e.Decide(sale(approvePAN, 100), at).Response.ResponseCode)
		e.Decide(signOn("T1", "000001"), at)
		require.Equal(t, "00", e.Decide(sale(approvePAN, 100), at).Response.ResponseCode)
		stanSeq++
		off := &wire.Txn{MTI: "0820", Op: wire.OpSignOff, NetworkCode: wire.NetSignOff, STAN: pad6(stanSeq), TID: "T1", MID: "M1"}
		require.Equal(t, "00", e.Decide(off, at).Response.ResponseCode)
		require.Equal(t, "77", e.Decide(sale(approvePAN, 100), at).Response.ResponseCode)
	})
	t.Run("the policy's code", func(t *testing.T) {
		e := newEngine(t, func(p *Policies) { p.Unsigned = "A0" })
		require.NoError(t, e.EnableKeys(wire.TestTMK, wire.MACCUP))
		require.Equal(t, "A0", e.Decide(sale(approvePAN, 100), at).Response.ResponseCode)
		require.ErrorContains(t, (func() Policies { p := DefaultPolicies(); p.Unsigned = "05"; return p }()).Validate(), "unsigned")
	})
	t.Run("a deregistered terminal is refused 97 first", func(t *testing.T) {
		e := cupEngine(t)
		r := sale(approvePAN, 100)
		r.TID = "GONE"
		require.Equal(t, "97", e.Decide(r, at).Response.ResponseCode)
	})
	t.Run("without working keys (iso87) nothing is enforced", func(t *testing.T) {
		require.Equal(t, "00", newEngine(t).Decide(sale(approvePAN, 100), at).Response.ResponseCode)
	})
	t.Run("the host hands a terminal the batch after the one it settled", func(t *testing.T) {
		e := cupEngine(t)
		e.Decide(signOn("T1", "000007"), at)
		stanSeq++
		zero := wire.Totals{}
		st := &wire.Txn{MTI: "0500", Op: wire.OpSettle, STAN: pad6(stanSeq), TID: "T1", MID: "M1", Batch: "000007", Totals: &zero}
		require.Equal(t, "00", e.Decide(st, at).Response.ResponseCode)
		// a terminal that lost its state signs on with batch 1
		require.Equal(t, "000008", e.Decide(signOn("T1", "000001"), at).Response.Batch)
	})
	t.Run("downloads and status uploads are answered, not 30", func(t *testing.T) {
		e := cupEngine(t)
		for _, c := range []struct {
			mti, code string
			op        wire.Op
		}{{"0800", "370", wire.OpDownload}, {"0800", "381", wire.OpDownload}, {"0820", "372", wire.OpStatusUpload}, {"0820", "382", wire.OpStatusUpload}} {
			stanSeq++
			d := e.Decide(&wire.Txn{MTI: c.mti, Op: c.op, NetworkCode: c.code, STAN: pad6(stanSeq), TID: "T1", MID: "M1"}, at)
			require.Equal(t, "00", d.Response.ResponseCode, c.code)
			require.NotEqual(t, 40, len(d.Response.Keys), "%s issues no working keys", c.code)
		}
	})
	t.Run("chip CA key and parameter download", func(t *testing.T) {
		e := cupEngine(t)
		ask := func(mti, code string, op wire.Op, de62 []byte) []byte {
			stanSeq++
			d := e.Decide(&wire.Txn{MTI: mti, Op: op, NetworkCode: code, STAN: pad6(stanSeq), TID: "T1", MID: "M1", Keys: de62}, at)
			require.Equal(t, "00", d.Response.ResponseCode, code)
			return d.Response.Keys
		}
		list := ask("0820", "372", wire.OpStatusUpload, nil)
		require.Equal(t, byte('1'), list[0])
		l, err := emv.Parse(list[1:])
		require.NoError(t, err)
		rid, _ := l.Get(emv.TagRID)
		idx, _ := l.Get(emv.TagCAPKIndex)
		key := ask("0800", "370", wire.OpDownload, emv.List{{Tag: emv.TagRID, Value: rid}, {Tag: emv.TagCAPKIndex, Value: idx}}.Bytes())
		require.Equal(t, byte('1'), key[0])
		k, err := emv.ParseCAPK(key[1:])
		require.NoError(t, err, "the key's checksum verifies")
		require.Equal(t, "a000000333/02", k.Name())
		none := ask("0800", "370", wire.OpDownload, emv.List{{Tag: emv.TagRID, Value: rid}, {Tag: emv.TagCAPKIndex, Value: []byte{0x99}}}.Bytes())
		require.Equal(t, []byte("0"), none)
		apps := ask("0820", "382", wire.OpStatusUpload, nil)
		al, err := emv.Parse(apps[1:])
		require.NoError(t, err)
		aid, _ := al.Get(emv.TagRID)
		params := ask("0800", "380", wire.OpDownload, emv.List{{Tag: emv.TagRID, Value: aid}}.Bytes())
		pl, err := emv.Parse(params[1:])
		require.NoError(t, err)
		floor, _ := pl.Get(0x9F1B)
		require.Equal(t, []byte{0, 0, 0xC3, 0x50}, floor, "floor limit 500.00")
	})
}

func TestEngine_CUPAnswersCarryReceiptFields(t *testing.T) {
	e := cupEngine(t)
	at := time.Date(2026, 3, 4, 15, 16, 17, 0, time.UTC)
	e.Decide(signOn("T1", "000001"), at)
	for _, c := range []struct{ pan, org string }{{approvePAN, "CUP"}, {"4111111111111111", "VIS"}} {
		d := e.Decide(sale(c.pan, 100), at)
		require.Equal(t, "00", d.Response.ResponseCode)
		require.Equal(t, "0304", d.Response.SettlementDate, "DE15")
		require.Equal(t, AcquirerID, d.Response.AcquirerID, "DE32")
		require.Len(t, d.Response.Institutions, 22, "DE44: issuer and acquirer, 11 each")
		require.Equal(t, AcquirerID, d.Response.Institutions[11:19])
		require.Equal(t, c.org, d.Response.Private63, "DE63.1")
	}
	for pan, org := range map[string]string{"5500000000000004": "MCC", "2221000000000009": "MCC", "378282246310005": "AMX",
		"3530111333300000": "JCB", "6212263301004540034": "CUP", "9999": ""} {
		require.Equal(t, org, wire.CardOrganisation(pan), pan)
	}
}
