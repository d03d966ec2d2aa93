package acquirer

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// fieldRequest is a request frame published from the field
// (wire/testdata/field/frames.jsonl; SOURCES-frames.md names the sources).
type fieldRequest struct {
	ID, Source, Kind, Hex, Framing, TPDU, Header, Dir string
}

// Every request frame published from the field gets a well-formed answer
// from posim's cup acquirer set up with that source's TPDU and header: its
// MTI plus 10, its STAN and terminal, a response code, a DE60 of at least
// eleven digits, the TPDU swapped and the header echoed. (The answer's code
// is the host's business: a MAC under the source's own keys is answered
// A0, an unsigned terminal 77.)
func TestAcquirer_AnswersEveryFieldRequest(t *testing.T) {
	f, err := os.Open("../wire/testdata/field/frames.jsonl")
	require.NoError(t, err)
	defer f.Close()
	var reqs []fieldRequest
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r fieldRequest
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		if r.Dir == "request" {
			reqs = append(reqs, r)
		}
	}
	require.NotEmpty(t, reqs)
	for _, r := range reqs {
		t.Run(r.ID, func(t *testing.T) {
			raw, err := hex.DecodeString(r.Hex)
			require.NoError(t, err)
			var tpdu, header, body []byte
			switch {
			case r.Framing == "len+tpdu+header+body":
				tpdu, header, body = raw[2:7], raw[7:13], raw[13:]
			case r.Framing == "tpdu+header+body":
				tpdu, header, body = raw[:5], raw[5:11], raw[11:]
			case r.Framing == "body":
				body = raw
			default:
				t.Skipf("framing %s", r.Framing)
			}
			if tpdu == nil {
				tpdu, header = wire.DefaultTPDU[:], wire.DefaultHeader[:]
			}
			m, err := wire.NewCodec(wire.CUP).Unpack(body)
			require.NoError(t, err)
			req, err := wire.CUP.Decode(m)
			if err != nil {
				t.Skipf("%s: posim refuses its content (%v), which an answer 30 covers elsewhere", r.Source, err)
			}
			framer, err := wire.NewTPDUFramer(nil, hex.EncodeToString(tpdu), hex.EncodeToString(header), "")
			require.NoError(t, err)
			a := start(t, WithProfile(wire.CUP), WithFramer(framer))
			conn, err := net.Dial("tcp", a.Addr())
			require.NoError(t, err)
			t.Cleanup(func() { conn.Close() })
			frame := append([]byte{0, 0}, append(append(append([]byte{}, tpdu...), header...), body...)...)
			binary.BigEndian.PutUint16(frame, uint16(len(frame)-2))
			_, err = conn.Write(frame)
			require.NoError(t, err)
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
			answer, err := wire.Binary2{}.ReadFrame(conn)
			require.NoError(t, err, "%s (%s): no answer", r.Source, r.Kind)
			echoed := append([]byte{}, header...)
			if req.Op == wire.OpSignOn {
				echoed[2] = echoed[2]&0xF0 | wire.HostRequestParams // a terminal that has not downloaded is asked to
			}
			want := hex.EncodeToString(tpdu[:1]) + hex.EncodeToString(tpdu[3:5]) + hex.EncodeToString(tpdu[1:3]) + hex.EncodeToString(echoed)
			require.Equal(t, strings.ToUpper(want), strings.ToUpper(hex.EncodeToString(answer[:11])), "TPDU swapped, header echoed")
			am, err := wire.NewCodec(wire.CUP).Unpack(answer[11:])
			require.NoError(t, err, "%s: the answer reads", r.Source)
			resp, err := wire.CUP.Decode(am)
			require.NoError(t, err)
			wantMTI, _ := wire.ResponseMTI(req.MTI)
			require.Equal(t, wantMTI, resp.MTI)
			require.Equal(t, req.STAN, resp.STAN)
			require.Equal(t, req.TID, resp.TID)
			require.NotEmpty(t, resp.ResponseCode)
			if de60, _ := am.GetString(60); de60 != "" {
				require.GreaterOrEqual(t, len(de60), 11, "DE60 %q", de60)
			}
		})
	}
}
