package faults

import (
	"math/rand/v2"
	"testing"

	"github.com/posim/posim/emv"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func TestMutate_AfterProcessCorruptsTheAnswer(t *testing.T) {
	x := newFake()
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000043"}, playOn(t, "[process, {mutate: [stan, amount]}]", x))
	require.Equal(t, int64(1001), x.sent[0].Amount)
	require.Equal(t, "000042", x.req.STAN, "the request is untouched")
}

func TestMutate_BeforeProcessCorruptsWhatTheHostReceives(t *testing.T) {
	x := newFake()
	require.Equal(t, "process 0200 stan 000042 amount 1001", playOn(t, "[{mutate: amount}, process]", x)[0])
}

func TestMutate_AfterRespondWithoutProcessCorruptsTheInventedAnswer(t *testing.T) {
	x := newFake()
	require.Equal(t, []string{"respond 0210 91 stan 000042", "respond 0210 91 stan 000043", "respond 0210 91 stan 000043"},
		playOn(t, `[{respond: {de39: "91"}}, {mutate: [stan]}, duplicate]`, x), "answered, then the answer corrupted and sent twice more")
	require.Equal(t, "000042", x.req.STAN, "the request is untouched")
}

func TestMutate_EachField(t *testing.T) {
	icc := emv.List{{Tag: emv.TagIssuerAuth, Value: []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x30, 0x30}}}.Bytes()
	answer := func() *wire.Txn {
		return &wire.Txn{MTI: "0210", STAN: "999999", RRN: "000000000007", TID: "TERM0001", Amount: 1000, HasAmount: true,
			ResponseCode: "00", ICC: icc}
	}
	for _, tc := range []struct {
		field string
		want  func(t *wire.Txn)
	}{
		{"stan", func(t *wire.Txn) { t.STAN = "000000" }}, // 999999 wraps
		{"tid", func(t *wire.Txn) { t.TID = "XXXXXXXX" }},
		{"mti", func(t *wire.Txn) { t.MTI = "0230" }},
		{"amount", func(t *wire.Txn) { t.Amount = 1001 }},
		{"drop_de39", func(t *wire.Txn) { t.ResponseCode = "" }},
		{"mac", func(t *wire.Txn) { t.CorruptMAC, t.MAC = true, make([]byte, 8) }},
		{"drop_de55", func(t *wire.Txn) { t.ICC = nil }},
		{"arpc", func(t *wire.Txn) {
			t.ICC = emv.List{{Tag: emv.TagIssuerAuth, Value: []byte{0xEE, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x30, 0x30}}}.Bytes()
		}},
		{"script", func(t *wire.Txn) {
			t.ICC = append(append([]byte{}, icc...), append([]byte{0x72, byte(len(issuerScript))}, issuerScript...)...)
		}},
	} {
		t.Run(tc.field, func(t *testing.T) {
			got, want := answer(), answer()
			mutate(got, []string{tc.field}, rand.New(rand.NewPCG(1, 2)))
			tc.want(want)
			require.Equal(t, want, got)
		})
	}
}

func TestMutate_RRNIsANewSeededNumber(t *testing.T) {
	a, b := &wire.Txn{RRN: "000000000007"}, &wire.Txn{RRN: "000000000007"}
	mutate(a, []string{"rrn"}, rand.New(rand.NewPCG(1, 2)))
	mutate(b, []string{"rrn"}, rand.New(rand.NewPCG(1, 2)))
	require.Equal(t, a.RRN, b.RRN, "same stream, same RRN")
	require.Regexp(t, `^[0-9]{12}$`, a.RRN)
	require.NotEqual(t, "000000000007", a.RRN)
}

func TestMutate_ChipDataThatDoesNotParseIsLeftAlone(t *testing.T) {
	bad := []byte{0x91, 0x20, 0x01} // announces 32 bytes, holds one
	got := &wire.Txn{ICC: bad}
	mutate(got, []string{"arpc", "script"}, rand.New(rand.NewPCG(1, 2)))
	require.Equal(t, bad, got.ICC)
}

func TestMutate_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[process, {mutate: [colour]}]", "")[0], `unknown field "colour"`)
	require.Contains(t, checkPipeline(t, "[{mutate: [rrn]}, process]", "")[0], "mutate rrn before process would corrupt the request")
	require.Contains(t, checkPipeline(t, "[process, {mutate: []}]", "")[0], "mutate needs at least one field")
	require.Empty(t, checkPipeline(t, "[{mutate: [amount]}, process]", ""))
	require.Empty(t, checkPipeline(t, `[{respond: {de39: "91"}}, {mutate: [rrn]}]`, ""), "after an answer, any field")
}
