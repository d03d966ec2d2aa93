package acquirer

import (
	"bytes"
	"encoding/hex"
	"io"
	"net"
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// A real terminal's sign-on, as captured (a POS app's socket code keeps the
// frame it sends, HexString2Bytes("003C6006..."); found through the code
// search index, which does not record the repository): TPDU 60 0601 0000,
// header 6032 0032 4017, 0800 with DE11, DE41, DE42, DE60 (batch 000002,
// 60.3 003: double-length keys) and DE63 (operator 001). posim's cup host,
// configured with that capture's TPDU and header, must answer it 00 with
// the keys asked for.
const capturedSignOn = "003C600601000060320032401708000020000000C00012000121313030323038333133303836343030343131313030303300110000000200300003303031"

func TestAcquirer_AnswersACapturedSignOn(t *testing.T) {
	framer, err := wire.NewTPDUFramer(wire.Binary2{}, "6006010000", "603200324017", wire.MismatchReject)
	require.NoError(t, err)
	a := start(t, WithProfile(wire.CUP), WithFramer(framer))
	c, err := net.DialTimeout("tcp", a.Addr(), time.Second)
	require.NoError(t, err)
	defer c.Close()
	frame, err := hex.DecodeString(capturedSignOn)
	require.NoError(t, err)
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = c.Write(frame)
	require.NoError(t, err)

	hdr, answer := readFrame(t, c)
	require.Equal(t, "6000000601", hex.EncodeToString(answer[:5]), "the TPDU's NIIs swapped")
	require.Equal(t, "603201324017", hex.EncodeToString(answer[5:11]),
		"the same header, its processing request 1: a terminal that has not downloaded is asked to")
	codec := wire.NewCodec(wire.CUP)
	codec.Framer = framer
	m, err := codec.ReadMessage(bytes.NewReader(append(hdr[:], answer...)))
	require.NoError(t, err)
	x, err := wire.CUP.Decode(m)
	require.NoError(t, err)
	require.Equal(t, "0810", x.MTI)
	require.Equal(t, "00", x.ResponseCode)
	require.Equal(t, "000121", x.STAN)
	require.Equal(t, "10020831", x.TID)
	require.Len(t, x.Keys, 40, "003: PIN and MAC keys, double length, with check values")
	require.Equal(t, "000002", x.Batch)
}

// readFrame reads one frame behind a 2-byte length: the length and the
// frame.
func readFrame(t *testing.T, r io.Reader) ([2]byte, []byte) {
	t.Helper()
	var hdr [2]byte
	_, err := io.ReadFull(r, hdr[:])
	require.NoError(t, err)
	frame := make([]byte, int(hdr[0])<<8|int(hdr[1]))
	_, err = io.ReadFull(r, frame)
	require.NoError(t, err)
	return hdr, frame
}
