package terminal_test

import (
	"net"
	"testing"
	"time"

	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

type rawConn struct {
	c     net.Conn
	codec *wire.Codec
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &rawConn{c: c, codec: wire.NewCodec(wire.ISO87)}
}

func (r *rawConn) roundTrip(t *testing.T, req *wire.Txn) *wire.Txn {
	t.Helper()
	m, err := wire.ISO87.Encode(req)
	require.NoError(t, err)
	require.NoError(t, r.c.SetDeadline(time.Now().Add(5*time.Second)))
	require.NoError(t, r.codec.WriteMessage(r.c, m))
	rm, err := r.codec.ReadMessage(r.c)
	require.NoError(t, err)
	resp, err := wire.ISO87.Decode(rm)
	require.NoError(t, err)
	return resp
}

// restartWith writes st as a terminal's state and starts a terminal on it.
func restartWith(t *testing.T, addr, tid string, st terminal.State) *terminal.Terminal {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, terminal.WriteState(dir, st))
	return newTerminal(t, addr, dir, func(c *terminal.Config) { c.TID = tid })
}
