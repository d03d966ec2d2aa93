package scenarios

import (
	"fmt"

	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posim/posim/acquirer"

	"github.com/stretchr/testify/require"
)

// A "billion laughs" of nested aliases: each rule's trigger names the one
// before nine times, so that walked alias by alias the last one has 9^9
// parts. posim reads it as fast as its few nodes, and refuses it.
func TestParse_NestedAliasesAreRefusedQuickly(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: laughs\ntitle: {en: L}\nrules:\n  - id: r0\n    when: &w0 {mti: \"0200\"}\n    do: [process]\n")
	for i := 1; i <= 9; i++ {
		prev := fmt.Sprintf("*w%d", i-1)
		fmt.Fprintf(&b, "  - id: r%d\n    when: &w%d {and: [%s]}\n    do: [process]\n", i, i, strings.TrimSuffix(strings.Repeat(prev+", ", 9), ", "))
	}
	b.WriteString("steps: [{sale: {amount: \"1.00\"}}]\n")
	_, err := Parse("laughs.yaml", []byte(b.String()))
	require.ErrorContains(t, err, "aliasing")
}

func TestLoadFile_TooLargeIsRefusedWithItsSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	require.NoError(t, os.WriteFile(path, []byte("name: big\n#"+strings.Repeat("x", 1<<20)+"\n"), 0o644))
	_, err := LoadFile(path)
	require.ErrorContains(t, err, "larger than 1048576 bytes")
}

// FuzzControlLoad is PUT /scenario: parsing, then building the rules,
// policies and back office an acquirer would take. Anything but a panic.
func FuzzControlLoad(f *testing.F) {
	f.Add([]byte(minimal))
	for _, name := range []string{"lost-response-reversal", "first-settlement-fee-anomaly-wrong-rate", "chip-arpc-fails"} {
		data, _ := CatalogSource(name)
		f.Add(data)
	}
	a, err := acquirer.New()
	if err != nil {
		f.Fatal(err)
	}
	load := ControlLoader(a, HostOptions{})
	f.Fuzz(func(t *testing.T, data []byte) {
		setup, err := load("PUT /scenario", data)
		if err != nil {
			return
		}
		if setup.Handler == nil {
			t.Fatal("a loaded scenario without a handler")
		}
	})
}
