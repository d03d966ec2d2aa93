package recording_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/posim/posim/recording"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// writeOne records txn in direction dir and returns the line as written
// (parsed as JSON, to see its keys) and the entry read back.
func writeOne(t *testing.T, p wire.Profile, clear bool, dir string, txn *wire.Txn) (map[string]json.RawMessage, recording.Entry) {
	t.Helper()
	m, err := p.Encode(txn)
	require.NoError(t, err)
	var buf bytes.Buffer
	w := recording.NewWriter(&buf, p, p.Framer(), clear)
	require.NoError(t, w.Message(dir, "c1", nil, m, nil))
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(buf.Bytes(), &raw))
	entries, err := recording.Read(&buf, "mem")
	require.NoError(t, err)
	require.Len(t, entries, 1)
	return raw, entries[0]
}

// decodeFrame reads an entry's frame back as the dialect's typed message.
func decodeFrame(t *testing.T, p wire.Profile, e *recording.Entry) *wire.Txn {
	t.Helper()
	m, _, err := e.Message(p, p.Framer())
	require.NoError(t, err, "the recorded frame reads")
	txn, err := p.Decode(m)
	require.NoError(t, err)
	return txn
}

// cardSale is a sale with every kind of card data: PAN, track 2 and a PIN
// block.
func cardSale() *wire.Txn {
	s := sale("000001", 1234)
	s.PINBlock = []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF}
	return s
}

const (
	testPAN   = "4111111111111111"
	testTrack = "4111111111111111=30121010000012300000"
)

// The card data a recording line holds: first six and last four of the
// PAN, no track, no PIN block unless the recording is in the clear.
func TestWriter_CardDataInALine(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.Name()+"/masked", func(t *testing.T) {
			raw, e := writeOne(t, p, false, recording.Request, cardSale())
			require.Equal(t, "411111******1111", e.Field(2))
			require.Equal(t, "(track data, not recorded)", e.Field(35))
			require.Equal(t, "(PIN block, not recorded)", e.Field(52))
			require.False(t, e.Clear)
			require.NotContains(t, raw, "clear", "a masked line does not say clear")

			line, _ := json.Marshal(raw)
			for _, secret := range []string{testPAN, "30121010000012300000", "0123456789ABCDEF", strings.ToLower("0123456789ABCDEF")} {
				require.NotContains(t, string(line), secret)
			}
			// in the frame: the PAN neither as ASCII (iso87) nor as BCD digits (cup)
			require.NotContains(t, e.Frame, strings.ToUpper(hex.EncodeToString([]byte(testPAN))))
			require.NotContains(t, e.Frame, testPAN)
			require.NotContains(t, e.Frame, "0123456789ABCDEF")

			got := decodeFrame(t, p, &e)
			require.Equal(t, "4111110000001111", got.PAN, "the frame keeps first six and last four, zeros between")
			require.Equal(t, "0000000000000000=00000000000000000000", got.Track2, "track digits are zeros, the separator stays")
			require.Equal(t, make([]byte, 8), got.PINBlock, "the PIN block is zero bytes")
			// everything else is as sent
			require.Equal(t, int64(1234), got.Amount)
			require.Equal(t, "000001", got.STAN)
			require.Equal(t, "TERM0001", strings.TrimSpace(got.TID))
			require.Equal(t, "000000001234", e.Field(4))
			require.Equal(t, "000001", e.Field(11))
		})
		t.Run(p.Name()+"/clear", func(t *testing.T) {
			raw, e := writeOne(t, p, true, recording.Request, cardSale())
			require.Equal(t, testPAN, e.Field(2))
			require.Equal(t, testTrack, e.Field(35))
			require.Equal(t, "0123456789ABCDEF", e.Field(52), "the PIN block in hex")
			require.True(t, e.Clear)
			require.JSONEq(t, "true", string(raw["clear"]))

			got := decodeFrame(t, p, &e)
			require.Equal(t, testPAN, got.PAN)
			require.Equal(t, testTrack, got.Track2)
			require.Equal(t, cardSale().PINBlock, got.PINBlock)
		})
	}
}

// A line has exactly the documented keys: time, conn, dir, mti, fields,
// frame (and clear when in the clear); fields are keyed by number.
func TestWriter_LineKeys(t *testing.T) {
	before := time.Now().UTC()
	raw, e := writeOne(t, wire.ISO87, false, recording.Response, sale("000042", 5).Response("00"))
	after := time.Now().UTC()
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	require.ElementsMatch(t, []string{"time", "conn", "dir", "mti", "fields", "frame"}, keys)
	require.Equal(t, "c1", e.Conn)
	require.Equal(t, recording.Response, e.Dir)
	require.Equal(t, "0210", e.MTI)
	require.Equal(t, time.UTC, e.Time.Location())
	require.False(t, e.Time.Before(before.Truncate(time.Microsecond)) || e.Time.After(after), "the time of writing: %s", e.Time)
	require.Equal(t, "00", e.Field(39))
	require.Equal(t, "000042", e.Field(11))
	_, hasMTI := e.Fields["0"]
	_, hasBitmap := e.Fields["1"]
	require.False(t, hasMTI || hasBitmap, "MTI and bitmap are not fields of the line")
	require.Equal(t, strings.ToUpper(e.Frame), e.Frame, "the frame in upper-case hex")
}

// The frame: length header, then (cup) TPDU and header, then the body.
// Without a prefix the writer uses its framer's; with one, that one.
func TestWriter_FramePrefix(t *testing.T) {
	hostPrefix := wire.TPDUFramer{TPDU: wire.DefaultTPDU, Header: wire.DefaultHeader, Reply: true}.Prefix()
	cases := []struct {
		name       string
		p          wire.Profile
		prefix     []byte
		wantPrefix []byte
	}{
		{"iso87 has none", wire.ISO87, nil, nil},
		{"cup without a prefix: the framer's TPDU and header", wire.CUP, nil, wire.CUP.Framer().(wire.TPDUFramer).Prefix()},
		{"cup with the host's prefix", wire.CUP, hostPrefix, hostPrefix},
	}
	for _, clear := range []bool{false, true} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/clear=%v", tc.name, clear), func(t *testing.T) {
				m, err := tc.p.Encode(cardSale())
				require.NoError(t, err)
				var buf bytes.Buffer
				w := recording.NewWriter(&buf, tc.p, tc.p.Framer(), clear)
				require.NoError(t, w.Message(recording.Request, "c1", tc.prefix, m, nil))
				entries, err := recording.Read(&buf, "mem")
				require.NoError(t, err)
				frame, err := hex.DecodeString(entries[0].Frame)
				require.NoError(t, err)
				require.Equal(t, len(frame)-2, int(frame[0])<<8|int(frame[1]), "a binary2 length header counts the rest")
				require.Equal(t, tc.wantPrefix, nilIfEmpty(frame[2:2+len(tc.wantPrefix)]))
				_, prefix, err := entries[0].Message(tc.p, tc.p.Framer())
				require.NoError(t, err)
				require.Equal(t, tc.wantPrefix, prefix)
			})
		}
	}
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// The frame as it was on the wire is kept in the clear; a masked
// recording never writes it (it holds the card).
func TestWriter_RawFrame(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.Name(), func(t *testing.T) {
			m, err := p.Encode(cardSale())
			require.NoError(t, err)
			body, err := m.Pack()
			require.NoError(t, err)
			// as on the wire: another TPDU than the writer's own, so that a
			// frame packed again would differ
			wireFramer := p.Framer()
			if tf, ok := wireFramer.(wire.TPDUFramer); ok {
				tf.TPDU = [5]byte{0x60, 0x00, 0x05, 0x00, 0x07}
				wireFramer = tf
			}
			raw, err := wireFramer.AppendFrame(nil, body)
			require.NoError(t, err)

			for _, clear := range []bool{true, false} {
				var buf bytes.Buffer
				w := recording.NewWriter(&buf, p, p.Framer(), clear)
				require.NoError(t, w.Message(recording.Request, "c1", nil, m, raw))
				entries, err := recording.Read(&buf, "mem")
				require.NoError(t, err)
				if clear {
					require.Equal(t, strings.ToUpper(hex.EncodeToString(raw)), entries[0].Frame, "clear: the frame exactly as on the wire")
					continue
				}
				require.NotEqual(t, strings.ToUpper(hex.EncodeToString(raw)), entries[0].Frame)
				require.Equal(t, "4111110000001111", decodeFrame(t, p, &entries[0]).PAN, "masked: the frame packed again, card data zeroed")
			}
		})
	}
}

// A PAN too short to keep both ends is masked entirely.
func TestWriter_ShortPANMaskedEntirely(t *testing.T) {
	s := sale("000001", 100)
	s.PAN, s.Track2 = "123456789012", ""
	_, e := writeOne(t, wire.ISO87, false, recording.Request, s)
	require.Equal(t, "************", e.Field(2))
	require.Equal(t, "000000000000", decodeFrame(t, wire.ISO87, &e).PAN)
}

// Values with bytes that do not print (chip data) are written in hex;
// printable ones as they are.
func TestWriter_BinaryValuesInHex(t *testing.T) {
	icc := []byte{0x9F, 0x26, 0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}
	for _, p := range profiles {
		t.Run(p.Name(), func(t *testing.T) {
			s := sale("000001", 100)
			s.ICC = icc
			_, e := writeOne(t, p, false, recording.Request, s)
			require.Equal(t, "9F26080102030405060708", e.Field(55))
			require.Equal(t, "MERCHANT0000001", e.Field(42))
		})
	}
}

// Each message is flushed as it is recorded: a recording survives a kill.
func TestWriter_FlushesEveryMessage(t *testing.T) {
	var buf bytes.Buffer
	w := recording.NewWriter(&buf, wire.ISO87, wire.ISO87.Framer(), false)
	m, err := wire.ISO87.Encode(sale("000001", 100))
	require.NoError(t, err)
	require.NoError(t, w.Message(recording.Request, "c1", nil, m, nil))
	require.Equal(t, 1, strings.Count(buf.String(), "\n"), "written before Close")
	require.True(t, strings.HasSuffix(buf.String(), "}\n"))
	require.NoError(t, w.Message(recording.Response, "c1", nil, m, nil))
	require.Equal(t, 2, strings.Count(buf.String(), "\n"))
}

// failing accepts n writes, then fails every one; it remembers Close.
type failing struct {
	n      int
	writes int
	closed bool
}

var errDiskFull = errors.New("disk full")

func (f *failing) Write(b []byte) (int, error) {
	f.writes++
	if f.writes > f.n {
		return 0, errDiskFull
	}
	return len(b), nil
}

func (f *failing) Close() error { f.closed = true; return nil }

// A write that fails fails every later message too, and is not retried
// into the middle of a line; Close still closes the file.
func TestWriter_WriteErrorSticks(t *testing.T) {
	f := &failing{n: 1}
	w := recording.NewWriter(f, wire.ISO87, wire.ISO87.Framer(), false)
	m, err := wire.ISO87.Encode(sale("000001", 100))
	require.NoError(t, err)
	require.NoError(t, w.Message(recording.Request, "c1", nil, m, nil))
	require.ErrorIs(t, w.Message(recording.Request, "c1", nil, m, nil), errDiskFull)
	writes := f.writes
	require.ErrorIs(t, w.Message(recording.Request, "c1", nil, m, nil), errDiskFull)
	require.Equal(t, writes, f.writes, "nothing more is written after a failure")
	require.ErrorIs(t, w.Close(), errDiskFull)
	require.True(t, f.closed)
}

// Many connections record at once: every line stays whole, and each
// connection's messages keep their order.
func TestWriter_ConcurrentMessagesStayWhole(t *testing.T) {
	const conns, each = 6, 20
	var buf bytes.Buffer
	w := recording.NewWriter(&buf, wire.CUP, wire.CUP.Framer(), false)
	msgs := make([]*iso8583.Message, each)
	for i := range msgs {
		m, err := wire.CUP.Encode(sale(fmt.Sprintf("%06d", i+1), int64(i+1)))
		require.NoError(t, err)
		msgs[i] = m
	}
	errs := make(chan error, conns*each)
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, m := range msgs {
				errs <- w.Message(recording.Request, fmt.Sprintf("c%d", c), nil, m, nil)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	entries, err := recording.Read(&buf, "mem")
	require.NoError(t, err)
	require.Len(t, entries, conns*each)
	next := map[string]int{}
	for _, e := range entries {
		next[e.Conn]++
		require.Equal(t, fmt.Sprintf("%06d", next[e.Conn]), e.Field(11), "conn %s in order", e.Conn)
		require.Equal(t, "4111110000001111", decodeFrame(t, wire.CUP, &e).PAN)
	}
}

// Create starts a new file readable by its owner only; Load reads it
// back, each entry with its line.
func TestCreateAndLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "traffic.jsonl")
	require.NoError(t, os.WriteFile(path, []byte("an older recording\n"), 0o644))
	w, err := recording.Create(path, wire.ISO87, wire.ISO87.Framer(), false)
	require.NoError(t, err)
	req := sale("000001", 100)
	for i, txn := range []*wire.Txn{req, req.Response("00")} {
		m, err := wire.ISO87.Encode(txn)
		require.NoError(t, err)
		dir := []string{recording.Request, recording.Response}[i]
		require.NoError(t, w.Message(dir, "c1", nil, m, nil))
	}
	require.NoError(t, w.Close())
	entries, err := recording.Load(path)
	require.NoError(t, err, "truncated: the old content is gone")
	require.Len(t, entries, 2)
	require.Equal(t, []int{1, 2}, []int{entries[0].Line, entries[1].Line})

	fresh := filepath.Join(t.TempDir(), "new.jsonl")
	w, err = recording.Create(fresh, wire.ISO87, wire.ISO87.Framer(), true)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	info, err := os.Stat(fresh)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), info.Mode().Perm(), "a recording may hold card data: its owner's only")

	_, err = recording.Load(filepath.Join(t.TempDir(), "missing.jsonl"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = recording.Create(filepath.Join(t.TempDir(), "no", "such", "dir.jsonl"), wire.ISO87, wire.ISO87.Framer(), false)
	require.ErrorIs(t, err, fs.ErrNotExist)
}
