package load

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func TestRunAgainstBaseline(t *testing.T) {
	b, err := StartBaseline("127.0.0.1:0", wire.ISO87)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	progress := make(chan Progress, 10)
	res, err := Run(context.Background(), Options{Target: b.Addr(), Terminals: 4, Duration: 1200 * time.Millisecond,
		Progress: func(p Progress) {
			select {
			case progress <- p:
			default:
			}
		}})
	require.NoError(t, err)
	require.Positive(t, res.Responses)
	require.Equal(t, res.Responses, res.Codes["00"])
	require.Empty(t, res.Errors)
	require.Positive(t, res.Latency.P50)
	require.LessOrEqual(t, res.Latency.P50, res.Latency.Max)
	require.NotEmpty(t, res.Series)
	require.NotEmpty(t, progress, "progress is reported about once a second")
}

func TestRunRate(t *testing.T) {
	b, err := StartBaseline("127.0.0.1:0", wire.ISO87)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	res, err := Run(context.Background(), Options{Target: b.Addr(), Terminals: 2, Duration: time.Second, Rate: 50})
	require.NoError(t, err)
	// a target rate bounds the count: 50/s for one second, give or take the start
	require.LessOrEqual(t, res.Responses, int64(60))
	require.Positive(t, res.Responses)
}

func TestRunRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = Run(context.Background(), Options{Target: addr, Terminals: 1, Duration: time.Second})
	require.Error(t, err)
	_, err = Run(context.Background(), Options{Terminals: 0, Duration: time.Second})
	require.Error(t, err)
}
