package report

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/image/font/sfnt"
)

// Every CJK character posim's pages, catalogue and messages use has a glyph
// in the embedded font: a character added without remaking the subset
// (web/font/NOTICE) would show as an empty box on a machine without a CJK
// font.
func TestFont_CoversEveryCJKCharacter(t *testing.T) {
	f, err := sfnt.Parse(CJKFont())
	require.NoError(t, err)
	used := map[rune]string{}
	root := filepath.Join("..", "..")
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata", "artifacts":
				return filepath.SkipDir
			case "docs":
				if filepath.Dir(path) == root {
					return filepath.SkipDir // the design documents: read on the forge, never shown by posim
				}
			}
			return nil
		}
		ext := filepath.Ext(path)
		if (ext != ".go" && ext != ".yaml" && ext != ".html" && ext != ".md") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, r := range string(data) {
			if r >= 0x2E80 {
				if _, seen := used[r]; !seen {
					used[r] = path
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, len(used), 400, "the catalogue's Chinese is read")
	var buf sfnt.Buffer
	var missing []string
	for r, where := range used {
		if i, err := f.GlyphIndex(&buf, r); err != nil || i == 0 {
			missing = append(missing, string(r)+" ("+where+")")
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "characters the embedded font lacks: remake web/font/posim-cjk.ttf (web/font/NOTICE)")
}
