package recording_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/posim/posim/recording"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// profiles are the dialects the package records and replays.
var profiles = []wire.Profile{wire.ISO87, wire.CUP}

func sale(stan string, amount int64) *wire.Txn {
	return &wire.Txn{MTI: "0200", Op: wire.OpSale, ProcessingCode: "000000", PAN: "4111111111111111", Amount: amount, HasAmount: true,
		STAN: stan, TID: "TERM0001", MID: "MERCHANT0000001", Currency: "156", Expiry: "3012", EntryMode: "021", Condition: "00",
		Track2: "4111111111111111=30121010000012300000", LocalTime: "101010", LocalDate: "1127", TransmissionTime: "1127101010"}
}

// record writes a request and its answer per pair to a recording in
// memory and reads it back.
func record(t *testing.T, p wire.Profile, clear bool, pairs ...[2]*wire.Txn) []recording.Entry {
	t.Helper()
	var buf bytes.Buffer
	w := recording.NewWriter(&buf, p, p.Framer(), clear)
	for _, pr := range pairs {
		for i, txn := range pr {
			if txn == nil {
				continue
			}
			m, err := p.Encode(txn)
			require.NoError(t, err)
			dir := recording.Request
			if i == 1 {
				dir = recording.Response
			}
			require.NoError(t, w.Message(dir, "c1", nil, m, nil))
		}
	}
	entries, err := recording.Read(&buf, "mem")
	require.NoError(t, err)
	return entries
}

func TestWriter_MasksCardDataInFieldsAndFrame(t *testing.T) {
	req := sale("000001", 1234)
	req.PINBlock = []byte{1, 2, 3, 4, 5, 6, 7, 8}
	entries := record(t, wire.ISO87, false, [2]*wire.Txn{req, nil})
	e := entries[0]
	require.Equal(t, "411111******1111", e.Field(2))
	require.Equal(t, "(track data, not recorded)", e.Field(35))
	require.Equal(t, "(PIN block, not recorded)", e.Field(52))
	require.False(t, e.Clear)
	m, _, err := e.Message(wire.ISO87, wire.ISO87.Framer())
	require.NoError(t, err, "the masked frame still reads")
	pan, _ := m.GetString(2)
	require.Equal(t, "4111110000001111", pan)
	track, _ := m.GetString(35)
	require.NotContains(t, track, "4111111111111111")
	pin, _ := m.GetString(52)
	require.Equal(t, strings.Repeat("0", 16), pin)
}

func TestWriter_ClearKeepsEverything(t *testing.T) {
	entries := record(t, wire.ISO87, true, [2]*wire.Txn{sale("000001", 1234), nil})
	require.Equal(t, "4111111111111111", entries[0].Field(2))
	require.True(t, entries[0].Clear)
}

func TestRead_NamesTheLineThatDoesNotRead(t *testing.T) {
	_, err := recording.Read(strings.NewReader(`{"dir":"request","mti":"0200","fields":{},"frame":""}`+"\nnot json\n"), "rec.jsonl")
	require.ErrorContains(t, err, "rec.jsonl:2: not a recorded message")
	_, err = recording.Read(strings.NewReader(`{"dir":"sideways","mti":"0200"}`), "rec.jsonl")
	require.ErrorContains(t, err, `rec.jsonl:1: dir "sideways"`)
	_, err = recording.Read(strings.NewReader("\n"), "rec.jsonl")
	require.ErrorContains(t, err, "no recorded messages")
}

func TestPairs_AnswerFollowsItsRequest(t *testing.T) {
	a, b := sale("000001", 100), sale("000002", 200)
	entries := record(t, wire.ISO87, false, [2]*wire.Txn{a, nil}, [2]*wire.Txn{b, b.Response("00")})
	prs := recording.Pairs(entries)
	require.Len(t, prs, 2)
	require.Nil(t, prs[0].Response, "never answered")
	require.Equal(t, "000002", prs[1].Response.Field(11))
}

func TestReplayer_AnswersLikeTheRecordedHost(t *testing.T) {
	for _, p := range []wire.Profile{wire.ISO87, wire.CUP} {
		t.Run(p.Name(), func(t *testing.T) {
			req := sale("000001", 1234)
			resp := req.Response("00")
			resp.RRN, resp.AuthCode = "000000000042", "ABC123"
			lost := sale("000002", 999)
			entries := record(t, p, false, [2]*wire.Txn{req, resp}, [2]*wire.Txn{lost, nil})
			r, err := recording.NewReplayer(entries, p, p.Framer(), nil, "96")
			require.NoError(t, err)
			require.Equal(t, 2, r.Len())

			live := sale("000777", 1234)
			live.TID, live.TransmissionTime = "TERM0001", time.Now().UTC().Format("0102150405")
			got, why, ok := r.Answer(live)
			require.True(t, ok)
			require.Contains(t, why, "replayed the answer of recording line 2")
			require.Equal(t, "00", got.ResponseCode)
			require.Equal(t, "000000000042", got.RRN)
			require.Equal(t, "ABC123", got.AuthCode)
			require.Equal(t, "000777", got.STAN, "echoed from the live request")
			require.Equal(t, live.TransmissionTime, got.TransmissionTime)

			got, why, ok = r.Answer(sale("000778", 999))
			require.True(t, ok)
			require.Nil(t, got, "the recorded host never answered")
			require.Contains(t, why, "never answered")

			got, why, ok = r.Answer(sale("000779", 5))
			require.True(t, ok)
			require.Equal(t, "96", got.ResponseCode)
			require.Contains(t, why, "no recorded request matches")
		})
	}
}

func TestReplayer_MatchKeysAndFallback(t *testing.T) {
	req := sale("000001", 1234)
	entries := record(t, wire.ISO87, false, [2]*wire.Txn{req, req.Response("05")})
	r, err := recording.NewReplayer(entries, wire.ISO87, wire.ISO87.Framer(), []string{recording.KeyMTI, recording.KeyCard}, recording.FallbackAcquirer)
	require.NoError(t, err)
	got, _, ok := r.Answer(sale("000002", 1))
	require.True(t, ok, "the amount is not a key")
	require.Equal(t, "05", got.ResponseCode)
	require.Equal(t, int64(1), got.Amount, "the live amount is echoed")
	other := sale("000003", 1234)
	other.PAN = "5555555555554444"
	_, _, ok = r.Answer(other)
	require.False(t, ok, "another card: the acquirer decides")

	_, err = recording.NewReplayer(entries, wire.ISO87, wire.ISO87.Framer(), []string{"colour"}, "")
	require.ErrorContains(t, err, `match key "colour"`)
	_, err = recording.NewReplayer(entries, wire.ISO87, wire.ISO87.Framer(), nil, "ZZ")
	require.ErrorContains(t, err, `fallback "ZZ"`)
}

func TestReplayer_SignOnStaysWithTheAcquirer(t *testing.T) {
	on := &wire.Txn{MTI: "0800", Op: wire.OpSignOn, STAN: "000001", TID: "TERM0001", MID: "MERCHANT0000001", NetworkCode: "001", TransmissionTime: "1127101010"}
	entries := record(t, wire.ISO87, false, [2]*wire.Txn{on, on.Response("00")})
	r, err := recording.NewReplayer(entries, wire.ISO87, wire.ISO87.Framer(), nil, "96")
	require.NoError(t, err)
	_, _, ok := r.Answer(on)
	require.False(t, ok)
}
