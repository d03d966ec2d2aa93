package acquirer

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/posim/posim/wire"
)

// risk keeps what the daily and velocity limits ask of a card's history as
// running totals, so that checking a limit costs the same whatever the
// card has done before: a walk of its records made a host with limits on
// 20 to 35 times slower under load.
//
// What counts is what the limits count: sales and completions while they
// stand (approved; not voided or reversed). Every change of a record's
// status goes through Engine.setStatus, which keeps the totals in step;
// retention forgetting a record does not change them, so a limit still
// sees a sale the books have purged.
type risk struct {
	// day: per card, the live sales and completions of one UTC day (the
	// newest day seen); an older day's count is worth nothing.
	day map[string]dayTotal
	// velocity: per card and merchant, the live sales and completions of
	// the last window, oldest first. Kept only while a velocity limit is
	// on (window > 0), so a host without one keeps nothing.
	velocity map[velKey]*velList
	window   time.Duration
}

// velList is a card's standing sales at a merchant within the window, in
// time order from head on; what falls out of the window is skipped by
// moving head, and the slice compacted once half of it is behind head.
type velList struct {
	es   []velEntry
	head int
}

func (v *velList) live() []velEntry { return v.es[v.head:] }

type dayTotal struct {
	day    int64 // days since 1970-01-01, UTC
	amount int64
	count  int
}

type velKey struct{ pan, mid string }

type velEntry struct {
	at int64 // unix nanoseconds
	id int64 // record ID, to take it out when it stops standing
}

func newRisk() *risk {
	return &risk{day: map[string]dayTotal{}, velocity: map[velKey]*velList{}}
}

func utcDay(t time.Time) int64 { return t.Unix() / 86400 }

// counted reports whether the limits count r while it stands.
func counted(r *booking) bool {
	if r.pan.n == 0 {
		return false
	}
	op := r.Op()
	return op == wire.OpSale || op == wire.OpCompletion
}

// stand counts r, which has just started to stand; pan is its card number
// as a string to keep (ledger.panKey).
func (k *risk) stand(pan string, r *booking) {
	d := utcDay(time.Unix(0, r.at))
	t, ok := k.day[pan]
	if !ok || d > t.day {
		t = dayTotal{day: d}
	}
	if d == t.day { // an older day than the newest seen: no limit asks
		t.amount += r.Amount
		t.count++
		k.day[pan] = t
	}
	if k.window > 0 {
		k.standRecent(pan, r)
	}
}

// standRecent adds r to the velocity totals.
func (k *risk) standRecent(pan string, r *booking) {
	v := k.velocity[velKey{pan, r.MID()}]
	if v == nil {
		v = &velList{}
		k.velocity[velKey{pan, strings.Clone(r.MID())}] = v
	}
	at := r.at
	i := len(v.es)
	for i > v.head && v.es[i-1].at > at { // kept in time order
		i--
	}
	v.es = slices.Insert(v.es, i, velEntry{at, r.ID})
}

// fall uncounts r, which has just stopped standing (voided, reversed).
func (k *risk) fall(pan string, r *booking) {
	if t, ok := k.day[pan]; ok && t.day == utcDay(time.Unix(0, r.at)) && t.count > 0 {
		t.amount -= r.Amount
		t.count--
		k.day[pan] = t
	}
	key := velKey{pan, r.MID()}
	v := k.velocity[key]
	if v == nil {
		return
	}
	es := v.live()
	at := r.at
	i, _ := slices.BinarySearchFunc(es, at, func(e velEntry, at int64) int { return cmp.Compare(e.at, at) })
	for ; i < len(es) && es[i].at == at; i++ {
		if es[i].id == r.ID {
			v.es = slices.Delete(v.es, v.head+i, v.head+i+1)
			break
		}
	}
	if len(v.live()) == 0 {
		delete(k.velocity, key)
	}
}

// today returns the amount and count of the card's standing sales and
// completions on now's UTC day.
func (k *risk) today(pan string, now time.Time) (int64, int) {
	t := k.day[pan]
	if t.day != utcDay(now) {
		return 0, 0
	}
	return t.amount, t.count
}

// recent returns how many of the card's sales and completions at the
// merchant stand within the velocity window before now, dropping those
// older than the window.
func (k *risk) recent(pan, mid string, now time.Time) int {
	key := velKey{pan, mid}
	v := k.velocity[key]
	if v == nil {
		return 0
	}
	from := now.Add(-k.window).UnixNano()
	for v.head < len(v.es) && v.es[v.head].at <= from {
		v.head++
	}
	switch n := len(v.live()); {
	case n == 0:
		delete(k.velocity, key)
		return 0
	case v.head > n:
		v.es = append(v.es[:0], v.live()...)
		v.head = 0
		return n
	default:
		return n
	}
}

// setWindow turns the velocity totals on (window > 0) or off. Turned on
// or changed, they are rebuilt from the records the ledger holds within
// the window before its newest record.
func (k *risk) setWindow(window time.Duration, l *ledger) {
	if window == k.window {
		return
	}
	k.window = window
	clear(k.velocity)
	last := l.records.newest()
	if window <= 0 || last == nil {
		return
	}
	from := last.at - int64(window)
	for r := range l.records.all(0) {
		if counted(r) && r.live() && r.at > from {
			k.standRecent(l.panKey(r), r)
		}
	}
}

// setStatus changes a record's status, keeping the limits' running totals
// in step when the record starts or stops standing.
func (e *Engine) setStatus(r *booking, status string) {
	was := r.live()
	r.mark(status)
	if !counted(r) || was == r.live() {
		return
	}
	if r.live() {
		e.l.risk.stand(e.l.panKey(r), r)
	} else {
		e.l.risk.fall(r.PAN(), r)
	}
}
