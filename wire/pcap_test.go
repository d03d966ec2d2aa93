package wire

import (
	"bytes"
	"encoding/hex"
	"net"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/stretchr/testify/require"
)

// segment is one TCP segment of a capture to be written.
type segment struct {
	src, dst string // ip:port
	seq      uint32
	data     []byte
	udp      bool // a UDP datagram instead
}

func hostPort(t *testing.T, s string) (net.IP, uint16) {
	t.Helper()
	h, p, err := net.SplitHostPort(s)
	require.NoError(t, err)
	port, err := net.LookupPort("tcp", p)
	require.NoError(t, err)
	return net.ParseIP(h), uint16(port)
}

// packet serialises a segment as an Ethernet frame (IPv4 or IPv6).
func packet(t *testing.T, s segment) []byte {
	t.Helper()
	sip, sport := hostPort(t, s.src)
	dip, dport := hostPort(t, s.dst)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	var ip gopacket.NetworkLayer
	var ipLayer gopacket.SerializableLayer
	proto := layers.IPProtocolTCP
	if s.udp {
		proto = layers.IPProtocolUDP
	}
	if sip.To4() != nil {
		eth.EthernetType = layers.EthernetTypeIPv4
		v4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: sip.To4(), DstIP: dip.To4()}
		ip, ipLayer = v4, v4
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: sip, DstIP: dip}
		ip, ipLayer = v6, v6
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if s.udp {
		udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
		require.NoError(t, udp.SetNetworkLayerForChecksum(ip))
		require.NoError(t, gopacket.SerializeLayers(buf, opts, eth, ipLayer, udp, gopacket.Payload(s.data)))
		return buf.Bytes()
	}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: s.seq, ACK: true, PSH: len(s.data) > 0, Window: 65535}
	require.NoError(t, tcp.SetNetworkLayerForChecksum(ip))
	require.NoError(t, gopacket.SerializeLayers(buf, opts, eth, ipLayer, tcp, gopacket.Payload(s.data)))
	return buf.Bytes()
}

// pcapOf writes the segments as a pcap capture, or pcapng.
func pcapOf(t *testing.T, ng bool, segs ...segment) []byte {
	t.Helper()
	var out bytes.Buffer
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var write func(ci gopacket.CaptureInfo, data []byte) error
	var flush func() error
	if ng {
		w, err := pcapgo.NewNgWriter(&out, layers.LinkTypeEthernet)
		require.NoError(t, err)
		write, flush = w.WritePacket, w.Flush
	} else {
		w := pcapgo.NewWriter(&out)
		require.NoError(t, w.WriteFileHeader(65535, layers.LinkTypeEthernet))
		write, flush = w.WritePacket, func() error { return nil }
	}
	for _, s := range segs {
		p := packet(t, s)
		at = at.Add(time.Millisecond)
		require.NoError(t, write(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(p), Length: len(p)}, p))
	}
	require.NoError(t, flush())
	return out.Bytes()
}

const (
	pcapTerm = "10.0.0.7:40001"
	pcapHost = "10.0.0.1:8583"
)

func TestReadPcap_ReassemblesEachDirection(t *testing.T) {
	for _, ng := range []bool{false, true} {
		capture := pcapOf(t, ng,
			segment{src: pcapTerm, dst: pcapHost, seq: 1000, data: []byte("hello ")},
			segment{src: pcapHost, dst: pcapTerm, seq: 9000},                         // an ACK: no payload
			segment{src: pcapTerm, dst: pcapHost, seq: 1012, data: []byte("!")},      // ahead of the next
			segment{src: pcapTerm, dst: pcapHost, seq: 1006, data: []byte("world ")}, // arrives late
			segment{src: pcapHost, dst: pcapTerm, seq: 9000, data: []byte("answer")},
			segment{src: pcapTerm, dst: pcapHost, seq: 1000, data: []byte("hello ")}, // retransmitted
			segment{src: "10.0.0.7:5353", dst: "10.0.0.1:5353", udp: true, data: []byte("not tcp")},
		)
		streams, err := ReadPcap(bytes.NewReader(capture))
		require.NoError(t, err, "pcapng %v", ng)
		require.Len(t, streams, 2)
		require.Equal(t, pcapTerm, streams[0].From, "streams in the order they began")
		require.Equal(t, pcapHost, streams[0].To)
		require.Equal(t, "hello world !", string(streams[0].Data), "in sequence order, the retransmission once")
		require.Equal(t, pcapHost, streams[1].From)
		require.Equal(t, "answer", string(streams[1].Data))
	}
}

// Overlapping segments keep only what is new; sequence numbers that wrap
// past 2^32 stay in order.
func TestReadPcap_OverlapsAndWraparound(t *testing.T) {
	capture := pcapOf(t, false,
		segment{src: pcapTerm, dst: pcapHost, seq: 0xFFFFFFFA, data: []byte("0123456789")}, // "6" at 2^32: seq 0
		segment{src: pcapTerm, dst: pcapHost, seq: 0x00000008, data: []byte("EF")},
		segment{src: pcapTerm, dst: pcapHost, seq: 0x00000000, data: []byte("6789ABCD")}, // its first 4 bytes again
	)
	streams, err := ReadPcap(bytes.NewReader(capture))
	require.NoError(t, err)
	require.Len(t, streams, 1)
	require.Equal(t, "0123456789ABCDEF", string(streams[0].Data))
}

func TestReadPcap_ConnectionsAndIPv6(t *testing.T) {
	v6term, v6host := "[2001:db8::7]:40002", "[2001:db8::1]:8583"
	capture := pcapOf(t, false,
		segment{src: v6term, dst: v6host, seq: 1, data: []byte("six")},
		segment{src: pcapTerm, dst: pcapHost, seq: 1, data: []byte("four")},
		segment{src: "10.0.0.8:40001", dst: pcapHost, seq: 1, data: []byte("other terminal")},
	)
	streams, err := ReadPcap(bytes.NewReader(capture))
	require.NoError(t, err)
	require.Len(t, streams, 3)
	require.Equal(t, v6term, streams[0].From, "an IPv6 address in brackets, so that the port stands apart")
	require.Equal(t, v6host, streams[0].To)
	require.Equal(t, "six", string(streams[0].Data))
	require.Equal(t, "four", string(streams[1].Data))
	require.Equal(t, "10.0.0.8:40001", streams[2].From, "another connection, another stream")
	require.Equal(t, "other terminal", string(streams[2].Data))
}

func TestReadPcap_Refusals(t *testing.T) {
	_, err := ReadPcap(bytes.NewReader([]byte("this is not a capture at all, just text")))
	require.ErrorContains(t, err, "not a pcap or pcapng capture")
	_, err = ReadPcap(bytes.NewReader(nil))
	require.ErrorContains(t, err, "not a pcap or pcapng capture")

	empty := pcapOf(t, false)
	streams, err := ReadPcap(bytes.NewReader(empty))
	require.NoError(t, err, "a capture of nothing")
	require.Empty(t, streams)

	capture := pcapOf(t, false, segment{src: pcapTerm, dst: pcapHost, seq: 1, data: []byte("first")}, segment{src: pcapTerm, dst: pcapHost, seq: 6, data: []byte("second")})
	_, err = ReadPcap(bytes.NewReader(capture[:len(capture)-3]))
	require.ErrorContains(t, err, "packet 2", "a capture cut off inside a packet says which")
}

func TestSplitFrames(t *testing.T) {
	stream := append(append(append(frameOf(t, Binary2{}, "one"), frameOf(t, Binary2{}, "")...), frameOf(t, Binary2{}, "three")...), 0, 9, 'p')
	frames, rest := SplitFrames(stream, Binary2{})
	require.Equal(t, [][]byte{{0, 3, 'o', 'n', 'e'}, {0, 0}, {0, 5, 't', 'h', 'r', 'e', 'e'}}, frames, "whole frames with their headers, keep-alives too")
	require.Equal(t, []byte{0, 9, 'p'}, rest, "a frame not yet complete")

	frames, rest = SplitFrames(stream, CUP.Framer())
	require.Len(t, frames, 3, "the length framing inside a TPDU framer")
	require.Len(t, rest, 3)

	ascii := append(frameOf(t, ASCII4{}, "abc"), "00x1zz"...)
	frames, rest = SplitFrames(ascii, ASCII4{})
	require.Equal(t, [][]byte{[]byte("0003abc")}, frames)
	require.Equal(t, "00x1zz", string(rest), "a header that is not one stops the split")

	frames, rest = SplitFrames(nil, BCD2{})
	require.Empty(t, frames)
	require.Empty(t, rest)
	frames, rest = SplitFrames([]byte{0x00}, BCD2{})
	require.Empty(t, frames)
	require.Equal(t, []byte{0x00}, rest)
}

// A captured cup upload cut into segments, as the wire carries it: read
// from the capture, split into frames, decoded.
func TestReadPcap_CUPFramesEndToEnd(t *testing.T) {
	raw, err := hex.DecodeString(capturedCUPUpload)
	require.NoError(t, err)
	two := append(bytes.Clone(raw), raw...)
	var segs []segment
	for off := 0; off < len(two); off += 100 {
		segs = append(segs, segment{src: pcapTerm, dst: pcapHost, seq: uint32(5000 + off), data: two[off:min(off+100, len(two))]})
	}
	segs[1], segs[2] = segs[2], segs[1] // one out of order
	streams, err := ReadPcap(bytes.NewReader(pcapOf(t, true, segs...)))
	require.NoError(t, err)
	require.Len(t, streams, 1)
	require.Equal(t, two, streams[0].Data)
	frames, rest := SplitFrames(streams[0].Data, CUP.Framer())
	require.Empty(t, rest)
	require.Len(t, frames, 2)
	for _, f := range frames {
		d, err := DecodeFrame(f, CUP, CUP.Framer())
		require.NoError(t, err)
		require.Equal(t, "0320", d.MTI)
		require.Equal(t, OpTCUpload, d.Op)
	}
}
