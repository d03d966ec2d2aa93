package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posim/posim/wire"
)

// The fleet is lean, so that it measures the host and not itself: each
// terminal is one goroutine on one plain connection; its request frames
// are encoded once per operation and patched in place (STAN, DE7, DE12,
// DE13, amount, original RRN, MAC); a response is read by the compiled
// codec without building a message, and only what a terminal must check
// is decoded (MTI, DE11, DE39, DE41, and DE37 of a sale a void or refund
// will name). Every sampleEvery-th response is decoded whole, so that a
// host writing malformed answers is still noticed. Reversals, rarer, take
// the ordinary path through the profile.

// sampleEvery: one response in so many is decoded whole.
const sampleEvery = 256

// errTimeout: no response in time.
var errTimeout = errors.New("no response within the timeout")

// terminal is one emulated terminal: its connection, identity, request
// templates and the last approved sale it can void or refund.
type terminal struct {
	conn   net.Conn
	br     *bufio.Reader
	tid    string
	stan   int
	n      int // responses read, for sampling
	rng    *rand.Rand
	last   *wire.Txn // the last approved sale not yet voided, with its RRN
	tmpl   map[string]*reqTemplate
	mac    atomic.Pointer[wire.MACKey]
	fields wire.Fields
	wbuf   []byte
}

func (t *terminal) nextSTAN() string {
	t.stan = t.stan%999_999 + 1
	return fmt.Sprintf("%06d", t.stan)
}

// reqTemplate is a request frame with where its changing fields are.
type reqTemplate struct {
	frame                              []byte
	body                               int // where the body starts
	stan, de7, de12, de13, amount, rrn patch
	mac                                bool // the body ends with DE64
}

// patch is where a numeric field's digits are in a frame: ASCII digits or
// packed BCD (two a byte); n == 0 when the message does not carry it.
type patch struct {
	off, n int
	bcd    bool
}

// put writes the digits of v, zero-filled to the field's width.
func (p patch) put(frame []byte, v int64) {
	if p.n == 0 {
		return
	}
	if !p.bcd {
		for i := p.off + p.n - 1; i >= p.off; i-- {
			frame[i] = byte('0' + v%10)
			v /= 10
		}
		return
	}
	for i := p.off + p.n - 1; i >= p.off; i-- {
		lo := v % 10
		v /= 10
		frame[i] = byte((v%10)<<4 | lo)
		v /= 10
	}
}

// putString writes s, which has as many characters as the field.
func (p patch) putString(frame []byte, s string) {
	if p.n == 0 || p.bcd || len(s) != p.n {
		return
	}
	copy(frame[p.off:], s)
}

// Fleet is a set of connected terminals. Run it one or more times; Close it
// when done.
type Fleet struct {
	o     Options
	fp    wire.CompiledProfile
	codec *wire.Codec
	terms []*terminal
	byTID map[string]*terminal

	lastSec int // the last second of the current run

	mu       sync.Mutex
	reversal Reversals // over every run, warm-ups included
	reversed []Ref
}

// Reversals returns what the fleet did about unanswered requests over all
// its runs, warm-ups included, with the requests it reversed: what a fault
// check compares with the host's rules and ledger.
func (f *Fleet) Reversals() (Reversals, []Ref) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reversal, append([]Ref(nil), f.reversed...)
}

// Dial connects the fleet's terminals to o.Target (and signs each on,
// where the dialect has working keys).
func Dial(o Options) (*Fleet, error) {
	if o.Terminals < 1 {
		return nil, errors.New("load: need at least one terminal")
	}
	if o.Profile == nil {
		o.Profile = wire.ISO87
	}
	fp, ok := o.Profile.(wire.CompiledProfile)
	if !ok {
		return nil, fmt.Errorf("load: profile %s has no compiled codec (posim load speaks the built-in profiles)", o.Profile.Name())
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.PAN == "" {
		o.PAN = "6200000000009998"
	}
	if o.DeclinePAN == "" {
		o.DeclinePAN = "6200000000000104"
	}
	if o.TIDPrefix == "" {
		o.TIDPrefix = "L"
	}
	if len(o.TIDPrefix) > 7 {
		return nil, fmt.Errorf("load: terminal ID prefix %q: at most 7 characters (DE41 has 8)", o.TIDPrefix)
	}
	if digits := 8 - len(o.TIDPrefix); o.Terminals > int(math.Pow10(digits))-1 {
		return nil, fmt.Errorf("load: %d terminals do not fit %d digits after the prefix %q", o.Terminals, digits, o.TIDPrefix)
	}
	if o.MID == "" {
		o.MID = "LOAD00000000001"
	}
	if o.Mix.total() == 0 {
		o.Mix = Mix{Sale: 1}
	}
	f := &Fleet{o: o, fp: fp, codec: wire.NewCodec(o.Profile), byTID: map[string]*terminal{}}
	f.codec.MACKeyFor = func(tid string) *wire.MACKey {
		if t := f.byTID[tid]; t != nil {
			return t.mac.Load()
		}
		return nil
	}
	for i := range o.Terminals {
		t := &terminal{
			tid: fmt.Sprintf("%s%0*d", o.TIDPrefix, 8-len(o.TIDPrefix), i+1),
			rng: rand.New(rand.NewPCG(uint64(o.Seed), uint64(i))),
		}
		f.byTID[t.tid] = t
		var err error
		if t.tmpl, err = f.templates(t.tid); err != nil {
			return nil, err
		}
		if err = f.connect(t); err != nil {
			f.Close()
			return nil, fmt.Errorf("load: connecting terminal %d to %s: %w", i+1, o.Target, err)
		}
		f.terms = append(f.terms, t)
	}
	return f, nil
}

// connect dials a terminal's connection and, where the dialect has working
// keys, signs the terminal on.
func (f *Fleet) connect(t *terminal) error {
	d := &net.Dialer{Timeout: 5 * time.Second}
	var c net.Conn
	var err error
	if f.o.TLS != nil {
		c, err = tls.DialWithDialer(d, "tcp", f.o.Target, f.o.TLS.Clone())
	} else {
		c, err = d.Dial("tcp", f.o.Target)
	}
	if err != nil {
		return err
	}
	t.conn, t.br = c, bufio.NewReaderSize(c, 4096)
	if !f.o.Profile.Capabilities().WorkingKeys || f.o.SkipSignOn {
		return nil
	}
	req := &wire.Txn{Op: wire.OpSignOn, TID: t.tid, MID: f.o.MID, Batch: "000001", STAN: t.nextSTAN(), NetworkCode: wire.KeysDouble,
		Private63: "001"}
	resp, err := f.exchangeTxn(t, req)
	if err != nil {
		c.Close()
		return fmt.Errorf("signing on: %w", err)
	}
	if resp.ResponseCode != "00" {
		c.Close()
		return fmt.Errorf("signing on: the host answered %s", resp.ResponseCode)
	}
	wk, err := wire.OpenKeys(wire.TestTMK, wire.KeysDouble, resp.Keys)
	if err != nil {
		c.Close()
		return fmt.Errorf("signing on: %w", err)
	}
	k, err := wire.NewMACKey(wire.MACCUP, wire.HexKey(wk.MAC))
	if err != nil {
		c.Close()
		return fmt.Errorf("signing on: %w", err)
	}
	t.mac.Store(k)
	return nil
}

// templates encodes a terminal's request of each operation once, and
// finds its changing fields by encoding it again with each one changed.
func (f *Fleet) templates(tid string) (map[string]*reqTemplate, error) {
	mac := f.o.Profile.Capabilities().WorkingKeys
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base := func(op string) *wire.Txn { return f.txn(tid, op, "000001", at, 100, "000000000000") }
	out := map[string]*reqTemplate{}
	for _, op := range fleetOps {
		frame, body, err := f.frame(base(op))
		if err != nil {
			return nil, fmt.Errorf("load: encoding a %s: %w", op, err)
		}
		tp := &reqTemplate{frame: frame, body: len(frame) - body, mac: mac}
		for _, c := range []struct {
			p      *patch
			digits int
			set    func(*wire.Txn)
		}{
			{&tp.stan, 6, func(t *wire.Txn) { t.STAN = "999999" }},
			{&tp.de7, 10, func(t *wire.Txn) { t.TransmissionTime = "9999999999" }},
			{&tp.de12, 6, func(t *wire.Txn) { t.LocalTime = "999999" }},
			{&tp.de13, 4, func(t *wire.Txn) { t.LocalDate = "9999" }},
			{&tp.amount, 12, func(t *wire.Txn) { t.Amount = 999999999999 }},
			{&tp.rrn, 12, func(t *wire.Txn) {
				if t.RRN != "" {
					t.RRN = "999999999999"
				}
			}},
		} {
			x := base(op)
			c.set(x)
			other, _, err := f.frame(x)
			if err != nil {
				return nil, fmt.Errorf("load: encoding a %s: %w", op, err)
			}
			if *c.p, err = locate(frame, other, c.digits, tp.mac); err != nil {
				return nil, fmt.Errorf("load: %s template: %w", op, err)
			}
		}
		out[op] = tp
	}
	return out, nil
}

// txn is the request of an operation (one of fleetOps) as a terminal of
// the fleet sends it; rrn names a void's or
// refund's original.
func (f *Fleet) txn(tid, op, stan string, now time.Time, amount int64, rrn string) *wire.Txn {
	o := f.o
	t := &wire.Txn{Op: wire.OpSale, PAN: o.PAN, Amount: amount, HasAmount: true, TransmissionTime: wire.TransmissionTimeOf(now),
		STAN: stan, LocalTime: now.Format("150405"), LocalDate: now.Format("0102"), TID: tid, MID: o.MID, Currency: "156",
		Condition: wire.CondNormal, Batch: "000001", EntryMode: "021"}
	switch op {
	case opDecline:
		t.PAN = o.DeclinePAN
	case opVoid:
		t.Op, t.ProcessingCode, t.RRN, t.EntryMode = wire.OpVoid, wire.PCVoid, rrn, "012"
	case opRefund:
		t.Op, t.ProcessingCode, t.RRN, t.EntryMode = wire.OpRefund, wire.PCRefund, rrn, "012"
	}
	if o.Profile.Capabilities().WorkingKeys {
		t.MAC = make([]byte, 8) // signed when sent
	}
	return t
}

// frame encodes t with the compiled codec, unsigned, and returns the frame
// and its body's length.
func (f *Fleet) frame(t *wire.Txn) ([]byte, int, error) {
	var b wire.Builder
	if err := f.fp.EncodeTo(t, &b); err != nil {
		return nil, 0, err
	}
	body, err := f.fp.Compiled().Append(nil, &b)
	if err != nil {
		return nil, 0, err
	}
	frame, err := f.codec.Framer.AppendFrame(nil, body)
	return frame, len(body), err
}

// locate finds the bytes two frames differ in (outside a trailing MAC):
// one field's digits, as ASCII or BCD.
func locate(a, b []byte, digits int, mac bool) (patch, error) {
	if len(a) != len(b) {
		return patch{}, fmt.Errorf("a changed field changed the frame's length (%d, %d bytes)", len(a), len(b))
	}
	end := len(a)
	if mac {
		end -= 8
	}
	first, last := -1, -1
	for i := range end {
		if a[i] != b[i] {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	switch n := last - first + 1; {
	case first < 0:
		return patch{}, nil // not in this message
	case n == digits:
		return patch{off: first, n: n}, nil
	case n == (digits+1)/2:
		return patch{off: first, n: n, bcd: true}, nil
	default:
		return patch{}, fmt.Errorf("a %d-digit field changed %d bytes", digits, n)
	}
}

// request fills the terminal's write buffer with the frame of one request.
func (f *Fleet) request(t *terminal, tp *reqTemplate, stan int, now time.Time, amount int64, rrn string) []byte {
	t.wbuf = append(t.wbuf[:0], tp.frame...)
	w := t.wbuf
	tp.stan.put(w, int64(stan))
	_, mo, d := now.UTC().Date()
	h, mi, s := now.UTC().Clock()
	tp.de7.put(w, int64(mo)*1e8+int64(d)*1e6+int64(h)*1e4+int64(mi)*100+int64(s))
	lh, lmi, ls := now.Clock()
	_, lmo, ld := now.Date()
	tp.de12.put(w, int64(lh)*1e4+int64(lmi)*100+int64(ls))
	tp.de13.put(w, int64(lmo)*100+int64(ld))
	tp.amount.put(w, amount)
	tp.rrn.putString(w, rrn)
	if tp.mac {
		if k := t.mac.Load(); k != nil {
			body := w[tp.body:]
			copy(body[len(body)-8:], k.Sum(body[:len(body)-8]))
		}
	}
	return w
}

// exchange writes a frame and reads until the response of class (the
// request's first two MTI digits) and STAN arrives, skipping late
// responses to earlier requests. The response is in t.fields.
func (f *Fleet) exchange(t *terminal, frame []byte, class string, stan int) error {
	deadline := time.Now().Add(f.o.Timeout)
	_ = t.conn.SetWriteDeadline(deadline)
	if _, err := t.conn.Write(frame); err != nil {
		return err
	}
	_ = t.conn.SetReadDeadline(deadline)
	for {
		body, err := f.codec.Framer.ReadFrame(t.br)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return errTimeout
			}
			return err
		}
		if len(body) == 0 {
			continue
		}
		if err := f.fp.Compiled().Unpack(body, &t.fields); err != nil {
			return fmt.Errorf("%w: %v", errInvalid, err)
		}
		if !f.matches(t, class, stan) {
			continue // a late answer to an earlier request
		}
		t.n++
		if t.n%sampleEvery == 0 {
			if _, err := f.fp.DecodeFrom(&t.fields); err != nil {
				return fmt.Errorf("%w: %v", errInvalid, err)
			}
		}
		if tid, _ := t.fields.GetString(41); tid != "" && tid != t.tid {
			return fmt.Errorf("%w: answered for terminal %s", errInvalid, tid)
		}
		return nil
	}
}

// errInvalid: a response the terminal cannot accept.
var errInvalid = errors.New("invalid response")

// matches reports whether t.fields is the response of class and STAN.
func (f *Fleet) matches(t *terminal, class string, stan int) bool {
	mti, err := t.fields.GetMTI()
	if err != nil || len(mti) != 4 || mti[:2] != class || (mti[2]-'0')%2 == 0 {
		return false
	}
	var digits [6]byte
	for i, v := 5, stan; i >= 0; i, v = i-1, v/10 {
		digits[i] = byte('0' + v%10)
	}
	s, _ := t.fields.GetString(11)
	return s == string(digits[:])
}

// exchangeTxn sends a request built through the profile (sign-on,
// reversals) and returns its decoded response.
func (f *Fleet) exchangeTxn(t *terminal, req *wire.Txn) (*wire.Txn, error) {
	m, err := f.o.Profile.Encode(req)
	if err != nil {
		return nil, err
	}
	frame, err := f.codec.Frame(m)
	if err != nil {
		return nil, err
	}
	mti, _ := m.GetMTI()
	stan, err := strconv.Atoi(req.STAN)
	if err != nil {
		return nil, fmt.Errorf("STAN %q", req.STAN)
	}
	if err := f.exchange(t, frame, mti[:2], stan); err != nil {
		return nil, err
	}
	return f.fp.DecodeFrom(&t.fields)
}

// redial replaces a terminal's dropped connection, retrying with a growing
// pause (up to a second) until ctx ends; false when it ends first.
func (f *Fleet) redial(ctx context.Context, t *terminal, s *shard) bool {
	t.conn.Close()
	pause := 10 * time.Millisecond
	for {
		if err := f.connect(t); err == nil {
			s.count(s.errs, "reconnected")
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// Close disconnects every terminal.
func (f *Fleet) Close() {
	for _, t := range f.terms {
		t.conn.Close()
	}
}

// code returns DE39 of the response read, without allocating for the
// common codes.
func code(fs *wire.Fields) string {
	raw := fs.Raw(39)
	switch {
	case len(raw) == 2 && raw[0] == '0' && raw[1] == '0':
		return "00"
	case bytes.Equal(raw, []byte("51")):
		return "51"
	}
	s, _ := fs.GetString(39)
	return s
}

// one sends one request and records it; false stops the terminal.
func (f *Fleet) one(ctx context.Context, t *terminal, s *shard, start time.Time, responses, failures *atomic.Int64) bool {
	o := f.o
	op := f.pick(t)
	now := time.Now()
	amount := 100 + int64(t.rng.IntN(900))
	rrn := ""
	switch op {
	case opVoid:
		rrn, amount = t.last.RRN, t.last.Amount
	case opRefund:
		rrn, amount = t.last.RRN, min(t.last.Amount, 50)
	}
	t.stan = t.stan%999_999 + 1
	stan := t.stan
	frame := f.request(t, t.tmpl[op], stan, now, amount, rrn)
	s.locked(func() { s.sent++ })
	err := f.exchange(t, frame, "02", stan)
	lat := time.Since(now)
	if err != nil {
		// the request as the terminal sent it, for its reversal
		req := f.txn(t.tid, op, fmt.Sprintf("%06d", stan), now, amount, rrn)
		if m, err := o.Profile.Encode(req); err == nil {
			req.MTI, _ = m.GetMTI()
			req.ProcessingCode, _ = m.GetString(3)
		}
		switch {
		case errors.Is(err, errTimeout):
			s.count(s.errs, "timeout")
			s.locked(func() { s.rev.Timeouts++ })
			failures.Add(1)
			f.reverse(ctx, t, s, req, op)
		case errors.Is(err, errInvalid):
			s.count(s.errs, "invalid response")
			failures.Add(1)
			f.reverse(ctx, t, s, req, op)
		default:
			// the connection dropped, perhaps after the request left: like
			// a terminal, connect again and reverse what may have been booked
			s.count(s.errs, "connection")
			failures.Add(1)
			if !f.redial(ctx, t, s) {
				return false
			}
			s.locked(func() { s.rev.Lost++ })
			f.reverse(ctx, t, s, req, op)
		}
		return true
	}
	rc := code(&t.fields)
	// a request sent in the last instant counts in the run's last second
	s.record(min(int(now.Sub(start)/time.Second), f.lastSec), lat, op, rc)
	responses.Add(1)
	if rc == "00" {
		switch op {
		case opSale:
			if o.Mix.Void+o.Mix.Refund > 0 {
				r, _ := t.fields.GetString(37)
				t.last = &wire.Txn{RRN: r, Amount: amount}
			}
		case opVoid, opRefund:
			t.last = nil // one reference per sale keeps voids and refunds valid
		}
	}
	return true
}

// pick chooses the next operation by the mix; voids and refunds need an
// approved sale to refer to, and become sales until there is one.
func (f *Fleet) pick(t *terminal) string {
	m := f.o.Mix
	n := t.rng.IntN(m.total())
	op := opSale
	switch {
	case n < m.Sale:
	case n < m.Sale+m.Void:
		op = opVoid
	case n < m.Sale+m.Void+m.Refund:
		op = opRefund
	default:
		op = opDecline
	}
	if (op == opVoid || op == opRefund) && t.last == nil {
		op = opSale
	}
	return op
}

// reverse sends the reversal of an unanswered sale or void, repeating it
// until it is answered (at most five times), as a terminal must before its
// next transaction. A reversed void leaves its sale standing: it stays the
// terminal's last.
func (f *Fleet) reverse(ctx context.Context, t *terminal, s *shard, orig *wire.Txn, op string) {
	if op == opRefund {
		return // a refund is not reversed (rule R1), and this fleet does not retransmit it
	}
	acknowledged := false
	rev := f.o.Profile.Reversal(orig, wire.ReasonNoResponse, t.nextSTAN(), time.Now())
	if f.o.Profile.Capabilities().WorkingKeys {
		rev.MAC = make([]byte, 8) // signed when sent, as the original was
	}
	for attempt := range 5 {
		if attempt > 0 {
			rev = f.o.Profile.Repeat(rev)
		}
		s.locked(func() { s.rev.Sent++ })
		_, err := f.exchangeTxn(t, rev)
		if err == nil {
			acknowledged = true
			break
		}
		if ctx.Err() != nil {
			break
		}
		if !errors.Is(err, errTimeout) && !errors.Is(err, errInvalid) && !f.redial(ctx, t, s) {
			break // the connection dropped and could not be made again
		}
	}
	s.locked(func() {
		if acknowledged {
			s.rev.Acknowledged++
		} else {
			s.rev.Failed++
		}
		s.refs = append(s.refs, Ref{TID: orig.TID, MTI: orig.MTI, STAN: orig.STAN})
	})
}
