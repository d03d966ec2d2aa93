package terminal_test

import (
	"encoding/hex"
	"net"
	"testing"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// A field host's sign-on answer under key set 003, as published in
// "POS终端“密事”之工作密钥解密" (https://code456.com/article/3026509.html;
// wire/testdata/field/keys.jsonl): the MAC key as 8 bytes followed by 8
// zero bytes, with a single-DES check value.
const (
	fieldTMK  = "CA5D92598DCA48CE8A4C76361A9269E9"
	fieldDE62 = "6701EAD6A9AD51E51AA406E2C27FCFA98D0A74B8B651F9E9BACE9AE10000000000000000AB7153CA"
	fieldMAK  = "5BB5C72CD00B7338"
)

// fieldHost is a scripted cup host that answers a sign-on with the field
// layout, then checks the sale's MAC with the 8-byte key and signs its
// answer with it. It reports what it saw on verified.
func fieldHost(t *testing.T, verified chan<- bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	mak, err := wire.NewMACKey(wire.MACCUP, fieldMAK)
	require.NoError(t, err)
	keys, err := hex.DecodeString(fieldDE62)
	require.NoError(t, err)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		framer, _ := wire.NewTPDUFramer(nil, "", "", "")
		codec := wire.NewCodec(wire.CUP)
		codec.Framer = framer.ForHost()
		codec.MACKeyFor = func(string) *wire.MACKey { return mak }
		for {
			m, body, err := codec.ReadBody(conn)
			if err != nil {
				return
			}
			req, err := wire.CUP.Decode(m)
			if err != nil {
				return
			}
			resp := req.Response("00")
			switch req.Op {
			case wire.OpSignOn:
				resp.Keys, resp.MAC = keys, nil
			default:
				verified <- len(req.MAC) > 0 && wire.VerifyMAC(mak, body)
				resp.RRN, resp.AuthCode = "000000000001", "123456"
			}
			out, err := wire.CUP.Encode(resp)
			if err != nil || codec.WriteMessage(conn, out) != nil {
				return
			}
		}
	}()
	return ln.Addr().String()
}

// posim's terminal signs on against a host that sends the field's layout,
// MACs its sale with the 8-byte key the host checks, and verifies the
// host's answer signed with it.
func TestCUP_SignOnWithAFieldHostsEightByteMACKey(t *testing.T) {
	t.Parallel()
	verified := make(chan bool, 1)
	addr := fieldHost(t, verified)
	term := newTerminal(t, addr, t.TempDir(), patient, func(c *terminal.Config) {
		c.Profile, c.AutoSignOn, c.TMK, c.KeySet = wire.CUP, true, fieldTMK, wire.KeysDouble
	})
	res, err := term.Sale(t.Context(), terminal.Request{Amount: 1234})
	require.NoError(t, err, "the host's answer verified with the 8-byte key")
	require.Equal(t, terminal.Approved, res.Outcome)
	require.True(t, <-verified, "the host verified the sale's MAC with the 8-byte key")
	require.Equal(t, fieldMAK, term.State().Keys.MAC)
}

// posim's acquirer issues the field layout by default, and a double-length
// MAC key to a terminal its book says takes one; posim's terminal works
// with both.
func TestCUP_AcquirerIssuesEitherMACKeyLayout(t *testing.T) {
	t.Parallel()
	book := &cards.Book{Terminals: []cards.Terminal{{TID: "DOUBLE01", MID: "POSIM0000000001", Status: cards.TerminalActive, MACKey: wire.MACKeyDouble}}}
	a := startAcquirer(t, acquirer.WithProfile(wire.CUP), acquirer.WithCards(cards.Builtin().Merge(book)))
	for tid, want := range map[string]int{"POSIM001": 8, "DOUBLE01": 16} {
		term := newTerminal(t, a.Addr(), t.TempDir(), patient, func(c *terminal.Config) {
			c.Profile, c.AutoSignOn, c.TID, c.KeySet = wire.CUP, true, tid, wire.KeysDouble
		})
		res, err := term.Sale(t.Context(), terminal.Request{Amount: 100})
		require.NoError(t, err, tid)
		require.Equal(t, terminal.Approved, res.Outcome, tid)
		require.Len(t, term.State().Keys.MAC, 2*want, "%s: a %d-byte MAC key", tid, want)
	}
}
