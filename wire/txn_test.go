package wire

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// What each operation is, as the terminal's reversal rules (R1), the
// host's sign-on enforcement and settlement read it.
func TestOp_Predicates(t *testing.T) {
	type want struct {
		reversible, network, financial bool
		settles                        int
	}
	table := map[Op]want{
		OpSale:           {true, false, true, 1},
		OpPreAuth:        {true, false, true, 0},
		OpCompletion:     {true, false, true, 1},
		OpVoid:           {true, false, true, 0},
		OpPreAuthVoid:    {true, false, true, 0},
		OpCompletionVoid: {true, false, true, 0},
		OpRefund:         {false, false, true, -1},
		OpBalance:        {false, false, false, 0},
		OpAdvice:         {false, false, true, 1},
		OpOfflineSale:    {false, false, true, 1},
		OpAdjust:         {false, false, true, 0},
		OpTip:            {false, false, true, 0},
		OpReversal:       {false, false, false, 0},
		OpReversalAdvice: {false, false, false, 0},
		OpSignOn:         {false, true, false, 0},
		OpSignOff:        {false, true, false, 0},
		OpEcho:           {false, true, false, 0},
		OpSettle:         {false, false, false, 0},
		OpSettleTrailer:  {false, false, false, 0},
		OpBatchUpload:    {false, false, false, 0},
		OpTCUpload:       {false, false, false, 0},
		OpScriptAdvice:   {false, false, false, 0},
		OpDownload:       {false, true, false, 0},
		OpMasterKey:      {false, true, false, 0},
		OpStatusUpload:   {false, true, false, 0},
		OpUnknown:        {false, false, false, 0},
	}
	require.Len(t, table, len(Ops())+1, "every operation is in the table")
	for op, w := range table {
		require.Equal(t, w.reversible, op.Reversible(), "%q reversible", op)
		require.Equal(t, w.network, op.Network(), "%q network", op)
		require.Equal(t, w.financial, op.Financial(), "%q financial", op)
		require.Equal(t, w.settles, op.Settles(), "%q settles", op)
		if op.Reversible() {
			require.True(t, op.Financial(), "%q: only what moves money or a hold is reversed", op)
		}
		if op.Network() {
			require.False(t, op.Financial(), "%q: network management moves no money", op)
		}
		if op.Settles() != 0 {
			require.True(t, op.Financial(), "%q: what settles moves money", op)
		}
	}
}

func TestOps_AndOpNames(t *testing.T) {
	ops := Ops()
	names := OpNames()
	require.Len(t, names, len(ops))
	require.NotContains(t, ops, OpUnknown)
	seen := map[string]bool{}
	for i, op := range ops {
		require.Equal(t, string(op), names[i])
		require.False(t, seen[names[i]], "%s twice", names[i])
		seen[names[i]] = true
		require.Regexp(t, `^[a-z_]+$`, names[i], "a name a fault rule's when.op can spell")
	}
	ops[0] = "changed"
	names[0] = "changed"
	require.Equal(t, OpSale, Ops()[0], "Ops returns a copy")
	require.Equal(t, "sale", OpNames()[0], "OpNames returns a copy")
}

// Every operation a dialect has goes out as a message that reads back as
// that operation, and so does the answer to it.
func TestProfiles_EveryOperationRoundTrips(t *testing.T) {
	for _, p := range []Profile{ISO87, CUP} {
		for _, op := range Ops() {
			x := &Txn{Op: op, PAN: "6200000000000005", Amount: 100, HasAmount: true, STAN: "000001", TID: "T1", MID: "M1", Batch: "000001"}
			switch op {
			case OpTCUpload:
				x.ICC = []byte{0x9F, 0x26, 0x01, 0x00}
			case OpDownload:
				x.NetworkCode = "370"
			case OpStatusUpload:
				x.NetworkCode = "372"
			case OpReversal, OpReversalAdvice:
				x.Original, x.ProcessingCode = &Original{MTI: "0200", STAN: "000001"}, PCPurchase
			case OpBatchUpload:
				x.Original = &Original{MTI: "0200", STAN: "000001"}
			case OpSignOn:
				x.NetworkCode = NetSignOn
			case OpSignOff:
				x.NetworkCode = NetSignOff
			case OpEcho:
				x.NetworkCode = NetEcho
			case OpSettle, OpSettleTrailer:
				x.Totals = &Totals{DebitCount: 1, DebitAmount: 100}
			}
			m, err := p.Encode(x)
			if p == ISO87 && (op == OpDownload || op == OpMasterKey || op == OpStatusUpload || op == OpAdjust || op == OpTip) {
				require.ErrorContains(t, err, "no MTI", "iso87 has no %s", op)
				continue
			}
			require.NoError(t, err, "%s %s", p.Name(), op)
			req, err := p.Decode(m)
			require.NoError(t, err, "%s %s", p.Name(), op)
			if p == ISO87 && op == OpOfflineSale {
				// iso87 has no code of its own for it: the advice it is
				require.Equal(t, OpAdvice, req.Op, "iso87: the request")
				continue
			}
			require.Equal(t, op, req.Op, "%s: the request", p.Name())
			require.False(t, req.IsResponse())

			if op == OpTCUpload {
				// its answer (0330) carries no DE55, so it reads as a
				// batch upload's; answers are paired with requests by
				// MTI and STAN, not by operation
				continue
			}
			m, err = p.Encode(req.Response("00"))
			require.NoError(t, err, "%s %s answer", p.Name(), op)
			resp, err := p.Decode(m)
			require.NoError(t, err, "%s %s answer", p.Name(), op)
			require.Equal(t, op, resp.Op, "%s: the answer to a %s", p.Name(), op)
			require.True(t, resp.IsResponse())
			require.Equal(t, "00", resp.ResponseCode)
		}
	}
}

// Under iso87 DE25 06 tells a completion from a sale and a completion
// void from a void: a completion goes out with it even when the caller
// left DE25 empty, and a condition the caller set is kept.
func TestISO87_CompletionsCarryTheirCondition(t *testing.T) {
	for op, plain := range map[Op]Op{OpCompletion: OpSale, OpCompletionVoid: OpVoid} {
		m, err := ISO87.Encode(&Txn{Op: op, STAN: "000001", TID: "T1"})
		require.NoError(t, err)
		de25, _ := m.GetString(25)
		require.Equal(t, CondPreAuth, de25, op)
		x, err := ISO87.Decode(m)
		require.NoError(t, err)
		require.Equal(t, op, x.Op)

		m, err = ISO87.Encode(&Txn{Op: op, STAN: "000001", TID: "T1", Condition: CondNormal})
		require.NoError(t, err)
		x, err = ISO87.Decode(m)
		require.NoError(t, err)
		require.Equal(t, plain, x.Op, "an explicit DE25 00 wins: it is the caller's message")
	}
	m, err := ISO87.Encode(&Txn{Op: OpSale, STAN: "000001", TID: "T1"})
	require.NoError(t, err)
	_, has := m.GetFields()[25]
	require.False(t, has, "a sale gets no DE25 it was not given")
}

// A response echoes what identifies the request (docs/domain.md R4: DE3, 11,
// 41, 4, 42) and never a track, a PIN block or a MAC.
func TestTxn_Response(t *testing.T) {
	bal := int64(5)
	req := &Txn{
		MTI: "0200", Op: OpSale, ProcessingCode: "000000", PAN: "6200000000000005", Amount: 1234, HasAmount: true,
		TransmissionTime: "1127120000", STAN: "000042", LocalTime: "120000", LocalDate: "1127", Expiry: "3012",
		EntryMode: "051", CardSeq: "001", Condition: "00", Track2: "6200000000000005=3012", RRN: "R", AuthCode: "A",
		ResponseCode: "98", TID: "T1", MID: "M1", Currency: "156", PINBlock: []byte{1, 2, 3, 4, 5, 6, 7, 8},
		Balance: &bal, Batch: "000003", NetworkCode: "001", Original: &Original{MTI: "0200", STAN: "000041"},
		MAC: []byte("ABCDEFGH"), ICC: []byte{0x9F}, Keys: []byte{1}, Extra: map[int]string{48: "x"},
	}
	resp := req.Response("05")
	require.Equal(t, &Txn{
		MTI: "0210", Op: OpSale, ProcessingCode: "000000", PAN: "6200000000000005", Amount: 1234, HasAmount: true,
		TransmissionTime: "1127120000", STAN: "000042", LocalTime: "120000", LocalDate: "1127", Condition: "00",
		ResponseCode: "05", TID: "T1", MID: "M1", Currency: "156", Batch: "000003", NetworkCode: "001",
		Original: req.Original, MAC: make([]byte, 8),
	}, resp, "the MAC a placeholder for the codec to sign; the rest left for the host to fill")

	noMAC := *req
	noMAC.MAC = nil
	require.Nil(t, noMAC.Response("00").MAC, "no MAC asked, none answered")

	for mti, want := range map[string]string{"0100": "0110", "0401": "0410", "0421": "0430", "0320": "0330", "0800": "0810"} {
		require.Equal(t, want, (&Txn{MTI: mti}).Response("00").MTI, mti)
	}
	require.Equal(t, "0210", (&Txn{MTI: "0210"}).Response("00").MTI, "not a request: its MTI stays")
	require.Equal(t, "", (&Txn{}).Response("00").MTI)
}

func TestResponseMTI_Refusals(t *testing.T) {
	for _, mti := range []string{"", "020", "02000", "0210", "0230", "0810", "0430", "0250", "0x00", "ABCD"} {
		_, err := ResponseMTI(mti)
		require.Error(t, err, mti)
	}
	for mti, want := range map[string]string{"0300": "0310", "0600": "0610", "0641": "0650", "1200": "1210", "9420": "9430"} {
		got, err := ResponseMTI(mti)
		require.NoError(t, err, mti)
		require.Equal(t, want, got, mti)
	}
}

func TestTxn_IsResponseAndIsRepeat(t *testing.T) {
	for mti, want := range map[string][2]bool{
		"0200": {false, false}, "0210": {true, false}, "0230": {true, false}, "0401": {false, true},
		"0411": {true, true}, "0221": {false, true}, "0250": {false, false}, "": {false, false}, "021": {false, false},
	} {
		x := &Txn{MTI: mti}
		require.Equal(t, want[0], x.IsResponse(), "%q response", mti)
		require.Equal(t, want[1], x.IsRepeat(), "%q repeat", mti)
	}
}

// Describe is what logs show of a message: the PAN masked, no track, no
// PIN block, no MAC.
func TestTxn_Describe(t *testing.T) {
	x := &Txn{MTI: "0200", Op: OpSale, STAN: "000042", PAN: "6200000000000005", Amount: 1234, HasAmount: true,
		ResponseCode: "00", Track2: "6200000000000005=3012", PINBlock: []byte("PINBLOCK"), MAC: []byte("MACVALUE")}
	require.Equal(t, "0200 sale stan=000042 pan=620000******0005 amount=12.34 rc=00", x.Describe())
	require.Equal(t, "0800", (&Txn{MTI: "0800"}).Describe())
	require.Equal(t, "0210 balance amount=0.00", (&Txn{MTI: "0210", Op: OpBalance, HasAmount: true}).Describe(), "an amount of zero that is there")
	require.Equal(t, "", (&Txn{}).Describe())
}

func TestTransmissionTimeOf(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	require.Equal(t, "1127020304", TransmissionTimeOf(time.Date(2026, 11, 27, 10, 3, 4, 0, shanghai)), "DE7 is UTC")
	require.Equal(t, "0101000000", TransmissionTimeOf(time.Date(2027, 1, 1, 8, 0, 0, 0, shanghai)))
}

func TestTotals(t *testing.T) {
	var tt Totals
	tt.Add(OpSale.Settles(), 1000)
	tt.Add(OpCompletion.Settles(), 500)
	tt.Add(OpRefund.Settles(), 200)
	tt.Add(OpVoid.Settles(), 999) // counts nowhere
	tt.AddCard(1, 300, true)
	tt.AddCard(-1, 50, true)
	tt.AddCard(0, 7, true)
	tt.AddCard(1, 11, false)
	require.Equal(t, Totals{DebitCount: 3, DebitAmount: 1511, CreditCount: 1, CreditAmount: 200,
		ForeignDebitCount: 1, ForeignDebitAmount: 300, ForeignCreditCount: 1, ForeignCreditAmount: 50}, tt)
	require.Equal(t, Totals{DebitCount: 3, DebitAmount: 1511, CreditCount: 1, CreditAmount: 200}, tt.Domestic())
	require.Equal(t, Totals{DebitCount: 1, DebitAmount: 300, CreditCount: 1, CreditAmount: 50}, tt.ForeignOnly())
}

// DE63.1 card organisations by BIN (docs/domain.md, "China UnionPay dialect"), and which cards count
// among the foreign ones in CUP settlement.
func TestCardOrganisation(t *testing.T) {
	for pan, want := range map[string]string{
		"6200000000000005": "CUP", "6212263301004540034": "CUP", "8171999927660000": "CUP",
		"4111111111111111": "VIS", "5105105105105100": "MCC", "5555555555554444": "MCC", "2221000000000009": "MCC",
		"2720999999999996": "MCC", "2220999999999999": "", "2721000000000000": "",
		"378282246310005": "AMX", "340000000000009": "AMX", "3528000000000007": "JCB", "3589000000000003": "JCB",
		"3530111333300000": "JCB", "3527000000000000": "", "3590000000000000": "",
		"6011111111111117": "", "5000000000000000": "", "5600000000000000": "", "": "", "62": "", "62a4000000000000": "",
	} {
		require.Equal(t, want, CardOrganisation(pan), pan)
		require.Equal(t, want != "CUP" && want != "", Foreign(pan), "%s foreign", pan)
	}
}

// DE54 (iso87 and cup): the balance with its sign, in the answer's
// currency; a balance that does not read is left out, not an error.
func TestBalance_DE54(t *testing.T) {
	require.Equal(t, "0002156C000000012345", FormatBalance(12345, "156"))
	require.Equal(t, "0002840D000000000100", FormatBalance(-100, "840"))
	require.Equal(t, "0002000C000000000000", FormatBalance(0, ""))
	for _, p := range []Profile{ISO87, CUP} {
		for _, v := range []int64{0, 1, -1, 999999999999, -999999999999} {
			bal := v
			m, err := p.Encode(&Txn{MTI: "0210", Op: OpBalance, ProcessingCode: PCBalance, STAN: "000001", TID: "T1", Currency: "156", Balance: &bal, ResponseCode: "00", Batch: "000001"})
			require.NoError(t, err)
			x, err := p.Decode(m)
			require.NoError(t, err)
			require.NotNil(t, x.Balance, "%s %d", p.Name(), v)
			require.Equal(t, v, *x.Balance, p.Name())
		}
	}
	m, err := ISO87.Encode(&Txn{MTI: "0210", STAN: "000001", Extra: map[int]string{54: "0002156C00000001234X"}})
	require.NoError(t, err)
	x, err := ISO87.Decode(m)
	require.NoError(t, err)
	require.Nil(t, x.Balance)
	m, err = ISO87.Encode(&Txn{MTI: "0210", STAN: "000001", Extra: map[int]string{54: "0002156C1234"}})
	require.NoError(t, err)
	x, err = ISO87.Decode(m)
	require.NoError(t, err)
	require.Nil(t, x.Balance, "too short to hold an amount")
}

// iso87 peers send DE55 as raw bytes (jPOS) or as hex characters; text of
// hex digits that decodes to a chip tag is taken as the latter.
func TestISO87_ChipDataEitherForm(t *testing.T) {
	tlv := []byte{0x9F, 0x26, 0x02, 0xAB, 0xCD}
	for name, c := range map[string]struct {
		de55 string
		want []byte
	}{
		"raw bytes":                   {string(tlv), tlv},
		"hex characters":              {"9F2602ABCD", tlv},
		"lower-case hex":              {"9f2602abcd", tlv},
		"hex of a 5F tag":             {"5F2A020156", []byte{0x5F, 0x2A, 0x02, 0x01, 0x56}},
		"hex of a template":           {"710401020304", []byte{0x71, 0x04, 0x01, 0x02, 0x03, 0x04}},
		"hex not starting with a tag": {"0102030405", []byte("0102030405")},
		"too short to be hex TLV":     {"9F26", []byte("9F26")},
		"an odd number of digits":     {"9F2602ABC", []byte("9F2602ABC")},
	} {
		m, err := ISO87.Encode(&Txn{MTI: "0200", STAN: "000001", Extra: map[int]string{55: c.de55}})
		require.NoError(t, err, name)
		x, err := ISO87.Decode(m)
		require.NoError(t, err, name)
		require.Equal(t, c.want, x.ICC, name)
	}
}

// Fields a host requires go in as given and win over posim's own; fields
// the spec does not have, and the MTI and bitmap, are refused.
func TestTxn_ExtraFields(t *testing.T) {
	m, err := ISO87.Encode(&Txn{Op: OpSale, STAN: "000001", TID: "T1", Extra: map[int]string{41: "OVERRIDE", 63: "private"}})
	require.NoError(t, err)
	v, _ := m.GetString(41)
	require.Equal(t, "OVERRIDE", v, "set last: the extra wins")
	for _, id := range []int{0, 1, -1, 129} {
		_, err := ISO87.Encode(&Txn{Op: OpSale, STAN: "000001", Extra: map[int]string{id: "x"}})
		require.ErrorContains(t, err, "is not in the", "field %d", id)
	}
	m, err = ISO87.Encode(&Txn{Op: OpSale, STAN: "000001", Extra: map[int]string{41: "TOO LONG FOR DE41"}})
	require.NoError(t, err)
	_, err = m.Pack()
	require.ErrorContains(t, err, "41", "a value the spec cannot carry fails when packed, naming the field")
}

// iso87 repeats a reversal or an advice as x01 with the same STAN; other
// messages, and responses, are left alone.
func TestISO87_Repeat(t *testing.T) {
	for mti, want := range map[string]string{"0400": "0401", "0420": "0421", "0220": "0221", "0401": "0401", "0200": "0201", "0410": "0410", "0230": "0230", "": ""} {
		in := &Txn{MTI: mti, STAN: "000007"}
		out := ISO87.Repeat(in)
		require.Equal(t, want, out.MTI, mti)
		require.Equal(t, "000007", out.STAN)
		require.Equal(t, mti, in.MTI, "the original is not changed")
	}
}

// A Txn travels as JSON (the op log, the control API): empty fields are
// left out and amounts stay in minor units.
func TestTxn_JSON(t *testing.T) {
	x := &Txn{MTI: "0200", Op: OpSale, Amount: 1234, HasAmount: true, STAN: "000001", Totals: &Totals{DebitAmount: 5}}
	data, err := json.Marshal(x)
	require.NoError(t, err)
	require.JSONEq(t, `{"MTI":"0200","Op":"sale","Amount":1234,"HasAmount":true,"STAN":"000001","Totals":{"debit_count":0,"debit_amount":"0.05","credit_count":0,"credit_amount":"0.00"}}`, string(data))
	var back Txn
	require.NoError(t, json.Unmarshal(data, &back))
	require.Equal(t, *x, back)
}
