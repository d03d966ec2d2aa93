package wire

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCustomProfile(t *testing.T) {
	data, err := os.ReadFile("testdata/custom-host.json")
	require.NoError(t, err)
	p, err := CustomProfile("custom-host.json", data, ASCII4{})
	require.NoError(t, err)
	m, err := p.Encode(sampleSale())
	require.NoError(t, err)
	c := &Codec{Profile: p, Framer: p.Framer()}
	frame, err := c.Frame(m)
	require.NoError(t, err)
	require.Equal(t, "0200", string(frame[4:8]), "4 ASCII length digits, then the MTI")
	got, err := c.ReadMessage(bytes.NewReader(frame))
	require.NoError(t, err)
	txn, err := p.Decode(got)
	require.NoError(t, err)
	require.Equal(t, OpSale, txn.Op)
	require.Equal(t, int64(1234), txn.Amount)
}

func TestCustomProfile_RefusesContradictions(t *testing.T) {
	base, err := os.ReadFile("testdata/custom-host.json")
	require.NoError(t, err)
	tests := map[string]struct{ from, to, want string }{
		"LL prefix too short for the length": {`"length": 19,`, `"length": 150,`, "DE2 (Primary Account Number): maximum length 150 does not fit a ASCII.LL prefix"},
		"MTI of the wrong length":            {`"length": 4,`, `"length": 6,`, "DE0 (Message Type Indicator): the MTI has 4 digits"},
		"unknown encoding":                   {`"enc": "ASCII"`, `"enc": "Morse"`, "unknown encoding"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(string(base), tt.from, tt.to, 1)
			require.NotEqual(t, string(base), bad)
			_, err := CustomProfile("bad.json", []byte(bad), Binary2{})
			require.ErrorContains(t, err, tt.want)
		})
	}
	_, err = CustomProfile("empty.json", []byte(`{"name": "x", "fields": {}}`), Binary2{})
	require.Error(t, err)
}

func TestFramings(t *testing.T) {
	for _, f := range []Framer{ASCII4{}, BCD2{}, Binary2{}} {
		frame, err := f.AppendFrame(nil, []byte("hello world"))
		require.NoError(t, err)
		body, err := f.ReadFrame(bytes.NewReader(frame))
		require.NoError(t, err, f.Name())
		require.Equal(t, "hello world", string(body))
	}
	frame, _ := BCD2{}.AppendFrame(nil, make([]byte, 123))
	require.Equal(t, []byte{0x01, 0x23}, frame[:2])
	_, err := Framing("morse", "", "")
	require.Error(t, err)
	f, err := Framing("bcd2", "6000030000", "")
	require.NoError(t, err)
	require.Equal(t, "bcd2+tpdu", f.Name())
}
