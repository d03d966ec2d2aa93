package proxy_test

import (
	"io"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/proxy"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func TestNew_RefusesAnIncompleteConfig(t *testing.T) {
	_, err := proxy.New(proxy.Config{Upstream: "127.0.0.1:1"})
	require.EqualError(t, err, "proxy: no profile")
	_, err = proxy.New(proxy.Config{Profile: wire.ISO87})
	require.EqualError(t, err, "proxy: no upstream host")
}

// The promise of the README: what no rule fires on passes through byte
// for byte, both ways, and is journalled in its four directions.
func TestProxy_PassesBytesUnchangedWhenNoRuleFires(t *testing.T) {
	for _, tc := range []struct{ name, rules string }{
		{"without rules", ""},
		{"with a rule for other requests", `[{id: refunds, when: {op: refund}, do: [{respond: {de39: "05"}}]}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answer := make(chan []byte, 1)
			h := newISOHost(t, func(conn int, req *wire.Txn) []byte {
				b := approve(conn, req)
				answer <- b
				return b
			})
			px, j, _ := relay(t, h, tc.rules)
			p := dialPOS(t, px.Addr())
			sent := p.send(t, posSale("000001"))
			require.Equal(t, sent, h.frame(t), "the host gets the terminal's bytes")
			require.Equal(t, <-answer, p.read(t), "the terminal gets the host's bytes")

			var dirs []string
			for _, e := range j.List(acquirer.Filter{STAN: "000001"}) {
				dirs = append(dirs, e.Kind+" "+e.Detail+" "+e.MTI)
			}
			require.Equal(t, []string{"in from terminal 0200", "out to host 0200", "in from host 0210", "out to terminal 0210"}, dirs)
		})
	}
}

func TestProxy_RulesActOnTheRequestOnItsWayToTheHost(t *testing.T) {
	for _, tc := range []struct {
		name, do string
		// answers is what the terminal gets, by STAN: "" for none
		answers map[string]string
		// hostFirst is the STAN of the first request the host sees
		hostFirst string
	}{
		{"discard: the host never sees it, the terminal never hears", "[discard]",
			map[string]string{"000002": "00"}, "000002"},
		{"respond without process answers for the host", `[{respond: {de39: "91"}}]`,
			map[string]string{"000001": "91", "000002": "00"}, "000002"},
		{"delay holds it back: the next overtakes it", "[{delay: 1h}, process]",
			map[string]string{"000002": "00"}, "000002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newISOHost(t, approve)
			px, _, f := relay(t, h, "[{id: r, when: {stan: \"000001\"}, do: "+tc.do+"}]")
			p := dialPOS(t, px.Addr())
			p.send(t, posSale("000001"))
			p.send(t, posSale("000002"))
			require.Equal(t, tc.hostFirst, decode(t, h.frame(t)).STAN)
			got := map[string]string{}
			for range tc.answers {
				a := decode(t, p.read(t))
				got[a.STAN] = a.ResponseCode
			}
			require.Equal(t, tc.answers, got)
			require.Equal(t, 1, f.Stats()[0].Fired)
		})
	}
}

func TestProxy_MutatedRequestChangesOnlyThatField(t *testing.T) {
	h := newISOHost(t, approve)
	px, _, _ := relay(t, h, `[{id: r, do: [{mutate: amount}, process]}]`)
	p := dialPOS(t, px.Addr())
	sale := posSale("000001")
	sent := decode(t, p.send(t, sale))
	raw := h.frame(t)
	got := decode(t, raw)
	want := *sent
	want.Amount++
	require.Equal(t, &want, got, "the host books one cent more, and sees nothing else changed")
	require.Contains(t, string(raw), terminalPrivate, "not even the fields posim's model does not carry")
	require.Equal(t, int64(1001), decode(t, p.read(t)).Amount, "the host's answer echoes what it got")
}

func TestProxy_CloseOnReceiveNeverReachesTheHost(t *testing.T) {
	h := newISOHost(t, approve)
	px, _, _ := relay(t, h, `[{id: r, do: [{close: {at: on_receive}}]}]`)
	p := dialPOS(t, px.Addr())
	p.send(t, posSale("000001"))
	require.True(t, p.hungUp(t))
	select {
	case <-h.hungUp:
	case <-time.After(5 * time.Second):
		t.Fatal("the proxy kept its connection to the host")
	}
	require.Empty(t, h.frames, "the host saw nothing before the proxy hung up")
}

func TestProxy_RulesActOnTheHostsAnswer(t *testing.T) {
	t.Run("respond rewrites only the fields it names", func(t *testing.T) {
		answer := make(chan []byte, 1)
		h := newISOHost(t, func(conn int, req *wire.Txn) []byte { b := approve(conn, req); answer <- b; return b })
		px, j, _ := relay(t, h, `[{id: r, do: [process, {respond: {de39: "05"}}]}]`)
		p := dialPOS(t, px.Addr())
		p.send(t, posSale("000001"))
		want := decode(t, <-answer)
		want.ResponseCode = "05"
		raw := p.read(t)
		require.Equal(t, want, decode(t, raw), "the host's RRN and everything else kept")
		require.Contains(t, string(raw), hostPrivate, "even the fields posim's model does not carry")
		var rcs []string
		for _, e := range j.List(acquirer.Filter{MTI: "0210"}) {
			rcs = append(rcs, e.Detail+" "+e.RC)
		}
		require.Equal(t, []string{proxy.FromHost + " 00", proxy.ToTerminal + " 05"}, rcs)
	})
	t.Run("no_response: the host answered, the terminal never hears", func(t *testing.T) {
		h := newISOHost(t, approve)
		px, j, _ := relay(t, h, `[{id: r, when: {stan: "000001"}, do: [process, no_response]}]`)
		p := dialPOS(t, px.Addr())
		p.send(t, posSale("000001"))
		require.Equal(t, "000001", decode(t, h.frame(t)).STAN)
		p.send(t, posSale("000002"))
		require.Equal(t, "000002", decode(t, p.read(t)).STAN, "the next answer is the first the terminal gets")
		require.Len(t, j.List(acquirer.Filter{Kind: acquirer.KindIn, STAN: "000001", MTI: "0210"}), 1, "the host's answer reached the proxy")
	})
	t.Run("duplicate sends the host's bytes twice", func(t *testing.T) {
		answer := make(chan []byte, 1)
		h := newISOHost(t, func(conn int, req *wire.Txn) []byte { b := approve(conn, req); answer <- b; return b })
		px, _, _ := relay(t, h, `[{id: r, do: [process, duplicate]}]`)
		p := dialPOS(t, px.Addr())
		p.send(t, posSale("000001"))
		b := <-answer
		require.Equal(t, b, p.read(t))
		require.Equal(t, b, p.read(t))
	})
	t.Run("truncate sends the first bytes of the host's answer", func(t *testing.T) {
		answer := make(chan []byte, 1)
		h := newISOHost(t, func(conn int, req *wire.Txn) []byte { b := approve(conn, req); answer <- b; return b })
		px, _, _ := relay(t, h, `[{id: r, do: [process, {truncate: {bytes: 7}}, {close: {at: after_respond}}]}]`)
		p := dialPOS(t, px.Addr())
		p.send(t, posSale("000001"))
		b := <-answer
		got := make([]byte, 7)
		_, err := io.ReadFull(p.c, got)
		require.NoError(t, err)
		require.Equal(t, b[:7], got)
		require.True(t, p.hungUp(t), "and nothing more")
	})
}

// When the host hangs up, the proxy hangs up on the terminal once the
// answers it read have gone out.
func TestProxy_HostHangsUpAfterItsAnswer(t *testing.T) {
	h := newISOHost(t, approve)
	px, _, _ := relay(t, h, `[{id: r, do: [process, {delay: 20ms}]}]`)
	p := dialPOS(t, px.Addr())
	p.send(t, posSale("000001"))
	h.frame(t) // answered
	h.closeAll()
	require.Equal(t, "000001", decode(t, p.read(t)).STAN, "the answer read before the host left still goes out")
	require.True(t, p.hungUp(t))
}

// Each terminal connection has its own connection to the host: two
// terminals using the same TID and STAN each get their own answer.
func TestProxy_EachTerminalHasItsOwnHostConnection(t *testing.T) {
	h := newISOHost(t, approve)
	px, _, _ := relay(t, h, "")
	a, b := dialPOS(t, px.Addr()), dialPOS(t, px.Addr())
	a.send(t, posSale("000001"))
	ra := decode(t, a.read(t))
	b.send(t, posSale("000001"))
	rb := decode(t, b.read(t))
	require.NotEqual(t, ra.RRN, rb.RRN, "answered on two host connections")
	require.Equal(t, 2, px.Conns())
}
