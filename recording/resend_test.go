package recording_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/recording"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// arrival is a request the fake host read: on which of its connections
// (1, 2 ...) and what.
type arrival struct {
	conn int
	req  *wire.Txn
}

// reply is what the fake host does about a request: send these messages
// (none: stay silent), then hang up or not.
type reply struct {
	send   []*wire.Txn
	hangUp bool
}

// fakeHost is a host on 127.0.0.1:0 that answers as its test says.
type fakeHost struct {
	p       wire.Profile
	ln      net.Listener
	decide  func(arrival) reply
	arrived chan arrival
	errs    chan error
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   []net.Conn
}

func startHost(t *testing.T, p wire.Profile, decide func(arrival) reply) *fakeHost {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	h := &fakeHost{p: p, ln: ln, decide: decide, arrived: make(chan arrival, 64), errs: make(chan error, 64)}
	h.wg.Add(1)
	go h.accept()
	t.Cleanup(func() {
		ln.Close()
		h.mu.Lock()
		for _, c := range h.conns {
			c.Close()
		}
		h.mu.Unlock()
		h.wg.Wait()
		close(h.errs)
		for err := range h.errs {
			t.Errorf("fake host: %v", err)
		}
	})
	return h
}

func (h *fakeHost) Addr() string { return h.ln.Addr().String() }

func (h *fakeHost) accept() {
	defer h.wg.Done()
	for n := 1; ; n++ {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		h.conns = append(h.conns, c)
		h.mu.Unlock()
		h.wg.Add(1)
		go h.serve(n, c)
	}
}

func (h *fakeHost) serve(n int, c net.Conn) {
	defer h.wg.Done()
	defer c.Close()
	in := h.p.Framer()
	out := in
	if tf, ok := in.(wire.TPDUFramer); ok {
		out = tf.ForHost()
	}
	for {
		body, err := in.ReadFrame(c)
		if err != nil {
			return
		}
		m := iso8583.NewMessage(h.p.Spec())
		if err := m.Unpack(body); err != nil {
			h.errs <- fmt.Errorf("unpacking a request: %w", err)
			return
		}
		req, err := h.p.Decode(m)
		if err != nil {
			h.errs <- fmt.Errorf("decoding a request: %w", err)
			return
		}
		a := arrival{conn: n, req: req}
		r := h.decide(a)
		// before the answer: the next request, which waits for it, arrives after
		h.arrived <- a
		for _, txn := range r.send {
			am, err := h.p.Encode(txn)
			if err == nil {
				var b []byte
				if b, err = am.Pack(); err == nil {
					var frame []byte
					if frame, err = out.AppendFrame(nil, b); err == nil {
						_, err = c.Write(frame)
					}
				}
			}
			if err != nil {
				h.errs <- fmt.Errorf("answering: %w", err)
				return
			}
		}
		if r.hangUp {
			return
		}
	}
}

// next is the next request the host read.
func (h *fakeHost) next(t *testing.T) arrival {
	t.Helper()
	select {
	case a := <-h.arrived:
		return a
	case <-time.After(5 * time.Second):
		t.Fatal("the host read no request")
		return arrival{}
	}
}

// none checks that the host read nothing more.
func (h *fakeHost) none(t *testing.T) {
	t.Helper()
	select {
	case a := <-h.arrived:
		t.Fatalf("the host read another request: %s STAN %s", a.req.MTI, a.req.STAN)
	default:
	}
}

// echo answers every request with code 00, as a host that approves.
func echo(a arrival) reply { return reply{send: []*wire.Txn{answered(a.req, "00", "000000000042")}} }

func resend(t *testing.T, entries []recording.Entry, p wire.Profile, target string, change ...func(*recording.ResendConfig)) *recording.Report {
	t.Helper()
	cfg := recording.ResendConfig{Target: target, Profile: p, Framer: p.Framer(), Timeout: 2 * time.Second}
	for _, c := range change {
		c(&cfg)
	}
	rep, err := recording.Resend(t.Context(), entries, cfg)
	require.NoError(t, err)
	return rep
}

// Answers that are the recorded ones, but for what a host fills afresh
// each time (times, RRN, authorisation code), report no difference.
func TestResend_SameAnswersNoDifference(t *testing.T) {
	for _, p := range profiles {
		for _, clear := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/clear=%v", p.Name(), clear), func(t *testing.T) {
				a, b := sale("000001", 1234), sale("000002", 50)
				ra, rb := answered(a, "00", "000000000001"), answered(b, "51", "")
				ra.AuthCode = "ABC123"
				entries := record(t, p, clear, [2]*wire.Txn{a, ra}, [2]*wire.Txn{b, rb})
				h := startHost(t, p, func(x arrival) reply {
					code := map[string]string{"000001": "00", "000002": "51"}[x.req.STAN]
					resp := answered(x.req, code, "")
					if code == "00" {
						resp.RRN, resp.AuthCode = "999999999999", "ZZZ999"
					}
					resp.TransmissionTime, resp.LocalTime, resp.LocalDate = "0101000000", "000000", "0101"
					return reply{send: []*wire.Txn{resp}}
				})
				rep := resend(t, entries, p, h.Addr())
				require.Equal(t, h.Addr(), rep.Target)
				require.Equal(t, 2, rep.Same)
				require.Equal(t, 0, rep.Differ)
				require.Len(t, rep.Outcomes, 2)
				for i, o := range rep.Outcomes {
					require.True(t, o.Same, "outcome %d: %+v", i, o)
					require.Empty(t, o.Differences)
					require.Equal(t, o.Recorded, o.Got)
				}
				require.Equal(t, recording.Outcome{Line: 1, Conn: "c1", MTI: "0200", STAN: "000001", Recorded: "0210 00", Got: "0210 00",
					Same: true, Notes: rep.Outcomes[0].Notes}, rep.Outcomes[0])
				require.Equal(t, "0210 51", rep.Outcomes[1].Got)
				require.Equal(t, 3, rep.Outcomes[1].Line)
				require.Equal(t, "000001", h.next(t).req.STAN)
				require.Equal(t, "000002", h.next(t).req.STAN)
			})
		}
	}
}

// An answer that differs is reported field by field, in field order:
// what was recorded and what came now, "(absent)" for a field one of
// them lacks; ignored fields are not compared.
func TestResend_DifferencesFieldByField(t *testing.T) {
	type diff = recording.Difference // the name is the field's in the spec, "MTI" for field 0
	cases := []struct {
		name   string
		change func(resp *wire.Txn)
		ignore []int
		want   []diff
	}{
		{"the response code", func(r *wire.Txn) { r.ResponseCode = "61" }, nil,
			[]diff{{Field: 39, Recorded: "00", Now: "61"}}},
		{"a field now absent and a field now present", func(r *wire.Txn) {
			r.Currency = ""
			r.Extra = map[int]string{44: "ISSUER01"}
		}, nil, []diff{{Field: 44, Recorded: "(absent)", Now: "ISSUER01"}, {Field: 49, Recorded: "156", Now: "(absent)"}}},
		{"the amount and the code, in field order", func(r *wire.Txn) { r.ResponseCode, r.Amount = "51", 1 }, nil,
			[]diff{{Field: 4, Recorded: "000000001234", Now: "000000000001"}, {Field: 39, Recorded: "00", Now: "51"}}},
		{"the MTI", func(r *wire.Txn) { r.MTI, r.Op = "0230", wire.OpAdvice }, nil,
			[]diff{{Field: 0, Recorded: "0210", Now: "0230"}}},
		{"the RRN and authorisation code are ignored by default", func(r *wire.Txn) { r.RRN, r.AuthCode = "999999999999", "ZZZ999" }, nil, nil},
		{"the RRN when nothing is ignored", func(r *wire.Txn) { r.RRN = "999999999999" }, []int{},
			[]diff{{Field: 37, Recorded: "000000000042", Now: "999999999999"}}},
		{"the response code when it is ignored", func(r *wire.Txn) { r.ResponseCode = "61" }, []int{39}, nil},
	}
	for _, p := range profiles {
		for _, tc := range cases {
			if p == wire.CUP && tc.name == "the MTI" {
				continue // cup writes the MTI of the operation
			}
			t.Run(p.Name()+"/"+tc.name, func(t *testing.T) {
				req := sale("000001", 1234)
				entries := record(t, p, false, [2]*wire.Txn{req, answered(req, "00", "000000000042")})
				h := startHost(t, p, func(a arrival) reply {
					resp := answered(a.req, "00", "000000000042")
					tc.change(resp)
					return reply{send: []*wire.Txn{resp}}
				})
				rep := resend(t, entries, p, h.Addr(), func(c *recording.ResendConfig) { c.Ignore = tc.ignore })
				o := rep.Outcomes[0]
				want := []diff{}
				for _, d := range tc.want {
					d.Name = "MTI"
					if d.Field > 0 {
						d.Name = p.Spec().Fields[d.Field].Spec().Description
					}
					want = append(want, d)
				}
				require.Equal(t, want, append([]diff{}, o.Differences...))
				if len(want) == 0 {
					require.True(t, o.Same)
					require.Equal(t, [2]int{1, 0}, [2]int{rep.Same, rep.Differ})
				} else {
					require.False(t, o.Same)
					require.Equal(t, [2]int{0, 1}, [2]int{rep.Same, rep.Differ})
				}
			})
		}
	}
}

// A host that does not answer within the timeout: "no answer", a
// difference unless the recorded host was silent too; the next request
// on the connection still goes.
func TestResend_NoAnswer(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.Name(), func(t *testing.T) {
			a, b, c := sale("000001", 100), sale("000002", 200), sale("000003", 300)
			entries := record(t, p, false, [2]*wire.Txn{a, a.Response("00")}, [2]*wire.Txn{b, nil}, [2]*wire.Txn{c, nil})
			h := startHost(t, p, func(x arrival) reply {
				if x.req.STAN == "000003" {
					return echo(x) // answered now, never in the recording
				}
				return reply{}
			})
			start := time.Now()
			rep := resend(t, entries, p, h.Addr(), func(c *recording.ResendConfig) { c.Timeout = 150 * time.Millisecond })
			require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "two answers were awaited the whole timeout")
			require.Len(t, rep.Outcomes, 3)

			silent := rep.Outcomes[0]
			require.Equal(t, "0210 00", silent.Recorded)
			require.Equal(t, "no answer", silent.Got)
			require.False(t, silent.Same)
			require.Empty(t, silent.Differences)

			bothSilent := rep.Outcomes[1]
			require.Equal(t, "no answer", bothSilent.Recorded)
			require.Equal(t, "no answer", bothSilent.Got)
			require.True(t, bothSilent.Same)

			nowAnswered := rep.Outcomes[2]
			require.Equal(t, "no answer", nowAnswered.Recorded)
			require.Equal(t, "0210 00", nowAnswered.Got)
			require.False(t, nowAnswered.Same)

			require.Equal(t, 1, rep.Same)
			require.Equal(t, 2, rep.Differ)
			for _, stan := range []string{"000001", "000002", "000003"} {
				x := h.next(t)
				require.Equal(t, stan, x.req.STAN)
				require.Equal(t, 1, x.conn, "one connection")
			}
		})
	}
}

// An answer to something else (a late answer, another STAN) is passed
// over while the awaited one comes.
func TestResend_OtherMessagesMeanwhile(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.Name(), func(t *testing.T) {
			req := sale("000001", 100)
			entries := record(t, p, false, [2]*wire.Txn{req, answered(req, "00", "000000000042")})
			h := startHost(t, p, func(a arrival) reply {
				stray := answered(sale("000777", 100), "05", "")
				return reply{send: []*wire.Txn{stray, answered(a.req, "00", "000000000042")}}
			})
			rep := resend(t, entries, p, h.Addr())
			o := rep.Outcomes[0]
			require.True(t, o.Same, "%+v", o)
			require.Contains(t, o.Notes, "another message arrived meanwhile: 0210")
		})
	}
}

// One connection per recorded connection, in the order they first
// appear, each request after the previous one's answer.
func TestResend_OneConnectionPerRecordedConnection(t *testing.T) {
	var entries []recording.Entry
	for _, x := range []struct {
		conn string
		stan string
	}{{"c1", "000001"}, {"c2", "000002"}, {"c1", "000003"}, {"c3", "000004"}, {"c2", "000005"}} {
		req := sale(x.stan, 100)
		e := record(t, wire.ISO87, false, [2]*wire.Txn{req, req.Response("00")})
		for i := range e {
			e[i].Conn, e[i].Line = x.conn, len(entries)+1
			entries = append(entries, e[i])
		}
	}
	h := startHost(t, wire.ISO87, echo)
	rep := resend(t, entries, wire.ISO87, h.Addr())
	var order []string
	for _, o := range rep.Outcomes {
		order = append(order, o.Conn+" "+o.STAN)
		require.True(t, o.Same)
	}
	require.Equal(t, []string{"c1 000001", "c1 000003", "c2 000002", "c2 000005", "c3 000004"}, order)
	var seen []string
	for range 5 {
		x := h.next(t)
		seen = append(seen, fmt.Sprintf("%d %s", x.conn, x.req.STAN))
	}
	require.Equal(t, []string{"1 000001", "1 000003", "2 000002", "2 000005", "3 000004"}, seen)
}

// A host that hangs up: the requests left on that connection cannot be
// sent, and the report says so rather than leaving them out; the next
// recorded connection is replayed.
func TestResend_HostHangsUp(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.Name(), func(t *testing.T) {
			a, b, c, d := sale("000001", 100), sale("000002", 100), sale("000003", 100), sale("000004", 100)
			entries := record(t, p, false, [2]*wire.Txn{a, nil}, [2]*wire.Txn{b, b.Response("00")}, [2]*wire.Txn{c, c.Response("00")})
			other := record(t, p, false, [2]*wire.Txn{d, d.Response("00")})
			for i := range other {
				other[i].Conn, other[i].Line = "c2", len(entries)+1
				entries = append(entries, other[i])
			}
			h := startHost(t, p, func(x arrival) reply {
				if x.req.STAN == "000001" {
					return reply{hangUp: true}
				}
				return echo(x)
			})
			rep := resend(t, entries, p, h.Addr())
			require.Len(t, rep.Outcomes, 4, "every recorded request is in the report")

			first := rep.Outcomes[0]
			require.Equal(t, "000001", first.STAN)
			require.Equal(t, "no answer", first.Got)
			require.True(t, first.Same, "the recorded host did not answer it either")
			require.True(t, slices.ContainsFunc(first.Notes, func(n string) bool { return strings.HasPrefix(n, "connection: ") }), "%q", first.Notes)

			for i, stan := range []string{"000002", "000003"} {
				o := rep.Outcomes[1+i]
				require.Equal(t, stan, o.STAN)
				require.Equal(t, "not sent", o.Got)
				require.False(t, o.Same)
				require.Equal(t, "0210 00", o.Recorded)
				require.Equal(t, []string{"not sent: the connection to the host was lost"}, o.Notes)
			}
			require.Equal(t, "000004", rep.Outcomes[3].STAN)
			require.True(t, rep.Outcomes[3].Same)
			require.Equal(t, 2, rep.Same)
			require.Equal(t, 2, rep.Differ, "not sending a request is not answering as recorded")

			x := h.next(t)
			require.Equal(t, "000001", x.req.STAN)
			require.Equal(t, 1, x.conn)
			x = h.next(t)
			require.Equal(t, "000004", x.req.STAN)
			require.Equal(t, 2, x.conn)
			h.none(t)
		})
	}
}

// A masked recording gets its card data back from the card book when
// the first six and last four name exactly one card; the answer's card,
// masked again, is no difference.
func TestResend_RestoresCardData(t *testing.T) {
	const pinKey = "0123456789ABCDEFFEDCBA9876543210"
	for _, p := range profiles {
		t.Run(p.Name(), func(t *testing.T) {
			req := cardSale()
			entries := record(t, p, false, [2]*wire.Txn{req, req.Response("00")})
			h := startHost(t, p, echo)

			rep := resend(t, entries, p, h.Addr(), func(c *recording.ResendConfig) { c.PINKey = pinKey })
			o := rep.Outcomes[0]
			require.True(t, o.Same, "the answer's PAN is compared masked: %+v", o.Differences)
			require.Contains(t, o.Notes, "card data of visa-approve restored from the card book")
			got := h.next(t).req
			require.Equal(t, testPAN, got.PAN)
			require.True(t, strings.HasPrefix(got.Track2, testPAN+"=3012"), "the card's track: %q", got.Track2)
			k, err := wire.ParsePINKey(pinKey)
			require.NoError(t, err)
			pin, err := k.DecryptPIN(got.PINBlock, testPAN)
			require.NoError(t, err)
			visa, _ := cards.Builtin().ByAlias("visa-approve")
			require.Equal(t, visa.PINToEnter(), pin, "the card's PIN under the PIN key")

			rep = resend(t, entries, p, h.Addr())
			require.Contains(t, rep.Outcomes[0].Notes, "PIN block sent masked: no PIN key")
			got = h.next(t).req
			require.Equal(t, testPAN, got.PAN)
			require.Equal(t, make([]byte, 8), got.PINBlock)

			twins := &cards.Book{Cards: []cards.Card{
				{Alias: "one", PAN: "4111111111111111", Expiry: "3012", PIN: "1234"},
				{Alias: "two", PAN: "4111112222221111", Expiry: "3012", PIN: "1234"},
			}}
			rep = resend(t, entries, p, h.Addr(), func(c *recording.ResendConfig) { c.Cards = twins })
			require.Contains(t, rep.Outcomes[0].Notes, "card 411111******1111: 2 cards in the card book match; sent masked")
			require.Equal(t, "4111110000001111", h.next(t).req.PAN)

			clear := record(t, p, true, [2]*wire.Txn{req, req.Response("00")})
			rep = resend(t, clear, p, h.Addr(), func(c *recording.ResendConfig) { c.Cards = twins })
			require.True(t, rep.Outcomes[0].Same)
			require.Empty(t, rep.Outcomes[0].Notes, "a clear recording is sent as it is")
			got = h.next(t).req
			require.Equal(t, testPAN, got.PAN)
			require.Equal(t, testTrack, got.Track2)
			require.Equal(t, req.PINBlock, got.PINBlock)
		})
	}
}

// Resend fails, rather than reporting, when it cannot start.
func TestResend_Errors(t *testing.T) {
	req := sale("000001", 100)
	entries := record(t, wire.ISO87, false, [2]*wire.Txn{req, req.Response("00")})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())
	h := startHost(t, wire.ISO87, echo)

	cases := []struct {
		name    string
		entries []recording.Entry
		cfg     recording.ResendConfig
		want    string
	}{
		{"nobody listens", entries, recording.ResendConfig{Target: closed}, "connecting to " + closed},
		{"only answers recorded", entries[1:], recording.ResendConfig{Target: h.Addr()}, "the recording holds no request"},
		{"a PIN key that is no key", entries, recording.ResendConfig{Target: h.Addr(), PINKey: "12"}, "PIN key:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Profile, tc.cfg.Framer, tc.cfg.Timeout = wire.ISO87, wire.ISO87.Framer(), time.Second
			_, err := recording.Resend(t.Context(), tc.entries, tc.cfg)
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), tc.want), "%q does not start with %q", err, tc.want)
		})
	}
	h.none(t)
}

// Cancelling stops a replay that waits for an answer at once, whatever
// the timeout.
func TestResend_Cancelled(t *testing.T) {
	req := sale("000001", 100)
	entries := record(t, wire.ISO87, false, [2]*wire.Txn{req, req.Response("00")}, [2]*wire.Txn{sale("000002", 100), nil})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	h := startHost(t, wire.ISO87, func(arrival) reply { cancel(); return reply{} })
	start := time.Now()
	rep, err := recording.Resend(ctx, entries, recording.ResendConfig{Target: h.Addr(), Profile: wire.ISO87, Framer: wire.ISO87.Framer(), Timeout: time.Minute})
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(start), 30*time.Second)
	require.NotNil(t, rep)
	require.Empty(t, rep.Outcomes, "nothing was answered")
	require.Equal(t, "000001", h.next(t).req.STAN)
	h.none(t)
}

// What posim acquirer recorded, resent to posim acquirer --replay of the
// same recording, is answered as recorded. Under cup the sign-on goes to
// the acquirer, whose new working keys the replay opens with the TMK to
// sign the sale again: else the host would refuse its MAC.
func TestResend_AgainstTheReplayingHost(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.Name(), func(t *testing.T) {
			w, recorded := recordWith(t, p, false)
			live, err := acquirer.New(acquirer.WithProfile(p), acquirer.WithRecord(w))
			require.NoError(t, err)
			require.NoError(t, live.Listen("127.0.0.1:0"))
			cfg := terminal.DefaultConfig()
			cfg.Host, cfg.Profile, cfg.StateDir, cfg.Timeout = live.Addr(), p, "", 5*time.Second
			pos, err := terminal.New(cfg)
			require.NoError(t, err)
			if p.Capabilities().WorkingKeys {
				_, err := pos.SignOn(t.Context())
				require.NoError(t, err)
			}
			res, err := pos.Sale(t.Context(), terminal.Request{Card: "visa-approve", Amount: 1234})
			require.NoError(t, err)
			require.Equal(t, terminal.Approved, res.Outcome)
			_, err = pos.Sale(t.Context(), terminal.Request{Card: "insufficient-funds", Amount: 500})
			var declined *terminal.DeclinedError
			require.ErrorAs(t, err, &declined)
			require.Equal(t, "51", declined.Code)
			require.NoError(t, pos.Close())
			require.NoError(t, live.Close())
			entries := recorded()

			r, err := recording.NewReplayer(entries, p, p.Framer(), nil, "96")
			require.NoError(t, err)
			replay, err := acquirer.New(acquirer.WithProfile(p), acquirer.WithReplay(r))
			require.NoError(t, err)
			require.NoError(t, replay.Listen("127.0.0.1:0"))
			t.Cleanup(func() { replay.Close() })

			rep := resend(t, entries, p, replay.Addr(), func(c *recording.ResendConfig) { c.TMK, c.MACAlg = wire.TestTMK, wire.MACCUP })
			for _, o := range rep.Outcomes {
				require.True(t, o.Same, "%+v", o)
			}
			require.Equal(t, 0, rep.Differ)
			require.GreaterOrEqual(t, rep.Same, 2)
			var notes []string
			for _, o := range rep.Outcomes {
				notes = append(notes, o.Notes...)
			}
			if p.Capabilities().WorkingKeys {
				require.Contains(t, notes, "working keys of this sign-on opened: later requests are signed with them")
				require.Contains(t, notes, "MAC signed with the working key of this replay's sign-on")
			}
		})
	}
}

// recordWith is record with a writer to hand, for what a host records.
func recordWith(t *testing.T, p wire.Profile, clear bool) (*recording.Writer, func() []recording.Entry) {
	t.Helper()
	var buf bytes.Buffer
	w := recording.NewWriter(&buf, p, p.Framer(), clear)
	return w, func() []recording.Entry {
		entries, err := recording.Read(&buf, "mem")
		require.NoError(t, err)
		return entries
	}
}
