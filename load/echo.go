package load

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/posim/posim/wire"
)

// Echo is a raw framed echo server: it answers each frame with the frame
// itself, its MTI turned into the response's, and reads nothing else. It
// measures what reading and writing frames costs on this machine: the floor
// under any host.
type Echo struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// StartEcho listens on addr (127.0.0.1:0 in tests) with the profile's
// framing.
func StartEcho(addr string, p wire.Profile) (*Echo, error) {
	fp, ok := p.(wire.CompiledProfile)
	if !ok {
		return nil, fmt.Errorf("echo: profile %s has no compiled codec", p.Name())
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	framer := p.Framer()
	if tf, ok := framer.(wire.TPDUFramer); ok {
		tf.Reply = true // destination and source swapped, as a host answers
		framer = tf
	}
	e := &Echo{ln: ln, conns: map[net.Conn]struct{}{}}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.mu.Lock()
			e.conns[c] = struct{}{}
			e.mu.Unlock()
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				defer func() {
					e.mu.Lock()
					delete(e.conns, c)
					e.mu.Unlock()
					c.Close()
				}()
				r := bufio.NewReaderSize(c, 4096)
				var out []byte
				for {
					body, err := framer.ReadFrame(r)
					if err != nil {
						return
					}
					if len(body) == 0 || !fp.Compiled().Answer(body) {
						continue
					}
					if out, err = framer.AppendFrame(out[:0], body); err != nil {
						return
					}
					if _, err := c.Write(out); err != nil {
						return
					}
				}
			}()
		}
	}()
	return e, nil
}

// Addr is the echo server's address.
func (e *Echo) Addr() string { return e.ln.Addr().String() }

// Close stops the server and drops its connections.
func (e *Echo) Close() error {
	err := e.ln.Close()
	e.mu.Lock()
	for c := range e.conns {
		c.Close()
	}
	e.mu.Unlock()
	e.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
