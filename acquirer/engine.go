package acquirer

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
)

// Note is a fact about a decision worth its own journal entry.
type Note struct {
	Kind   string
	Detail string
}

// Decision is the engine's answer to one request.
type Decision struct {
	// Response is the message to send back; nil when nothing is to be sent
	// (a response nobody asked for). It is the one the ledger keeps to
	// answer a duplicate: read it, or copy it before changing it (an
	// Exchange hands its handlers a copy).
	Response *wire.Txn
	// Record is a copy of the record booked or touched, if any.
	Record *Record
	rec    *booking // the record itself, while the engine decides
	// Why says in a few words why the engine answered as it did.
	Why string
	// Notes are extra facts to journal (duplicate, orphan, late reversal,
	// settlement).
	Notes []Note

	durable func() error // waits until the decision is kept (op log)
}

// Durable waits until the decision is kept by the engine's op log (at
// once without one) and reports a failure to keep it: such a decision
// must not be answered, since a restart would not know it.
func (d Decision) Durable() error {
	if d.durable == nil {
		return nil
	}
	return d.durable()
}

// Engine holds the ledger and decides every request. It is the acquirer's
// core: a function of request, ledger state, policies and clock, with no
// sockets. Engine is safe for concurrent use; each decision holds its lock.
type Engine struct {
	mu     sync.Mutex
	book   *cards.Book
	pol    Policies
	pinKey wire.PINKey
	l      *ledger
	seq    int64 // approvals: the authorisation code's sequence
	// lastRRN is the last RRN issued, as a number; Reset keeps it, so that
	// RRNs never repeat.
	lastRRN   int64
	rrnIssued bool

	bo   backOffice
	caps wire.Capabilities // how the dialect settles

	// working keys issued at sign-on (cup), by TID
	tmk, macAlg string
	keySerial   uint64
	keys        map[string]*terminalKeys

	// changes, when set, keeps every change before it is answered
	changes ChangeLog
}

type terminalKeys struct {
	pin   wire.PINKey
	mac   *wire.MACKey
	track []byte // key set 004
}

// EnableKeys makes sign-ons deliver working keys encrypted under the
// terminal master key (hex), and MACs computed with alg (cup or x9.19).
func (e *Engine) EnableKeys(tmk, alg string) error {
	if _, _, err := wire.IssueKeys(tmk, wire.KeysSingle, 0); err != nil {
		return err
	}
	if _, err := wire.NewMACKey(alg, "0123456789ABCDEFFEDCBA9876543210"); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tmk, e.macAlg, e.keys = tmk, alg, map[string]*terminalKeys{}
	return nil
}

// KeysEnabled reports whether sign-ons deliver working keys.
func (e *Engine) KeysEnabled() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tmk != ""
}

// MACKey returns the MAC key issued to a terminal at its last sign-on.
func (e *Engine) MACKey(tid string) *wire.MACKey {
	e.mu.Lock()
	defer e.mu.Unlock()
	if k := e.keys[tid]; k != nil {
		return k.mac
	}
	return nil
}

// issueKeys gives a terminal new working keys and returns DE62.
func (e *Engine) issueKeys(tid, mode string) ([]byte, error) {
	e.keySerial++
	layout := e.pol.MACKey
	if t := e.l.terminals[tid]; t != nil && t.MACKey != "" {
		layout = t.MACKey
	}
	wk, de62, err := wire.IssueKeysLayout(e.tmk, mode, layout, e.keySerial)
	if err != nil {
		return nil, err
	}
	pin, err := wire.ParsePINKey(wire.HexKey(wk.PIN))
	if err != nil {
		return nil, err
	}
	mac, err := wire.NewMACKey(e.macAlg, wire.HexKey(wk.MAC))
	if err != nil && len(wk.MAC) == 8 && e.macAlg == wire.MACX919 {
		// X9.19 needs a double-length key: a single one is used twice
		mac, err = wire.NewMACKey(e.macAlg, wire.HexKey(append(append([]byte{}, wk.MAC...), wk.MAC...)))
	}
	if err != nil {
		return nil, err
	}
	e.keys[tid] = &terminalKeys{pin: pin, mac: mac, track: wk.Track}
	return de62, nil
}

// NewEngine returns an engine whose ledger is seeded from book.
func NewEngine(book *cards.Book, pol Policies) (*Engine, error) {
	if err := pol.Validate(); err != nil {
		return nil, err
	}
	key, err := wire.ParsePINKey(pol.PINKey)
	if err != nil {
		return nil, fmt.Errorf("policy pin_key: %w", err)
	}
	e := &Engine{book: book, pol: pol, pinKey: key, l: newLedger(book)}
	e.syncRisk()
	return e, nil
}

// syncRisk keeps velocity totals while, and only while, the policies have
// a velocity limit; e.mu is held (or the engine not yet shared).
func (e *Engine) syncRisk() {
	var window time.Duration
	if e.pol.VelocityCount > 0 {
		window = e.pol.VelocityWindow
	}
	e.l.risk.setWindow(window, e.l)
}

// Policies returns the engine's policies.
func (e *Engine) Policies() Policies {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pol
}

// SetPolicies replaces the policies for the next decisions.
func (e *Engine) SetPolicies(p Policies) error {
	if err := p.Validate(); err != nil {
		return err
	}
	key, err := wire.ParsePINKey(p.PINKey)
	if err != nil {
		return fmt.Errorf("policy pin_key: %w", err)
	}
	e.mu.Lock()
	wait := e.logChange(Change{Kind: ChangeSetPolicies, Policies: &p, PINKey: p.PINKey})
	e.pol, e.pinKey = p, key
	e.syncRisk()
	e.mu.Unlock()
	return wait()
}

// Reset restores the ledger to its seed.
func (e *Engine) Reset() {
	wait := noWait
	defer func() { _ = wait() }()
	e.mu.Lock()
	wait = e.logChange(Change{Kind: ChangeReset})
	retain, postMax := e.l.retain, e.l.postMax
	e.l = newLedger(e.book)
	e.l.setRetention(retain, postMax)
	e.syncRisk()
	e.seq = 0
	if e.keys != nil {
		e.keys = map[string]*terminalKeys{}
	}
	e.mu.Unlock()
}

// SnapshotPage is Snapshot with only the records after record id after,
// at most limit of them (0: all), and their postings: what a paginated
// reader asks for, without copying the whole ledger under the lock.
func (e *Engine) SnapshotPage(after int64, limit int) Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.l.page(after, limit)
}

// Snapshot returns a copy of the ledger.
func (e *Engine) Snapshot() Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.l.snapshot()
}

// Account returns a copy of the account of a PAN.
func (e *Engine) Account(pan string) (Account, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.l.accounts[pan]
	if !ok {
		return Account{}, false
	}
	return *a, true
}

// Decide answers one decoded request at time now, updating the ledger.
func (e *Engine) Decide(req *wire.Txn, now time.Time) Decision {
	e.mu.Lock()
	defer e.mu.Unlock()
	wait := e.logChange(Change{Kind: ChangeDecide, At: now, Req: req})
	op := req.Op
	if op == wire.OpOfflineSale {
		// booked as the advice it is (money rule of an offline advice)
		cp := *req
		cp.Op = wire.OpAdvice
		req = &cp
	}
	d := e.decide(req, now)
	if d.Response != nil && op == wire.OpOfflineSale {
		d.Response.Op = op // answered as what it was (cup 60.1 30)
	}
	e.completeAnswer(d.Response, now)
	d.durable = wait
	if d.rec != nil {
		v := d.rec.view(e.l)
		d.Record, d.rec = &v, nil
	}
	return d
}

func (e *Engine) decide(req *wire.Txn, now time.Time) Decision {
	e.advance(now) // a cut-over due since the last message runs first
	if req.IsResponse() {
		return Decision{Why: "response received without a request", Notes: []Note{{KindUnsolicited, req.MTI}}}
	}
	if _, err := wire.ResponseMTI(req.MTI); err != nil {
		return Decision{Why: "not a request: " + err.Error(), Notes: []Note{{KindUnsolicited, req.MTI}}}
	}
	if req.Op.Network() {
		return e.network(req, now)
	}
	if d, refused := e.unsigned(req); refused {
		return d
	}
	switch req.Op {
	case wire.OpSale, wire.OpPreAuth, wire.OpCompletion, wire.OpVoid, wire.OpRefund, wire.OpBalance, wire.OpAdvice,
		wire.OpPreAuthVoid, wire.OpCompletionVoid, wire.OpAdjust, wire.OpTip:
		if miss := missing(req); miss != "" {
			return Decision{Response: req.Response("30"), Why: "format error: " + miss}
		}
		if req.Op != wire.OpBalance {
			if d, dup := e.duplicate(req); dup {
				return d
			}
		}
		d := e.financial(req, now)
		if d.rec != nil && req.Op != wire.OpBalance {
			d.rec.dupKeyed = true
		}
		return d
	case wire.OpReversal, wire.OpReversalAdvice:
		return e.reverse(req, now)
	case wire.OpSettle:
		return e.settle(req, now)
	case wire.OpBatchUpload:
		return e.upload(req)
	case wire.OpTCUpload:
		return e.tcUpload(req)
	case wire.OpScriptAdvice:
		return e.scriptAdvice(req)
	case wire.OpSettleTrailer:
		return e.trailer(req, now)
	}
	return Decision{Response: req.Response("12"), Why: fmt.Sprintf("unsupported MTI %s with processing code %q", req.MTI, req.ProcessingCode)}
}

// missing names the correlation fields a financial request lacks.
func missing(req *wire.Txn) string {
	var miss []string
	if req.STAN == "" {
		miss = append(miss, "DE11")
	}
	if req.TID == "" {
		miss = append(miss, "DE41")
	}
	if len(miss) == 0 {
		return ""
	}
	return "missing " + strings.Join(miss, ", ")
}

// dupOf returns the record a request retransmits: the newest booked in the
// open batch with the same TID, MID, STAN, MTI class and DE7.
func (e *Engine) dupOf(req *wire.Txn) *booking {
	for r := range e.l.originals(origKey(req.TID, req.MTI, req.STAN)) {
		if r.dupKeyed && !r.Settled && r.MID() == req.MID && r.TransmissionTime() == req.TransmissionTime {
			return r
		}
	}
	return nil
}

// duplicate answers a retransmission of a request already processed.
func (e *Engine) duplicate(req *wire.Txn) (Decision, bool) {
	rec := e.dupOf(req)
	if rec == nil {
		return Decision{}, false
	}
	note := Note{KindDuplicate, fmt.Sprintf("same TID, MID, STAN %s and MTI as record %d", req.STAN, rec.ID)}
	if rec.PAN() != req.PAN || rec.Amount != req.Amount || rec.pc.String() != req.ProcessingCode {
		// not a retransmission: the terminal reused a trace number
		note.Detail += " with different content"
		return Decision{Response: req.Response("94"), Why: "STAN reused with different content: answered 94", Notes: []Note{note}}, true
	}
	// the original answer again: the duplicate repeats the original request
	// (same card, amount, processing code, terminal, STAN and DE7), so its
	// answer is built as the original's was, with the record's outcome
	replay := func() *wire.Txn {
		resp := req.Response(rec.ResponseCode())
		resp.RRN, resp.AuthCode = rec.RRN(), rec.AuthCode()
		e.receiptFields(resp, req, rec.Time())
		resp.ICC = e.l.rareOf(rec).icc
		return resp
	}
	if req.Op == wire.OpAdvice || req.Op == wire.OpRefund {
		// an advice repeat (0221) is acknowledged again, never booked twice
		return Decision{Response: replay(), rec: rec, Why: "advice repeat acknowledged, not booked again", Notes: []Note{note}}, true
	}
	switch e.pol.Duplicate {
	case DuplicateReplay:
		return Decision{Response: replay(), rec: rec, Why: "duplicate: original response replayed", Notes: []Note{note}}, true
	default:
		return Decision{Response: req.Response(e.pol.Duplicate), rec: rec, Why: "duplicate transmission answered " + e.pol.Duplicate, Notes: []Note{note}}, true
	}
}

// network answers network management: a sign-on issues working keys (when
// the host has them) and hands the terminal its batch and the host's date
// and time; a sign-off ends the session; an echo only answers (it signs
// nothing on); downloads and status uploads are served by downloads
// (chip keys and parameters, terminal parameters, the blacklist) or
// refused 40.
func (e *Engine) network(req *wire.Txn, now time.Time) Decision {
	resp := req.Response("00")
	t := e.terminal(req.TID, req.MID)
	switch req.Op {
	case wire.OpSignOn:
		if t == nil || t.Status == cards.TerminalDeregistered {
			// a terminal the host does not know gets no keys
			why := "terminal " + req.TID + " not registered"
			if t != nil {
				why = "terminal " + req.TID + " deregistered"
			}
			return Decision{Response: req.Response("97"), Why: "sign-on refused: " + why}
		}
		if e.tmk != "" && req.TID != "" {
			de62, err := e.issueKeys(req.TID, req.NetworkCode)
			if err != nil {
				return Decision{Response: req.Response("30"), Why: "sign-on: " + err.Error()}
			}
			resp.Keys = de62
		}
		resp.LocalTime, resp.LocalDate = hhmmss(now), mmdd(now)
		t.SignedOn = true
		if t.Batch == "" {
			t.Batch = req.Batch
		}
		resp.Batch = t.Batch
		if e.tmk != "" && !t.Downloaded {
			resp.HostRequest = wire.HostRequestParams // download before transacting
		}
	case wire.OpSignOff:
		if t != nil {
			t.SignedOn = false
		}
		delete(e.keys, req.TID)
	case wire.OpDownload, wire.OpMasterKey, wire.OpStatusUpload:
		if t != nil && req.NetworkCode == NetBlacklistEnd {
			t.Downloaded = true
		}
		why, rc := e.downloads(req, resp)
		resp.ResponseCode = rc
		return Decision{Response: resp, Why: string(req.Op) + " " + req.NetworkCode + ": " + why}
	}
	return Decision{Response: resp, Why: string(req.Op)}
}

// unsigned refuses a request from a terminal that must sign on first: under
// a dialect with working keys (cup), a host answers a terminal it issued no
// keys to, or one that signed off, with the policy's code (77 by default:
// 重新签到) and books nothing.
func (e *Engine) unsigned(req *wire.Txn) (Decision, bool) {
	if e.tmk == "" || req.IsResponse() {
		return Decision{}, false
	}
	t := e.terminal(req.TID, req.MID)
	if t == nil || t.Status == cards.TerminalDeregistered || t.Status == cards.TerminalRestricted {
		return Decision{}, false // the terminal itself is refused first (97, 58)
	}
	if e.keys[req.TID] != nil && t.SignedOn {
		return Decision{}, false
	}
	resp := req.Response(e.pol.Unsigned)
	resp.MAC = nil // the host has no key to sign it with
	return Decision{Response: resp, Why: "terminal " + req.TID + " has not signed on: answered " + e.pol.Unsigned + ", nothing booked"}, true
}

// completeAnswer adds to an answer what every answer of a CUP host carries
// (dialects with working keys): the host's time and date (DE12, DE13);
// a settlement's answer its settlement date (DE15) and a reference (DE37);
// a network management answer the acquirer (DE32) and a reference (DE37).
func (e *Engine) completeAnswer(resp *wire.Txn, now time.Time) {
	if resp == nil || !e.caps.WorkingKeys {
		return
	}
	resp.LocalTime, resp.LocalDate = hhmmss(now), mmdd(now)
	switch {
	case resp.Op == wire.OpSettle:
		resp.SettlementDate = mmdd(e.businessDay(now))
		if resp.RRN == "" {
			resp.RRN = e.nextRRN(now)
		}
	case resp.Op.Network():
		resp.AcquirerID = AcquirerID
		if resp.RRN == "" {
			resp.RRN = e.nextRRN(now)
		}
	}
}

// AcquirerID is posim's acquiring institution code (DE32, the acquirer half
// of DE44): a fictitious one.
const AcquirerID = "49990000"

// receiptFields adds to an answer what a CUP host's carries for the
// receipt and the terminal's settlement (hosts with working keys: cup):
// the business day (DE15), the acquirer (DE32), issuer and acquirer codes
// (DE44) and the card organisation (DE63.1). Issuer codes are fictitious,
// made from the card's BIN.
func (e *Engine) receiptFields(resp *wire.Txn, req *wire.Txn, now time.Time) {
	if resp == nil || e.tmk == "" {
		return
	}
	resp.SettlementDate = mmdd(e.businessDay(now))
	resp.AcquirerID = AcquirerID
	issuer := ""
	if len(req.PAN) >= 6 {
		issuer = "0" + req.PAN[:6] + "0"
	}
	resp.Institutions = padRight(issuer, 11) + padRight(AcquirerID, 11)
	resp.Private63 = wire.CardOrganisation(req.PAN)
}

func padRight(s string, n int) string {
	for len(s) < n {
		s += " "
	}
	return s
}

// businessDay is the day a transaction at now settles on: after the
// back office's cut-over, the next day.
func (e *Engine) businessDay(now time.Time) time.Time {
	if e.bo.contracts != nil {
		y, m, d := now.UTC().Date()
		if !now.Before(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(e.bo.cutover)) {
			return now.AddDate(0, 0, 1)
		}
	}
	return now
}

// hhmmss and mmdd are DE12 and DE13 of the host's clock.
func hhmmss(now time.Time) string {
	h, m, s := now.Clock()
	return string(appendDigits(nil, int64(h*10000+m*100+s), 6))
}

func mmdd(now time.Time) string {
	_, mo, d := now.Date()
	return string(appendDigits(nil, int64(int(mo)*100+d), 4))
}

func (e *Engine) terminal(tid, mid string) *TerminalState {
	t, ok := e.l.terminals[tid]
	if !ok && e.pol.AutoRegister {
		t = &TerminalState{Terminal: cards.Terminal{TID: tid, MID: mid, Status: cards.TerminalActive}}
		e.l.terminals[tid] = t
	}
	return t
}

// acceptor checks the merchant and the terminal.
func (e *Engine) acceptor(req *wire.Txn) (code, why string) {
	t := e.terminal(req.TID, req.MID)
	switch {
	case t == nil:
		return "97", "terminal " + req.TID + " not registered"
	case t.Status == cards.TerminalDeregistered:
		return "97", "terminal " + req.TID + " deregistered"
	case t.Status == cards.TerminalRestricted:
		return "58", "terminal " + req.TID + " restricted"
	}
	m, ok := e.l.merchants[req.MID]
	switch {
	case !ok && !e.pol.AutoRegister:
		return "03", "merchant " + req.MID + " unknown"
	case m.Status == cards.MerchantFrozen:
		return "03", "merchant " + req.MID + " frozen"
	case m.Status == cards.MerchantRestricted:
		return "58", "merchant " + req.MID + " restricted"
	}
	return "", ""
}

// card checks the card: number, issuer, status, expiry and PIN.
func (e *Engine) card(req *wire.Txn, now time.Time) (*Account, string, string) {
	if req.PAN == "" {
		return nil, "30", "format error: missing DE2"
	}
	if !wire.LuhnValid(req.PAN) {
		return nil, "14", "card number fails the Luhn check"
	}
	a, ok := e.l.accounts[req.PAN]
	if !ok {
		if len(req.PAN) >= 6 && e.l.bins[req.PAN[:6]] {
			return nil, "14", "no such card at this issuer"
		}
		return nil, "15", "no issuer for this card number"
	}
	if code, why := e.trackMatches(req); code != "" {
		return a, code, why
	}
	if code, bad := cards.StatusCodes[a.Card.Status]; bad {
		return a, code, "card status " + a.Card.Status
	}
	if a.Card.Expiry != "" && a.Card.Expiry < yymm(now) {
		return a, "54", "card expired " + a.Card.Expiry[2:] + "/" + a.Card.Expiry[:2]
	}
	if req.Expiry != "" && a.Card.Expiry != "" && req.Expiry != a.Card.Expiry {
		return a, "54", "expiry date does not match the card"
	}
	if a.Card.PIN != "" && len(req.PINBlock) > 0 {
		if a.PINFails >= e.pol.PINTries {
			return a, "75", "PIN tries exceeded"
		}
		key := e.pinKey
		if k := e.keys[req.TID]; k != nil {
			key = k.pin
		}
		pin, err := key.DecryptPIN(req.PINBlock, req.PAN)
		if err != nil || pin != a.Card.PIN {
			a.PINFails++
			if a.PINFails >= e.pol.PINTries {
				return a, "75", fmt.Sprintf("wrong PIN, try %d of %d: tries exceeded", a.PINFails, e.pol.PINTries)
			}
			return a, "55", fmt.Sprintf("wrong PIN, try %d of %d", a.PINFails, e.pol.PINTries)
		}
		a.PINFails = 0
	}
	return a, "", ""
}

// trackMatches checks a swiped card's track 2 (decrypted with the track key
// of the terminal's 004 sign-on when DE53 says it is encrypted) against
// DE2: its card number must be the same.
func (e *Engine) trackMatches(req *wire.Txn) (code, why string) {
	track, code, why := e.clearTrack(req)
	if track == "" {
		return code, why
	}
	if pan, _, _ := strings.Cut(track, "="); pan != req.PAN {
		return "14", "track 2 names another card number than DE2"
	}
	return "", ""
}

// clearTrack is a request's track 2 in clear: decrypted with the track
// key of the terminal's 004 sign-on when DE53 says it is encrypted; "" with
// the answer's code and why when it cannot be read, "" alone without one.
func (e *Engine) clearTrack(req *wire.Txn) (track, code, why string) {
	track = req.Track2
	if track == "" || len(req.Security) < 3 || req.Security[2] != '1' {
		return track, "", ""
	}
	k := e.keys[req.TID]
	if k == nil || k.track == nil {
		return "", "30", "track data encrypted (DE53), but terminal " + req.TID + " has no track key: sign on with key set 004"
	}
	clear, err := wire.DecryptTrack(k.track, track)
	if err != nil {
		return "", "30", "track data: " + err.Error()
	}
	return clear, "", ""
}

// chipSwiped reports whether a request without chip data swiped a chip
// card: its track 2 service code starts with 2 (ISO/IEC 7813: integrated
// circuit card).
func (e *Engine) chipSwiped(req *wire.Txn) bool {
	if len(req.ICC) > 0 {
		return false
	}
	track, _, _ := e.clearTrack(req)
	_, rest, ok := strings.Cut(track, "=")
	return ok && len(rest) >= 7 && rest[4] == '2'
}

// magic returns the code a magic amount asks for: 9999.NN → NN.
func (e *Engine) magic(amount int64) string {
	if !e.pol.MagicAmounts || amount/100 != 9999 {
		return ""
	}
	code := fmt.Sprintf("%02d", amount%100)
	if _, ok := wire.LookupCode(code); !ok || code == "00" {
		return ""
	}
	return code
}

// limits checks the amount limits and velocity of a debit.
func (e *Engine) limits(req *wire.Txn, now time.Time) (string, string) {
	p := e.pol
	if p.MaxAmount > 0 && req.Amount > p.MaxAmount {
		return "61", "amount over the per-transaction limit " + wire.FormatAmount(p.MaxAmount)
	}
	if p.DailyAmount == 0 && p.DailyCount == 0 && p.VelocityCount == 0 {
		return "", ""
	}
	dayAmount, dayCount := e.l.risk.today(req.PAN, now)
	recent := 0
	if p.VelocityCount > 0 {
		recent = e.l.risk.recent(req.PAN, req.MID, now)
	}
	switch {
	case p.DailyAmount > 0 && dayAmount+req.Amount > p.DailyAmount:
		return "61", "daily amount limit " + wire.FormatAmount(p.DailyAmount) + " exceeded"
	case p.DailyCount > 0 && dayCount >= p.DailyCount:
		return "65", fmt.Sprintf("daily count limit %d reached", p.DailyCount)
	case p.VelocityCount > 0 && recent >= p.VelocityCount:
		return "59", fmt.Sprintf("velocity: %d sales of this card at merchant %s within %s", recent, req.MID, p.VelocityWindow)
	}
	return "", ""
}

func (e *Engine) newRecord(req *wire.Txn, now time.Time) *booking {
	r := e.l.fresh()
	r.setTime(now)
	r.setOp(req.Op)
	r.mti.set(req.MTI)
	r.stan.set(req.STAN)
	r.de7.set(req.TransmissionTime)
	r.tid.set(req.TID)
	r.mid.set(req.MID)
	r.batch.set(req.Batch)
	r.pan.set(req.PAN)
	r.Amount = req.Amount
	return r
}

// finish books rec with the code, builds the response and returns the decision.
func (e *Engine) finish(req *wire.Txn, rec *booking, code, why string, now time.Time) Decision {
	resp := req.Response(code)
	rec.rc.set(code)
	if code == "00" {
		rec.mark(StatusApproved)
		e.seq++
		resp.RRN, resp.AuthCode = e.nextRRN(now), authCode(e.seq)
		rec.rrn.set(resp.RRN)
		rec.auth.set(resp.AuthCode)
	} else {
		rec.mark(StatusDeclined)
	}
	e.receiptFields(resp, req, now)
	rec.pc.set(req.ProcessingCode)
	e.l.add(rec)
	d := Decision{Response: resp, rec: rec, Why: why}
	if n := e.watch(req.MID, code != "00"); n != nil {
		d.Notes = append(d.Notes, *n)
	}
	return d
}

func (e *Engine) financial(req *wire.Txn, now time.Time) Decision {
	rec := e.newRecord(req, now)
	if code, why := e.acceptor(req); code != "" {
		return e.finish(req, rec, code, why, now)
	}
	switch req.Op {
	case wire.OpBalance:
		a, code, why := e.card(req, now)
		if code != "" {
			resp := req.Response(code)
			return Decision{Response: resp, Why: why}
		}
		resp := req.Response("00")
		e.receiptFields(resp, req, now)
		avail := a.Available()
		resp.Balance = &avail
		if resp.Currency == "" {
			resp.Currency = "156"
		}
		return Decision{Response: resp, Why: "balance inquiry"}
	case wire.OpVoid:
		return e.void(req, rec, now)
	case wire.OpRefund:
		return e.refund(req, rec, now)
	case wire.OpCompletion:
		return e.complete(req, rec, now)
	case wire.OpPreAuthVoid:
		return e.preAuthVoid(req, rec, now)
	case wire.OpCompletionVoid:
		return e.completionVoid(req, rec, now)
	case wire.OpAdjust, wire.OpTip:
		return e.adjust(req, rec, now)
	}
	// sale, pre-auth, offline advice
	if !req.HasAmount {
		return e.finish(req, rec, "30", "format error: missing DE4", now)
	}
	if req.Amount == 0 && req.Op != wire.OpAdvice {
		return e.finish(req, rec, "13", "zero amount", now)
	}
	if code := e.magic(req.Amount); code != "" && req.Op != wire.OpAdvice {
		return e.finish(req, rec, code, "magic amount "+wire.FormatAmount(req.Amount), now)
	}
	a, code, why := e.card(req, now)
	if req.Op == wire.OpAdvice {
		// an advice reports what already happened: it cannot be declined
		if a != nil {
			d := e.finish(req, rec, "00", "offline advice booked", now)
			e.l.post(now, a, -req.Amount, string(wire.OpAdvice), rec)
			return d
		}
		return e.finish(req, rec, "00", "offline advice for an unknown card acknowledged", now)
	}
	if code != "" {
		return e.finish(req, rec, code, why, now)
	}
	if code, why := e.cardTypeRefused(req, a); code != "" {
		return e.finish(req, rec, code, why, now)
	}
	chip, code, why := e.chip(req, a)
	if code != "" {
		return chip.answer(e.finish(req, rec, code, why, now))
	}
	if code, why := e.limits(req, now); code != "" {
		return chip.answer(e.finish(req, rec, code, why, now))
	}
	if a.Available() < req.Amount {
		return chip.answer(e.finish(req, rec, "51", "available "+wire.FormatAmount(a.Available())+" < "+wire.FormatAmount(req.Amount), now))
	}
	d := chip.answer(e.finish(req, rec, "00", approvedWhy(req.Op)+chip.why(), now))
	if req.Op == wire.OpPreAuth {
		a.Held += req.Amount
	} else {
		e.l.post(now, a, -req.Amount, string(wire.OpSale), rec)
	}
	e.lateOriginal(rec, &d, now)
	return d
}

// lateOriginal applies a reversal that arrived before its original: the
// original is booked, answered as usual, and undone at once.
func (e *Engine) lateOriginal(rec *booking, d *Decision, now time.Time) {
	k := origKey(rec.TID(), rec.MTI(), rec.STAN())
	rev := e.l.record(e.l.orphans[k])
	if rev == nil || !orphanMatches(e.l, rev, rec) {
		return
	}
	delete(e.l.orphans, k)
	rev.mark(StatusApproved)
	rev.Original, rev.Amount = rec.ID, rec.Amount
	rev.setPAN(rec.PAN())
	e.undo(rec, rev, now)
	d.Why += fmt.Sprintf("; reversed at once by record %d, which arrived first", rev.ID)
	d.Notes = append(d.Notes, Note{KindOrphan, fmt.Sprintf("original of orphan reversal %d arrived: booked and reversed", rev.ID)})
}

// orphanMatches reports whether an original that arrives after an orphan
// reversal is the one it reverses: matched as a reversal matches its
// original (TID, MTI class and STAN by the key; then DE7, merchant, card
// and amount where the reversal carried them), never by STAN alone.
func orphanMatches(l *ledger, rev, orig *booking) bool {
	return sameOriginal(l.rareOf(rev).origDE7, rev.PAN(), rev.MID(), rev.Batch(), rev.Amount, orig)
}

// sameOriginal reports whether a reversal that names an original by its
// DE7, PAN, MID, batch and amount (each empty or zero when the reversal
// did not carry it) may be orig.
func sameOriginal(de7, pan, mid, batch string, amount int64, orig *booking) bool {
	switch {
	case de7 != "" && orig.TransmissionTime() != "" && strings.Trim(de7, "0") != "" && de7 != orig.TransmissionTime():
		return false
	case pan != "" && orig.PAN() != "" && pan != orig.PAN():
		return false
	case amount != 0 && orig.Amount != 0 && amount != orig.Amount:
		return false
	case mid != "" && orig.MID() != "" && mid != orig.MID():
		return false
	case batch != "" && orig.Batch() != "" && batch != orig.Batch():
		return false
	}
	return true
}

func (e *Engine) original(rrn string) *booking {
	if rrn == "" {
		return nil
	}
	return e.l.record(e.l.byRRN[rrnKey(rrn)])
}

// findOriginal finds the original a void, refund, completion or
// pre-authorisation void names, as a CUP host does: by its RRN (DE37)
// when the request carries one, else by the authorisation code (DE38) on
// the same card; then DE61, when present, must name that original's trace
// number and batch. It returns why when none matches.
func (e *Engine) findOriginal(req *wire.Txn, ops ...wire.Op) (*booking, string) {
	var orig *booking
	switch {
	case req.RRN != "":
		orig = e.original(req.RRN)
	case req.AuthCode != "":
		for id := range e.l.byPAN[req.PAN].backward() {
			if r := e.l.record(id); r != nil && r.AuthCode() == req.AuthCode && slices.Contains(ops, r.Op()) {
				orig = r
				break
			}
		}
	default:
		return nil, "the request names no original: no RRN (DE37) and no authorisation code (DE38)"
	}
	name := "RRN " + req.RRN
	if req.RRN == "" {
		name = "authorisation code " + req.AuthCode
	}
	if orig == nil || !slices.Contains(ops, orig.Op()) {
		return nil, fmt.Sprintf("no %s with %s", ops[0], name)
	}
	if ref := req.OrigRef; ref != nil {
		if strings.Trim(ref.STAN, "0") != "" && ref.STAN != orig.STAN() {
			return nil, fmt.Sprintf("DE61 names trace %s, the %s's original is trace %s", ref.STAN, name, orig.STAN())
		}
		if strings.Trim(ref.Batch, "0") != "" && orig.Batch() != "" && ref.Batch != orig.Batch() {
			return nil, fmt.Sprintf("DE61 names batch %s, the original is in batch %s", ref.Batch, orig.Batch())
		}
	}
	return orig, ""
}

// completionTolerance is how far (in per cent) a completion may exceed its
// pre-authorisation: the policy's, else the dialect's (cup 15 %: issuers
// hold 115 % of a UnionPay pre-authorisation; iso87 0).
func (e *Engine) completionTolerance() int {
	if e.pol.CompletionTolerance != nil {
		return *e.pol.CompletionTolerance
	}
	return e.caps.CompletionTolerance
}

// standingPreAuth finds the pre-authorisation a completion or a
// pre-authorisation void names and checks that it still stands: it
// returns the answer's code and why when it does not.
func (e *Engine) standingPreAuth(req *wire.Txn) (orig *booking, code, why string) {
	orig, why = e.findOriginal(req, wire.OpPreAuth)
	switch {
	case orig == nil:
		return nil, "25", why
	case orig.MID() != req.MID:
		return nil, "12", "pre-authorisation belongs to merchant " + orig.MID()
	case orig.Status() == StatusReversed:
		return nil, "22", "pre-authorisation was reversed"
	case orig.Status() != StatusApproved:
		return nil, "12", "pre-authorisation is " + orig.Status()
	}
	return orig, "", ""
}

// preAuthVoid cancels a pre-authorisation: its hold goes.
func (e *Engine) preAuthVoid(req *wire.Txn, rec *booking, now time.Time) Decision {
	orig, code, why := e.standingPreAuth(req)
	switch {
	case orig == nil:
		return e.finish(req, rec, code, why, now)
	case req.HasAmount && req.Amount != 0 && req.Amount != orig.Amount:
		return e.finish(req, rec, "64", "amount differs from the pre-authorisation's "+wire.FormatAmount(orig.Amount), now)
	}
	rec.Amount, rec.Original = orig.Amount, orig.ID
	rec.pan.set(orig.PAN()) // not booked yet: nothing has read it
	d := e.finish(req, rec, "00", fmt.Sprintf("pre-authorisation %d voided", orig.ID), now)
	e.setStatus(orig, StatusVoided)
	if a := e.l.accounts[orig.PAN()]; a != nil {
		a.Held -= orig.Amount
	}
	e.lateOriginal(rec, &d, now)
	return d
}

// completionVoid cancels a completion, as a void cancels a sale: the card
// is credited and the pre-authorisation stands again.
func (e *Engine) completionVoid(req *wire.Txn, rec *booking, now time.Time) Decision {
	orig, why := e.findOriginal(req, wire.OpCompletion)
	if orig == nil {
		return e.finish(req, rec, "25", why, now)
	}
	return e.voidOf(orig, req, rec, now)
}

func (e *Engine) void(req *wire.Txn, rec *booking, now time.Time) Decision {
	orig, why := e.findOriginal(req, wire.OpSale, wire.OpCompletion)
	switch {
	case orig == nil:
		return e.finish(req, rec, "25", why, now)
	}
	return e.voidOf(orig, req, rec, now)
}

// voidOf voids a sale or completion, when the rules allow it.
func (e *Engine) voidOf(orig *booking, req *wire.Txn, rec *booking, now time.Time) Decision {
	switch {
	case orig.MID() != req.MID:
		return e.finish(req, rec, "12", "original sale belongs to merchant "+orig.MID(), now)
	case orig.TID() != req.TID:
		return e.finish(req, rec, "12", "original sale belongs to terminal "+orig.TID(), now)
	case orig.Status() != StatusApproved:
		return e.finish(req, rec, "12", "original sale is "+orig.Status(), now)
	case orig.closed():
		return e.finish(req, rec, "12", "original sale already settled", now)
	case orig.Refunded > 0:
		return e.finish(req, rec, "12", "original sale was partly refunded ("+wire.FormatAmount(orig.Refunded)+"): a void would credit it twice", now)
	case req.HasAmount && req.Amount != orig.Amount:
		return e.finish(req, rec, "64", "void amount differs from the sale's "+wire.FormatAmount(orig.Amount), now)
	}
	rec.Amount, rec.Original = orig.Amount, orig.ID
	rec.pan.set(orig.PAN()) // not booked yet: nothing has read it
	d := e.finish(req, rec, "00", fmt.Sprintf("void of record %d", orig.ID), now)
	e.setStatus(orig, StatusVoided)
	orig.Credited = orig.Amount
	if a := e.l.accounts[orig.PAN()]; a != nil {
		e.l.post(now, a, orig.Amount, string(wire.OpVoid), rec)
	}
	e.preAuthOf(orig, false)
	e.lateOriginal(rec, &d, now)
	return d
}

func (e *Engine) refund(req *wire.Txn, rec *booking, now time.Time) Decision {
	orig, why := e.findOriginal(req, wire.OpSale, wire.OpCompletion)
	switch {
	case !req.HasAmount || req.Amount == 0:
		return e.finish(req, rec, "13", "refund without an amount", now)
	case orig == nil:
		return e.finish(req, rec, "25", why, now)
	case orig.MID() != req.MID:
		return e.finish(req, rec, "12", "original sale belongs to merchant "+orig.MID(), now)
	case orig.Status() != StatusApproved:
		return e.finish(req, rec, "12", "original sale is "+orig.Status(), now)
	case req.Amount > orig.remaining():
		return e.finish(req, rec, "64", "refund over the remaining "+wire.FormatAmount(orig.remaining()), now)
	}
	if code, why := e.refundCovered(req, orig); code != "" {
		return e.finish(req, rec, code, why, now)
	}
	rec.Original = orig.ID
	rec.pan.set(orig.PAN()) // not booked yet: nothing has read it
	d := e.finish(req, rec, "00", fmt.Sprintf("refund of record %d", orig.ID), now)
	orig.Refunded += req.Amount
	if a := e.l.accounts[orig.PAN()]; a != nil {
		e.l.post(now, a, req.Amount, string(wire.OpRefund), rec)
	}
	return d
}

// adjust books an adjustment (cup 60.1 32, 离线结算调整) or a tip (60.1
// 34, 小费): an advice that names an offline sale (a tip: a sale or an
// offline sale) of the terminal's open batch by DE61 (61.2 its trace, 61.1
// its batch) or by DE37, DE4 the transaction's new amount. The original
// then has the new amount and its card is debited the difference (an
// adjustment down: credited), posted against the adjustment, which itself
// owes nothing (money rule M21). An advice the host cannot apply is
// refused, never booked: 25 when it finds no such original, 12 when the
// original is settled, voided, reversed, refunded or another merchant's,
// 13 when the new amount is zero or, for a tip, not above the sale's.
func (e *Engine) adjust(req *wire.Txn, rec *booking, now time.Time) Decision {
	kinds := []wire.Op{wire.OpAdvice} // an offline sale is booked as the advice it is
	if req.Op == wire.OpTip {
		kinds = []wire.Op{wire.OpSale, wire.OpAdvice}
	}
	orig, why := e.adjusted(req, kinds)
	switch {
	case orig == nil:
		return e.finish(req, rec, "25", why, now)
	case !req.HasAmount || req.Amount == 0:
		return e.finish(req, rec, "13", string(req.Op)+" without a new amount", now)
	case orig.MID() != req.MID:
		return e.finish(req, rec, "12", "original belongs to merchant "+orig.MID(), now)
	case orig.closed():
		return e.finish(req, rec, "12", "original already settled: only the open batch is adjusted", now)
	case orig.Status() != StatusApproved:
		return e.finish(req, rec, "12", "original is "+orig.Status(), now)
	case orig.Refunded+orig.Credited+orig.ChargedBack != 0:
		return e.finish(req, rec, "12", "original was partly given back ("+wire.FormatAmount(orig.Refunded+orig.Credited+orig.ChargedBack)+")", now)
	case req.Op == wire.OpTip && req.Amount <= orig.Amount:
		return e.finish(req, rec, "13", "tip total "+wire.FormatAmount(req.Amount)+" not above the sale's "+wire.FormatAmount(orig.Amount), now)
	}
	was := orig.Amount
	rec.Original = orig.ID
	rec.pan.set(orig.PAN()) // not booked yet: nothing has read it
	d := e.finish(req, rec, "00", fmt.Sprintf("%s of record %d: %s to %s", req.Op, orig.ID, wire.FormatAmount(was), wire.FormatAmount(req.Amount)), now)
	e.setAmount(orig, req.Amount)
	e.l.more(rec).was = was
	if a := e.l.accounts[orig.PAN()]; a != nil {
		e.l.post(now, a, was-req.Amount, string(req.Op), rec)
	}
	return d
}

// adjusted finds the original an adjustment or tip names: by DE37 when it
// carries one, else the newest record of one of kinds at the terminal with
// DE61's trace number (and batch, when given).
func (e *Engine) adjusted(req *wire.Txn, kinds []wire.Op) (*booking, string) {
	if req.RRN != "" {
		return e.findOriginal(req, kinds...)
	}
	ref := req.OrigRef
	if ref == nil || strings.Trim(ref.STAN, "0") == "" {
		return nil, "the " + string(req.Op) + " names no original: no DE61 trace and no RRN (DE37)"
	}
	for _, mti := range []string{"0200", "0220"} {
		for r := range e.l.originals(origKey(req.TID, mti, ref.STAN)) {
			if !slices.Contains(kinds, r.Op()) || r.Status() == StatusDeclined {
				continue
			}
			if strings.Trim(ref.Batch, "0") != "" && r.Batch() != "" && r.Batch() != ref.Batch {
				continue
			}
			return r, ""
		}
	}
	what := "offline sale"
	if req.Op == wire.OpTip {
		what = "sale or offline sale"
	}
	return nil, fmt.Sprintf("no %s at terminal %s with trace %s (batch %s)", what, req.TID, ref.STAN, ref.Batch)
}

// setAmount changes what an original is for (an adjustment or a tip),
// keeping the limits' running totals in step.
func (e *Engine) setAmount(r *booking, amount int64) {
	standing := counted(r) && r.live()
	if standing {
		e.l.risk.fall(r.PAN(), r)
	}
	r.Amount = amount
	if standing {
		e.l.risk.stand(e.l.panKey(r), r)
	}
}

func (e *Engine) complete(req *wire.Txn, rec *booking, now time.Time) Decision {
	orig, code, why := e.standingPreAuth(req)
	tolerance := e.completionTolerance()
	switch {
	case orig == nil:
		return e.finish(req, rec, code, why, now)
	case !req.HasAmount || req.Amount == 0:
		return e.finish(req, rec, "13", "completion without an amount", now)
	case req.Amount*100 > orig.Amount*int64(100+tolerance):
		return e.finish(req, rec, "64", fmt.Sprintf("completion over the authorised %s (%d %% allowed above it)", wire.FormatAmount(orig.Amount), tolerance), now)
	}
	rec.Original = orig.ID
	d := e.finish(req, rec, "00", fmt.Sprintf("completion of pre-authorisation %d", orig.ID), now)
	if a := e.l.accounts[orig.PAN()]; a != nil {
		e.l.post(now, a, -req.Amount, string(wire.OpCompletion), rec)
	}
	e.preAuthOf(rec, true)
	e.lateOriginal(rec, &d, now)
	return d
}

// reverse matches a reversal to its original and undoes it.
func (e *Engine) reverse(req *wire.Txn, now time.Time) Decision {
	advice := req.Op == wire.OpReversalAdvice
	answer := func(code string) string {
		if advice {
			return "00" // an advice cannot be declined
		}
		return code
	}
	if req.Original == nil || req.Original.STAN == "" {
		return Decision{Response: req.Response(answer("30")), Why: "reversal without original data elements (DE90)"}
	}
	var orig *booking // the newest that matches
	for r := range e.l.originals(origKey(req.TID, req.Original.MTI, req.Original.STAN)) {
		if r.Op() == wire.OpReversal || r.Op() == wire.OpReversalAdvice {
			continue
		}
		// the host keys originals by (MID, TID, batch, STAN, amount, PAN):
		// a reversal that names another card, amount, merchant or batch is
		// not this original's
		if !sameOriginal(req.Original.TransmissionTime, req.PAN, req.MID, req.Batch, reqAmount(req), r) {
			continue
		}
		orig = r
		break
	}
	rec := e.newRecord(req, now)
	rec.reason.set(req.ResponseCode)
	rec.rc.set(answer("00"))
	rec.mark(StatusApproved)
	if orig != nil {
		rec.Original, rec.Amount = orig.ID, orig.Amount
		rec.pan.set(orig.PAN()) // not booked yet: nothing has read it
	}
	// booked first, so that the postings of the undo name it
	e.l.add(rec)
	book := func(code, why string, notes ...Note) Decision {
		resp := req.Response(code)
		resp.ResponseCode = code
		rec.rc.set(code)
		rec.pc.set(req.ProcessingCode)
		return Decision{Response: resp, rec: rec, Why: why, Notes: notes}
	}
	if orig == nil {
		rec.mark(StatusOrphan)
		e.l.more(rec).origDE7 = req.Original.TransmissionTime
		code := answer(e.pol.ReversalUnknown)
		// the original may still be in flight: if it arrives, it is undone
		e.l.orphans[origKey(req.TID, req.Original.MTI, req.Original.STAN)] = rec.ID
		return book(code, "original never seen", Note{KindOrphan, fmt.Sprintf("reversal of %s STAN %s from %s: original never seen", req.Original.MTI, req.Original.STAN, req.TID)})
	}
	switch {
	case orig.Status() == StatusReversed:
		return book(answer(e.pol.ReversalRepeat), fmt.Sprintf("record %d already reversed: no second credit", orig.ID))
	case orig.Status() == StatusDeclined:
		return book(answer(e.pol.ReversalDeclined), fmt.Sprintf("record %d was declined: nothing to undo", orig.ID))
	case orig.closed() && !advice && e.pol.LateReversal != "00":
		return book(e.pol.LateReversal, fmt.Sprintf("record %d already settled", orig.ID))
	}
	var notes []Note
	if orig.closed() {
		orig.Late = true
		notes = append(notes, Note{KindLate, fmt.Sprintf("reversal of settled record %d: adjustment due on the next settlement", orig.ID)})
	}
	e.undo(orig, rec, now)
	return book(answer("00"), fmt.Sprintf("record %d reversed (reason %s)", orig.ID, req.ResponseCode), notes...)
}

// undo reverses the effect of an approved record. No credit gives a card
// more than its original debited: a sale already partly refunded gets back
// only what remains (README, money rules).
func (e *Engine) undo(orig, rev *booking, now time.Time) {
	a := e.l.accounts[orig.PAN()]
	prev := orig.Status()
	e.setStatus(orig, StatusReversed)
	orig.reason = rev.reason
	post := func(amount int64, kind string) {
		if a != nil && amount != 0 {
			e.l.post(now, a, amount, kind, rev)
		}
	}
	switch orig.Op() {
	case wire.OpSale, wire.OpAdvice, wire.OpCompletion:
		if prev == StatusVoided {
			return // the void already gave the money back
		}
		credit := orig.remaining()
		orig.Credited += credit
		post(credit, string(wire.OpReversal))
		e.preAuthOf(orig, false)
	case wire.OpPreAuth:
		if prev == StatusApproved && a != nil {
			a.Held -= orig.Amount
		}
	case wire.OpPreAuthVoid:
		// reversing a pre-authorisation void puts the hold back
		if pre := e.byID(orig.Original); pre != nil && pre.Status() == StatusVoided {
			e.setStatus(pre, StatusApproved)
			if a != nil {
				a.Held += pre.Amount
			}
		}
	case wire.OpVoid, wire.OpCompletionVoid:
		// reversing a void reinstates the sale
		if sale := e.byID(orig.Original); sale != nil && sale.Status() == StatusVoided {
			e.setStatus(sale, StatusApproved)
			sale.Credited -= orig.Amount
			post(-orig.Amount, "void reversal")
			e.preAuthOf(sale, true)
		}
	case wire.OpRefund:
		orig.Credited = orig.Amount
		sale := e.byID(orig.Original)
		if sale != nil {
			sale.Refunded -= orig.Amount
		}
		if sale != nil && !sale.live() {
			// the sale was reversed since: its reversal gave back only what
			// the refund had not, so the refund's share now counts as part
			// of that reversal, and the card keeps it
			sale.Credited += orig.Amount
			return
		}
		post(-orig.Amount, "refund reversal")
	case wire.OpAdjust, wire.OpTip:
		// an advice is never reversed (R11), but a host that gets such a
		// reversal puts the original's amount back while nothing has
		// happened to it since: not voided, reversed, given back,
		// adjusted again or settled (else what followed stands)
		target, was := e.byID(orig.Original), e.l.rareOf(orig).was
		if target == nil || !target.live() || target.closed() || target.Amount != orig.Amount ||
			target.Refunded+target.Credited+target.ChargedBack != 0 {
			return
		}
		e.setAmount(target, was)
		post(orig.Amount-was, string(orig.Op())+" reversal")
	}
}

func (e *Engine) byID(id int64) *booking { return e.l.record(id) }

// preAuthOf keeps the pre-authorisation of a completion in step with it:
// a completion consumes it and its hold (consumed true); voided or
// reversed, it gives them back once no other completion stands on it.
func (e *Engine) preAuthOf(completion *booking, consumed bool) {
	if completion.Op() != wire.OpCompletion {
		return
	}
	pre := e.byID(completion.Original)
	if pre == nil || pre.Op() != wire.OpPreAuth {
		return
	}
	a := e.l.accounts[pre.PAN()]
	if consumed {
		pre.completions++
	} else if pre.completions > 0 {
		pre.completions--
	}
	switch {
	case pre.completions > 0 && pre.Status() == StatusApproved:
		pre.mark(StatusCompleted)
		if a != nil {
			a.Held -= pre.Amount
		}
	case pre.completions == 0 && pre.Status() == StatusCompleted:
		pre.mark(StatusApproved)
		if a != nil {
			a.Held += pre.Amount
		}
	}
}

// Find returns copies of the records booked for a request of a terminal:
// its MTI (a repeat counts as its first sending) and STAN, oldest first.
func (e *Engine) Find(tid, mti, stan string) []Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Record
	for r := range e.l.originals(origKey(tid, mti, stan)) {
		out = append(out, r.view(e.l))
	}
	slices.Reverse(out)
	return out
}

// SetRetention bounds the ledger for long runs: it keeps at most records
// transactions and postings movements, forgetting the oldest (a reversal of
// a forgotten sale is answered as for an original never seen). 0 keeps
// everything, the default, which scenarios and back-office reports need.
func (e *Engine) SetRetention(records, postings int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.l.setRetention(records, postings)
}

// yymm is now as YYMM, the expiry-date format (without time.Format, which
// shows in profiles of the per-message path).
func yymm(now time.Time) string {
	y, m, _ := now.UTC().Date()
	v := (y%100)*100 + int(m)
	return string([]byte{byte('0' + v/1000), byte('0' + v/100%10), byte('0' + v/10%10), byte('0' + v%10)})
}

// rrnSpace is how many RRNs there are: twelve digits (DE37).
const rrnSpace = 1_000_000_000_000

// nextRRN returns a retrieval reference number (DE37) that no record of the
// ledger carries and that a host restarted later will not issue again: the
// twelve digits count microseconds of the clock (modulo 10^12, about 11.6
// days), and each RRN is at least one more than the last. A host issuing
// fewer than a million a second stays behind its clock, so a new process,
// which starts from the clock, never meets a number the old one gave.
func (e *Engine) nextRRN(now time.Time) string {
	n := (e.lastRRN + 1) % rrnSpace
	if clock := now.UnixMicro() % rrnSpace; clock >= 0 && (!e.rrnIssued || serialBefore(n, clock)) {
		n = clock
	}
	e.rrnIssued = true
	for e.l.byRRN[rrnKey(rrnString(n))] != 0 { // a record kept from a whole cycle ago
		n = (n + 1) % rrnSpace
	}
	e.lastRRN = n
	return rrnString(n)
}

// serialBefore reports whether a comes before b in the circular space of
// RRNs (serial number arithmetic, RFC 1982): b is ahead by less than half
// the space.
func serialBefore(a, b int64) bool {
	d := (b - a + rrnSpace) % rrnSpace
	return d != 0 && d < rrnSpace/2
}

func rrnString(n int64) string { return string(appendDigits(make([]byte, 0, 12), n, 12)) }

// authCode is a six-digit approval code (DE38) derived from the sequence.
func authCode(seq int64) string {
	return string(appendDigits(make([]byte, 0, 6), (seq*7919+104729)%1_000_000, 6))
}

// appendDigits appends n (not negative) zero-padded to width digits.
func appendDigits(b []byte, n int64, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for ; n > 0 || i == len(tmp); n /= 10 {
		i--
		tmp[i] = byte('0' + n%10)
	}
	for range width - (len(tmp) - i) {
		b = append(b, '0')
	}
	return append(b, tmp[i:]...)
}

// reqAmount is DE4 of a request, or 0 when it carried none.
func reqAmount(req *wire.Txn) int64 {
	if !req.HasAmount {
		return 0
	}
	return req.Amount
}

func approvedWhy(op wire.Op) string {
	switch op {
	case wire.OpSale:
		return "sale approved"
	case wire.OpPreAuth:
		return "preauth approved"
	}
	return string(op) + " approved"
}
