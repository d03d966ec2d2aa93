package yamlx_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/posim/posim/yamlx"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestWrap(t *testing.T) {
	type doc struct {
		A int   `yaml:"a"`
		B []int `yaml:"b"`
	}
	for _, tc := range []struct {
		name, src string
		line      int
		msg       string
	}{
		{"a syntax error", "a: 1\n b: 2\n", 2, "mapping values are not allowed in this context"},
		{"a tab in the indentation", "a: 1\n\tb: 2\n", 2, "found a tab character that violates indentation"},
		{"the first of several type errors, on one line", "\nb: [1, y]\na: x\n", 2, "cannot unmarshal !!str `y` into int"},
	} {
		t.Run("puts "+tc.name+" at its line", func(t *testing.T) {
			var v doc
			err := yamlx.Wrap(yaml.Unmarshal([]byte(tc.src), &v))
			le := lineError(t, err)
			require.Equal(t, &yamlx.LineError{Line: tc.line, Msg: tc.msg}, le)
			require.Equal(t, fmt.Sprintf("%d: %s", tc.line, tc.msg), err.Error())
		})
	}
	t.Run("leaves a LineError as it is", func(t *testing.T) {
		le := &yamlx.LineError{Line: 7, Msg: "line 3: not this one"}
		wrapped := fmt.Errorf("reading: %w", le)
		require.Same(t, le, yamlx.Wrap(le))
		require.Same(t, wrapped, yamlx.Wrap(wrapped), "nor an error wrapping one")
	})
	t.Run("leaves an error without a line as it is", func(t *testing.T) {
		err := errors.New("yaml: no documents")
		require.Same(t, err, yamlx.Wrap(err))
	})
}

func TestErrorf(t *testing.T) {
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte("a: 1\nb:\n  c: 2\n"), &doc))
	c := doc.Content[0].Content[3].Content[0] // the key c
	require.EqualError(t, yamlx.Errorf(c, "no %s here", "c"), "3: no c here")
}

func TestFileError(t *testing.T) {
	require.EqualError(t, &yamlx.FileError{File: "s.yaml", Line: 12, Msg: "bad"}, "s.yaml:12: bad")
	require.EqualError(t, &yamlx.FileError{File: "s.yaml", Msg: "bad"}, "s.yaml: bad", "no line: no :0")
}

func TestInFile(t *testing.T) {
	t.Run("keeps a LineError's line", func(t *testing.T) {
		err := yamlx.InFile("s.yaml", &yamlx.LineError{Line: 4, Msg: "unknown key \"x\""})
		require.EqualError(t, err, `s.yaml:4: unknown key "x"`)
		var fe *yamlx.FileError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, yamlx.FileError{File: "s.yaml", Line: 4, Msg: `unknown key "x"`}, *fe)
	})
	t.Run("finds a LineError wrapped in another", func(t *testing.T) {
		err := yamlx.InFile("s.yaml", fmt.Errorf("step 2: %w", &yamlx.LineError{Line: 9, Msg: "bad"}))
		require.EqualError(t, err, "s.yaml:9: bad")
	})
	t.Run("names only the file for an error without a line", func(t *testing.T) {
		err := yamlx.InFile("s.yaml", errors.New("the file is empty"))
		require.EqualError(t, err, "s.yaml: the file is empty")
	})
	t.Run("gives a decoding error its file and line", func(t *testing.T) {
		var v struct {
			Name string `yaml:"name"`
		}
		err := yamlx.InFile("cards.yaml", decode(t, "name: x\nnmae: y\n", &v))
		require.EqualError(t, err, `cards.yaml:2: unknown key "nmae" (known: name)`)
	})
}
