package load

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// echoConn dials the echo server; reads on it give up after two seconds
// (the events awaited come at once).
func echoConn(t *testing.T, e *Echo) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", e.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetReadDeadline(time.Now().Add(2*time.Second)))
	return c, bufio.NewReader(c)
}

// saleFrame is a terminal's sale request of the profile, framed as a
// terminal frames it.
func saleFrame(t *testing.T, p wire.Profile, stan string) []byte {
	t.Helper()
	x := &wire.Txn{Op: wire.OpSale, PAN: "6200000000009998", Amount: 100, HasAmount: true, STAN: stan, LocalTime: "101112",
		LocalDate: "0102", TID: "L0000001", MID: "LOAD00000000001", Currency: "156", Condition: wire.CondNormal, Batch: "000001",
		EntryMode: "021", TransmissionTime: "0102101112"}
	frame, err := wire.NewCodec(p).FrameCompiled(p.(wire.CompiledProfile), x)
	require.NoError(t, err)
	return frame
}

// readRaw reads one frame with a 2-byte length header, header included.
func readRaw(t *testing.T, r *bufio.Reader) []byte {
	t.Helper()
	hdr := make([]byte, 2)
	_, err := io.ReadFull(r, hdr)
	require.NoError(t, err)
	body := make([]byte, int(hdr[0])<<8|int(hdr[1]))
	_, err = io.ReadFull(r, body)
	require.NoError(t, err)
	return append(hdr, body...)
}

// The echo answers a request with the very frame it read, its MTI turned
// into the response's; under cup the TPDU's destination and source swap
// places, as a host answers.
func TestEcho_AnswersAFrameWithItself(t *testing.T) {
	for _, tc := range []struct {
		p    wire.Profile
		want func(req []byte) []byte
	}{{
		p: wire.ISO87,
		want: func(req []byte) []byte { // length, then the MTI in ASCII
			resp := bytes.Clone(req)
			require.Equal(t, "0200", string(req[2:6]))
			resp[4] = '1'
			return resp
		},
	}, {
		p: wire.CUP,
		want: func(req []byte) []byte { // length, TPDU, header, then the MTI in BCD
			resp := bytes.Clone(req)
			require.Equal(t, []byte{0x60, 0x00, 0x03, 0x00, 0x00}, req[2:7], "to NII 0003 from 0000")
			copy(resp[2:7], []byte{0x60, 0x00, 0x00, 0x00, 0x03})
			require.Equal(t, []byte{0x02, 0x00}, req[13:15])
			resp[14] = 0x10
			return resp
		},
	}} {
		e := startEcho(t, tc.p)
		c, r := echoConn(t, e)
		req := saleFrame(t, tc.p, "000042")
		_, err := c.Write(req)
		require.NoError(t, err)
		got := readRaw(t, r)
		require.Equal(t, tc.want(req), got, tc.p.Name())

		// and a terminal reads it as the answer to its request
		body, err := tc.p.Framer().ReadFrame(bytes.NewReader(got))
		require.NoError(t, err, tc.p.Name())
		var fs wire.Fields
		require.NoError(t, tc.p.(wire.CompiledProfile).Compiled().Unpack(body, &fs), tc.p.Name())
		mti, _ := fs.GetMTI()
		stan, _ := fs.GetString(11)
		require.Equal(t, "0210", mti, tc.p.Name())
		require.Equal(t, "000042", stan, tc.p.Name())
	}
}

// A keep-alive (empty frame) and a frame that is no request (a 0210) are
// not answered; the connection carries on, and the next request is.
func TestEcho_AnswersOnlyRequests(t *testing.T) {
	e := startEcho(t, wire.ISO87)
	c, r := echoConn(t, e)
	notRequest := saleFrame(t, wire.ISO87, "000007")
	notRequest[4] = '1' // 0210
	var out []byte
	out = append(out, 0, 0) // keep-alive
	out = append(out, notRequest...)
	out = append(out, saleFrame(t, wire.ISO87, "000008")...)
	_, err := c.Write(out)
	require.NoError(t, err)
	got := readRaw(t, r)
	require.Equal(t, "0210", string(got[2:6]))
	require.Contains(t, string(got), "000008", "the first answer is the request's")
	require.NotContains(t, string(got), "000007")
}

// A frame longer than any message (the stream cannot be read on) closes
// the connection; the server carries on with others.
func TestEcho_ClosesOnABadFrame(t *testing.T) {
	e := startEcho(t, wire.ISO87)
	c, r := echoConn(t, e)
	_, err := c.Write([]byte{0xFF, 0xFF}) // 65535 bytes to come
	require.NoError(t, err)
	_, err = r.ReadByte()
	require.Truef(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "closed, not left waiting: %v", err)

	c2, r2 := echoConn(t, e)
	_, err = c2.Write(saleFrame(t, wire.ISO87, "000001"))
	require.NoError(t, err)
	require.Equal(t, "0210", string(readRaw(t, r2)[2:6]))
}

// Close drops the open connections and stops listening; a second Close
// is harmless.
func TestEcho_Close(t *testing.T) {
	e, err := StartEcho("127.0.0.1:0", wire.ISO87)
	require.NoError(t, err)
	c, r := echoConn(t, e)
	_, err = c.Write(saleFrame(t, wire.ISO87, "000001"))
	require.NoError(t, err)
	readRaw(t, r) // the connection is being served

	closed := make(chan error, 1)
	go func() { closed <- e.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "Close waits for a connection it should have dropped")
	}
	_, err = r.ReadByte()
	require.ErrorIs(t, err, io.EOF)
	_, err = net.Dial("tcp", e.Addr())
	require.Error(t, err, "no longer listening")
	require.NoError(t, e.Close())
}

func TestStartEcho_Errors(t *testing.T) {
	_, err := StartEcho("127.0.0.1:0", uncompiled{wire.ISO87})
	require.ErrorContains(t, err, "no compiled codec")

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	_, err = StartEcho(busy.Addr().String(), wire.ISO87)
	var opErr *net.OpError
	require.True(t, errors.As(err, &opErr), "%v", err)
}

// uncompiled is a profile without a compiled codec (a custom dialect).
type uncompiled struct{ wire.Profile }
