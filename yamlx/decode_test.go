package yamlx_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/posim/posim/yamlx"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

type limits struct {
	Max   int    `yaml:"max"`
	Label string `yaml:"label,omitempty"`
}

type Common struct {
	Seed int64 `yaml:"seed"`
}

type config struct {
	Common   `yaml:",inline"`
	Name     string            `yaml:"name"`
	Timeout  yamlx.Duration    `yaml:"timeout"`
	Limits   *limits           `yaml:"limits"`
	Steps    []limits          `yaml:"steps"`
	ByTID    map[string]limits `yaml:"by_tid"`
	Plain    string            // no tag: the key is the lower-cased field name
	Skipped  string            `yaml:"-"`
	Free     free              `yaml:"free"`
	internal string            //lint:ignore U1000 unexported: never a key, which the test needs
}

// free checks itself: any mapping is fine.
type free map[string]string

func (f *free) UnmarshalYAML(n *yaml.Node) error {
	m := map[string]string{}
	if err := n.Decode(&m); err != nil {
		return err
	}
	*f = m
	return nil
}

// decode parses src and decodes it with yamlx.Decode.
func decode(t *testing.T, src string, v any) error {
	t.Helper()
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(src), &doc))
	return yamlx.Decode(&doc, v)
}

func lineError(t *testing.T, err error) *yamlx.LineError {
	t.Helper()
	var le *yamlx.LineError
	require.ErrorAs(t, err, &le)
	return le
}

func TestDecode_UnknownKeys(t *testing.T) {
	t.Run("decodes a document whose keys are all known", func(t *testing.T) {
		var c config
		require.NoError(t, decode(t, `
seed: 7
name: n
timeout: 2d
limits: {max: 3}
steps: [{max: 1}, {max: 2, label: x}]
by_tid: {T1: {max: 9}}
plain: p
free: {anything: goes}
`, &c))
		require.Equal(t, int64(7), c.Seed, "an inline struct's keys are the outer mapping's")
		require.Equal(t, 48*time.Hour, c.Timeout.D())
		require.Equal(t, 3, c.Limits.Max)
		require.Equal(t, []limits{{Max: 1}, {Max: 2, Label: "x"}}, c.Steps)
		require.Equal(t, 9, c.ByTID["T1"].Max)
		require.Equal(t, "p", c.Plain)
		require.Equal(t, free{"anything": "goes"}, c.Free)
	})
	for _, tc := range []struct {
		name, src string
		line      int
		msg       string
	}{
		{"at the top, listing the known keys in order", "name: n\ncolour: red\n", 2,
			`unknown key "colour" (known: by_tid, free, limits, name, plain, seed, steps, timeout)`},
		{"behind a pointer", "limits:\n  max: 1\n  min: 0\n", 3, `unknown key "min" (known: label, max)`},
		{"in a sequence item", "steps:\n  - max: 1\n  - maks: 2\n", 3, `unknown key "maks" (known: label, max)`},
		{"in a map value", "by_tid:\n  T1:\n    max: 1\n    lable: x\n", 4, `unknown key "lable" (known: label, max)`},
		{"for a field tagged -", "skipped: x\n", 1, `unknown key "skipped"`},
		{"for an unexported field", "internal: x\n", 1, `unknown key "internal"`},
		{"for a field's Go name when its tag names it otherwise", "byTID: {}\n", 1, `unknown key "byTID"`},
	} {
		t.Run("refuses one "+tc.name, func(t *testing.T) {
			var c config
			le := lineError(t, decode(t, tc.src, &c))
			require.Equal(t, tc.line, le.Line)
			require.Contains(t, le.Msg, tc.msg)
		})
	}
	t.Run("reports a wrong type at its line", func(t *testing.T) {
		var c config
		le := lineError(t, decode(t, "name: n\nlimits:\n  max: lots\n", &c))
		require.Equal(t, 3, le.Line)
		require.Contains(t, le.Msg, "cannot unmarshal")
	})
	t.Run("leaves a value that decodes itself to its own checks", func(t *testing.T) {
		var c config
		le := lineError(t, decode(t, "timeout:\n  - 1s\n", &c))
		require.Equal(t, 2, le.Line)
		require.Contains(t, le.Msg, "want a duration")
	})
}

func TestDecode_Aliases(t *testing.T) {
	t.Run("checks the keys of an aliased mapping", func(t *testing.T) {
		var c config
		le := lineError(t, decode(t, "name: &n {max: 1, colour: red}\nlimits: *n\n", &c))
		require.Equal(t, 1, le.Line, "the line of the anchored mapping")
		require.Contains(t, le.Msg, `unknown key "colour" (known: label, max)`)
	})
	t.Run("checks an anchor again for each type that aliases it", func(t *testing.T) {
		type two struct {
			Defs any               `yaml:"defs"`
			A    map[string]string `yaml:"a"`
			B    []limits          `yaml:"b"`
		}
		var v two
		// {seed: '1'} is a fine map[string]string, but not a limits
		le := lineError(t, decode(t, "defs: &x {seed: '1'}\na: *x\nb: [*x]\n", &v))
		require.Equal(t, 1, le.Line)
		require.Contains(t, le.Msg, `unknown key "seed"`)
	})
	t.Run("checks a billion laughs in the time of its nodes", func(t *testing.T) {
		// ten levels of ten aliases: 10^10 leaves once expanded. Checked
		// once per anchor it costs about a hundred visits.
		var b strings.Builder
		b.WriteString("a0: &a0 []\n")
		for i := 1; i <= 10; i++ {
			fmt.Fprintf(&b, "a%d: &a%d [", i, i)
			for j := range 10 {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "*a%d", i-1)
			}
			b.WriteString("]\n")
		}
		var doc yaml.Node
		require.NoError(t, yaml.Unmarshal([]byte(b.String()), &doc))
		done := make(chan error, 1)
		go func() {
			var v map[string]nested
			done <- yamlx.Decode(&doc, &v)
		}()
		select {
		case err := <-done:
			// yaml.v3 refuses to expand it; the check before did not try
			require.ErrorContains(t, err, "excessive aliasing")
		case <-time.After(5 * time.Second):
			t.Fatal("the key check expands aliases")
		}
	})
}

// nested is a sequence of sequences of ..., as deep as a billion laughs.
type nested []nested
