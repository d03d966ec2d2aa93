package acquirer

import (
	"encoding/hex"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/posim/posim/emv"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// capturedDE55 is the chip data of a real UnionPay terminal's transaction
// (the captured cup upload of wire/cup_capture_test.go): its own issuer's
// ARQC, which posim cannot and need not verify for a card it does not know
// as a chip card.
const capturedDE55 = "9F2608852251D267A1271C9F101307010103A02000010A010000000000CCF27CAF9F37043266F78A9F36020054950500000000009A031406269C01009F02060000000049805F2A02015682027C009F1A0201569F03060000000000009F3303E0E1C89F34030200009F3501229F1E0830313638323638398408A0000003330101019F090200209F410400014509"

// ascii87 packs an ISO 8583:1987 ASCII message the way jPOS's
// ISO87APackager does, written out here independently of posim's and
// moov's codecs: MTI, a primary bitmap as 16 hex characters, numeric and
// alphanumeric fields as characters, LL/LLL lengths as digits, and DE55 as
// raw bytes behind an LLL length (IFA_LLLBINARY); framed by a 2-byte length.
func ascii87(mti string, fields map[int]string) []byte {
	var ids []int
	for id := range fields {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	var bitmap [8]byte
	var body strings.Builder
	for _, id := range ids {
		bitmap[(id-1)/8] |= 0x80 >> ((id - 1) % 8)
		v := fields[id]
		switch id {
		case 2:
			fmt.Fprintf(&body, "%02d%s", len(v), v)
		case 55:
			fmt.Fprintf(&body, "%03d%s", len(v), v)
		default:
			body.WriteString(v)
		}
	}
	msg := mti + strings.ToUpper(hex.EncodeToString(bitmap[:])) + body.String()
	return append([]byte{byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

func TestAcquirer_RawDE55FromAnotherImplementation(t *testing.T) {
	de55, err := hex.DecodeString(capturedDE55)
	require.NoError(t, err)
	for name, icc := range map[string]string{
		"raw bytes (jPOS IFA_LLLBINARY)":   string(de55),
		"hex characters (the alternative)": capturedDE55,
	} {
		t.Run(name, func(t *testing.T) {
			a := start(t)
			c, err := net.DialTimeout("tcp", a.Addr(), time.Second)
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
			_, err = c.Write(ascii87("0200", map[int]string{
				2: "6200000000000005", 3: "000000", 4: "000000004980", 7: "1127120000", 11: "014509",
				12: "120000", 13: "1127", 14: "3012", 22: "051", 23: "001", 25: "00",
				41: "POSIM001", 42: "POSIM0000000001", 49: "156", 55: icc,
			}))
			require.NoError(t, err)
			hdr, answer := readFrame(t, c)
			require.Equal(t, "0210", string(answer[:4]))
			m, err := wire.NewCodec(wire.ISO87).ReadMessage(strings.NewReader(string(append(hdr[:], answer...))))
			require.NoError(t, err)
			x, err := wire.ISO87.Decode(m)
			require.NoError(t, err)
			require.Equal(t, "00", x.ResponseCode, "chip data of a card posim holds no keys for is accepted as it is")
			recs := a.Engine().Find("POSIM001", "0200", "014509")
			require.Len(t, recs, 1)
		})
	}
}

// A chip card swiped without its chip is told by its service code (2xx)
// even when the terminal does not say fallback (DE22 02x): the fallback
// policy answers it; a magnetic stripe card (1xx) is not affected.
func TestEngine_ChipCardSwipedIsAFallback(t *testing.T) {
	e := newEngine(t, func(p *Policies) { p.Fallback = "05" })
	swiped := func(service string) *wire.Txn {
		r := sale(propChipPAN, 100)
		r.EntryMode, r.Track2 = "021", propChipPAN+"=3012"+service+"0000000000"
		return r
	}
	d := e.Decide(swiped("201"), t0)
	require.Equal(t, "05", d.Response.ResponseCode)
	require.Contains(t, d.Why, "service code 2xx")
	d = e.Decide(swiped("101"), t0)
	require.NotContains(t, d.Why, "service code", "a 1xx track is a stripe card's")
}

// A script advice (0620) reports the script results in DF31 as PBOC
// terminals write them or in EMV's 9F5B; the host books either on the
// sale, and refuses (30) an advice that carries neither.
func TestEngine_ScriptAdviceTakesDF31Or9F5B(t *testing.T) {
	e := newEngine(t)
	s := sale(approvePAN, 100)
	require.Equal(t, "00", e.Decide(s, t0).Response.ResponseCode)
	advice := func(tag uint32) *wire.Txn {
		stanSeq++
		return &wire.Txn{MTI: "0620", Op: wire.OpScriptAdvice, PAN: approvePAN, Amount: 100, HasAmount: true,
			STAN: pad6(stanSeq), TID: "T1", MID: "M1", Original: &wire.Original{MTI: "0200", STAN: s.STAN},
			ICC: emv.List{{Tag: tag, Value: []byte{0x20, 0, 0, 0, 0}}}.Bytes()}
	}
	for _, tag := range []uint32{emv.TagScriptResult, emv.TagScriptResultsEMV} {
		d := e.Decide(advice(tag), t0)
		require.Equal(t, "00", d.Response.ResponseCode, d.Why)
		require.Contains(t, d.Why, "processed (DF31 2000000000)")
	}
	d := e.Decide(advice(emv.TagATC), t0)
	require.Equal(t, "30", d.Response.ResponseCode)
	require.Contains(t, d.Why, "DF31 or 9F5B")
}
