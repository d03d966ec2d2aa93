package load

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/moov-io/iso8583"
	connection "github.com/moov-io/iso8583-connection"
	"github.com/posim/posim/wire"
)

// Baseline is a bare moov-io/iso8583-connection server that answers every
// request with 00: no ledger, journal, rules or events. It measures what
// the codec and the connection cost by themselves.
type Baseline struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []*connection.Connection
}

// echoed are the fields a response copies from its request.
var echoed = []int{2, 3, 4, 7, 11, 12, 13, 25, 41, 42, 49}

// StartBaseline listens on addr (127.0.0.1:0 in tests).
func StartBaseline(addr string, p wire.Profile) (*Baseline, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	b := &Baseline{ln: ln}
	codec := wire.NewCodec(p)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			c, err := connection.NewFrom(raw, p.Spec(), nil, nil,
				connection.SetMessageReader(codec), connection.SetMessageWriter(codec),
				connection.IdleTime(time.Hour), connection.ReadTimeout(time.Hour),
				connection.InboundMessageHandler(func(c *connection.Connection, m *iso8583.Message) {
					resp := iso8583.NewMessage(p.Spec())
					mti, _ := m.GetMTI()
					if rm, err := wire.ResponseMTI(mti); err == nil {
						mti = rm
					}
					resp.MTI(mti)
					for _, id := range echoed {
						if v, err := m.GetString(id); err == nil && v != "" {
							_ = resp.Field(id, v)
						}
					}
					_ = resp.Field(39, "00")
					_ = resp.Field(37, "000000000001")
					_ = resp.Field(38, "000001")
					_ = c.Reply(resp)
				}))
			if err != nil {
				raw.Close()
				continue
			}
			b.mu.Lock()
			b.conns = append(b.conns, c)
			b.mu.Unlock()
		}
	}()
	return b, nil
}

// Addr is the baseline's address.
func (b *Baseline) Addr() string { return b.ln.Addr().String() }

// Close stops the baseline.
func (b *Baseline) Close() error {
	err := b.ln.Close()
	b.wg.Wait()
	b.mu.Lock()
	for _, c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
