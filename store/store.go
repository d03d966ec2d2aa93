// Package store keeps an acquirer's books on disk, in SQLite
// (modernc.org/sqlite, pure Go, WAL): posim acquirer --data DIR. It keeps
// every change to the books (an acquirer.Change) before the answer leaves,
// committing changes in groups so that concurrent terminals share a commit, and
// on start replays them on an engine built as the first one was: the host
// continues where it stopped, with its RRN and authorisation-code sequences,
// working keys, back office and disputes. It keeps the journal too, written
// in the background. The schema is versioned, with migrations.
package store

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posim/posim/acquirer"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// File is the database's name in the data directory.
const File = "posim.db"

// Sync modes: normal survives a killed process (the default), full also a
// power cut, at the price of an fsync per group commit.
const (
	SyncNormal = "normal"
	SyncFull   = "full"
)

// migrations bring a database to each schema version in turn; the
// version is SQLite's user_version.
var migrations = []string{
	// 1: the ops and the journal, a row per group (JSON lines, first to
	// last), facts about the directory
	`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	 CREATE TABLE ops (first INTEGER PRIMARY KEY, last INTEGER NOT NULL, body BLOB NOT NULL);
	 CREATE TABLE journal (first INTEGER PRIMARY KEY, last INTEGER NOT NULL, body BLOB NOT NULL);`,
}

// Version is the schema version this build writes.
var Version = len(migrations)

// Store is an open data directory. It is safe for concurrent use.
type Store struct {
	dir    string
	db     *sql.DB
	insert *sql.Stmt // one group of ops
	body   bytes.Buffer

	ops     chan pending
	journal chan acquirer.Entry
	done    chan struct{}
	wg      sync.WaitGroup

	// mu orders Append's sequence numbers and sends, and Close
	mu      sync.Mutex
	closed  bool
	seq     int64        // the last op's sequence number
	dropped atomic.Int64 // journal entries dropped because the writer fell behind

	errMu sync.Mutex
	err   error // the first commit failure: every later op fails too
}

type pending struct {
	seq  int64
	op   acquirer.Change
	done chan error
}

// Open opens (or creates) the data directory dir, bringing its schema to
// Version; sync is SyncNormal or SyncFull.
func Open(dir, sync string) (*Store, error) {
	if sync == "" {
		sync = SyncNormal
	}
	if sync != SyncNormal && sync != SyncFull {
		return nil, fmt.Errorf("data sync %q: want normal or full", sync)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(dir, File)
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(" + sync + ")&_pragma=busy_timeout(5000)&_pragma=wal_autocheckpoint(8192)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises writes anyway
	s := &Store{dir: dir, db: db, ops: make(chan pending, 4096), journal: make(chan acquirer.Entry, 65536), done: make(chan struct{})}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	_ = os.Chmod(path, 0o600)
	if s.insert, err = db.Prepare(`INSERT INTO ops (first, last, body) VALUES (?, ?, ?)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	if err := db.QueryRow(`SELECT COALESCE(MAX(last), 0) FROM ops`).Scan(&s.seq); err != nil {
		db.Close()
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	s.wg.Add(2)
	go s.commitOps()
	go s.writeJournal()
	return s, nil
}

func (s *Store) migrate() error {
	var v int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("data directory %s: not a posim database: %w", s.dir, err)
	}
	if v > Version {
		return fmt.Errorf("data directory %s has schema version %d; this posim knows up to %d: use a newer posim", s.dir, v, Version)
	}
	for ; v < Version; v++ {
		tx, err := s.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("data directory %s: migrating to schema version %d: %w", s.dir, v+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, v+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

// Meta returns a fact about the directory ("" when not set).
func (s *Store) Meta(key string) (string, error) {
	var v string
	err := s.db.QueryRow(`SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetMeta records a fact about the directory.
func (s *Store) SetMeta(key, value string) error {
	_, err := s.db.Exec(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// Ops returns how many changes the directory holds.
func (s *Store) Ops() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// Replay applies every change kept, in order, to e, which must be built as the
// engine that made them was (same cards, dialect, keys, retention).
func (s *Store) Replay(e *acquirer.Engine) (int, error) {
	rows, err := s.db.Query(`SELECT first, body FROM ops ORDER BY first`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var first int64
		var body []byte
		if err := rows.Scan(&first, &body); err != nil {
			return n, err
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		for seq := first; dec.More(); seq++ {
			var op acquirer.Change
			if err := dec.Decode(&op); err != nil {
				return n, fmt.Errorf("data directory %s: op %d does not read: %w", s.dir, seq, err)
			}
			if err := e.Replay(op); err != nil {
				return n, fmt.Errorf("data directory %s: op %d: %w", s.dir, seq, err)
			}
			n++
		}
	}
	return n, rows.Err()
}

// ErrClosed: a change appended after Close.
var ErrClosed = errors.New("data store closed")

// Append keeps a change: it is queued in order at once, and the returned
// function waits until its group is committed. It implements
// acquirer.ChangeLog.
func (s *Store) Append(op acquirer.Change) func() error {
	if err := s.failed(); err != nil {
		return func() error { return err }
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return func() error { return ErrClosed }
	}
	s.seq++
	p := pending{seq: s.seq, op: op, done: make(chan error, 1)}
	s.ops <- p // in engine order: Append runs under the engine's lock
	return func() error { return <-p.done }
}

func (s *Store) failed() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// commitOps commits queued ops in groups: whatever has queued while the
// last commit ran goes into the next transaction. It ends when Close
// closes the queue, after committing what it holds.
func (s *Store) commitOps() {
	defer s.wg.Done()
	batch := make([]pending, 0, 256)
	for p := range s.ops {
		batch = append(batch[:0], p)
	drain:
		for len(batch) < cap(batch) {
			select {
			case p, ok := <-s.ops:
				if !ok {
					break drain
				}
				batch = append(batch, p)
			default:
				break drain
			}
		}
		err := s.commit(batch)
		for _, p := range batch {
			p.done <- err
		}
	}
}

func (s *Store) commit(batch []pending) error {
	if err := s.failed(); err != nil {
		return err
	}
	// the group is one row: one insert, one commit
	s.body.Reset()
	enc := json.NewEncoder(&s.body)
	var err error
	for _, p := range batch {
		if err = enc.Encode(p.op); err != nil {
			break
		}
	}
	if err == nil {
		_, err = s.insert.Exec(batch[0].seq, batch[len(batch)-1].seq, s.body.Bytes())
	}
	if err != nil {
		err = fmt.Errorf("data directory %s: %w", s.dir, err)
		s.errMu.Lock()
		if s.err == nil {
			s.err = err // the books in memory now run ahead of the disk: stop keeping
		}
		s.errMu.Unlock()
	}
	return err
}

// KeepJournal makes j keep its entries here too, and fills j with the
// newest entries kept (at most its size).
func (s *Store) KeepJournal(j *acquirer.MemJournal) error {
	limit := j.Max()
	rows, err := s.db.Query(`SELECT body FROM journal ORDER BY first DESC`)
	if err != nil {
		return err
	}
	var groups [][]acquirer.Entry
	n := 0
	for rows.Next() && (limit <= 0 || n < limit) {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			rows.Close()
			return err
		}
		var group []acquirer.Entry
		dec := json.NewDecoder(bytes.NewReader(body))
		for dec.More() {
			var e acquirer.Entry
			if err := dec.Decode(&e); err != nil {
				break
			}
			group = append(group, e)
		}
		groups = append(groups, group)
		n += len(group)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var entries []acquirer.Entry
	for i := len(groups) - 1; i >= 0; i-- {
		entries = append(entries, groups[i]...)
	}
	j.Restore(entries)
	j.OnKeep(func(e acquirer.Entry) {
		select {
		case s.journal <- e:
		default:
			s.dropped.Add(1)
		}
	}, func() {
		// entries queued before the reset may still land after it: the
		// journal restored on the next start is at most that much longer
		_, _ = s.db.Exec(`DELETE FROM journal`)
	})
	return nil
}

// writeJournal writes journal entries in the background, in groups.
func (s *Store) writeJournal() {
	defer s.wg.Done()
	batch := make([]acquirer.Entry, 0, 1024)
	var body bytes.Buffer
	flush := func() {
		if len(batch) == 0 {
			return
		}
		body.Reset()
		enc := json.NewEncoder(&body)
		for _, e := range batch {
			_ = enc.Encode(e)
		}
		// a failure costs journal lines, never the books
		_, _ = s.db.Exec(`INSERT OR REPLACE INTO journal (first, last, body) VALUES (?, ?, ?)`, batch[0].Seq, batch[len(batch)-1].Seq, body.Bytes())
		batch = batch[:0]
	}
	// entries are gathered for up to journalLinger, so that a busy host
	// writes its journal in a few large groups
	for {
		select {
		case e := <-s.journal:
			batch = append(batch, e)
			linger := time.NewTimer(journalLinger)
		gather:
			for len(batch) < cap(batch) {
				select {
				case e := <-s.journal:
					batch = append(batch, e)
				case <-linger.C:
					break gather
				case <-s.done:
					break gather
				}
			}
			linger.Stop()
			flush()
		case <-s.done:
			for {
				select {
				case e := <-s.journal:
					batch = append(batch, e)
					if len(batch) == cap(batch) {
						flush()
					}
				default:
					flush()
					return
				}
			}
		}
	}
}

// journalLinger is how long the journal writer gathers entries before it
// writes them.
const journalLinger = 50 * time.Millisecond

// Close commits what is queued, writes the journal entries waiting, and
// closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.ops) // no Append is sending: they hold s.mu
	s.mu.Unlock()
	close(s.done)
	s.wg.Wait()
	s.insert.Close()
	return s.db.Close()
}

// Export writes the books of e as JSON (what GET /ledger, /lines,
// /disputes give), for backups and audits.
func Export(e *acquirer.Engine) ([]byte, error) {
	return json.MarshalIndent(struct {
		Exported time.Time          `json:"exported"`
		Ledger   acquirer.Snapshot  `json:"ledger"`
		Lines    []acquirer.Line    `json:"lines"`
		Disputes []acquirer.Dispute `json:"disputes"`
	}{time.Now().UTC(), e.Snapshot(), e.Lines(), e.Disputes()}, "", "  ")
}

var _ acquirer.ChangeLog = (*Store)(nil)
