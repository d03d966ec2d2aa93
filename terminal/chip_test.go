package terminal_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/emv"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// chipPair starts an acquirer and a terminal of one profile.
func chipPair(t *testing.T, p wire.Profile) (*acquirer.Acquirer, *terminal.Terminal) {
	a := startAcquirer(t, acquirer.WithProfile(p))
	term := newTerminal(t, a.Addr(), t.TempDir(), func(c *terminal.Config) {
		c.Profile = p
		c.AutoSignOn = true
	})
	return a, term
}

func TestChip_EndToEnd(t *testing.T) {
	for _, p := range []wire.Profile{wire.ISO87, wire.CUP} {
		t.Run(p.Name(), func(t *testing.T) {
			ctx := context.Background()
			a, term := chipPair(t, p)

			res, err := term.Sale(ctx, terminal.Request{Card: "chip-approve", Amount: 1234})
			require.NoError(t, err)
			firstSTAN := res.STAN
			c := res.Chip
			require.NotNil(t, c)
			require.Equal(t, "contact", c.Interface)
			require.True(t, c.ARQCVerified, "the host answered with 91")
			require.True(t, c.ARPCVerified)
			require.Equal(t, "TC", c.SecondAC)
			require.NotEqual(t, c.ARQC, c.TC, "the second cryptogram covers the response code too")
			require.Equal(t, int64(1_000_000-1234), balance(t, a, "chip-approve"))
			res, err = term.Sale(ctx, terminal.Request{Card: "chip-approve", Amount: 100})
			require.NoError(t, err)
			require.Equal(t, 2, res.Chip.ATC, "the card's counter moves on")

			// the card refuses the host's approval: reversal 06, money back
			res, err = term.Sale(ctx, terminal.Request{Card: "chip-aac-after-approval", Amount: 1234})
			require.Error(t, err)
			require.Equal(t, terminal.ChipDeclined, res.Outcome)
			require.Equal(t, "AAC", res.Chip.SecondAC)
			require.Len(t, res.ReversalsSent, 1)
			require.Equal(t, "06", res.ReversalsSent[0].Reason)
			require.Equal(t, "00", res.ReversalsSent[0].ResponseCode)
			require.False(t, res.ReversalPending)
			require.Equal(t, int64(1_000_000), balance(t, a, "chip-aac-after-approval"), "the debit is undone")

			// pulled out before the second GENERATE AC
			res, err = term.Sale(ctx, terminal.Request{Card: "chip-approve", Amount: 500, CardResponse: terminal.CardRemoveEarly})
			require.Error(t, err)
			require.Equal(t, terminal.ChipDeclined, res.Outcome)
			require.Equal(t, "06", res.ReversalsSent[0].Reason)
			require.Equal(t, int64(1_000_000-1234-100), balance(t, a, "chip-approve"))

			// declined offline: nothing goes out
			res, err = term.Sale(ctx, terminal.Request{Card: "chip-offline-decline", Amount: 500})
			require.Error(t, err)
			require.Equal(t, terminal.ChipDeclined, res.Outcome)
			require.Equal(t, "AAC", res.Chip.FirstAC)
			require.Empty(t, res.STAN, "nothing sent")
			require.Equal(t, int64(1_000_000), balance(t, a, "chip-offline-decline"))

			// online PIN, and contactless under and over the CVM limit
			res, err = term.Sale(ctx, terminal.Request{Card: "chip-online-pin", Amount: 500})
			require.NoError(t, err)
			require.Equal(t, "TC", res.Chip.SecondAC)
			res, err = term.Sale(ctx, terminal.Request{Card: "contactless", Amount: 100_000})
			require.NoError(t, err)
			require.Equal(t, "contactless", res.Chip.Interface)
			require.Equal(t, "ARQC", res.Chip.FirstAC, "a tap (qPBOC): the ARQC is final")
			require.Empty(t, res.Chip.SecondAC, "no second GENERATE AC: the card has left the field")
			require.Empty(t, res.Chip.TC)
			_, err = term.Sale(ctx, terminal.Request{Card: "contactless", Amount: 100_001})
			require.NoError(t, err, "over the limit the terminal asks for the PIN")
			res, err = term.Sale(ctx, terminal.Request{Card: "contactless", Amount: 100_001, NoPIN: true})
			require.Error(t, err)
			require.Equal(t, "65", res.ResponseCode, "no PIN over the CVM limit: soft decline")

			// after settlement each accepted chip sale's TC goes to the host
			res, err = term.Settle(ctx)
			require.NoError(t, err)
			require.Equal(t, 3, res.Settlement.TCUploaded, "two chip-approve and the online PIN one; a tap has no TC")
			require.Zero(t, res.Settlement.TCPending)
			recs := a.Engine().Find(term.Config().TID, "0200", firstSTAN)
			require.Len(t, recs, 1)
			require.True(t, recs[0].TCUploaded, "the TC verified and booked on its sale")
			require.Empty(t, term.State().TCPending)
		})
	}
}

// The host verifies the ARQC: data changed after the card signed it is
// answered with the policy's code (default 05), without 91.
func TestChip_WrongARQCDeclined(t *testing.T) {
	a := startAcquirer(t)
	term := newTerminal(t, a.Addr(), t.TempDir())
	res, err := term.Sale(context.Background(), terminal.Request{Card: "chip-approve", Amount: 1234})
	require.NoError(t, err)
	require.True(t, res.Chip.ARPCVerified)

	// a sale whose ARQC was computed with another issuer's key
	l := emv.List{}.
		Set(emv.TagAmount, []byte{0, 0, 0, 0, 0x12, 0x34}).Set(emv.TagAmountOther, make([]byte, 6)).
		Set(emv.TagCountry, []byte{0x01, 0x56}).Set(emv.TagTVR, make([]byte, 5)).
		Set(emv.TagCurrency, []byte{0x01, 0x56}).Set(emv.TagDate, []byte{0x26, 0x11, 0x27}).
		Set(emv.TagType, []byte{0}).Set(emv.TagUN, []byte{1, 2, 3, 4}).Set(emv.TagAIP, []byte{0x7C, 0}).
		Set(emv.TagATC, []byte{0, 9}).Set(emv.TagIAD, []byte{0x07, 0x01, 0x01, 0x03, 0xA0, 0, 0, 1})
	other, err := emv.ICCMasterKey(unhexT(t, "00112233445566778899AABBCCDDEEFF"), "6200000000002001", "01")
	require.NoError(t, err)
	ac, _, err := emv.ApplicationCryptogram(other, l)
	require.NoError(t, err)
	l = l.Set(emv.TagCryptogram, ac).Set(emv.TagCID, []byte{emv.CIDARQC})
	raw := dialRaw(t, a.Addr())
	resp := raw.roundTrip(t, &wire.Txn{
		Op: wire.OpSale, PAN: "6200000000002001", Amount: 1234, HasAmount: true, STAN: "000777",
		TransmissionTime: "1127120000", EntryMode: "052", CardSeq: "001", TID: "POSIM001", MID: "POSIM0000000001",
		Currency: "156", Condition: "00", ICC: l.Bytes(),
	})
	require.Equal(t, "05", resp.ResponseCode)
	require.Empty(t, resp.ICC)
}

func unhexT(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// Under cup a terminal set to download at sign-on fetches the host's chip
// CA keys (each checksum verified) and application parameters once, and
// keeps them in its state; iso87 has no such exchange.
func TestChip_DownloadAtSignOn(t *testing.T) {
	a := startAcquirer(t, acquirer.WithProfile(wire.CUP))
	term := newTerminal(t, a.Addr(), t.TempDir(), func(c *terminal.Config) {
		c.Profile = wire.CUP
		c.ChipDownload = true
	})
	ctx := context.Background()
	res, err := term.SignOn(ctx)
	require.NoError(t, err)
	require.NotNil(t, res.Download)
	require.Equal(t, []string{"A000000333/02"}, res.Download.CAPKs)
	require.Equal(t, []string{"A000000333010101"}, res.Download.AIDs)
	st := term.State()
	require.Len(t, st.CAPKs, 1)
	require.Len(t, st.ChipParams, 1)
	k, err := emv.ParseCAPK(unhexT(t, st.CAPKs[0]))
	require.NoError(t, err)
	require.Len(t, k.Modulus, 144)

	res, err = term.SignOn(ctx)
	require.NoError(t, err)
	require.Nil(t, res.Download, "the keys are there: no second download")

	iso := newTerminal(t, startAcquirer(t).Addr(), t.TempDir())
	_, err = iso.Download(ctx)
	require.ErrorIs(t, err, terminal.ErrInvalidRequest)
}

// The reversal of a chip sale whose ARPC failed carries the card's final
// chip data: TVR with "issuer authentication failed", the IAD and the ATC,
// and no cryptogram.
func TestChip_ReversalCarriesFinalChipData(t *testing.T) {
	a := startAcquirer(t)
	rec := &recorder{}
	term := newTerminal(t, proxy(t, a.Addr(), rec), t.TempDir())
	res, err := term.Sale(context.Background(), terminal.Request{Card: "chip-aac-after-approval", Amount: 700})
	require.Error(t, err)
	require.Len(t, res.ReversalsSent, 1)

	codec := wire.NewCodec(wire.ISO87)
	r := bytes.NewReader(rec.bytes())
	var rev *wire.Txn
	for r.Len() > 0 {
		m, err := codec.ReadMessage(r)
		require.NoError(t, err)
		x, err := wire.ISO87.Decode(m)
		require.NoError(t, err)
		if x.MTI == "0400" {
			rev = x
		}
	}
	require.NotNil(t, rev)
	require.Equal(t, "06", rev.ResponseCode)
	l, err := emv.Parse(rev.ICC)
	require.NoError(t, err)
	_, hasAC := l.Get(emv.TagCryptogram)
	require.False(t, hasAC)
	atc, ok := l.Get(emv.TagATC)
	require.True(t, ok)
	require.Equal(t, []byte{0, 1}, atc)
	tvr, _ := l.Get(emv.TagTVR)
	require.Equal(t, make([]byte, 5), tvr, "the ARPC verified; the card refused on its own")
}

// --dump: every message field by field, card data masked, track data and
// PIN blocks never shown.
func TestTerminal_DumpMasksCardData(t *testing.T) {
	a := startAcquirer(t)
	var buf bytes.Buffer
	term := newTerminal(t, a.Addr(), t.TempDir(), func(c *terminal.Config) { c.Dump = &buf })
	_, err := term.Sale(context.Background(), terminal.Request{Card: "approve", Amount: 100})
	require.NoError(t, err)
	out := buf.String()
	require.Contains(t, out, ">> 0200")
	require.Contains(t, out, "<< 0210")
	require.Contains(t, out, "620000******0005")
	require.NotContains(t, out, "6200000000000005")
	require.Contains(t, out, "(PIN block, not shown)")
	require.Contains(t, out, "(track data, ")
}

// posim terminal download fetches, besides the chip data, the terminal
// parameters and the blacklist from posim's cup acquirer (the book's lost,
// stolen, pick-up and fraud cards, in parts of eight while more follow),
// and keeps them in the state.
func TestDownload_ParametersAndBlacklist(t *testing.T) {
	t.Parallel()
	a := startAcquirer(t, acquirer.WithProfile(wire.CUP))
	term := newTerminal(t, a.Addr(), t.TempDir(), patient, func(c *terminal.Config) { c.Profile, c.AutoSignOn = wire.CUP, true })
	res, err := term.Download(t.Context())
	require.NoError(t, err)
	require.Equal(t, terminal.Approved, res.Outcome)
	require.Equal(t, map[string]string{"merchant_name": "POSIM TEST MERCHANT", "timeout_seconds": "60", "reversal_retries": "3"}, res.Download.Params)
	var want []string
	for _, c := range cards.Builtin().Cards {
		switch c.Status {
		case cards.StatusLost, cards.StatusStolen, cards.StatusPickUp, cards.StatusFraud:
			want = append(want, c.PAN)
		}
	}
	require.NotEmpty(t, want)
	require.Equal(t, len(want), res.Download.Blacklist)
	st := term.State()
	require.ElementsMatch(t, want, st.Blacklist)
	require.Equal(t, res.Download.Params, st.Params)
	require.Len(t, st.CAPKs, 1)
}

// A download posim's host does not serve is refused with 40, never
// answered 00 with nothing in it (a terminal would believe it had it).
func TestDownload_RefusedWhenTheHostHasNothing(t *testing.T) {
	t.Parallel()
	e, err := acquirer.NewEngine(cards.Builtin(), acquirer.DefaultPolicies())
	require.NoError(t, err)
	for _, code := range []string{"350", "399"} {
		d := e.Decide(&wire.Txn{MTI: "0800", Op: wire.OpDownload, STAN: "000001", TID: "POSIM001", MID: "POSIM0000000001", NetworkCode: code}, time.Now())
		require.Equal(t, "40", d.Response.ResponseCode, code)
	}
}

// A cup terminal downloads when its sign-on answer asks it to (the header's
// processing request), not because its own state is empty: once the host
// has seen it download, the same terminal with an empty state signs on
// without a download.
func TestDownload_OnlyWhenTheHostAsks(t *testing.T) {
	t.Parallel()
	a := startAcquirer(t, acquirer.WithProfile(wire.CUP))
	cup := func(c *terminal.Config) { c.Profile, c.AutoSignOn, c.ChipDownload = wire.CUP, true, true }
	first := newTerminal(t, a.Addr(), t.TempDir(), patient, cup)
	res, err := first.SignOn(t.Context())
	require.NoError(t, err)
	require.NotNil(t, res.Download, "the host asked: downloaded")
	require.Equal(t, 4, res.Download.Blacklist)
	require.NoError(t, first.Close())

	tid := first.Config().TID
	fresh := newTerminal(t, a.Addr(), t.TempDir(), patient, cup, func(c *terminal.Config) { c.TID = tid })
	res, err = fresh.SignOn(t.Context())
	require.NoError(t, err)
	require.Nil(t, res.Download, "the host did not ask: no download, although the state is empty")
	require.Empty(t, fresh.State().CAPKs)
}
