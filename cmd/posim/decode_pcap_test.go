package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/terminal"
	"github.com/stretchr/testify/require"
)

// chunk is what one side wrote, as a capture on the loopback sees it.
type chunk struct {
	up   bool // terminal to host
	data []byte
}

// tap relays one connection to target and keeps every chunk each way.
type tap struct {
	mu     sync.Mutex
	chunks []chunk
}

func (tp *tap) copy(dst io.Writer, src io.Reader, up bool) {
	buf := make([]byte, 4096)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			tp.mu.Lock()
			tp.chunks = append(tp.chunks, chunk{up: up, data: append([]byte{}, buf[:n]...)})
			tp.mu.Unlock()
			_, _ = dst.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func startTap(t *testing.T, target string) (string, *tap) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	tp := &tap{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				return
			}
			go func() { tp.copy(u, c, true); u.Close() }()
			go func() { tp.copy(c, u, false); c.Close() }()
		}
	}()
	return ln.Addr().String(), tp
}

// writePcap writes the chunks as an Ethernet capture of one TCP connection
// between 127.0.0.1:40001 (terminal) and 127.0.0.1:8583 (host), with the
// first segment of each direction sent twice (a retransmission).
func writePcap(t *testing.T, path string, chunks []chunk) {
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	w := pcapgo.NewWriter(f)
	require.NoError(t, w.WriteFileHeader(65535, layers.LinkTypeEthernet))
	seq := map[bool]uint32{true: 1000, false: 5000}
	sent := map[bool]bool{}
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	write := func(c chunk) {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 0, 0, 0, 0, 0}, DstMAC: net.HardwareAddr{0, 0, 0, 0, 0, 0}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(127, 0, 0, 1), DstIP: net.IPv4(127, 0, 0, 1)}
		tcp := &layers.TCP{SrcPort: 40001, DstPort: 8583, Seq: seq[c.up], ACK: true, PSH: true, Window: 65535}
		if !c.up {
			tcp.SrcPort, tcp.DstPort = 8583, 40001
		}
		require.NoError(t, tcp.SetNetworkLayerForChecksum(ip))
		buf := gopacket.NewSerializeBuffer()
		require.NoError(t, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(c.data)))
		at = at.Add(time.Millisecond)
		require.NoError(t, w.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes()))
	}
	for _, c := range chunks {
		write(c)
		if !sent[c.up] {
			write(c) // retransmitted: the decoder must count it once
			sent[c.up] = true
		}
		seq[c.up] += uint32(len(c.data))
	}
}

func TestDecode_PcapOfALoopbackSale(t *testing.T) {
	a, err := acquirer.New()
	require.NoError(t, err)
	require.NoError(t, a.Listen("127.0.0.1:0"))
	t.Cleanup(func() { a.Close() })
	addr, tp := startTap(t, a.Addr())
	cfg := terminal.DefaultConfig()
	cfg.Host, cfg.StateDir = addr, t.TempDir()
	term, err := terminal.New(cfg)
	require.NoError(t, err)
	res, err := term.Sale(context.Background(), terminal.Request{Card: "approve", Amount: 1234})
	require.NoError(t, err)
	require.Equal(t, terminal.Approved, res.Outcome)
	require.NoError(t, term.Close())

	tp.mu.Lock()
	chunks := append([]chunk{}, tp.chunks...)
	tp.mu.Unlock()
	path := filepath.Join(t.TempDir(), "sale.pcap")
	writePcap(t, path, chunks)

	code, out, errOut := posim(t, "decode", "--pcap", path)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "127.0.0.1:40001 -> 127.0.0.1:8583: 1 frames (binary2 framing)")
	require.Contains(t, out, "127.0.0.1:8583 -> 127.0.0.1:40001: 1 frames (binary2 framing)")
	require.Contains(t, out, "0200 sale (iso87")
	require.Contains(t, out, "0210 sale (iso87")
	require.Contains(t, out, "620000******0005")
	require.Contains(t, out, "000000001234")
}
