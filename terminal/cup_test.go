package terminal_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// recorder is a loopback proxy that keeps what the terminal sends.
type recorder struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.Write(p)
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.out.Bytes()...)
}

func proxy(t *testing.T, target string, rec *recorder) string {
	t.Helper()
	return relay(t, target, func(dst io.Writer, src io.Reader) { _, _ = io.Copy(io.MultiWriter(dst, rec), src) },
		func(dst io.Writer, src io.Reader) { _, _ = io.Copy(dst, src) })
}

// relay listens on 127.0.0.1:0 and joins each connection to one of its
// own to target: up carries what the terminal sends, down what comes back.
func relay(t *testing.T, target string, up, down func(dst io.Writer, src io.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			host, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				return
			}
			go func() { up(host, c); host.Close() }()
			go func() { down(c, host); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func TestCUP_WireAndMAC(t *testing.T) {
	tpdu := [5]byte{0x60, 0x00, 0x12, 0x00, 0x34}
	a := startAcquirer(t, acquirer.WithProfile(wire.CUP), acquirer.WithFramer(wire.TPDUFramer{TPDU: tpdu, Header: wire.DefaultHeader}))
	rec := &recorder{}
	addr := proxy(t, a.Addr(), rec)
	term := newTerminal(t, addr, t.TempDir(), func(c *terminal.Config) {
		c.Profile = wire.CUP
		c.AutoSignOn = true
		c.Framer = wire.TPDUFramer{TPDU: tpdu, Header: wire.DefaultHeader}
	})
	ctx := context.Background()
	res, err := term.Sale(ctx, terminal.Request{Card: "approve", Amount: 1234})
	require.NoError(t, err, "signed on, MAC verified both ways")
	require.True(t, res.SignedOnFirst)

	sent := rec.bytes()
	n := int(sent[0])<<8 | int(sent[1])
	require.Greater(t, len(sent), n+2)
	require.Equal(t, "6000120034", hex.EncodeToString(sent[2:7]), "60 then the configured NIIs")
	require.Equal(t, "603100310730", hex.EncodeToString(sent[7:13]), "then the header")
	require.Equal(t, "0800", hex.EncodeToString(sent[13:15]), "sign-on first")
	on := iso8583.NewMessage(wire.SpecCUP)
	require.NoError(t, on.Unpack(sent[13:n+2]))
	op, _ := on.GetString(63)
	require.Equal(t, "001", op, "DE63.1: the operator who signs on")
	sale := sent[n+2:]
	require.Equal(t, "0200", hex.EncodeToString(sale[13:15]))
	m := iso8583.NewMessage(wire.SpecCUP)
	require.NoError(t, m.Unpack(sale[13:2+(int(sale[0])<<8|int(sale[1]))]))
	x, err := wire.CUP.Decode(m)
	require.NoError(t, err)
	require.Equal(t, "021", x.EntryMode, "swiped, PIN entered")
	require.NotEmpty(t, x.Track2, "a swiped card's track 2 goes with it")
	require.Len(t, x.PINBlock, 8)
	require.Equal(t, "06", x.PINCapture, "DE26 with a PIN block")
	require.Equal(t, "2600000000000000", x.Security, "DE53: format 0, triple DES (003 keys by default), no track encryption")
	require.Len(t, x.MAC, 8)

	res, err = term.Sale(ctx, terminal.Request{Card: "approve", Amount: 100, BadMAC: true})
	var de *terminal.DeclinedError
	require.ErrorAs(t, err, &de)
	require.Equal(t, "A0", de.Code)
	require.False(t, term.State().SignedOn, "A0 means sign on again")
	require.False(t, res.ReversalPending, "a decline needs no reversal")

	res, err = term.Sale(ctx, terminal.Request{Card: "approve", Amount: 100})
	require.NoError(t, err)
	require.True(t, res.SignedOnFirst)
}

// altPadProxy stands between terminal and host and rewrites every 0200 and
// 0210 into a valid alternative encoding, as another implementation might
// write it: DE60's pad nibble F instead of 0 (DE60, 11 digits, is the field
// just before DE64), with a MAC over the rewritten bytes.
func altPadProxy(t *testing.T, target string, key func() *wire.MACKey) (addr string, rewritten func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	pipe := func(dst io.Writer, src io.Reader) {
		for {
			var hdr [2]byte
			if _, err := io.ReadFull(src, hdr[:]); err != nil {
				return
			}
			frame := make([]byte, int(hdr[0])<<8|int(hdr[1]))
			if _, err := io.ReadFull(src, frame); err != nil {
				return
			}
			body := frame[11:] // after TPDU and header
			if mti := hex.EncodeToString(body[:2]); (mti == "0200" || mti == "0210") && len(body) > 9 {
				if k := key(); k != nil && body[len(body)-9]&0x0F == 0 {
					body[len(body)-9] |= 0x0F
					copy(body[len(body)-8:], k.Sum(body[:len(body)-8]))
					mu.Lock()
					n++
					mu.Unlock()
				}
			}
			if _, err := dst.Write(append(hdr[:], frame...)); err != nil {
				return
			}
		}
	}
	return relay(t, target, pipe, pipe), func() int { mu.Lock(); defer mu.Unlock(); return n }
}

func TestCUP_MACOverTheBytesReceived(t *testing.T) {
	a := startAcquirer(t, acquirer.WithProfile(wire.CUP))
	var term *terminal.Terminal
	addr, rewritten := altPadProxy(t, a.Addr(), func() *wire.MACKey { return a.Engine().MACKey(term.Config().TID) })
	term = newTerminal(t, addr, t.TempDir(), func(c *terminal.Config) {
		c.Profile = wire.CUP
		c.AutoSignOn = true
	})
	res, err := term.Sale(t.Context(), terminal.Request{Card: "approve", Amount: 1234})
	require.NoError(t, err, "the host verified the request's MAC over its F pad, the terminal the response's")
	require.Equal(t, terminal.Approved, res.Outcome)
	require.False(t, res.ReversalPending)
	require.Equal(t, 2, rewritten(), "the 0200 and the 0210 were both rewritten")
}

func TestCUP_SignOn(t *testing.T) {
	t.Run("unsigned, a sale is answered 77; signed on, the same sale is approved", func(t *testing.T) {
		a := startAcquirer(t, acquirer.WithProfile(wire.CUP))
		term := newTerminal(t, a.Addr(), t.TempDir(), func(c *terminal.Config) { c.Profile = wire.CUP })
		res, err := term.Sale(t.Context(), terminal.Request{Card: "approve", Amount: 100})
		var declined *terminal.DeclinedError
		require.ErrorAs(t, err, &declined)
		require.Equal(t, terminal.Declined, res.Outcome)
		require.Equal(t, "77", res.ResponseCode)
		require.Empty(t, a.Engine().Snapshot().Records, "nothing booked")
		_, err = term.SignOn(t.Context())
		require.NoError(t, err)
		res, err = term.Sale(t.Context(), terminal.Request{Card: "approve", Amount: 100})
		require.NoError(t, err)
		require.Equal(t, terminal.Approved, res.Outcome)
	})
	t.Run("the terminal adopts the batch the host hands it", func(t *testing.T) {
		a := startAcquirer(t, acquirer.WithProfile(wire.CUP))
		tid := fmt.Sprintf("T%07d", tidSeq.Add(1))
		cfg := func(c *terminal.Config) { c.Profile, c.AutoSignOn, c.TID = wire.CUP, true, tid }
		first := newTerminal(t, a.Addr(), t.TempDir(), cfg)
		_, err := first.Sale(t.Context(), terminal.Request{Card: "approve", Amount: 100})
		require.NoError(t, err)
		_, err = first.Settle(t.Context())
		require.NoError(t, err)
		require.Equal(t, 2, first.State().Batch)
		// the same terminal, its state lost: it signs on with batch 1
		again := newTerminal(t, a.Addr(), t.TempDir(), cfg)
		_, err = again.SignOn(t.Context())
		require.NoError(t, err)
		require.Equal(t, 2, again.State().Batch, "the host's 60.2")
	})
}

func TestCUP_Settlement(t *testing.T) {
	cupTerm := func(t *testing.T, addr, dir, tid string) *terminal.Terminal {
		return newTerminal(t, addr, dir, func(c *terminal.Config) { c.Profile, c.AutoSignOn, c.TID = wire.CUP, true, tid })
	}
	t.Run("a sale, a void and a refund balance: the voided sale a debit, its void a credit", func(t *testing.T) {
		a := startAcquirer(t, acquirer.WithProfile(wire.CUP))
		term := cupTerm(t, a.Addr(), t.TempDir(), fmt.Sprintf("T%07d", tidSeq.Add(1)))
		ctx := t.Context()
		s1, err := term.Sale(ctx, terminal.Request{Card: "approve", Amount: 1000})
		require.NoError(t, err)
		s2, err := term.Sale(ctx, terminal.Request{Card: "visa-approve", Amount: 2000})
		require.NoError(t, err)
		_, err = term.Void(ctx, terminal.Request{RRN: s1.RRN})
		require.NoError(t, err)
		_, err = term.Refund(ctx, terminal.Request{RRN: s2.RRN, Amount: 500})
		require.NoError(t, err)
		res, err := term.Settle(ctx)
		require.NoError(t, err)
		require.True(t, res.Settlement.Balanced)
		require.Equal(t, wire.Totals{DebitCount: 1, DebitAmount: 1000, CreditCount: 1, CreditAmount: 1000,
			ForeignDebitCount: 1, ForeignDebitAmount: 2000, ForeignCreditCount: 1, ForeignCreditAmount: 500}, res.Settlement.Terminal,
			"domestic (CUP card): the voided sale and its void; foreign (VISA): the sale and its refund")
	})
	t.Run("a batch the host sees differently is uploaded eight to a 0320, every entry matched", func(t *testing.T) {
		a := startAcquirer(t, acquirer.WithProfile(wire.CUP))
		dir, tid := t.TempDir(), fmt.Sprintf("T%07d", tidSeq.Add(1))
		term := cupTerm(t, a.Addr(), dir, tid)
		for range 10 {
			_, err := term.Sale(t.Context(), terminal.Request{Card: "approve", Amount: 100})
			require.NoError(t, err)
		}
		require.NoError(t, term.Close())
		// two sales the host never saw, in the terminal's log
		st, err := terminal.ReadState(dir)
		require.NoError(t, err)
		for i := range 2 {
			e := st.Log[0]
			e.STAN, e.RRN = fmt.Sprintf("9%05d", i), ""
			st.Log = append(st.Log, e)
		}
		require.NoError(t, terminal.WriteState(dir, st))

		term = cupTerm(t, a.Addr(), dir, tid)
		res, err := term.Settle(t.Context())
		require.NoError(t, err)
		require.False(t, res.Settlement.Balanced)
		require.Equal(t, 12, res.Settlement.Uploaded)
		require.Len(t, a.Journal().List(acquirer.Filter{Kind: acquirer.KindIn, MTI: "0320"}), 3, "8 + 4 entries, then the end of upload")
		settled := a.Engine().Snapshot().Settlements
		require.Len(t, settled, 1)
		require.Equal(t, 12, settled[0].Uploaded)
		require.Len(t, settled[0].Discrepancies, 2, "only the two the host never saw: the ten others matched")
		for _, d := range settled[0].Discrepancies {
			require.Equal(t, acquirer.TerminalOnly, d.Kind)
		}
	})
}

func TestCUP_PreAuthorisations(t *testing.T) {
	a := startAcquirer(t, acquirer.WithProfile(wire.CUP))
	rec := &recorder{}
	addr := proxy(t, a.Addr(), rec)
	term := newTerminal(t, addr, t.TempDir(), func(c *terminal.Config) { c.Profile, c.AutoSignOn = wire.CUP, true })
	ctx := t.Context()

	pa, err := term.PreAuth(ctx, terminal.Request{Card: "approve", Amount: 10000})
	require.NoError(t, err)
	comp, err := term.Completion(ctx, terminal.Request{AuthCode: pa.AuthCode, Amount: 11000})
	require.NoError(t, err, "by its authorisation code, 10 % over the hold (cup allows 15 %)")
	_, err = term.CompletionVoid(ctx, terminal.Request{RRN: comp.RRN})
	require.NoError(t, err)
	pa2, err := term.PreAuth(ctx, terminal.Request{Card: "approve", Amount: 5000})
	require.NoError(t, err)
	_, err = term.PreAuthVoid(ctx, terminal.Request{AuthCode: pa2.AuthCode})
	require.NoError(t, err)
	acc, _ := a.Engine().Account("6200000000000005")
	require.Equal(t, int64(10000), acc.Held, "the first hold stands again, the second is released")

	res, err := term.Settle(ctx)
	require.NoError(t, err)
	require.True(t, res.Settlement.Balanced, "the voided completion a debit, its void a credit")
	require.Equal(t, 1, res.Settlement.Terminal.DebitCount)
	require.Equal(t, 1, res.Settlement.Terminal.CreditCount)

	// on the wire: the completion names its pre-authorisation by DE38 and
	// DE61, without DE37
	frames := rec.bytes()
	var found bool
	for len(frames) > 2 {
		n := int(frames[0])<<8 | int(frames[1])
		body := frames[13 : 2+n]
		frames = frames[2+n:]
		m := iso8583.NewMessage(wire.SpecCUP)
		require.NoError(t, m.Unpack(body))
		x, err := wire.CUP.Decode(m)
		require.NoError(t, err)
		if x.Op == wire.OpCompletion {
			found = true
			require.Empty(t, x.RRN, "no DE37")
			require.Equal(t, pa.AuthCode, x.AuthCode, "DE38")
			require.NotNil(t, x.OrigRef)
			require.Equal(t, pa.STAN, x.OrigRef.STAN, "61.2: the pre-authorisation's trace")
			require.Equal(t, pa.Batch, x.OrigRef.Batch, "61.1: its batch")
		}
	}
	require.True(t, found)
}

func TestCUP_TrackEncryption(t *testing.T) {
	a := startAcquirer(t, acquirer.WithProfile(wire.CUP))
	rec := &recorder{}
	addr := proxy(t, a.Addr(), rec)
	dir := t.TempDir()
	tid := fmt.Sprintf("T%07d", tidSeq.Add(1))
	cfg := func(c *terminal.Config) {
		c.Profile, c.AutoSignOn, c.KeySet, c.TID = wire.CUP, true, wire.KeysTrack, tid
	}
	term := newTerminal(t, addr, dir, cfg)
	res, err := term.Sale(t.Context(), terminal.Request{Card: "approve", Amount: 100})
	require.NoError(t, err, "the host decrypts the track with the 004 sign-on's track key")
	require.Equal(t, terminal.Approved, res.Outcome)
	require.NotEmpty(t, term.State().Keys.Track)

	frames := rec.bytes()
	var sale *wire.Txn
	for len(frames) > 2 {
		n := int(frames[0])<<8 | int(frames[1])
		m := iso8583.NewMessage(wire.SpecCUP)
		require.NoError(t, m.Unpack(frames[13:2+n]))
		frames = frames[2+n:]
		if x, _ := wire.CUP.Decode(m); x.Op == wire.OpSale {
			sale = x
		}
	}
	require.NotNil(t, sale)
	require.Equal(t, "261", sale.Security[:3], "DE53: format 0, triple DES, track data encrypted")
	require.NotContains(t, sale.Track2, "6200000000000005=", "the track does not travel in clear")

	// a terminal whose track key is out of step: the host reads another card
	require.NoError(t, term.Close())
	st, err := terminal.ReadState(dir)
	require.NoError(t, err)
	st.Keys.Track = "00112233445566778899AABBCCDDEEFF"
	require.NoError(t, terminal.WriteState(dir, st))
	term = newTerminal(t, addr, dir, cfg)
	res, _ = term.Sale(t.Context(), terminal.Request{Card: "approve", Amount: 100})
	require.Equal(t, "14", res.ResponseCode)
}

func TestCUP_SignOff(t *testing.T) {
	a := startAcquirer(t, acquirer.WithProfile(wire.CUP))
	term := newTerminal(t, a.Addr(), t.TempDir(), func(c *terminal.Config) {
		c.Profile, c.AutoSignOn = wire.CUP, true
		c.Timeout = 5 * time.Second
	})
	_, err := term.Sale(t.Context(), terminal.Request{Card: "approve", Amount: 100})
	require.NoError(t, err)
	res, err := term.SignOff(t.Context())
	require.NoError(t, err, "the host's answer to a sign-off has no MAC the terminal could check: the host dropped the keys")
	require.Equal(t, terminal.Approved, res.Outcome)
	require.False(t, term.State().SignedOn)
	res, err = term.Sale(t.Context(), terminal.Request{Card: "approve", Amount: 100})
	require.NoError(t, err)
	require.True(t, res.SignedOnFirst, "signed off: the next sale signs on first")
}
