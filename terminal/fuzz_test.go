package terminal_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/posim/posim/terminal"
)

// FuzzStateFile starts a terminal on a state directory whose state file
// holds anything: it loads or says why, never panics.
func FuzzStateFile(f *testing.F) {
	f.Add([]byte(`{"stan":41,"batch":3}`))
	f.Add([]byte(`{"pending":{"request":{"MTI":"0200","STAN":"000001"},"reason":"98"}}`))
	f.Add([]byte(`{"batch":-5,"log":[{}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "state.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := terminal.DefaultConfig()
		cfg.StateDir = dir
		term, err := terminal.New(cfg)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		_ = term.State()
		term.Close()
	})
}
