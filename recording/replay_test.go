package recording_test

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/recording"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// answered is the recorded answer to req with its own RRN.
func answered(req *wire.Txn, code, rrn string) *wire.Txn {
	resp := req.Response(code)
	resp.RRN = rrn
	return resp
}

// Several recorded requests that match the same live one are used in
// order, then the last one again; each kind of request has its own turn.
func TestReplayer_RecordedAnswersInOrderThenTheLast(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.Name(), func(t *testing.T) {
			a1, a2, a3 := sale("000001", 100), sale("000002", 100), sale("000003", 100)
			other := sale("000004", 777)
			entries := record(t, p, false,
				[2]*wire.Txn{a1, answered(a1, "00", "000000000001")},
				[2]*wire.Txn{other, answered(other, "00", "000000000777")},
				[2]*wire.Txn{a2, answered(a2, "51", "000000000002")},
				[2]*wire.Txn{a3, answered(a3, "05", "000000000003")},
			)
			r, err := recording.NewReplayer(entries, p, p.Framer(), nil, "96")
			require.NoError(t, err)
			require.Equal(t, 4, r.Len())

			want := []struct{ rc, rrn, line string }{
				{"00", "000000000001", "2"}, {"51", "000000000002", "6"},
				{"05", "000000000003", "8"}, {"05", "000000000003", "8"}, {"05", "000000000003", "8"},
			}
			for i, w := range want {
				got, why, ok := r.Answer(sale(fmt.Sprintf("%06d", 100+i), 100))
				require.True(t, ok)
				require.Equal(t, w.rc, got.ResponseCode, "live request %d", i)
				require.Equal(t, w.rrn, got.RRN, "live request %d", i)
				require.Equal(t, "replayed the answer of recording line "+w.line, why)
			}
			for range 2 {
				got, _, ok := r.Answer(sale("000200", 777))
				require.True(t, ok)
				require.Equal(t, "000000000777", got.RRN, "the other request's turn is its own")
			}
		})
	}
}

// A request the recorded host never answered is not answered, however
// often it comes; a request that matches none gets the fallback.
func TestReplayer_UnansweredAndUnknownRequests(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.Name(), func(t *testing.T) {
			lost := sale("000001", 999)
			entries := record(t, p, false, [2]*wire.Txn{lost, nil})
			for _, fallback := range []string{"", recording.FallbackAcquirer, "96", "91"} {
				r, err := recording.NewReplayer(entries, p, p.Framer(), nil, fallback)
				require.NoError(t, err)
				for range 2 {
					got, why, ok := r.Answer(sale("000050", 999))
					require.True(t, ok)
					require.Nil(t, got)
					require.Equal(t, "replayed: the recorded host never answered (recording line 1)", why)
				}
				live := sale("000051", 5)
				got, why, ok := r.Answer(live)
				if fallback == "" || fallback == recording.FallbackAcquirer {
					require.False(t, ok, "the acquirer decides")
					require.Nil(t, got)
					continue
				}
				require.True(t, ok)
				require.Equal(t, fallback, got.ResponseCode)
				require.Equal(t, "0210", got.MTI)
				require.Equal(t, "000051", got.STAN, "the fallback answers the live request")
				require.Equal(t, "no recorded request matches (mti, processing_code, amount, card): answered "+fallback, why)
			}
		})
	}
}

// What a live request must share with a recorded one, by match key.
func TestReplayer_MatchKeys(t *testing.T) {
	cases := []struct {
		name   string
		keys   []string
		change func(*wire.Txn)
		match  bool
	}{
		{"the same request", nil, func(*wire.Txn) {}, true},
		{"default keys: another STAN, terminal, merchant and time", nil, func(l *wire.Txn) {
			l.STAN, l.TID, l.MID, l.TransmissionTime, l.LocalTime = "000999", "TERM0002", "MERCHANT0000002", "0101000000", "000000"
		}, true},
		{"default keys: another amount", nil, func(l *wire.Txn) { l.Amount = 1235 }, false},
		{"default keys: another card", nil, func(l *wire.Txn) { l.PAN = "5555555555554444" }, false},
		{"default keys: a card with the same first six and last four", nil, func(l *wire.Txn) { l.PAN = "4111119999991111" }, true},
		{"default keys: another operation (balance)", nil, func(l *wire.Txn) { l.Op, l.ProcessingCode, l.HasAmount, l.Amount = wire.OpBalance, "310000", false, 0 }, false},
		{"default keys: another MTI (pre-authorisation)", nil, func(l *wire.Txn) { l.Op, l.MTI, l.ProcessingCode, l.Condition = wire.OpPreAuth, "0100", "030000", "06" }, false},
		{"mti and card: another amount", []string{recording.KeyMTI, recording.KeyCard}, func(l *wire.Txn) { l.Amount = 1 }, true},
		{"tid: another terminal", []string{recording.KeyTID}, func(l *wire.Txn) { l.TID = "TERM0002" }, false},
		{"tid: another merchant", []string{recording.KeyTID}, func(l *wire.Txn) { l.MID = "MERCHANT0000002" }, true},
		{"mid: another merchant", []string{recording.KeyMID}, func(l *wire.Txn) { l.MID = "MERCHANT0000002" }, false},
		{"stan: another STAN", []string{recording.KeySTAN}, func(l *wire.Txn) { l.STAN = "000002" }, false},
		{"stan: another amount and card", []string{recording.KeySTAN}, func(l *wire.Txn) { l.Amount, l.PAN = 1, "5555555555554444" }, true},
		{"every key: the same request", recording.AllKeys, func(*wire.Txn) {}, true},
	}
	for _, p := range profiles {
		for _, clear := range []bool{false, true} {
			rec := sale("000001", 1234)
			entries := record(t, p, clear, [2]*wire.Txn{rec, answered(rec, "00", "000000000042")})
			for _, tc := range cases {
				t.Run(fmt.Sprintf("%s/clear=%v/%s", p.Name(), clear, tc.name), func(t *testing.T) {
					r, err := recording.NewReplayer(entries, p, p.Framer(), tc.keys, "96")
					require.NoError(t, err)
					live := sale("000001", 1234)
					tc.change(live)
					got, _, ok := r.Answer(live)
					require.True(t, ok)
					if tc.match {
						require.Equal(t, "000000000042", got.RRN, "the recorded answer")
					} else {
						require.Equal(t, "96", got.ResponseCode, "the fallback")
						require.Empty(t, got.RRN)
					}
				})
			}
		}
	}
}

// Network management messages of one MTI match by what they manage;
// sign-on and sign-off are never replayed (the acquirer's working keys
// check the MACs).
func TestReplayer_NetworkMessages(t *testing.T) {
	echo := &wire.Txn{MTI: "0800", Op: wire.OpEcho, STAN: "000001", TID: "TERM0001", MID: "MERCHANT0000001", NetworkCode: wire.NetEcho, TransmissionTime: "1127101010"}
	signOn := &wire.Txn{MTI: "0800", Op: wire.OpSignOn, STAN: "000002", TID: "TERM0001", MID: "MERCHANT0000001", NetworkCode: wire.NetSignOn, TransmissionTime: "1127101010"}
	download := func(stan, code string) *wire.Txn {
		return &wire.Txn{MTI: "0800", Op: wire.OpDownload, STAN: stan, TID: "TERM0001", MID: "MERCHANT0000001", NetworkCode: code}
	}
	cupSignOn := &wire.Txn{MTI: "0800", Op: wire.OpSignOn, STAN: "000002", TID: "TERM0001", MID: "MERCHANT0000001", NetworkCode: wire.KeysDouble}
	cases := []struct {
		name     string
		p        wire.Profile
		recorded []*wire.Txn
		live     *wire.Txn
		replayed bool
	}{
		{"iso87 echo", wire.ISO87, []*wire.Txn{echo, signOn}, echo, true},
		{"iso87 sign-on", wire.ISO87, []*wire.Txn{echo, signOn}, signOn, false},
		{"cup download of the same parameters", wire.CUP, []*wire.Txn{download("000001", "370"), cupSignOn}, download("000009", "370"), true},
		{"cup download of other parameters", wire.CUP, []*wire.Txn{download("000001", "370"), cupSignOn}, download("000009", "380"), false},
		{"cup sign-on", wire.CUP, []*wire.Txn{download("000001", "370"), cupSignOn}, cupSignOn, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var pairs [][2]*wire.Txn
			for _, r := range tc.recorded {
				pairs = append(pairs, [2]*wire.Txn{r, r.Response("00")})
			}
			r, err := recording.NewReplayer(record(t, tc.p, false, pairs...), tc.p, tc.p.Framer(), nil, recording.FallbackAcquirer)
			require.NoError(t, err)
			got, _, ok := r.Answer(tc.live)
			require.Equal(t, tc.replayed, ok)
			if tc.replayed {
				require.Equal(t, "00", got.ResponseCode)
				require.Equal(t, tc.live.STAN, got.STAN)
			}
		})
	}
}

// The recorded answer goes out with the live request's echo fields; what
// the host decided (code, RRN, authorisation code) is the recorded one's.
func TestReplayer_AnswerEchoesTheLiveRequest(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.Name(), func(t *testing.T) {
			rec := sale("000001", 1234)
			resp := answered(rec, "00", "000000000042")
			resp.AuthCode = "ABC123"
			entries := record(t, p, false, [2]*wire.Txn{rec, resp})
			r, err := recording.NewReplayer(entries, p, p.Framer(), []string{recording.KeyMTI}, "96")
			require.NoError(t, err)

			live := sale("000777", 5000)
			live.PAN, live.TID, live.MID = "6200000000000005", "TERM0009", "MERCHANT0000009"
			live.TransmissionTime, live.LocalTime, live.LocalDate = "0305121314", "121314", "0305"
			got, _, ok := r.Answer(live)
			require.True(t, ok)
			require.Equal(t, "0210", got.MTI)
			// from the live request
			require.Equal(t, "000777", got.STAN)
			require.Equal(t, "TERM0009", strings.TrimSpace(got.TID))
			require.Equal(t, "MERCHANT0000009", strings.TrimSpace(got.MID))
			require.Equal(t, "6200000000000005", got.PAN, "the live card, never the recording's masked one")
			require.Equal(t, int64(5000), got.Amount)
			require.Equal(t, live.LocalTime, got.LocalTime)
			require.Equal(t, live.LocalDate, got.LocalDate)
			if p == wire.ISO87 { // cup answers carry no DE7
				require.Equal(t, live.TransmissionTime, got.TransmissionTime)
			}
			// from the recording
			require.Equal(t, "00", got.ResponseCode)
			require.Equal(t, "000000000042", got.RRN)
			require.Equal(t, "ABC123", got.AuthCode)
			_, err = p.Encode(got)
			require.NoError(t, err, "the answer can be sent")

			live.PAN = ""
			got, _, _ = r.Answer(live)
			require.Empty(t, got.PAN, "no card in the request, none in the answer")
		})
	}
}

// Recorded answer fields the profile does not write itself go out as they
// were recorded; card data and MACs never do: a MAC is a placeholder for
// the acquirer to sign, when the request had one.
func TestReplayer_RecordedFieldsAndMAC(t *testing.T) {
	rec := sale("000001", 1234)
	resp := answered(rec, "00", "000000000042")
	resp.Extra = map[int]string{44: "ISSUER01ACQ", 48: "RECORDED 48"}
	resp.MAC = []byte{1, 2, 3, 4, 5, 6, 7, 8}
	entries := record(t, wire.ISO87, true, [2]*wire.Txn{rec, resp})
	r, err := recording.NewReplayer(entries, wire.ISO87, wire.ISO87.Framer(), nil, "96")
	require.NoError(t, err)

	got, _, ok := r.Answer(sale("000002", 1234))
	require.True(t, ok)
	require.Equal(t, map[int]string{44: "ISSUER01ACQ", 48: "RECORDED 48"}, got.Extra)
	require.Nil(t, got.MAC, "a request without a MAC gets an answer without one")

	signed := sale("000003", 1234)
	signed.MAC = []byte{9, 9, 9, 9, 9, 9, 9, 9}
	got, _, ok = r.Answer(signed)
	require.True(t, ok)
	require.Equal(t, make([]byte, 8), got.MAC, "a placeholder, never the recorded MAC")
	for id := range got.Extra {
		require.NotContains(t, []int{2, 35, 36, 45, 52, 64, 128}, id)
	}
}

// Answers from many connections at once each take their own turn.
func TestReplayer_ConcurrentAnswersTakeTurns(t *testing.T) {
	var pairs [][2]*wire.Txn
	for i := range 3 {
		req := sale(fmt.Sprintf("%06d", i+1), 100)
		pairs = append(pairs, [2]*wire.Txn{req, answered(req, "00", fmt.Sprintf("%012d", i+1))})
	}
	r, err := recording.NewReplayer(record(t, wire.ISO87, false, pairs...), wire.ISO87, wire.ISO87.Framer(), nil, "96")
	require.NoError(t, err)
	const calls = 12
	rrns := make(chan string, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, _, _ := r.Answer(sale(fmt.Sprintf("%06d", 100+i), 100))
			if got != nil {
				rrns <- got.RRN
			}
		}()
	}
	wg.Wait()
	close(rrns)
	count := map[string]int{}
	for rrn := range rrns {
		count[rrn]++
	}
	require.Equal(t, map[string]int{"000000000001": 1, "000000000002": 1, "000000000003": calls - 2}, count)
}

// A replayer is refused for keys and fallbacks it does not know and for
// recordings it cannot replay.
func TestNewReplayer_Refuses(t *testing.T) {
	req := sale("000001", 100)
	iso := record(t, wire.ISO87, false, [2]*wire.Txn{req, req.Response("00")})
	onlyAnswer := []recording.Entry{iso[1]}
	badAnswer := []recording.Entry{iso[0], iso[1]}
	badAnswer[1].Frame = "0004DEADBEEF"
	badRequest := []recording.Entry{iso[0]}
	badRequest[0].Frame = "00"
	cases := []struct {
		name     string
		entries  []recording.Entry
		p        wire.Profile
		keys     []string
		fallback string
		want     string
	}{
		{"an unknown key", iso, wire.ISO87, []string{recording.KeyMTI, "colour"}, "", `match key "colour": want mti, processing_code, amount, card, tid, mid, stan`},
		{"a fallback that is no response code", iso, wire.ISO87, nil, "ZZ", `fallback "ZZ": want acquirer or a response code`},
		{"no request", onlyAnswer, wire.ISO87, nil, "", "the recording holds no request"},
		{"an answer that does not read", badAnswer, wire.ISO87, nil, "", "recorded answer does not read as iso87: line 2"},
		{"a request that does not read", badRequest, wire.ISO87, nil, "", "recorded request does not read as iso87: line 1"},
		{"an iso87 recording replayed as cup", iso, wire.CUP, nil, "", "recorded answer does not read as cup: line 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := recording.NewReplayer(tc.entries, tc.p, tc.p.Framer(), tc.keys, tc.fallback)
			require.Error(t, err)
			require.Nil(t, r)
			require.True(t, strings.HasPrefix(err.Error(), tc.want), "%q does not start with %q", err, tc.want)
		})
	}
}

// client is a terminal's side of one TCP connection, frames in and out.
type client struct {
	p    wire.Profile
	conn net.Conn
}

func dial(t *testing.T, p wire.Profile, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &client{p: p, conn: c}
}

func (c *client) send(t *testing.T, txn *wire.Txn) {
	t.Helper()
	m, err := c.p.Encode(txn)
	require.NoError(t, err)
	frame, err := wire.NewCodec(c.p).Frame(m)
	require.NoError(t, err)
	_, err = c.conn.Write(frame)
	require.NoError(t, err)
}

// read waits up to wait for the next message; nil when none came.
func (c *client) read(t *testing.T, wait time.Duration) *wire.Txn {
	t.Helper()
	require.NoError(t, c.conn.SetReadDeadline(time.Now().Add(wait)))
	body, err := c.p.Framer().ReadFrame(c.conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return nil
	}
	require.NoError(t, err)
	m := iso8583.NewMessage(c.p.Spec())
	require.NoError(t, m.Unpack(body))
	txn, err := c.p.Decode(m)
	require.NoError(t, err)
	return txn
}

// posim acquirer --replay over TCP: recorded answers, in order; silence
// where the recorded host was silent, on a connection that stays usable;
// the fallback for what the recording does not hold.
func TestReplayingHost_OverTCP(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.Name(), func(t *testing.T) {
			a1, a2, lost := sale("000001", 1234), sale("000002", 1234), sale("000003", 999)
			entries := record(t, p, false,
				[2]*wire.Txn{a1, answered(a1, "00", "000000000001")},
				[2]*wire.Txn{a2, answered(a2, "51", "000000000002")},
				[2]*wire.Txn{lost, nil})
			r, err := recording.NewReplayer(entries, p, p.Framer(), nil, "96")
			require.NoError(t, err)
			host, err := acquirer.New(acquirer.WithProfile(p), acquirer.WithReplay(r))
			require.NoError(t, err)
			require.NoError(t, host.Listen("127.0.0.1:0"))
			t.Cleanup(func() { host.Close() })

			c := dial(t, p, host.Addr())
			for i, want := range []struct{ rc, rrn string }{{"00", "000000000001"}, {"51", "000000000002"}, {"51", "000000000002"}} {
				stan := fmt.Sprintf("%06d", 11+i)
				c.send(t, sale(stan, 1234))
				got := c.read(t, 5*time.Second)
				require.NotNil(t, got, "answer %d", i)
				require.Equal(t, stan, got.STAN)
				require.Equal(t, want.rc, got.ResponseCode)
				require.Equal(t, want.rrn, got.RRN)
			}

			c.send(t, sale("000020", 999))
			require.Nil(t, c.read(t, 200*time.Millisecond), "the recorded host never answered it")

			c.send(t, sale("000021", 1))
			got := c.read(t, 5*time.Second)
			require.NotNil(t, got, "the connection still answers")
			require.Equal(t, "000021", got.STAN)
			require.Equal(t, "96", got.ResponseCode)
		})
	}
}
