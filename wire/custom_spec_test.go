package wire

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// customSpec is testdata/custom-host.json with its fields changed by edit.
func customSpec(t *testing.T, edit func(fields map[string]map[string]any)) []byte {
	t.Helper()
	base, err := os.ReadFile("testdata/custom-host.json")
	require.NoError(t, err)
	var doc struct {
		Name   string                    `json:"name"`
		Fields map[string]map[string]any `json:"fields"`
	}
	require.NoError(t, json.Unmarshal(base, &doc))
	if edit != nil {
		edit(doc.Fields)
	}
	out, err := json.Marshal(doc)
	require.NoError(t, err)
	return out
}

// A spec that contradicts itself, or lacks what posim needs, is refused
// with a message that names the field and says what is wrong.
func TestCustomProfile_ErrorsNameWhatIsWrong(t *testing.T) {
	type fields = map[string]map[string]any
	for _, c := range []struct {
		name string
		edit func(fields)
		want string
	}{
		{"field 1 not a bitmap", func(f fields) { f["1"] = f["3"] }, "DE1 (Processing Code): field 1 must be the bitmap"},
		{"a bitmap elsewhere", func(f fields) { f["60"] = f["1"] }, "DE60 (Bitmap): a bitmap is only allowed as field 1"},
		{"a length of zero", func(f fields) { f["41"]["length"] = 0 }, "DE41 (Card Acceptor Terminal Identification): length must be positive"},
		{"a negative length", func(f fields) { f["41"]["length"] = -3 }, "DE41 (Card Acceptor Terminal Identification): length must be positive"},
		{"an MTI of 2 digits", func(f fields) { f["0"]["length"] = 2 }, "DE0 (Message Type Indicator): the MTI has 4 digits, not 2"},
		{"LLL too short", func(f fields) { f["2"]["prefix"] = "ASCII.LLL"; f["2"]["length"] = 1000 }, "DE2 (Primary Account Number): maximum length 1000 does not fit a ASCII.LLL prefix (at most 999)"},
		{"BCD LL too short", func(f fields) { f["2"]["prefix"] = "BCD.LL"; f["2"]["enc"] = "BCD"; f["2"]["length"] = 100 }, "does not fit a BCD.LL prefix (at most 99)"},
		{"a binary length byte", func(f fields) { f["55"]["prefix"] = "Binary.L"; f["55"]["length"] = 256 }, "DE55 (ICC Data – EMV Having Multiple Tags): maximum length 256 does not fit a Binary.L prefix (at most 255)"},
		{"no encoding", func(f fields) { delete(f["41"], "enc") }, "unknown encoding:  for field: 41"},
		{"no prefix", func(f fields) { delete(f["41"], "prefix") }, "unknown prefix:  for field: 41"},
		{"an unknown prefix", func(f fields) { f["41"]["prefix"] = "ASCII.LLLLLLL" }, "unknown prefix: ASCII.LLLLLLL for field: 41"},
		{"an unknown type", func(f fields) { f["41"]["type"] = "Float" }, "Float for field: 41"},
		{"no MTI", func(f fields) { delete(f, "0") }, "DE0 (MTI) is missing: posim needs it"},
		{"no bitmap", func(f fields) { delete(f, "1") }, "DE1 (bitmap) is missing: posim needs it"},
		{"no processing code", func(f fields) { delete(f, "3") }, "DE3 (processing code) is missing: posim needs it"},
		{"no amount", func(f fields) { delete(f, "4") }, "DE4 (amount) is missing: posim needs it"},
		{"no STAN", func(f fields) { delete(f, "11") }, "DE11 (STAN) is missing: posim needs it"},
		{"no response code", func(f fields) { delete(f, "39") }, "DE39 (response code) is missing: posim needs it"},
		{"no terminal id", func(f fields) { delete(f, "41") }, "DE41 (terminal id) is missing: posim needs it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := CustomProfile("bad.json", customSpec(t, c.edit), Binary2{})
			require.ErrorContains(t, err, "spec bad.json: ", "the file is named")
			require.ErrorContains(t, err, c.want)
		})
	}
	for name, data := range map[string]string{
		"cut short":     `{"name": "x", "fields": {`,
		"not an object": `[]`,
		"empty":         ``,
	} {
		_, err := CustomProfile("bad.json", []byte(data), Binary2{})
		require.ErrorContains(t, err, "spec bad.json: failed to JSON unmarshal", name)
	}
}

// What a prefix can count: decimal digits for ASCII and BCD, bytes for
// Binary and Hex. A length a prefix can carry is accepted.
func TestCustomProfile_PrefixCapacities(t *testing.T) {
	for _, c := range []struct {
		prefix string
		length int
	}{{"ASCII.LL", 99}, {"ASCII.LLL", 999}, {"Binary.L", 255}, {"Binary.LL", 999}, {"Hex.L", 255}, {"ASCII.Fixed", 5000}} {
		_, err := CustomProfile("ok.json", customSpec(t, func(f map[string]map[string]any) {
			f["55"]["prefix"], f["55"]["length"] = c.prefix, c.length
		}), Binary2{})
		require.NoError(t, err, "%s with %d", c.prefix, c.length)
	}
}

func TestCustomProfile_Identity(t *testing.T) {
	spec := customSpec(t, nil)
	p, err := CustomProfile("custom-host.json", spec, ASCII4{})
	require.NoError(t, err)
	require.Equal(t, "custom", p.Name())
	require.Equal(t, "custom (custom-host.json)", p.(interface{ String() string }).String())
	require.Equal(t, ASCII4{}, p.Framer())
	require.Equal(t, Capabilities{UploadBatch: 1}, p.Capabilities(), "iso87's, without a TPDU")
	require.Contains(t, p.Spec().Name, "Example host")

	tf, err := Framing(FramingASCII4, "6000030000", "")
	require.NoError(t, err)
	pt, err := CustomProfile("custom-host.json", spec, tf)
	require.NoError(t, err)
	require.True(t, pt.Capabilities().TPDU, "TPDU framing when the framing has one")
	require.False(t, pt.Capabilities().WorkingKeys)
}

// A custom profile inside TPDU framing: a sale goes out with the TPDU and
// header, comes back field for field, and decodes with the iso87 mapping.
func TestCustomProfile_WithTPDUFraming(t *testing.T) {
	tf, err := Framing(FramingASCII4, "6000030000", "603100310730")
	require.NoError(t, err)
	p, err := CustomProfile("custom-host.json", customSpec(t, nil), tf)
	require.NoError(t, err)
	c := &Codec{Profile: p, Framer: p.Framer()}
	m, err := p.Encode(sampleSale())
	require.NoError(t, err)
	frame, err := c.Frame(m)
	require.NoError(t, err)
	require.Equal(t, "6000030000", hexUpper(frame[4:9]), "after four ASCII length digits, the TPDU")
	require.Equal(t, "0200", string(frame[15:19]), "then the header, then the MTI")
	got, err := c.ReadMessage(bytes.NewReader(frame))
	require.NoError(t, err)
	x, err := p.Decode(got)
	require.NoError(t, err)
	require.Equal(t, OpSale, x.Op)
	require.Equal(t, "4111111111111111", x.PAN)
	require.Equal(t, int64(1234), x.Amount)

	d, err := DecodeFrame(frame, p, tf)
	require.NoError(t, err)
	require.Equal(t, "6000030000", d.TPDU)
	require.Equal(t, "ascii4", d.Framing)
	require.Equal(t, OpSale, d.Op)
}

// RegisterCustom makes the loaded spec the profile named "custom"; the
// built-in list stays the built-in dialects, and lookups may run while a
// custom spec is registered.
func TestRegisterCustom(t *testing.T) {
	p, err := CustomProfile("custom-host.json", customSpec(t, nil), Binary2{})
	require.NoError(t, err)
	profilesMu.Lock()
	prev := userSpec
	profilesMu.Unlock()
	t.Cleanup(func() { RegisterCustom(prev) })
	RegisterCustom(p)
	got, err := ProfileByName(CustomName)
	require.NoError(t, err)
	require.Equal(t, p, got)
	require.True(t, IsCustom(got))
	require.NotContains(t, ProfileNames(), CustomName)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			_, _ = ProfileByName(CustomName)
		}
	}()
	RegisterCustom(p) // again, while another reads: a second --spec replaces the first, no panic, no race
	<-done
	require.Panics(t, func() { Register(p) }, "the name custom is not a built-in dialect's")
}
