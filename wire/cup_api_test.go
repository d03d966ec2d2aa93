package wire

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// These tests go through the cup profile's Encode and Decode only.

// A CUP reversal is a copy of its original: the original's transaction
// type stays in 60.1, so that the host finds the original's MTI from it.
func TestCUP_ReversalKeepsTheOriginalsType(t *testing.T) {
	for op, want := range map[Op]struct{ typ, mti string }{
		OpSale: {"22", "0200"}, OpPreAuth: {"10", "0100"}, OpCompletion: {"20", "0200"}, OpVoid: {"23", "0200"},
		OpPreAuthVoid: {"11", "0100"}, OpCompletionVoid: {"21", "0200"},
	} {
		require.True(t, op.Reversible(), op)
		m, err := CUP.Encode(&Txn{Op: op, STAN: "000005", TID: "T1", Batch: "000007", PAN: "6200000000000005", Amount: 100, HasAmount: true})
		require.NoError(t, err)
		orig, err := CUP.Decode(m)
		require.NoError(t, err)
		require.Equal(t, op, orig.Op)
		for _, advice := range []bool{false, true} {
			rev := CUP.Reversal(orig, ReasonNoResponse, "000099", mustTime(t))
			if advice {
				rev.MTI, rev.Op = "0420", OpReversalAdvice
			}
			m, err := CUP.Encode(rev)
			require.NoError(t, err)
			de60, _ := m.GetString(60)
			require.Equal(t, want.typ+"000007000", de60, "%s: 60.1 the original's type, 60.2 its batch", op)
			got, err := CUP.Decode(m)
			require.NoError(t, err)
			require.Equal(t, map[bool]Op{false: OpReversal, true: OpReversalAdvice}[advice], got.Op)
			require.Equal(t, &Original{MTI: want.mti, STAN: "000005"}, got.Original, op)
			require.Equal(t, "000005", got.STAN, "%s: the original's STAN, not a new one", op)
			require.Equal(t, "98", got.ResponseCode)
		}
	}
}

// DE61 names an original by batch, trace and date, zero-filled; the date
// may be absent.
func TestCUP_DE61(t *testing.T) {
	for _, c := range []struct {
		ref  *OrigRef
		de61 string
		back OrigRef
	}{
		{&OrigRef{Batch: "000001", STAN: "000042", Date: "1127"}, "0000010000421127", OrigRef{"000001", "000042", "1127"}},
		{&OrigRef{Batch: "1", STAN: "42"}, "0000010000420000", OrigRef{"000001", "000042", "0000"}},
		{&OrigRef{}, "0000000000000000", OrigRef{"000000", "000000", "0000"}},
	} {
		m, err := CUP.Encode(&Txn{Op: OpVoid, STAN: "000005", TID: "T1", Batch: "000001", OrigRef: c.ref})
		require.NoError(t, err)
		de61, _ := m.GetString(61)
		require.Equal(t, c.de61, de61)
		x, err := CUP.Decode(m)
		require.NoError(t, err)
		require.Equal(t, c.back, *x.OrigRef)
	}
	m, err := CUP.Encode(&Txn{Op: OpVoid, STAN: "000005", TID: "T1", Batch: "000001"})
	require.NoError(t, err)
	_, has := m.GetFields()[61]
	require.False(t, has, "no original named, no DE61")

	m, err = CUP.Encode(&Txn{Op: OpVoid, STAN: "000005", TID: "T1", Extra: map[int]string{61: "000001000042"}})
	require.NoError(t, err)
	x, err := CUP.Decode(m)
	require.NoError(t, err)
	require.Equal(t, OrigRef{Batch: "000001", STAN: "000042"}, *x.OrigRef, "a DE61 without 61.3")

	m, err = CUP.Encode(&Txn{Op: OpVoid, STAN: "000005", TID: "T1", Extra: map[int]string{61: "00000100004"}})
	require.NoError(t, err)
	_, err = CUP.Decode(m)
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, 61, fe.Field)
	require.ErrorContains(t, err, "DE61: want 61.1 batch n6, 61.2 trace n6 and 61.3 date n4")
}

// A DE48 that does not hold what its message needs is a format error on
// DE48 (the host answers 30), not a guess.
func TestCUP_DE48Refusals(t *testing.T) {
	for _, c := range []struct {
		op   Op
		de48 string
		want string
	}{
		{OpSettle, "12", "settlement totals need 62 digits"},
		{OpSettle, "000000000100001", "settlement totals need 62 digits"},
		{OpBatchUpload, "12", "batch upload: 12 entries of 40 digits announced, 0 digits carried"},
		{OpBatchUpload, "0300000001", "batch upload: 3 entries of 40 digits announced, 8 digits carried"},
		{OpBatchUpload, "00", "batch upload: 0 entries"},
	} {
		m, err := CUP.Encode(&Txn{Op: c.op, STAN: "000005", TID: "T1", Batch: "000001", Extra: map[int]string{48: c.de48}})
		require.NoError(t, err)
		_, err = CUP.Decode(m)
		var fe *FieldError
		require.ErrorAs(t, err, &fe, "%s %s", c.op, c.de48)
		require.Equal(t, 48, fe.Field)
		require.ErrorContains(t, err, c.want)
	}
	// settlement totals of the domestic cards alone (31 digits) still read
	m, err := CUP.Encode(&Txn{MTI: "0510", Op: OpSettle, STAN: "000005", TID: "T1", Batch: "000001", Extra: map[int]string{48: "000000001000" + "002" + "000000000500" + "001" + "1"}})
	require.NoError(t, err)
	x, err := CUP.Decode(m)
	require.NoError(t, err)
	require.Equal(t, &Totals{DebitAmount: 1000, DebitCount: 2, CreditAmount: 500, CreditCount: 1}, x.Totals)
	require.Equal(t, "1", x.SettleResult)
}

// The end of a batch upload (0320, 60.3 202 or 207) counts the
// transactions uploaded in DE48.
func TestCUP_SettleTrailer(t *testing.T) {
	m, err := CUP.Encode(&Txn{Op: OpSettleTrailer, STAN: "000009", TID: "T1", Batch: "000001", Totals: &Totals{DebitCount: 12, CreditCount: 3}})
	require.NoError(t, err)
	de48, _ := m.GetString(48)
	require.Equal(t, "0015", de48)
	de60, _ := m.GetString(60)
	require.Equal(t, "00000001202", de60)
	x, err := CUP.Decode(m)
	require.NoError(t, err)
	require.Equal(t, OpSettleTrailer, x.Op)
	require.Equal(t, 15, x.Totals.DebitCount)
}

// 60.3 says what a network management message is (docs/domain.md, "China UnionPay dialect"): under
// 0800 a key set signs on and anything else downloads; under 0820 002
// signs off, 301 is an echo, anything else a status upload.
func TestCUP_NetworkManagementCodes(t *testing.T) {
	for _, c := range []struct {
		op        Op
		net, mti  string
		wantOp    Op
		wantNet60 string
	}{
		{OpSignOn, KeysSingle, "0800", OpSignOn, "001"},
		{OpSignOn, KeysDouble, "0800", OpSignOn, "003"},
		{OpSignOn, KeysTrack, "0800", OpSignOn, "004"},
		{OpSignOn, "", "0800", OpSignOn, "001"},
		{OpSignOff, "", "0820", OpSignOff, "002"},
		{OpEcho, "", "0820", OpEcho, "301"},
		{OpDownload, "370", "0800", OpDownload, "370"},
		{OpDownload, "371", "0800", OpDownload, "371"},
		{OpDownload, "380", "0800", OpDownload, "380"},
		{OpDownload, "381", "0800", OpDownload, "381"},
		{OpDownload, "390", "0800", OpDownload, "390"},
		{OpDownload, "391", "0800", OpDownload, "391"},
		{OpStatusUpload, "372", "0820", OpStatusUpload, "372"},
		{OpStatusUpload, "382", "0820", OpStatusUpload, "382"},
		{OpSettle, "", "0500", OpSettle, "201"},
		{OpScriptAdvice, "", "0620", OpScriptAdvice, "951"},
	} {
		m, err := CUP.Encode(&Txn{Op: c.op, NetworkCode: c.net, STAN: "000001", TID: "T1", Batch: "000003"})
		require.NoError(t, err)
		mti, _ := m.GetMTI()
		require.Equal(t, c.mti, mti, "%s %s", c.op, c.net)
		de60, _ := m.GetString(60)
		require.Equal(t, "00000003"+c.wantNet60, de60, "%s %s", c.op, c.net)
		for _, name := range []int{3, 25} {
			_, has := m.GetFields()[name]
			require.False(t, has, "%s: network management has no DE%d", c.op, name)
		}
		x, err := CUP.Decode(m)
		require.NoError(t, err)
		require.Equal(t, c.wantOp, x.Op, "%s %s", c.op, c.net)
		require.Equal(t, c.wantNet60, x.NetworkCode)
		require.Equal(t, "000003", x.Batch)
	}
}

// CUP sends a reversal again as the same 0400; an advice is repeated as
// 0221.
func TestCUP_Repeat(t *testing.T) {
	for mti, want := range map[string]string{"0400": "0400", "0420": "0421", "0220": "0221", "0221": "0221", "0200": "0200", "0320": "0321"} {
		in := &Txn{MTI: mti, STAN: "000009"}
		out := CUP.Repeat(in)
		require.Equal(t, want, out.MTI, mti)
		require.Equal(t, "000009", out.STAN)
		require.Equal(t, mti, in.MTI, "a copy: the original stays")
	}
}

// An MTI that is not four digits is a format error on DE0, under both
// dialects.
func TestProfiles_DecodeRefusesABadMTI(t *testing.T) {
	m, err := ISO87.Encode(&Txn{MTI: "02X0", STAN: "000001"})
	require.NoError(t, err)
	_, err = ISO87.Decode(m)
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, 0, fe.Field)
	require.Equal(t, `DE0: MTI "02X0" is not four digits`, fe.Error())

	for id, bad := range map[int]string{3: "00000X", 11: "00000X", 2: "62000000000X0005"} {
		m, err := ISO87.Encode(&Txn{MTI: "0200", STAN: "000001", Extra: map[int]string{id: bad}})
		require.NoError(t, err)
		_, err = ISO87.Decode(m)
		require.ErrorAs(t, err, &fe, "DE%d", id)
		require.Equal(t, id, fe.Field)
	}
	for id, bad := range map[int]string{52: "ZZZZZZZZZZZZZZZZ", 90: "0200", 74: "000000000X"} {
		m, err := ISO87.Encode(&Txn{MTI: "0200", STAN: "000001", Extra: map[int]string{id: bad}})
		require.NoError(t, err)
		_, err = ISO87.Decode(m)
		require.ErrorAs(t, err, &fe, "DE%d", id)
		require.Equal(t, id, fe.Field)
	}
}
