package acquirer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func start(t *testing.T, opts ...Option) *Acquirer {
	t.Helper()
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil)))}, opts...)
	a, err := New(opts...)
	require.NoError(t, err)
	require.NoError(t, a.Listen("127.0.0.1:0"))
	t.Cleanup(func() { a.Close() })
	return a
}

type client struct {
	c     net.Conn
	codec *wire.Codec
}

func dial(t *testing.T, a *Acquirer) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", a.Addr(), time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	return &client{c: c, codec: wire.NewCodec(wire.ISO87)}
}

func (c *client) send(t *testing.T, req *wire.Txn) {
	t.Helper()
	m, err := wire.ISO87.Encode(req)
	require.NoError(t, err)
	require.NoError(t, c.codec.WriteMessage(c.c, m))
}

func (c *client) read(t *testing.T) *wire.Txn {
	t.Helper()
	m, err := c.codec.ReadMessage(c.c)
	require.NoError(t, err)
	resp, err := wire.ISO87.Decode(m)
	require.NoError(t, err)
	return resp
}

func (c *client) roundTrip(t *testing.T, req *wire.Txn) *wire.Txn {
	t.Helper()
	c.send(t, req)
	return c.read(t)
}

func TestAcquirer_Garbage(t *testing.T) {
	a := start(t)

	t.Run("an unparsable body gets 30 and the connection carries on", func(t *testing.T) {
		c := dial(t, a)
		frame, err := wire.Binary2{}.AppendFrame(nil, []byte("0200ZZZZZZZZZZZZZZZZ"))
		require.NoError(t, err)
		_, err = c.c.Write(frame)
		require.NoError(t, err)
		resp := c.read(t)
		require.Equal(t, "0210", resp.MTI)
		require.Equal(t, "30", resp.ResponseCode)
		require.Equal(t, "00", c.roundTrip(t, sale(approvePAN, 100)).ResponseCode)
		require.NotEmpty(t, a.Journal().List(Filter{Kind: KindBadFrame}))
	})

	t.Run("an oversized length closes only that connection", func(t *testing.T) {
		other := dial(t, a)
		bad := dial(t, a)
		_, err := bad.c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		require.NoError(t, err)
		_, err = io.ReadAll(bad.c) // returns when the acquirer closes it
		require.NoError(t, err)
		require.Equal(t, "00", other.roundTrip(t, sale(approvePAN, 100)).ResponseCode)
	})

	t.Run("random bytes do not stop the acquirer approving the next sale", func(t *testing.T) {
		for _, junk := range [][]byte{{0, 3, 1, 2, 3}, {0, 1, 0xFF}, bytes.Repeat([]byte{0x30}, 64), {0, 0}} {
			c := dial(t, a)
			_, _ = c.c.Write(junk)
			c.c.Close()
		}
		require.Equal(t, "00", dial(t, a).roundTrip(t, sale(approvePAN, 100)).ResponseCode)
	})

	t.Run("an unknown MTI gets 12", func(t *testing.T) {
		c := dial(t, a)
		resp := c.roundTrip(t, &wire.Txn{MTI: "0600", STAN: "000042", TID: "T1"})
		require.Equal(t, "0610", resp.MTI)
		require.Equal(t, "12", resp.ResponseCode)
		require.Equal(t, "000042", resp.STAN)
	})

	t.Run("a bad field content gets 30", func(t *testing.T) {
		c := dial(t, a)
		m, err := wire.ISO87.Encode(sale(approvePAN, 100))
		require.NoError(t, err)
		require.NoError(t, m.Field(4, "00000000ABCD"))
		require.NoError(t, c.codec.WriteMessage(c.c, m))
		require.Equal(t, "30", c.read(t).ResponseCode)
	})
}

func TestAcquirer_JournalAndClose(t *testing.T) {
	a := start(t)
	c := dial(t, a)
	s := sale(approvePAN, 1234)
	require.Equal(t, "00", c.roundTrip(t, s).ResponseCode)
	in := a.Journal().List(Filter{Kind: KindIn})
	require.Len(t, in, 1)
	require.Equal(t, "620000******0005", in[0].PAN)
	out := a.Journal().List(Filter{Kind: KindOut})
	require.Len(t, out, 1)
	require.Equal(t, "00", out[0].RC)
	dec := a.Journal().List(Filter{Kind: KindDecision})
	require.Equal(t, StatusApproved, dec[0].Status)

	require.NoError(t, a.Close())
	require.NoError(t, a.Close(), "Close is idempotent")
	_, err := net.DialTimeout("tcp", a.Addr(), 200*time.Millisecond)
	require.Error(t, err)
}

func TestAcquirer_LogsMaskedPAN(t *testing.T) {
	var buf syncBuffer
	a, err := New(WithLogger(slog.New(slog.NewJSONHandler(&buf, nil))))
	require.NoError(t, err)
	require.NoError(t, a.Listen("127.0.0.1:0"))
	c := dial(t, a)
	s := sale(approvePAN, 100)
	s.Track2 = approvePAN + "=30121010000000000"
	c.roundTrip(t, s)
	a.Close()
	out := buf.String()
	require.Contains(t, out, `"pan":"620000******0005"`)
	require.Contains(t, out, `"mti":"0200"`)
	require.NotContains(t, out, approvePAN)
}

func TestAcquirer_HandlerContextEndsOnClose(t *testing.T) {
	entered := make(chan struct{})
	a := start(t, WithHandler(HandlerFunc(func(ctx context.Context, x *Exchange) {
		close(entered)
		<-ctx.Done()
	})))
	c := dial(t, a)
	c.send(t, sale(approvePAN, 100))
	<-entered
	done := make(chan struct{})
	go func() { a.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return while a handler was waiting")
	}
}

func TestAcquirer_PipelinedRequestsAnsweredInOrder(t *testing.T) {
	a := start(t)
	c := dial(t, a)
	// ten sales written back to back, before any answer is read: the
	// default handler runs on the read loop, so answers come in order
	for i := range 10 {
		s := sale(approvePAN, int64(100+i))
		s.STAN = fmt.Sprintf("%06d", 500+i)
		c.send(t, s)
	}
	for i := range 10 {
		resp := c.read(t)
		require.Equal(t, fmt.Sprintf("%06d", 500+i), resp.STAN)
		require.Equal(t, "00", resp.ResponseCode)
	}
}

func TestAcquirer_BlockingHandlerDoesNotStopTheConnection(t *testing.T) {
	release := make(chan struct{})
	// a plain Handler runs in a goroutine of its own: while it waits on
	// the first request, the second one on the same connection is answered
	a := start(t, WithHandler(HandlerFunc(func(ctx context.Context, x *Exchange) {
		resp := x.Process()
		if x.Request.Amount == 111 {
			select {
			case <-release:
			case <-ctx.Done():
				return
			}
		}
		_ = x.Respond(resp)
	})))
	c := dial(t, a)
	first := sale(approvePAN, 111)
	first.STAN = "000001"
	second := sale(approvePAN, 222)
	second.STAN = "000002"
	c.send(t, first)
	c.send(t, second)
	require.Equal(t, "000002", c.read(t).STAN, "the second answer overtakes the held first one")
	close(release)
	require.Equal(t, "000001", c.read(t).STAN)
}
