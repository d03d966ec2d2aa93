package terminal

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// A state directory holds:
//
//	state.json     the state without its batch log, at a journal sequence number
//	batch.json     the open batch's log, at a journal sequence number
//	journal.jsonl  one line per save since: the state (when it changed)
//	               and what changed in the log (entries added or changed,
//	               the log cleared or replaced)
//
// A save appends one line, so its cost does not grow with the open batch,
// and the terminal reads only the state at start: the log is read when an
// operation needs it (a void, a settlement, posim terminal state). Once the
// journal is larger than the batch (and 256 KiB), the next save writes both
// snapshots and empties the journal. Older posim versions wrote the whole
// state, log included, to state.json; such a file is read as the snapshot
// of both, and WriteState writes one.
const (
	stateFile   = "state.json"
	batchFile   = "batch.json"
	journalFile = "journal.jsonl"
	// tempPrefix starts the names of the state's temporary files.
	tempPrefix = ".state-"
	compactMin = 256 << 10
)

// ErrStateLocked: another terminal (another posim process, or another
// Terminal in this one) is using the state directory.
var ErrStateLocked = errors.New("terminal state directory is in use")

// stateSnap is state.json: the state at journal line Seq. Separate says
// the log is in batch.json; without it, state.json's own log is the log
// (as older versions wrote it).
type stateSnap struct {
	State
	Seq      int64 `json:"journal_seq,omitempty"`
	Separate bool  `json:"log_separate,omitempty"`
}

// batchSnap is batch.json: the log at journal line Seq.
type batchSnap struct {
	Seq int64      `json:"seq"`
	Log []LogEntry `json:"log"`
}

// journalLine is one save: the state without its log when it changed, and
// the changes of the log, applied in order.
type journalLine struct {
	Seq   int64           `json:"seq"`
	State json.RawMessage `json:"state,omitempty"`
	Log   []logChange     `json:"log,omitempty"`
}

// logChange is one change of the log: "add" appends E; "set" replaces the
// entry End places from the end (1: the last) with E; "clear" empties the
// log; "replace" makes it All.
type logChange struct {
	Op  string     `json:"op"`
	End int        `json:"end,omitempty"`
	E   *LogEntry  `json:"e,omitempty"`
	All []LogEntry `json:"all,omitempty"`
}

// stateDir persists State in a directory; with an empty directory it keeps
// state in memory only. A stateDir with a directory holds its lock from open
// to close, so that two terminals never share STANs and reversal records.
//
// Until the log is loaded (loaded false), State.Log holds only the entries
// added since the terminal started; they are the newest of the log, which
// is why a change is addressed from the log's end.
type stateDir struct {
	dir    string
	lock   *os.File
	onSave func(State) // tests: sees each state saved

	journal *os.File
	jsize   int64 // bytes in the journal
	bsize   int64 // bytes in batch.json: the journal may grow as large
	seq     int64 // the last journal line written
	head    []byte
	loaded  bool
	saved   []LogEntry // what the files hold for State.Log's entries
	dirty   bool       // lines written and not yet synced
	// compactAt: the journal is compacted once over max(compactAt,
	// batch.json's size); 0 means compactMin (tests set it small)
	compactAt int64
	chunk     int64 // how much of the journal's end a start reads first (0: 64 KiB)
}

// open creates the directory if need be, takes its lock and removes the
// temporary files a crash left behind.
func (s *stateDir) open() error {
	if s.dir == "" {
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	name := filepath.Join(s.dir, "lock")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening the state lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return fmt.Errorf("%w: %s is locked by another process (%v); wait for it to finish or use another --state", ErrStateLocked, name, err)
	}
	s.lock = f
	stale, _ := filepath.Glob(filepath.Join(s.dir, tempPrefix+"*"))
	for _, name := range stale {
		_ = os.Remove(name) // a save a crash interrupted: the state file is whole
	}
	return nil
}

// close releases the journal and the lock. Lines written lazily are in
// the system's hands already: they survive the process, and a power cut
// before they reach the disk leaves the state of the last durable save.
func (s *stateDir) close() {
	if s.journal != nil {
		s.journal.Close()
		s.journal = nil
	}
	if s.lock != nil {
		_ = unlockFile(s.lock)
		s.lock.Close()
		s.lock = nil
	}
}

func (s *stateDir) path(name string) string { return filepath.Join(s.dir, name) }

// readSnap reads state.json (a missing file is the empty state).
func (s *stateDir) readSnap() (stateSnap, error) {
	snap := stateSnap{State: State{Batch: 1}}
	data, err := os.ReadFile(s.path(stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return snap, nil
	}
	if err != nil {
		return snap, fmt.Errorf("reading terminal state: %w", err)
	}
	if err := json.Unmarshal(data, &snap); err != nil {
		return snap, fmt.Errorf("reading terminal state %s: %w", s.path(stateFile), err)
	}
	return snap, nil
}

// readJournal returns the journal's whole lines and the offset after
// the last: all of them, or with tail only the last ones (the last 64 KiB
// or more, enough for one whole line), which is all a start needs. A last
// line cut short or unreadable (a crash while it was written) is left
// out, so that the next save writes after the lines that count.
func (s *stateDir) readJournal(tail bool) (lines [][]byte, end int64, err error) {
	f, err := os.Open(s.path(journalFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading terminal journal: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("reading terminal journal: %w", err)
	}
	size := fi.Size()
	for chunk := cmp.Or(s.chunk, 64<<10); ; chunk *= 2 {
		from := int64(0)
		if tail {
			from = max(size-chunk, 0)
		}
		buf := make([]byte, size-from)
		if _, err := f.ReadAt(buf, from); err != nil {
			return nil, 0, fmt.Errorf("reading terminal journal: %w", err)
		}
		if from > 0 { // the first line may be a part of one
			k := bytes.IndexByte(buf, '\n')
			buf, from = buf[k+1:], from+int64(k+1)
		}
		n := bytes.LastIndexByte(buf, '\n') + 1
		lines = bytes.SplitAfter(buf[:n], []byte{'\n'})
		if len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1]
		}
		if k := len(lines); k > 0 && !json.Valid(lines[k-1]) {
			n -= len(lines[k-1])
			lines = lines[:k-1]
		}
		if len(lines) > 0 || from == 0 {
			return lines, from + int64(n), nil
		}
	}
}

// newest reports whether lines hold the newest state after journal line
// from, or end with a line not after it.
func (s *stateDir) newest(lines [][]byte, from int64) bool {
	for i := len(lines) - 1; i >= 0; i-- {
		l, err := s.parseLine(lines[i], i)
		if err != nil || l.Seq <= from || l.State != nil {
			return true
		}
	}
	return false
}

func (s *stateDir) parseLine(b []byte, i int) (journalLine, error) {
	var l journalLine
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("reading terminal journal %s line %d: %w", s.path(journalFile), i+1, err)
	}
	return l, nil
}

// load reads the state without its log: state.json and the newest state
// the journal holds.
func (s *stateDir) load() (State, error) {
	if s.dir == "" {
		s.loaded = true
		return State{Batch: 1}, nil
	}
	snap, err := s.readSnap()
	if err != nil {
		return State{}, err
	}
	st := snap.State
	s.seq, s.loaded = snap.Seq, !snap.Separate
	if snap.Separate {
		st.Log = nil
		if fi, err := os.Stat(s.path(batchFile)); err == nil {
			s.bsize = fi.Size()
		}
	} else {
		s.saved = slices.Clone(st.Log)
	}
	lines, size, err := s.readJournal(true)
	if err != nil {
		return State{}, err
	}
	if !s.newest(lines, snap.Seq) && len(lines) > 0 {
		// no state in the last lines: read them all (seldom: nearly every
		// save changes the state)
		if lines, _, err = s.readJournal(false); err != nil {
			return State{}, err
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		l, err := s.parseLine(lines[i], i)
		if err != nil {
			return State{}, err
		}
		if i == len(lines)-1 {
			s.seq = max(s.seq, l.Seq)
		}
		if l.Seq <= snap.Seq {
			break
		}
		if l.State != nil {
			var newer State
			if err := json.Unmarshal(l.State, &newer); err != nil {
				return State{}, fmt.Errorf("reading terminal journal %s line %d: %w", s.path(journalFile), i+1, err)
			}
			newer.Log = st.Log
			st = newer
			s.head = l.State
			break
		}
	}
	if s.loaded {
		if st.Log, err = s.readLog(); err != nil {
			return State{}, err
		}
		s.saved = slices.Clone(st.Log)
	}
	if st.Batch < 1 {
		st.Batch = 1
	}
	if s.lock == nil {
		return st, nil // read only (ReadState)
	}
	s.journal, err = os.OpenFile(s.path(journalFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err == nil {
		err = s.journal.Truncate(size) // a line cut short goes
	}
	if err == nil {
		_, err = s.journal.Seek(size, 0)
	}
	if err != nil {
		return State{}, fmt.Errorf("opening terminal journal: %w", err)
	}
	s.jsize = size
	if !snap.Separate && len(st.Log) > 0 {
		// an older posim's state.json, log included: split once, so that
		// the next start reads the state alone
		head := st
		head.Log = nil
		h, err := json.Marshal(head)
		if err == nil {
			err = s.compact(h)
		}
		if err != nil {
			return State{}, err
		}
	}
	return st, nil
}

// readLog reads the log as the files hold it: its snapshot and the
// journal's changes since.
func (s *stateDir) readLog() ([]LogEntry, error) {
	snap, err := s.readSnap()
	if err != nil {
		return nil, err
	}
	log, from := snap.Log, snap.Seq
	if snap.Separate {
		data, err := os.ReadFile(s.path(batchFile))
		if err != nil {
			return nil, fmt.Errorf("reading terminal batch: %w", err)
		}
		var b batchSnap
		if err := json.Unmarshal(data, &b); err != nil {
			return nil, fmt.Errorf("reading terminal batch %s: %w", s.path(batchFile), err)
		}
		log, from = b.Log, b.Seq
	}
	lines, _, err := s.readJournal(false)
	if err != nil {
		return nil, err
	}
	for i, b := range lines {
		l, err := s.parseLine(b, i)
		if err != nil {
			return nil, err
		}
		if l.Seq <= from {
			continue
		}
		for _, op := range l.Log {
			if log, err = op.apply(log); err != nil {
				return nil, fmt.Errorf("reading terminal journal %s line %d: %w", s.path(journalFile), i+1, err)
			}
		}
	}
	return log, nil
}

func (op logChange) apply(log []LogEntry) ([]LogEntry, error) {
	switch op.Op {
	case "add":
		if op.E != nil {
			return append(log, *op.E), nil
		}
	case "set":
		if op.E != nil && op.End >= 1 && op.End <= len(log) {
			log[len(log)-op.End] = *op.E
			return log, nil
		}
	case "clear":
		return nil, nil
	case "replace":
		return slices.Clone(op.All), nil
	}
	return log, fmt.Errorf("log change %q (entry %d from the end) does not apply to a log of %d entries", op.Op, op.End, len(log))
}

// loadLog makes st.Log the whole log, before an operation that reads it.
func (s *stateDir) loadLog(st *State) error {
	if s.loaded {
		return nil
	}
	disk, err := s.readLog()
	if err != nil {
		return err
	}
	// the files end with the entries saved from st.Log; what follows them
	// in st.Log was added since the last save
	older := disk[:max(len(disk)-len(s.saved), 0)]
	st.Log = slices.Concat(older, st.Log) // a copy: s.saved must not change with it
	s.saved = disk
	s.loaded = true
	return nil
}

// changes are the log changes from what the files hold to log.
func (s *stateDir) changes(log []LogEntry) ([]logChange, error) {
	n, m := len(log), len(s.saved)
	var ops []logChange
	switch {
	case n >= m:
		for i := range m {
			if log[i] != s.saved[i] {
				e := log[i]
				ops = append(ops, logChange{Op: "set", End: m - i, E: &e})
			}
		}
		for i := m; i < n; i++ {
			e := log[i]
			ops = append(ops, logChange{Op: "add", E: &e})
		}
	case !s.loaded:
		return nil, errors.New("the batch log lost entries before it was read (a bug in posim)")
	case n == 0:
		ops = []logChange{{Op: "clear"}}
	default:
		ops = []logChange{{Op: "replace", All: slices.Clone(log)}}
	}
	return ops, nil
}

// save appends what changed since the last save to the journal, in one
// write. durable makes it survive a power cut before save returns (and
// with it every earlier lazy save); otherwise it survives the process and
// reaches the disk with the next durable save. A crash leaves the state
// of one save or of the one before, never half of one.
func (s *stateDir) save(st State, durable bool) error {
	if s.dir == "" {
		return nil
	}
	if s.onSave != nil {
		s.onSave(st)
	}
	ops, err := s.changes(st.Log)
	if err != nil {
		return fmt.Errorf("saving terminal state: %w", err)
	}
	head := st
	head.Log = nil
	h, err := json.Marshal(head)
	if err != nil {
		return fmt.Errorf("saving terminal state: %w", err)
	}
	l := journalLine{Seq: s.seq + 1, Log: ops}
	if !bytes.Equal(h, s.head) {
		l.State = h
	}
	if l.State != nil || len(l.Log) > 0 {
		line, err := json.Marshal(l)
		if err != nil {
			return fmt.Errorf("saving terminal state: %w", err)
		}
		if _, err := s.journal.Write(append(line, '\n')); err != nil {
			return fmt.Errorf("saving terminal state: %w", err)
		}
		s.seq++
		s.jsize += int64(len(line) + 1)
		s.head = h
		s.dirty = true
		for _, op := range ops {
			s.saved, _ = op.apply(s.saved)
		}
	}
	if durable && s.dirty {
		if err := s.journal.Sync(); err != nil {
			return fmt.Errorf("saving terminal state: %w", err)
		}
		s.dirty = false
	}
	if at := cmp.Or(s.compactAt, compactMin); s.jsize > max(at, s.bsize) {
		return s.compact(h)
	}
	return nil
}

// compact writes the state and the log as of the last journal line to
// their snapshots, then empties the journal. A crash in between leaves
// snapshots and lines that still add up: each snapshot names the last
// line it holds, and older lines are skipped.
func (s *stateDir) compact(head []byte) error {
	log, err := s.readLog()
	if err != nil {
		return err
	}
	batch, err := json.Marshal(batchSnap{Seq: s.seq, Log: log})
	if err != nil {
		return fmt.Errorf("saving terminal batch: %w", err)
	}
	if err := s.writeFile(batchFile, batch); err != nil {
		return err
	}
	var snap stateSnap
	if err := json.Unmarshal(head, &snap.State); err != nil {
		return fmt.Errorf("saving terminal state: %w", err)
	}
	snap.Seq, snap.Separate = s.seq, true
	data, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		return fmt.Errorf("saving terminal state: %w", err)
	}
	if err := s.writeFile(stateFile, data); err != nil {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		return err
	}
	if err := s.journal.Truncate(0); err != nil {
		return fmt.Errorf("emptying terminal journal: %w", err)
	}
	if _, err := s.journal.Seek(0, 0); err != nil {
		return fmt.Errorf("emptying terminal journal: %w", err)
	}
	s.jsize, s.bsize, s.dirty = 0, int64(len(batch)), false
	return nil
}

// writeFile replaces a file of the directory atomically and durably (the
// rename is made durable by a syncDir after).
func (s *stateDir) writeFile(name string, data []byte) error {
	tmp, err := os.CreateTemp(s.dir, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("saving terminal state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("saving terminal state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving terminal state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving terminal state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path(name)); err != nil {
		return fmt.Errorf("saving terminal state: %w", err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("saving terminal state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("saving terminal state: syncing %s: %w", dir, err)
	}
	return nil
}

// ReadState reads the state a terminal kept in dir, log included. Read
// it while no terminal uses the directory.
func ReadState(dir string) (State, error) {
	s := &stateDir{dir: dir}
	st, err := s.load()
	if err == nil {
		err = s.loadLog(&st)
	}
	s.close()
	return st, err
}

// WriteState replaces the state kept in dir by st, as one state.json (a
// technician's edit, or a test's): the journal and batch snapshot go.
// Write it while no terminal uses the directory.
func WriteState(dir string, st State) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	s := &stateDir{dir: dir}
	data, err := json.MarshalIndent(stateSnap{State: st}, "", "  ")
	if err != nil {
		return err
	}
	if err := s.writeFile(stateFile, data); err != nil {
		return err
	}
	for _, name := range []string{journalFile, batchFile} {
		if err := os.Remove(s.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("replacing terminal state: %w", err)
		}
	}
	return syncDir(dir)
}
