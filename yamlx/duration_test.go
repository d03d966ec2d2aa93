package yamlx_test

import (
	"testing"
	"time"

	"github.com/posim/posim/yamlx"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"30s", 30 * time.Second},
		{"250ms", 250 * time.Millisecond},
		{"10m", 10 * time.Minute},
		{"2h", 2 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"3d", 72 * time.Hour},
		{"0d", 0},
		{"0", 0},
		{"365d", 365 * 24 * time.Hour},
		{" 2d ", 48 * time.Hour},
		{"106751d", 106751 * 24 * time.Hour}, // the most a time.Duration holds: 292 years
	} {
		t.Run("reads "+tc.in, func(t *testing.T) {
			got, err := yamlx.ParseDuration(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	for _, tc := range []struct{ in, msg string }{
		{"-1s", "must not be negative"},
		{"-2d", "whole number of days"},
		{"1.5d", "whole number of days"},
		{"d", "whole number of days"},
		{"2 d", "whole number of days"},
		{"106752d", "at most 106751d"}, // would overflow into a negative duration
		{"99999999999999d", "at most 106751d"},
		{"1d12h", "want a duration such as"}, // days only on their own
		{"10", "want a duration such as"},    // a unit is needed
		{"soon", "want a duration such as"},
		{"", "want a duration such as"},
	} {
		t.Run("refuses "+tc.in, func(t *testing.T) {
			_, err := yamlx.ParseDuration(tc.in)
			require.ErrorContains(t, err, tc.msg)
			require.ErrorContains(t, err, `"`+tc.in, "the error quotes what was written")
		})
	}
}

func TestDuration_YAML(t *testing.T) {
	type wait struct {
		For yamlx.Duration `yaml:"for"`
	}
	t.Run("decodes days and writes back what reads the same", func(t *testing.T) {
		var w wait
		require.NoError(t, decode(t, "for: 2d\n", &w))
		require.Equal(t, 48*time.Hour, w.For.D())
		out, err := yaml.Marshal(w)
		require.NoError(t, err)
		require.Equal(t, "for: 48h0m0s\n", string(out))
		var back wait
		require.NoError(t, decode(t, string(out), &back))
		require.Equal(t, w, back)
	})
	for _, tc := range []struct{ name, src, msg string }{
		{"a negative duration", "\nfor: -5s\n", "must not be negative"},
		{"a sequence", "\nfor: [1s]\n", "want a duration such as 30s"},
		{"a mapping", "\nfor: {s: 1}\n", "want a duration such as 30s"},
		{"a bad string", "\nfor: soon\n", `duration "soon"`},
	} {
		t.Run("refuses "+tc.name+" at its line", func(t *testing.T) {
			var w wait
			le := lineError(t, decode(t, tc.src, &w))
			require.Equal(t, 2, le.Line)
			require.Contains(t, le.Msg, tc.msg)
		})
	}
}

// Whatever ParseDuration accepts is a duration of at least zero, and a
// duration it returns reads back the same from its String.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30s", "3d", "-1s", "-0d", "1.5d", "9999999999d", "1h30m", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := yamlx.ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("%q: %v is negative", s, d)
		}
		again, err := yamlx.ParseDuration(d.String())
		if err != nil || again != d {
			t.Fatalf("%q: %v reads back as %v, %v", s, d, again, err)
		}
	})
}
