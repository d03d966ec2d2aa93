package acquirer

import (
	"github.com/posim/posim/wire"
	"sync"
	"time"
)

// Entry kinds written to the journal.
const (
	KindIn          = "in"            // a message received
	KindOut         = "out"           // a message sent
	KindDecision    = "decision"      // what the engine decided and why
	KindBadFrame    = "bad_frame"     // a frame that could not be unpacked
	KindDuplicate   = "duplicate"     // a retransmitted request recognised
	KindOrphan      = "orphan"        // a reversal whose original was never seen
	KindLate        = "late_reversal" // a reversal of a settled original
	KindSettlement  = "settlement"    // a batch closed, with its discrepancies
	KindConnection  = "connection"    // a connection opened or closed
	KindFault       = "fault"         // a fault fired by a handler
	KindUnsolicited = "unexpected"    // a response nobody asked for
	KindReview      = "review"        // a merchant put under review after a run of declines
)

// Entry is one journal line. PANs are stored masked; PIN blocks and tracks
// never reach the journal.
type Entry struct {
	Seq      int64      `json:"seq"`
	Time     time.Time  `json:"time"`
	Kind     string     `json:"kind"`
	Conn     string     `json:"conn,omitempty"`
	MTI      string     `json:"mti,omitempty"`
	Op       string     `json:"op,omitempty"`
	STAN     string     `json:"stan,omitempty"`
	TID      string     `json:"tid,omitempty"`
	MID      string     `json:"mid,omitempty"`
	PAN      string     `json:"pan,omitempty"`
	Amount   wire.Money `json:"amount,omitempty"`
	RC       string     `json:"rc,omitempty"`
	RRN      string     `json:"rrn,omitempty"`
	MAC      bool       `json:"mac,omitempty"` // the message carried DE64
	Status   string     `json:"status,omitempty"`
	Reason   string     `json:"reason,omitempty"`
	Detail   string     `json:"detail,omitempty"`
	RecordID int64      `json:"record,omitempty"`
}

// Filter selects journal entries; empty fields match everything.
type Filter struct {
	Kind string
	TID  string
	STAN string
	MTI  string
}

func (f Filter) match(e Entry) bool {
	return (f.Kind == "" || f.Kind == e.Kind) &&
		(f.TID == "" || f.TID == e.TID) &&
		(f.STAN == "" || f.STAN == e.STAN) &&
		(f.MTI == "" || f.MTI == e.MTI)
}

// Journal stores journal entries. Implementations are safe for concurrent use.
type Journal interface {
	// Append stores e, assigning its sequence number, and returns it.
	Append(e Entry) Entry
	// List returns the entries that match f, oldest first.
	List(f Filter) []Entry
	// Reset removes every entry.
	Reset()
}

// MemJournal is an in-memory Journal, unbounded or keeping only the newest
// entries (NewRingJournal). The zero value is an unbounded journal ready to
// use.
type MemJournal struct {
	mu      sync.Mutex
	entries []Entry // a ring once max entries are held: the oldest at head
	head    int
	max     int // 0: unbounded
	seq     int64
	// notify, when set, is called with each appended entry (outside the lock).
	notify func(Entry)
	// keep, when set, is too: a durable store (OnKeep); forget is
	// called by Reset.
	keep   func(Entry)
	forget func()
}

var _ Journal = (*MemJournal)(nil)

// NewMemJournal returns an empty journal that keeps every entry: for
// scenario runs, whose expectations read the whole journal.
func NewMemJournal() *MemJournal { return &MemJournal{} }

// NewRingJournal returns an empty journal that keeps at most n entries,
// dropping the oldest: for long-running hosts and load runs, where a full
// journal would grow without bound. The ring is allocated whole at the
// first entry (about 256 bytes an entry); appending allocates nothing more.
// n < 1 means unbounded.
func NewRingJournal(n int) *MemJournal { return &MemJournal{max: max(n, 0)} }

// Max is the most entries the journal keeps; 0 means no limit.
func (j *MemJournal) Max() int { return j.max }

// Append stores e and returns it with its sequence number.
func (j *MemJournal) Append(e Entry) Entry {
	j.mu.Lock()
	j.seq++
	e.Seq = j.seq
	if j.max > 0 && j.entries == nil {
		// the ring takes its full size at the first entry: growing a
		// slice of this size by doubling copies it over and over
		j.entries = make([]Entry, 0, j.max)
	}
	if j.max == 0 || len(j.entries) < j.max {
		j.entries = append(j.entries, e)
	} else {
		j.entries[j.head] = e
		if j.head++; j.head == j.max {
			j.head = 0
		}
	}
	notify, keep := j.notify, j.keep
	j.mu.Unlock()
	if keep != nil {
		keep(e)
	}
	if notify != nil {
		notify(e)
	}
	return e
}

// List returns the matching entries, oldest first.
func (j *MemJournal) List(f Filter) []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Entry, 0, len(j.entries))
	for _, part := range [][]Entry{j.entries[j.head:], j.entries[:j.head]} {
		for _, e := range part {
			if f.match(e) {
				out = append(out, e)
			}
		}
	}
	return out
}

// Len returns the number of entries held.
func (j *MemJournal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.entries)
}

// Reset removes every entry; sequence numbers continue.
func (j *MemJournal) Reset() {
	j.mu.Lock()
	j.entries, j.head = nil, 0
	forget := j.forget
	j.mu.Unlock()
	if forget != nil {
		forget()
	}
}

// OnAppend registers fn to be called for every appended entry. It replaces
// any earlier function; nil removes it.
func (j *MemJournal) OnAppend(fn func(Entry)) {
	j.mu.Lock()
	j.notify = fn
	j.mu.Unlock()
}

// OnKeep registers fn, besides OnAppend's, to be called for every appended
// entry: a durable store that keeps the journal. fn must not block;
// forget, when set, is called by Reset: the store forgets the entries
// kept so far.
func (j *MemJournal) OnKeep(fn func(Entry), forget func()) {
	j.mu.Lock()
	j.keep, j.forget = fn, forget
	j.mu.Unlock()
}

// Restore fills an empty journal with entries kept from an earlier run,
// oldest first (the newest Max of them); sequence numbers continue after
// the last.
func (j *MemJournal) Restore(entries []Entry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.max > 0 && len(entries) > j.max {
		entries = entries[len(entries)-j.max:]
	}
	if j.max > 0 {
		j.entries = make([]Entry, 0, j.max)
	}
	j.entries = append(j.entries, entries...)
	j.head = 0
	if n := len(entries); n > 0 && entries[n-1].Seq > j.seq {
		j.seq = entries[n-1].Seq
	}
}
