package recording_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/posim/posim/recording"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

const goodLine = `{"time":"2025-11-27T10:10:10Z","conn":"c1","dir":"request","mti":"0200","fields":{"11":"000001"},"frame":""}`

// A line that is not a recorded message stops the reading, and the error
// starts with the file and the line (blank lines counted).
func TestRead_BadLineNamesTheLine(t *testing.T) {
	cases := []struct {
		name  string
		input string
		want  string
	}{
		{"not JSON", goodLine + "\n\nnot json\n", "rec.jsonl:3: not a recorded message"},
		{"a key a recording does not have", `{"dir":"request","mti":"0200","colour":"red"}`, `rec.jsonl:1: not a recorded message: json: unknown field "colour"`},
		{"a value of the wrong type", goodLine + "\n" + `{"dir":"request","mti":200}`, "rec.jsonl:2: not a recorded message: json: cannot unmarshal number into Go struct field Entry.mti"},
		{"JSON cut short", goodLine + "\n" + goodLine[:40], "rec.jsonl:2: not a recorded message"},
		{"no direction", `{"mti":"0200"}`, `rec.jsonl:1: dir "": want request or response`},
		{"an unknown direction", goodLine + "\n" + `{"dir":"sideways","mti":"0200"}`, `rec.jsonl:2: dir "sideways": want request or response`},
		{"no MTI", "\n\n" + `{"dir":"response"}`, "rec.jsonl:3: no mti"},
		{"nothing", "", "rec.jsonl: no recorded messages"},
		{"only blank lines", "\n  \n\t\n", "rec.jsonl: no recorded messages"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := recording.Read(strings.NewReader(tc.input), "rec.jsonl")
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), tc.want), "%q does not start with %q", err, tc.want)
			require.Nil(t, entries)
		})
	}
}

// A line longer than the reader takes (4 MiB) is named too.
func TestRead_LineTooLong(t *testing.T) {
	huge := `{"dir":"request","mti":"0200","frame":"` + strings.Repeat("00", 2<<20) + `"}`
	_, err := recording.Read(strings.NewReader(goodLine+"\n"+huge+"\n"), "rec.jsonl")
	require.ErrorIs(t, err, bufio.ErrTooLong)
	require.ErrorContains(t, err, "rec.jsonl:2:")
}

// Entries carry the line they were read from; blank lines and CRLF line
// ends are fine, and a line far longer than 64 KiB still reads.
func TestRead_EntriesKnowTheirLine(t *testing.T) {
	long := `{"dir":"response","mti":"0210","frame":"` + strings.Repeat("AB", 100_000) + `"}`
	input := goodLine + "\r\n\r\n" + "   " + goodLine + "  \n\n\n" + long + "\n"
	entries, err := recording.Read(strings.NewReader(input), "rec.jsonl")
	require.NoError(t, err)
	require.Len(t, entries, 3)
	require.Equal(t, []int{1, 3, 6}, []int{entries[0].Line, entries[1].Line, entries[2].Line})
	require.Equal(t, recording.Request, entries[0].Dir)
	require.Equal(t, "000001", entries[1].Field(11))
	require.Equal(t, "", entries[1].Field(39), "an absent field is empty")
	require.Len(t, entries[2].Frame, 200_000)
}

// An entry whose frame does not read as a message says which line it is.
func TestEntry_MessageNamesTheLine(t *testing.T) {
	m, err := wire.ISO87.Encode(sale("000001", 100))
	require.NoError(t, err)
	body, err := m.Pack()
	require.NoError(t, err)
	frame, err := wire.Binary2{}.AppendFrame(nil, body)
	require.NoError(t, err)
	upper := func(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

	cases := []struct {
		name  string
		p     wire.Profile
		frame string
		want  string
		is    error
	}{
		{"no frame", wire.ISO87, "", "line 7: frame is not hex", nil},
		{"not hex", wire.ISO87, "0G12", "line 7: frame is not hex", nil},
		{"shorter than its length header says", wire.ISO87, upper(frame[:len(frame)-3]), "line 7: reading", nil},
		{"a body that does not unpack", wire.ISO87, upper([]byte{0, 6, '0', '2', '0', '0', 'Z', 'Z'}), "line 7:", nil},
		{"cup: shorter than TPDU and header", wire.CUP, upper([]byte{0, 4, 0x60, 0, 3, 0}), "line 7:", wire.ErrShortFrame},
		{"an iso87 frame read as cup", wire.CUP, upper(frame), "line 7:", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := recording.Entry{Dir: recording.Request, MTI: "0200", Frame: tc.frame, Line: 7}
			_, _, err := e.Message(tc.p, tc.p.Framer())
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), tc.want), "%q does not start with %q", err, tc.want)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
		})
	}

	good := recording.Entry{Frame: upper(frame), Line: 7}
	got, prefix, err := good.Message(wire.ISO87, wire.ISO87.Framer())
	require.NoError(t, err)
	require.Nil(t, prefix)
	stan, _ := got.GetString(11)
	require.Equal(t, "000001", stan)
}

// entry is a recorded message as Pairs sees it.
func entry(conn, dir, mti, stan, tid string) recording.Entry {
	return recording.Entry{Conn: conn, Dir: dir, MTI: mti, Fields: map[string]string{"11": stan, "41": tid}}
}

// Pairs gives each request the answer on its connection with its message
// class, STAN and terminal; a request without one stays unanswered.
func TestPairs(t *testing.T) {
	const req, resp = recording.Request, recording.Response
	cases := []struct {
		name    string
		entries []recording.Entry
		// want: per request (by its index in entries), the index of its
		// answer, -1 for none
		want map[int]int
	}{
		{"the answer follows its request",
			[]recording.Entry{entry("c1", req, "0200", "000001", "T1"), entry("c1", resp, "0210", "000001", "T1")},
			map[int]int{0: 1}},
		{"answers in another order than the requests",
			[]recording.Entry{entry("c1", req, "0200", "000001", "T1"), entry("c1", req, "0200", "000002", "T1"),
				entry("c1", resp, "0210", "000002", "T1"), entry("c1", resp, "0210", "000001", "T1")},
			map[int]int{0: 3, 1: 2}},
		{"an answer on another connection is not this one's",
			[]recording.Entry{entry("c1", req, "0200", "000001", "T1"), entry("c2", resp, "0210", "000001", "T1")},
			map[int]int{0: -1}},
		{"an answer with another STAN is not this one's",
			[]recording.Entry{entry("c1", req, "0200", "000001", "T1"), entry("c1", resp, "0210", "000002", "T1")},
			map[int]int{0: -1}},
		{"an answer to another terminal is not this one's",
			[]recording.Entry{entry("c1", req, "0200", "000001", "T1"), entry("c1", resp, "0210", "000001", "T2")},
			map[int]int{0: -1}},
		{"the terminal's padding does not matter",
			[]recording.Entry{entry("c1", req, "0200", "000001", "T1      "), entry("c1", resp, "0210", "000001", "T1")},
			map[int]int{0: 1}},
		{"a reversal with its sale's STAN: each gets the answer of its class",
			[]recording.Entry{entry("c1", req, "0200", "000001", "T1"), entry("c1", req, "0400", "000001", "T1"),
				entry("c1", resp, "0410", "000001", "T1"), entry("c1", resp, "0210", "000001", "T1")},
			map[int]int{0: 3, 1: 2}},
		{"an answer before any request is no one's",
			[]recording.Entry{entry("c1", resp, "0210", "000001", "T1"), entry("c1", req, "0200", "000001", "T1")},
			map[int]int{1: -1}},
		{"one answer answers one request",
			[]recording.Entry{entry("c1", req, "0200", "000001", "T1"), entry("c1", resp, "0210", "000001", "T1"),
				entry("c1", resp, "0210", "000001", "T1")},
			map[int]int{0: 1}},
		{"a retransmission takes the answer; the first send stays unanswered",
			[]recording.Entry{entry("c1", req, "0200", "000001", "T1"), entry("c1", req, "0200", "000001", "T1"),
				entry("c1", resp, "0210", "000001", "T1")},
			map[int]int{0: -1, 1: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prs := recording.Pairs(tc.entries)
			require.Len(t, prs, len(tc.want), "one pair per request")
			for _, pr := range prs {
				i := indexOf(tc.entries, pr.Request)
				require.Equal(t, recording.Request, pr.Request.Dir)
				want, ok := tc.want[i]
				require.True(t, ok, "entry %d is no request", i)
				if want < 0 {
					require.Nil(t, pr.Response, "request %d", i)
					continue
				}
				require.Equal(t, want, indexOf(tc.entries, pr.Response), "answer of request %d", i)
			}
			// in recorded order
			for j := 1; j < len(prs); j++ {
				require.Less(t, indexOf(tc.entries, prs[j-1].Request), indexOf(tc.entries, prs[j].Request))
			}
		})
	}
}

func indexOf(entries []recording.Entry, e *recording.Entry) int {
	for i := range entries {
		if &entries[i] == e {
			return i
		}
	}
	return -1
}

// Read never panics, and whatever it accepts is a list of requests and
// responses with an MTI, in line order.
func FuzzRead(f *testing.F) {
	f.Add([]byte(goodLine + "\n"))
	f.Add([]byte(goodLine + "\r\n\n" + `{"dir":"response","mti":"0210","clear":true}`))
	f.Add([]byte(`{"dir":"request","mti":"0200","fields":{"2":"411111******1111"},"frame":"0002FFFF"}`))
	f.Add([]byte("\n\n{\n"))
	f.Add([]byte(`{"dir":"request"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := recording.Read(bytes.NewReader(data), "fuzz")
		if err != nil {
			require.Nil(t, entries)
			require.True(t, strings.HasPrefix(err.Error(), "fuzz"), "the error names the input: %v", err)
			return
		}
		require.NotEmpty(t, entries)
		last := 0
		for _, e := range entries {
			require.Contains(t, []string{recording.Request, recording.Response}, e.Dir)
			require.NotEmpty(t, e.MTI)
			require.Greater(t, e.Line, last, fmt.Sprintf("lines in order: %d after %d", e.Line, last))
			last = e.Line
		}
		recording.Pairs(entries) // never panics on what Read accepts
	})
}
