package faults

import (
	"context"
	"testing"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func TestSend_UnsolicitedMessageBeforeTheAnswer(t *testing.T) {
	require.Equal(t, []string{"send 0810 stan 000042", "process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"},
		playOn(t, `[{send: {mti: "0810"}}, process]`, newFake()))
}

func TestSend_StaleResendsTheTerminalsPreviousAnswer(t *testing.T) {
	f, _ := pipeline(t, "[{send: {stale: true}}, process]")
	first := newFake()
	f.Serve(context.Background(), first) // nothing earlier: journalled, not sent
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"}, first.Events())
	second := newFake()
	second.req.STAN = "000043"
	f.Serve(context.Background(), second)
	require.Equal(t, "send 0210 stan 000042", second.Events()[0])
}

func TestSend_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, `[{send: {}}, process]`, "")[0], "give either stale: true or an mti")
	require.Contains(t, checkPipeline(t, `[{send: {mti: "81"}}, process]`, "")[0], "want four digits")
}

func TestSend_AMessageOfItsOwnCarriesTheRequestsIdentity(t *testing.T) {
	x := newFake()
	var sent *wire.Txn
	x.onSend = func(t *wire.Txn) { sent = t }
	playOn(t, `[{send: {mti: "0820", fields: {de39: "00", de11: "000007"}}}, process]`, x)
	require.Equal(t, &wire.Txn{MTI: "0820", STAN: "000007", TID: "TERM0001", MID: "MERCHANT0000001", ResponseCode: "00"}, sent)
}

func TestSend_UnknownFieldsAreRefused(t *testing.T) {
	require.Contains(t, checkPipeline(t, `[{send: {mti: "0820", fields: {de40: "1"}}}, process]`, "")[0], `send.fields: unknown field "de40"`)
	require.Contains(t, checkPipeline(t, `[{send: {stale: true, mti: "0820"}}, process]`, "")[0], "give either stale: true or an mti")
}
