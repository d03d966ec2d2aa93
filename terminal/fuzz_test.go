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
		startOn(t, dir)
	})
}

// FuzzStateJournal: whatever a state directory's journal holds (lines cut
// short, lines that do not apply, garbage), a terminal starts on it or
// refuses it with an error that says why, and reading its log does not
// crash either.
func FuzzStateJournal(f *testing.F) {
	f.Add([]byte(`{"seq":1,"state":{"stan":3,"batch":1},"log":[{"op":"add","e":{"op":"sale","stan":"000001"}}]}` + "\n"))
	f.Add([]byte(`{"seq":1,"log":[{"op":"set","end":5,"e":{}}]}` + "\n"))
	f.Add([]byte(`{"seq":2,"log":[{"op":"clear"}]}` + "\n" + `{"seq":3,"state":{"stan`))
	f.Add([]byte("\n\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "journal.jsonl"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := terminal.ReadState(dir); err != nil && err.Error() == "" {
			t.Fatal("an empty error")
		}
		startOn(t, dir)
	})
}

// startOn starts a terminal on a state directory: it starts, or it says
// why not; it never panics.
func startOn(t *testing.T, dir string) {
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
}
