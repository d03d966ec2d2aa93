package acquirer

import (
	"encoding/hex"
	"net"
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// As field hosts do, posim's cup acquirer answers with the TPDU of the
// request it read, destination and source swapped, and echoes its header;
// a terminal whose header differs only in the software sub-version is
// answered by default, and dropped when headers must match exactly.
func TestAcquirer_CUPAnswerEchoesTPDUAndHeader(t *testing.T) {
	host, err := wire.NewTPDUFramer(nil, "", "", "")
	require.NoError(t, err)
	exact := host
	require.NoError(t, exact.SetHeaderMatch(wire.HeaderMatchExact))
	accepting, err := wire.NewTPDUFramer(nil, "", "", wire.MismatchAccept)
	require.NoError(t, err)
	tests := []struct {
		name         string
		framer       wire.TPDUFramer
		tpdu, header string
		answered     bool
	}{
		{"its own TPDU and header", host, "6000030000", "603100310730", true},
		{"another software sub-version", host, "6000030000", "603100310799", true},
		{"another sub-version, headers matched exactly", exact, "6000030000", "603100310799", false},
		{"another version", host, "6000030000", "603200310730", false},
		{"other NIIs, accepted by policy", accepting, "6000120034", "603200320101", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := start(t, WithProfile(wire.CUP), WithFramer(tt.framer))
			conn, err := net.Dial("tcp", a.Addr())
			require.NoError(t, err)
			t.Cleanup(func() { conn.Close() })
			term, err := wire.NewTPDUFramer(nil, tt.tpdu, tt.header, "")
			require.NoError(t, err)
			codec := wire.NewCodec(wire.CUP)
			codec.Framer = term
			m, err := wire.CUP.Encode(&wire.Txn{Op: wire.OpEcho, STAN: "000001", TID: "POSIM001", MID: "POSIM0000000001", Batch: "000001"})
			require.NoError(t, err)
			require.NoError(t, codec.WriteMessage(conn, m))
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(map[bool]time.Duration{true: 10 * time.Second, false: 500 * time.Millisecond}[tt.answered])))
			raw, err := wire.Binary2{}.ReadFrame(conn)
			if !tt.answered {
				require.Error(t, err, "the frame is dropped: no answer")
				return
			}
			require.NoError(t, err)
			swapped := tt.tpdu[:2] + tt.tpdu[6:10] + tt.tpdu[2:6]
			require.Equal(t, swapped+tt.header, hex.EncodeToString(raw[:11]))
		})
	}
}
