package wire

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Stream is one direction of a TCP connection read from a capture: its
// payload reassembled in sequence order.
type Stream struct {
	From, To string
	Data     []byte
	first    int // order of its first packet in the capture
}

// ReadPcap reads a pcap or pcapng capture and reassembles the TCP payload
// of each direction of each connection (retransmitted segments counted
// once), in the order the streams began.
func ReadPcap(r io.Reader) ([]Stream, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var src source
	var link layers.LinkType
	if pr, err := pcapgo.NewReader(bytes.NewReader(data)); err == nil {
		src, link = pr, pr.LinkType()
	} else if ng, ngErr := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions); ngErr == nil {
		src, link = ng, ng.LinkType()
	} else {
		return nil, fmt.Errorf("not a pcap or pcapng capture: %v", err)
	}
	type segment struct {
		seq  uint32
		data []byte
	}
	type flow struct {
		from, to string
		segs     []segment
		first    int
	}
	flows := map[string]*flow{}
	for n := 0; ; n++ {
		pkt, _, err := src.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("packet %d: %w", n+1, err)
		}
		p := gopacket.NewPacket(pkt, link, gopacket.Default)
		tcpLayer, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok || len(tcpLayer.Payload) == 0 {
			continue
		}
		var srcIP, dstIP string
		if nl := p.NetworkLayer(); nl != nil {
			srcIP, dstIP = nl.NetworkFlow().Src().String(), nl.NetworkFlow().Dst().String()
		}
		from := net.JoinHostPort(srcIP, strconv.Itoa(int(tcpLayer.SrcPort))) // [::1]:8583 for IPv6
		to := net.JoinHostPort(dstIP, strconv.Itoa(int(tcpLayer.DstPort)))
		f := flows[from+">"+to]
		if f == nil {
			f = &flow{from: from, to: to, first: n}
			flows[from+">"+to] = f
		}
		f.segs = append(f.segs, segment{seq: tcpLayer.Seq, data: slices.Clone(tcpLayer.Payload)})
	}
	var out []Stream
	for _, f := range flows {
		slices.SortStableFunc(f.segs, func(a, b segment) int { return int(int32(a.seq - b.seq)) })
		var buf []byte
		var next uint32
		for i, s := range f.segs {
			if i > 0 && int32(s.seq-next) < 0 {
				// a retransmission, or an overlap: keep only what is new
				skip := int(next - s.seq)
				if skip >= len(s.data) {
					continue
				}
				s.data = s.data[skip:]
				s.seq = next
			}
			buf = append(buf, s.data...)
			next = s.seq + uint32(len(s.data))
		}
		out = append(out, Stream{From: f.from, To: f.to, Data: buf, first: f.first})
	}
	slices.SortFunc(out, func(a, b Stream) int { return a.first - b.first })
	return out, nil
}

// SplitFrames cuts a stream into frames of the framing; what remains after
// the last whole frame is returned apart.
func SplitFrames(data []byte, f Framer) (frames [][]byte, rest []byte) {
	f = InnerFramer(f)
	hl := frameHeaderLen(f)
	for len(data) >= hl {
		n, err := announcedLength(data, f)
		if err != nil || len(data) < hl+n {
			break
		}
		frames = append(frames, data[:hl+n])
		data = data[hl+n:]
	}
	return frames, data
}
