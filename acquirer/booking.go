package acquirer

import (
	"encoding/binary"
	"iter"
	"sync"
	"time"
	"unsafe"

	"github.com/posim/posim/wire"
)

// booking is a Record as the ledger keeps it: a value without pointers,
// its texts in fixed-size arrays, kept in chunks of bookings, so that
// however many a ledger holds the garbage collector never marks them (a
// ledger of millions of pointer-bearing records made a long-running host
// stall for whole seconds while the collector marked them). Record is the
// copy handed out.
//
// The texts a booking hands out (MTI(), STAN() and the rest) are strings
// over its own bytes, without a copy: a field is written while the
// booking is made, before anything reads it, and never changed after,
// except the response code and the reversal reason, whose strings are
// copies, and an orphan reversal's card number, written only while empty.
type booking struct {
	ID          int64
	at          int64 // unix nanoseconds, in locations[loc]
	Amount      int64
	Original    int64 // record this one refers to
	Refunded    int64 // refunds approved against it, less those reversed
	Credited    int64 // what a void or reversal gave back (see Record)
	ChargedBack int64 // what disputes gave the card back
	olderSame   int64 // the ID of the previous record of the same TID, MTI class and STAN (0: none)
	linedGross  int64 // what merchant settlement lines have counted of it so far
	completions int32 // a pre-authorisation: completions standing on it
	loc         uint16
	op          uint8 // in ops
	status      uint8 // in statuses
	TCUploaded  bool
	Settled     bool
	Late        bool // reversed after settlement
	dupKeyed    bool // a retransmission of its request is a duplicate (until its batch settles)
	lined       bool // its business day was closed by a cut-over
	hasRare     bool // the ledger keeps rare facts for it

	mti, stan, de7, tid, mid, batch, rrn, auth, rc, reason, pc text
	pan                                                        panText
}

// text is a short string kept in place: up to 15 bytes. A longer one
// (only a --spec file's fields can be longer) is kept in a table shared by
// the process, and the text holds its index.
type text struct {
	n uint8 // length, or long
	b [15]byte
}

const long = 0xFF

func (t *text) set(s string)      { setText(&t.n, t.b[:], s) }
func (t *panText) set(s string)   { setText(&t.n, t.b[:], s) }
func (t *text) String() string    { return textString(t.n, t.b[:]) }
func (t *panText) String() string { return textString(t.n, t.b[:]) }

// copied returns the text as a string of its own.
func (t *text) copied() string {
	if t.n == long {
		return t.String()
	}
	return string(t.b[:t.n])
}

// setText keeps s in b, its length in n, or (longer than b) its index in
// the table of long texts.
func setText(n *uint8, b []byte, s string) {
	if len(s) <= len(b) {
		*n = uint8(len(s))
		copy(b, s)
		return
	}
	*n = long
	binary.LittleEndian.PutUint32(b, longs.index(s))
}

// textString is what setText kept, as a string over b itself (see
// booking).
func textString(n uint8, b []byte) string {
	switch n {
	case 0:
		return ""
	case long:
		return longs.at(binary.LittleEndian.Uint32(b))
	}
	return unsafe.String(&b[0], int(n))
}

// panText is a card number kept in place (19 digits at most, ISO/IEC
// 7812); a longer DE2, which no card has, is kept as a long text is.
type panText struct {
	n uint8
	b [19]byte
}

// table numbers values seen by the process: the few operations and time
// zones records carry, and the rare long texts.
type table[T comparable] struct {
	mu  sync.RWMutex
	ids map[T]uint32
	all []T
}

func (t *table[T]) index(v T) uint32 {
	t.mu.RLock()
	id, ok := t.ids[v]
	t.mu.RUnlock()
	if ok {
		return id
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.ids[v]; ok {
		return id
	}
	if t.ids == nil {
		t.ids = map[T]uint32{}
	}
	id = uint32(len(t.all))
	t.ids[v] = id
	t.all = append(t.all, v)
	return id
}

func (t *table[T]) at(id uint32) T {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.all[id]
}

var (
	longs     table[string]
	ops       table[wire.Op]
	locations table[*time.Location]
)

// statuses are the record statuses, as booking.status numbers them.
var statuses = [...]string{"", StatusApproved, StatusDeclined, StatusReversed, StatusVoided, StatusCompleted, StatusOrphan}

func (r *booking) MTI() string              { return r.mti.String() }
func (r *booking) STAN() string             { return r.stan.String() }
func (r *booking) TransmissionTime() string { return r.de7.String() }
func (r *booking) TID() string              { return r.tid.String() }
func (r *booking) MID() string              { return r.mid.String() }
func (r *booking) Batch() string            { return r.batch.String() }
func (r *booking) PAN() string              { return r.pan.String() }
func (r *booking) RRN() string              { return r.rrn.String() }
func (r *booking) AuthCode() string         { return r.auth.String() }
func (r *booking) ResponseCode() string     { return r.rc.copied() }
func (r *booking) Reason() string           { return r.reason.copied() }
func (r *booking) Op() wire.Op              { return ops.at(uint32(r.op)) }
func (r *booking) Status() string           { return statuses[r.status] }
func (r *booking) MaskedPAN() string        { return wire.MaskPAN(r.PAN()) }

// Time is when the record was booked.
func (r *booking) Time() time.Time { return timeOf(r.at, r.loc) }

func (r *booking) setTime(t time.Time) { r.at, r.loc = stampOf(t) }

// stampOf is t as the ledger keeps times without pointers: unix
// nanoseconds and its location's number in locations.
func stampOf(t time.Time) (at int64, loc uint16) {
	return t.UnixNano(), uint16(locations.index(t.Location()))
}

// timeOf is the time stampOf kept.
func timeOf(at int64, loc uint16) time.Time {
	return time.Unix(0, at).In(locations.at(uint32(loc)))
}

func (r *booking) setOp(op wire.Op) { r.op = uint8(ops.index(op)) }

// setPAN gives a record its card number; a record keeps the first it is
// given (see booking).
func (r *booking) setPAN(pan string) {
	if r.pan.n == 0 {
		r.pan.set(pan)
	}
}

// mark sets the record's status. Engine.setStatus also keeps the risk
// limits' totals in step: use it for a record that may stand.
func (r *booking) mark(status string) {
	for i, s := range statuses {
		if s == status {
			r.status = uint8(i)
			return
		}
	}
	panic("acquirer: unknown record status " + status)
}

// view returns the record as handed out.
func (r *booking) view(l *ledger) Record {
	v := Record{
		ID: r.ID, Time: r.Time(), Op: r.Op(), MTI: r.MTI(), STAN: r.STAN(), TransmissionTime: r.TransmissionTime(),
		TID: r.TID(), MID: r.MID(), Batch: r.Batch(), PAN: r.PAN(), Amount: r.Amount,
		RRN: r.RRN(), AuthCode: r.AuthCode(), ResponseCode: r.ResponseCode(), Status: r.Status(), Reason: r.Reason(),
		TCUploaded: r.TCUploaded, Original: r.Original, Refunded: r.Refunded, Credited: r.Credited,
		ChargedBack: r.ChargedBack, Settled: r.Settled, Late: r.Late,
	}
	if a := l.accounts[v.PAN]; a != nil {
		v.MaskedPAN = a.masked // the card's own, made once
	} else {
		v.MaskedPAN = wire.MaskPAN(v.PAN)
	}
	if r.hasRare {
		v.ScriptResult = l.rare[r.ID].script
	}
	return v
}

// chunkSize is how many bookings a chunk holds.
const chunkSize = 512

type chunk [chunkSize]booking

// bookings is the ledger's records in booking order: record ID i is
// booking i-1 counted from the first ever booked; the oldest may have
// been forgotten.
type bookings struct {
	chunks []*chunk
	base   int64 // the booking chunks[0][0] is
	first  int64 // the oldest kept (as many were forgotten)
	n      int64 // how many were ever booked: the next is booking n
}

func (b *bookings) slot(i int64) *booking {
	j := i - b.base
	return &b.chunks[j/chunkSize][j%chunkSize]
}

// fresh returns the next booking, empty: the record to fill and book. A
// record made and never booked is made again by the next fresh.
func (b *bookings) fresh() *booking {
	if b.n-b.base == int64(len(b.chunks))*chunkSize {
		b.chunks = append(b.chunks, new(chunk))
	}
	r := b.slot(b.n)
	*r = booking{}
	return r
}

// get returns the record with an ID, or nil.
func (b *bookings) get(id int64) *booking {
	if i := id - 1; id >= 1 && i >= b.first && i < b.n {
		return b.slot(i)
	}
	return nil
}

func (b *bookings) len() int { return int(b.n - b.first) }

// all yields the records kept, oldest first, from the record after ID
// after.
func (b *bookings) all(after int64) iter.Seq[*booking] {
	return func(yield func(*booking) bool) {
		for i := max(after, b.first); i < b.n; i++ {
			if !yield(b.slot(i)) {
				return
			}
		}
	}
}

// backward yields the records kept, newest first.
func (b *bookings) backward() iter.Seq[*booking] {
	return func(yield func(*booking) bool) {
		for i := b.n - 1; i >= b.first; i-- {
			if !yield(b.slot(i)) {
				return
			}
		}
	}
}

// newest returns the newest record, or nil.
func (b *bookings) newest() *booking { return b.get(b.n) }

// dropFirst forgets the oldest record; a chunk whose records are all
// forgotten goes.
func (b *bookings) dropFirst() {
	b.first++
	if b.first-b.base == chunkSize {
		b.chunks[0] = nil
		b.chunks = b.chunks[1:]
		b.base += chunkSize
	}
}
