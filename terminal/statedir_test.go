package terminal

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// stateDirModel drives a state directory with random saves, restarts, log reads and
// crashes. It keeps the whole state as the terminal sees it (cur) and as
// the last save left it (want), which is what the directory must give back.
type stateDirModel struct {
	dir       string
	s         *stateDir
	st        State // the terminal's state: until read, only the newest entries of its log
	cur, want State
	stans     int
}

func (m *stateDirModel) start(t *rapid.T) {
	m.s = &stateDir{dir: m.dir, compactAt: int64(rapid.SampledFrom([]int{1, 600, 4000, 1 << 20}).Draw(t, "compact at")),
		chunk: int64(rapid.SampledFrom([]int{1, 100, 1000, 0}).Draw(t, "tail chunk"))}
	if err := m.s.open(); err != nil {
		t.Fatal(err)
	}
	st, err := m.s.load()
	if err != nil {
		t.Fatal(err)
	}
	head, want := st, m.want
	head.Log, want.Log = nil, nil
	if !reflect.DeepEqual(head, want) {
		t.Fatalf("after a restart the state is\n%+v\nnot\n%+v", head, want)
	}
	m.st, m.cur = st, clone(m.want)
}

// needLog reads the log, as an operation that needs it does; it must then
// be the whole log the terminal sees.
func (m *stateDirModel) needLog(t *rapid.T) {
	if err := m.s.loadLog(&m.st); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(clone(m.st).Log, clone(m.cur).Log) {
		t.Fatalf("the log read is\n%+v\nthe terminal's is\n%+v", m.st.Log, m.cur.Log)
	}
}

func (m *stateDirModel) Add(t *rapid.T) {
	m.stans++
	e := LogEntry{Op: "sale", STAN: fmt.Sprintf("%06d", m.stans), PAN: "6200000000000005",
		Amount: rapid.Int64Range(1, 1e6).Draw(t, "amount"), Time: time.Unix(int64(m.stans), 0).UTC()}
	m.st.Log = append(m.st.Log, e)
	m.cur.Log = append(m.cur.Log, e)
}

func (m *stateDirModel) Head(t *rapid.T) {
	stan := rapid.IntRange(1, 999999).Draw(t, "stan")
	var p *PendingReversal
	if rapid.Bool().Draw(t, "pending") {
		p = &PendingReversal{Reason: "98", Created: time.Unix(1, 0).UTC()}
	}
	m.st.STAN, m.st.Pending = stan, p
	m.cur.STAN, m.cur.Pending = stan, p
}

// Void marks an entry, as a void does its original.
func (m *stateDirModel) Void(t *rapid.T) {
	m.needLog(t)
	if len(m.st.Log) == 0 {
		t.Skip("empty log")
	}
	i := rapid.IntRange(0, len(m.st.Log)-1).Draw(t, "voided")
	m.st.Log[i].Voided, m.cur.Log[i].Voided = true, true
}

// Remove takes an entry out, as a reversal of a logged transaction does.
func (m *stateDirModel) Remove(t *rapid.T) {
	m.needLog(t)
	if len(m.st.Log) == 0 {
		t.Skip("empty log")
	}
	i := rapid.IntRange(0, len(m.st.Log)-1).Draw(t, "removed")
	m.st.Log = slices.Delete(m.st.Log, i, i+1)
	m.cur.Log = slices.Delete(m.cur.Log, i, i+1)
}

// Settle empties the log.
func (m *stateDirModel) Settle(t *rapid.T) {
	m.needLog(t)
	m.st.Log, m.cur.Log = nil, nil
	m.st.Batch++
	m.cur.Batch++
}

func (m *stateDirModel) Save(t *rapid.T) {
	if err := m.s.save(m.st, rapid.Bool().Draw(t, "durable")); err != nil {
		t.Fatal(err)
	}
	m.want = clone(m.cur)
}

// Restart drops the terminal, unsaved changes with it, and starts it
// again, now and then with a last journal line cut short, as a crash in
// the middle of a write leaves it.
func (m *stateDirModel) Restart(t *rapid.T) {
	m.s.close()
	if rapid.IntRange(0, 2).Draw(t, "torn") == 0 {
		f, err := os.OpenFile(filepath.Join(m.dir, journalFile), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.WriteString(`{"seq":99999,"state":{"stan":12`)
		f.Close()
	}
	m.start(t)
}

func (m *stateDirModel) Check(t *rapid.T) {
	got, err := ReadState(m.dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(clone(got), m.want) {
		t.Fatalf("the directory holds\n%+v\nthe last save was\n%+v", got, m.want)
	}
}

func clone(st State) State {
	st.Log = slices.Clone(st.Log)
	if len(st.Log) == 0 {
		st.Log = nil
	}
	return st
}

func TestStateDir_GivesBackTheLastSave(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp(t.TempDir(), "state")
		if err != nil {
			rt.Fatal(err)
		}
		m := &stateDirModel{dir: dir, want: State{Batch: 1}}
		m.start(rt)
		defer func() { m.s.close() }()
		rt.Repeat(rapid.StateMachineActions(m))
	})
}
