package acquirer

import (
	"hash/fnv"
	"iter"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
)

// Record statuses.
const (
	StatusApproved  = "approved"
	StatusDeclined  = "declined"
	StatusReversed  = "reversed"
	StatusVoided    = "voided"
	StatusCompleted = "completed" // a pre-auth turned into a completion
	StatusOrphan    = "orphan"    // a reversal with no original
)

// Record is one financial transaction the host has seen: its request, its
// answer, and what happened to it later (reversed, voided, refunded,
// settled).
type Record struct {
	ID               int64     `json:"id"`
	Time             time.Time `json:"time"`
	Op               wire.Op   `json:"op"`
	MTI              string    `json:"mti"`
	STAN             string    `json:"stan"`
	TransmissionTime string    `json:"de7,omitempty"`
	TID              string    `json:"tid"`
	MID              string    `json:"mid"`
	Batch            string    `json:"batch,omitempty"`
	PAN              string    `json:"-"`
	MaskedPAN        string    `json:"pan"`
	Amount           int64     `json:"amount"`
	RRN              string    `json:"rrn,omitempty"`
	AuthCode         string    `json:"auth_code,omitempty"`
	ResponseCode     string    `json:"rc"`
	Status           string    `json:"status"`
	Reason           string    `json:"reason,omitempty"` // reversal reason received
	// TCUploaded: the chip card's transaction certificate arrived after
	// settlement (and verified, for a card the book knows as a chip card).
	TCUploaded bool `json:"tc_uploaded,omitempty"`
	// ScriptResult is the issuer script result (DF31, hex) a terminal's
	// script advice reported for it.
	ScriptResult string `json:"script_result,omitempty"`
	Original     int64  `json:"original,omitempty"` // record this one refers to
	Refunded     int64  `json:"refunded,omitempty"` // refunds approved against it, less those reversed
	// Credited is what a void or a reversal of this record gave back: for a
	// sale, what the card was credited (the amount less what refunds had
	// already given back); for a refund, the refund taken back.
	Credited int64 `json:"credited,omitempty"`
	// ChargedBack is what disputes gave the card back: a chargeback's
	// amount, less a won representment.
	ChargedBack int64 `json:"charged_back,omitempty"`
	Settled     bool  `json:"settled,omitempty"`
	Late        bool  `json:"late,omitempty"` // reversed after settlement

}

// recordRare holds what few records have, apart, so that every record
// stays small (a ledger may keep millions).
type recordRare struct {
	icc       []byte    // a chip answer's ICC data, replayed to a duplicate
	anomalies []Anomaly // back-office faults to apply at the cut-over
	origDE7   string    // an orphan reversal: the DE7 its original must carry
	script    string    // the issuer script result (DF31, hex) a script advice reported
	was       int64     // an adjustment or tip: its original's amount before it
}

// more returns a record's rare facts, making room for them.
func (l *ledger) more(r *booking) *recordRare {
	if !r.hasRare {
		r.hasRare = true
		l.rare[r.ID] = &recordRare{}
	}
	return l.rare[r.ID]
}

// rareOf returns a record's rare facts (empty: none).
func (l *ledger) rareOf(r *booking) recordRare {
	if !r.hasRare {
		return recordRare{}
	}
	return *l.rare[r.ID]
}

// closed reports whether the record has left the open books: its batch
// was settled or a business-day cut-over turned it into a settlement line.
func (r *booking) closed() bool { return r.Settled || r.lined }

func (r *booking) live() bool {
	s := r.Status()
	return s == StatusApproved || s == StatusCompleted
}

// owed is what the record makes the acquirer owe its merchant, signed:
// a sale, completion or offline advice its amount less what a void or
// reversal gave back; a refund minus its amount, unless it was reversed.
// Declined records, orphans, pre-authorisations, voids and reversals owe
// nothing themselves (a void or reversal shows in the record it undid).
// See the README's money rules.
func (r *booking) owed() int64 {
	switch r.Status() {
	case StatusDeclined, StatusOrphan:
		return 0
	}
	return int64(r.Op().Settles()) * (r.Amount - r.Credited)
}

// remaining is what of a debit the card has not been given back by voids,
// reversals, refunds or chargebacks: the most any further credit may give.
func (r *booking) remaining() int64 { return r.Amount - r.Credited - r.Refunded - r.ChargedBack }

// Account is a card's account at the issuer.
type Account struct {
	Card     cards.Card `json:"card"`
	Balance  int64      `json:"balance"`
	Held     int64      `json:"held"`
	PINFails int        `json:"pin_fails"`

	masked string // the PAN masked, once
	idx    uint32 // its place in ledger.accts
}

// Available is the balance less holds.
func (a *Account) Available() int64 { return a.Balance - a.Held }

// posting is a Posting as the ledger keeps it.
type posting struct {
	at     int64 // see stampOf
	record int64
	amount int64
	acct   uint32 // Account.idx
	kind   uint16 // in ledger.kinds
	loc    uint16 // see stampOf
}

// posting returns the Posting p keeps.
func (l *ledger) posting(p posting) Posting {
	return Posting{Time: timeOf(p.at, p.loc), PAN: l.accts[p.acct].masked, Amount: p.amount, Kind: l.kinds[p.kind], Record: p.record}
}

// Posting is one movement of money on a card account.
type Posting struct {
	Time   time.Time `json:"time"`
	PAN    string    `json:"pan"` // masked
	Amount int64     `json:"amount"`
	Kind   string    `json:"kind"`
	Record int64     `json:"record"`
}

// TerminalState is what the host knows of a terminal.
type TerminalState struct {
	cards.Terminal
	SignedOn bool `json:"signed_on"`
	// Batch is the batch the host expects the terminal to be on: what it
	// reported at its first sign-on, one more after each settlement. A
	// sign-on answer hands it to the terminal (cup 60.2).
	Batch string `json:"batch,omitempty"`
	// Downloaded: the terminal has run a whole download (its blacklist
	// ended, 0800 391); until then its sign-on answers ask it to (cup).
	Downloaded bool `json:"downloaded,omitempty"`
}

// Settlement is the outcome of closing one terminal batch.
type Settlement struct {
	TID           string        `json:"tid"`
	Batch         string        `json:"batch"`
	Time          time.Time     `json:"time"`
	Balanced      bool          `json:"balanced"`
	Terminal      wire.Totals   `json:"terminal_totals"`
	Host          wire.Totals   `json:"host_totals"`
	Uploaded      int           `json:"uploaded"`
	Discrepancies []Discrepancy `json:"discrepancies,omitempty"`
}

// Discrepancy kinds found by a batch upload.
const (
	HostOnly       = "host_only"       // booked by the host, unknown to the terminal
	TerminalOnly   = "terminal_only"   // in the terminal's batch, not booked by the host
	AmountMismatch = "amount_mismatch" // both know it, with different amounts
)

// Discrepancy is one difference between the terminal's batch and the host's.
type Discrepancy struct {
	Kind           string `json:"kind"`
	STAN           string `json:"stan"`
	RRN            string `json:"rrn,omitempty"`
	PAN            string `json:"pan"` // masked
	HostAmount     int64  `json:"host_amount"`
	TerminalAmount int64  `json:"terminal_amount"`
}

// uploadItem is one 0320 batch-upload entry.
type uploadItem struct {
	STAN   string
	MTI    string
	RRN    string
	PAN    string
	Amount int64
}

// ledger is the host's state. It is owned by an Engine, whose mutex guards it.
type ledger struct {
	accounts  map[string]*Account // by PAN
	bins      map[string]bool
	merchants map[string]cards.Merchant
	terminals map[string]*TerminalState
	records   bookings
	rare      map[int64]*recordRare // by record ID
	// the indexes hold record IDs: maps of keys and values without
	// pointers are not marked by the garbage collector, however large
	byRRN    map[rrnK]int64
	byOrig   map[origK]int64         // the newest; older ones follow olderSame
	byPAN    map[string]*seq[int64]  // a card's records, in booking order
	orphans  map[origK]int64         // reversals that arrived before their original
	atc      map[string]int          // the last ATC of a verified ARQC, by card (PAN and PSN)
	postings seq[posting]            // without pointers: the collector never marks them
	accts    []*Account              // by Account.idx
	kinds    []string                // posting kinds, by posting.kind
	uploads  map[string][]uploadItem // TID|batch
	settled  map[string]Settlement   // TID|batch
	settles  []Settlement
	risk     *risk // running totals of the daily and velocity limits

	retain  int // keep at most this many records (0: all)
	postMax int // keep at most this many postings (0: all)
}

func newLedger(book *cards.Book) *ledger {
	l := &ledger{
		accounts:  map[string]*Account{},
		bins:      map[string]bool{},
		merchants: map[string]cards.Merchant{},
		terminals: map[string]*TerminalState{},
		byRRN:     map[rrnK]int64{},
		byOrig:    map[origK]int64{},
		byPAN:     map[string]*seq[int64]{},
		orphans:   map[origK]int64{},
		atc:       map[string]int{},
		rare:      map[int64]*recordRare{},
		uploads:   map[string][]uploadItem{},
		settled:   map[string]Settlement{},
		risk:      newRisk(),
	}
	for _, c := range book.Cards {
		a := &Account{Card: c, Balance: c.Balance, masked: wire.MaskPAN(c.PAN), idx: uint32(len(l.accts))}
		l.accounts[c.PAN] = a
		l.accts = append(l.accts, a)
		if len(c.PAN) >= 6 {
			l.bins[c.PAN[:6]] = true
		}
	}
	for _, m := range book.Merchants {
		l.merchants[m.MID] = m
	}
	for _, t := range book.Terminals {
		l.terminals[t.TID] = &TerminalState{Terminal: t}
	}
	return l
}

// origK finds the records a reversal or an upload item refers to: TID,
// MTI class and STAN packed in an array. A key without pointers hashes as
// one block and costs the garbage collector nothing to scan.
type origK [32]byte

func origKey(tid, mti, stan string) origK {
	var k origK
	mti = mtiClass(mti)
	if len(tid) > 16 || len(mti) > 4 || len(stan) > 10 {
		// longer than any dialect's fields: a digest of them instead
		h := fnv.New128a()
		for _, s := range []string{tid, mti, stan} {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		k[0] = 0xFF
		copy(k[1:], h.Sum(nil))
		return k
	}
	copy(k[0:16], tid)
	copy(k[16:20], mti)
	copy(k[20:30], stan)
	k[30], k[31] = byte(len(tid)), byte(len(stan))<<4|byte(len(mti))
	return k
}

// mtiClass is an MTI without its last digit, which only marks a repeat
// (0201, 0221 and 0200 are the same original). It slices, never allocates.
func mtiClass(mti string) string {
	if len(mti) == 4 {
		return mti[:3]
	}
	return mti
}

// fresh returns an empty record to fill and book with add.
func (l *ledger) fresh() *booking { return l.records.fresh() }

// add books r, the record fresh returned.
func (l *ledger) add(r *booking) {
	if r != l.records.slot(l.records.n) {
		panic("acquirer: booking a record fresh did not make")
	}
	if l.retain > 0 && l.records.len() >= l.retain {
		l.forget()
	}
	l.records.n++
	r.ID = l.records.n
	if rrn := r.RRN(); rrn != "" {
		l.byRRN[rrnKey(rrn)] = r.ID
	}
	k := origKey(r.TID(), r.MTI(), r.STAN())
	r.olderSame = l.byOrig[k]
	l.byOrig[k] = r.ID
	if r.pan.n != 0 {
		ids := l.byPAN[r.PAN()]
		if ids == nil {
			ids = &seq[int64]{}
			l.byPAN[l.panKey(r)] = ids
		}
		ids.push(r.ID)
	}
	if counted(r) && r.live() {
		l.risk.stand(l.panKey(r), r)
	}
}

// panKey is a record's card number as a string to keep in an index: the
// card's own string for a card of the book, else a copy (a record's
// strings are over its own bytes, see booking).
func (l *ledger) panKey(r *booking) string {
	if a := l.accounts[r.PAN()]; a != nil {
		return a.Card.PAN
	}
	return strings.Clone(r.PAN())
}

func (l *ledger) post(now time.Time, a *Account, amount int64, kind string, rec *booking) {
	a.Balance += amount
	if l.postMax > 0 && l.postings.len() >= l.postMax {
		l.postings.dropFront(l.postings.len() - l.postMax + 1)
	}
	k := slices.Index(l.kinds, kind)
	if k < 0 {
		k = len(l.kinds)
		l.kinds = append(l.kinds, kind)
	}
	at, loc := stampOf(now)
	l.postings.push(posting{at: at, record: rec.ID, amount: amount, acct: a.idx, kind: uint16(k), loc: loc})
}

// originals returns the records of a TID, MTI class and STAN, newest first.
func (l *ledger) originals(k origK) iter.Seq[*booking] {
	return func(yield func(*booking) bool) {
		for r := l.record(l.byOrig[k]); r != nil; r = l.record(r.olderSame) {
			if !yield(r) {
				return
			}
		}
	}
}

// setRetention bounds the ledger, forgetting what is over the bound; an
// empty ledger gets indexes as large as they will get, so that nothing is
// rehashed under load.
func (l *ledger) setRetention(records, postings int) {
	l.retain, l.postMax = max(records, 0), max(postings, 0)
	for l.retain > 0 && l.records.len() > l.retain {
		l.forget()
	}
	if n := min(l.retain, 1<<20); n > 0 && l.records.n == 0 {
		l.presize(n)
	}
}

// presize makes room for n records in the indexes of an empty ledger.
func (l *ledger) presize(n int) {
	l.records.chunks = make([]*chunk, 0, n/chunkSize+1)
	l.byRRN = make(map[rrnK]int64, n)
	l.byOrig = make(map[origK]int64, n)
}

// record returns the record with an ID, or nil (never booked, or forgotten).
func (l *ledger) record(id int64) *booking { return l.records.get(id) }

// forget drops the oldest record from the books and every index: a
// reversal, void or upload that refers to it later finds nothing, as at a
// host that purged it. Only a ledger with a retention limit forgets.
func (l *ledger) forget() {
	r := l.records.slot(l.records.first)
	if k := rrnKey(r.RRN()); r.RRN() != "" && l.byRRN[k] == r.ID {
		delete(l.byRRN, k)
	}
	// r is the oldest record of all, so the last of its chain
	k := origKey(r.TID(), r.MTI(), r.STAN())
	if head := l.byOrig[k]; head == r.ID {
		delete(l.byOrig, k)
	} else {
		for p := l.record(head); p != nil; p = l.record(p.olderSame) {
			if p.olderSame == r.ID {
				p.olderSame = 0
				break
			}
		}
	}
	if ids := l.byPAN[r.PAN()]; ids != nil {
		dropID(ids, r.ID)
		if ids.len() == 0 {
			delete(l.byPAN, r.PAN())
		}
	}
	if r.hasRare {
		delete(l.rare, r.ID)
	}
	if l.orphans[k] == r.ID {
		delete(l.orphans, k)
	}
	l.records.dropFirst()
}

// dropID removes id from ids, which are in booking order, so the oldest
// (the one forgotten) is first; anywhere else, the list is made again
// without it.
func dropID(ids *seq[int64], id int64) {
	if ids.len() > 0 && ids.at(0) == id {
		ids.dropFront(1)
		return
	}
	var kept seq[int64]
	for x := range ids.all() {
		if x != id {
			kept.push(x)
		}
	}
	*ids = kept
}

// rrnK is an RRN as a map key without a pointer: its characters and its
// length (an RRN is 12 characters; a longer one, which posim never
// issues, is kept as a digest).
type rrnK [16]byte

func rrnKey(rrn string) rrnK {
	var k rrnK
	if len(rrn) > 15 {
		h := fnv.New128a()
		h.Write([]byte(rrn))
		copy(k[:], h.Sum(nil))
		k[15] = 0xFF
		return k
	}
	copy(k[:], rrn)
	k[15] = byte(len(rrn))
	return k
}

// Snapshot is a copy of the ledger for reports, expectations and the control
// API. PANs are masked.
type Snapshot struct {
	Accounts    []AccountView    `json:"accounts"`
	Merchants   []cards.Merchant `json:"merchants"`
	Terminals   []TerminalState  `json:"terminals"`
	Records     []Record         `json:"records"`
	Postings    []Posting        `json:"postings"`
	Settlements []Settlement     `json:"settlements"`
}

// AccountView is an account as shown outside the host.
type AccountView struct {
	Alias     string     `json:"alias,omitempty"`
	PAN       string     `json:"pan"` // masked
	Status    string     `json:"status"`
	Balance   wire.Money `json:"balance"`
	Held      wire.Money `json:"held"`
	Available wire.Money `json:"available"`
}

func (l *ledger) snapshot() Snapshot { return l.page(0, 0) }

// page is a snapshot whose records are those after record id after, at
// most limit of them (0: all), with their postings; only the page is
// copied.
func (l *ledger) page(after int64, limit int) Snapshot {
	var s Snapshot
	for _, a := range l.accounts {
		s.Accounts = append(s.Accounts, AccountView{
			Alias: a.Card.Alias, PAN: wire.MaskPAN(a.Card.PAN), Status: a.Card.Status,
			Balance: wire.Money(a.Balance), Held: wire.Money(a.Held), Available: wire.Money(a.Available()),
		})
	}
	sort.Slice(s.Accounts, func(i, j int) bool { return s.Accounts[i].PAN < s.Accounts[j].PAN })
	for _, m := range l.merchants {
		s.Merchants = append(s.Merchants, m)
	}
	sort.Slice(s.Merchants, func(i, j int) bool { return s.Merchants[i].MID < s.Merchants[j].MID })
	for _, t := range l.terminals {
		s.Terminals = append(s.Terminals, *t)
	}
	sort.Slice(s.Terminals, func(i, j int) bool { return s.Terminals[i].TID < s.Terminals[j].TID })
	n := l.records.n - max(after, l.records.first)
	if limit > 0 {
		n = min(n, int64(limit))
	}
	s.Records = make([]Record, 0, max(n, 0))
	for r := range l.records.all(after) {
		if int64(len(s.Records)) == n {
			break
		}
		s.Records = append(s.Records, r.view(l))
	}
	if after == 0 && limit == 0 {
		for p := range l.postings.all() {
			s.Postings = append(s.Postings, l.posting(p))
		}
	} else if len(s.Records) > 0 {
		lo, hi := s.Records[0].ID, s.Records[len(s.Records)-1].ID
		for p := range l.postings.all() {
			if p.record >= lo && p.record <= hi {
				s.Postings = append(s.Postings, l.posting(p))
			}
		}
	}
	s.Settlements = append(s.Settlements, l.settles...)
	return s
}
