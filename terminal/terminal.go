package terminal

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/posim/posim/wire"
)

// Terminal is an emulated POS terminal. Like a real one it runs one
// operation at a time: its methods are safe for concurrent use but
// serialised. Close it to drop the connection.
type Terminal struct {
	cfg    Config
	codec  *wire.Codec
	pinKey wire.PINKey
	dir    stateDir
	log    *slog.Logger

	mu      sync.Mutex
	state   State
	conn    *link         // nil when not connected
	dead    bool          // a power cut happened; only a restart (New) revives it
	skew    time.Duration // the host's clock less the terminal's, from the last sign-on
	stamped time.Time     // when the last request was stamped: its receipt's time

	lateMu sync.Mutex
	late   []LateResponse

	// echo is what the last frame read carried before its body (cup: the
	// TPDU and the header, whose processing request says what the host
	// asks of the terminal); nil without TPDU framing
	echo *wire.TPDUEcho

	keyMu sync.Mutex
	mac   *wire.MACKey // working MAC key (cup), nil before sign-on
	pin   *wire.PINKey // working PIN key (cup)
	track []byte       // track key (cup key set 004), nil without
}

func (t *Terminal) macKey() *wire.MACKey {
	t.keyMu.Lock()
	defer t.keyMu.Unlock()
	return t.mac
}

// useKeys installs working keys from the state.
func (t *Terminal) useKeys(k *StoredKeys) error {
	t.keyMu.Lock()
	defer t.keyMu.Unlock()
	if k == nil {
		t.mac, t.pin, t.track = nil, nil, nil
		return nil
	}
	macHex := k.MAC
	if t.cfg.MACAlg == wire.MACX919 && len(macHex) == 16 {
		macHex += macHex
	}
	mac, err := wire.NewMACKey(t.cfg.MACAlg, macHex)
	if err != nil {
		return err
	}
	pin, err := wire.ParsePINKey(k.PIN)
	if err != nil {
		return err
	}
	t.mac, t.pin, t.track = mac, &pin, nil
	if k.Track != "" {
		if t.track, err = hex.DecodeString(k.Track); err != nil {
			return fmt.Errorf("track key: %w", err)
		}
	}
	return nil
}

// keyed reports whether the dialect works with signed-on working keys and
// MACs (cup).
func (t *Terminal) keyed() bool { return t.cfg.Profile.Capabilities().WorkingKeys }

// New returns a terminal with cfg, loading its state from cfg.StateDir,
// which it locks until Close: a directory another terminal holds gives
// ErrStateLocked.
func New(cfg Config) (*Terminal, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	key, err := wire.ParsePINKey(cfg.PINKey)
	if err != nil {
		return nil, err
	}
	t := &Terminal{cfg: cfg, codec: wire.NewCodec(cfg.Profile), pinKey: key, dir: stateDir{dir: cfg.StateDir}, log: cfg.Logger}
	if cfg.Framer != nil {
		t.codec.Framer = cfg.Framer
	}
	if tf, ok := t.codec.Framer.(wire.TPDUFramer); ok {
		tf.Echo = wire.NewTPDUEcho()
		t.codec.Framer, t.echo = tf, tf.Echo
	}
	t.codec.MACKeyFor = func(string) *wire.MACKey { return t.macKey() }
	if err := t.dir.open(); err != nil {
		return nil, err
	}
	if t.state, err = t.dir.load(); err != nil {
		t.dir.close()
		return nil, err
	}
	if err := t.useKeys(t.state.Keys); err != nil {
		t.dir.close()
		return nil, fmt.Errorf("terminal state: working keys: %w", err)
	}
	return t, nil
}

// Config returns the terminal's configuration.
func (t *Terminal) Config() Config { return t.cfg }

// State returns a copy of the terminal's state.
func (t *Terminal) State() State {
	t.mu.Lock()
	defer t.mu.Unlock()
	_ = t.loadLog() // an unreadable log is reported by the next operation that needs it
	s := t.state
	s.Log = append([]LogEntry(nil), s.Log...)
	if s.Pending != nil {
		p := *s.Pending
		s.Pending = &p
	}
	return s
}

// ResetState clears the terminal's state as a technician's reset does: STAN
// from zero, batch 1, no reversal pending, not signed on, the log and chip
// data emptied. A pending reversal is dropped unsent: the host keeps what
// it booked.
func (t *Terminal) ResetState() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.loadLog(); err != nil {
		return err
	}
	t.state = State{Batch: 1}
	if err := t.useKeys(nil); err != nil {
		return err
	}
	return t.save()
}

// LateResponses returns the responses that arrived after the terminal had
// given up on them. They never clear a reversal record.
func (t *Terminal) LateResponses() []LateResponse {
	t.lateMu.Lock()
	defer t.lateMu.Unlock()
	return append([]LateResponse(nil), t.late...)
}

// Close drops the connection and releases the state directory. The state
// is already saved. Close is idempotent.
func (t *Terminal) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.disconnect()
	t.dir.close()
	return nil
}

// Disconnect drops the connection, as a link that fails between two
// transactions: the next operation connects again. The state is kept.
func (t *Terminal) Disconnect() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.disconnect()
}

func (t *Terminal) disconnect() {
	if t.conn != nil {
		t.conn.Close()
		t.conn = nil
	}
}

// save saves the state durably: on disk before save returns. The record
// of a reversal is saved so before its request leaves (R2).
func (t *Terminal) save() error { return t.dir.save(t.state, true) }

// saveSoon saves the state at once but lazily: it survives the process,
// and reaches the disk with the next durable save. A transaction's outcome
// is saved so: after a power cut before the next transaction, the
// terminal reverses the approval as one it never heard of, which is what
// R3 asks of an outcome it cannot prove. So a transaction costs one
// durable write, whatever the size of the open batch.
func (t *Terminal) saveSoon() error { return t.dir.save(t.state, false) }

// loadLog reads the whole batch log before an operation that needs it.
func (t *Terminal) loadLog() error {
	if err := t.dir.loadLog(&t.state); err != nil {
		return fmt.Errorf("terminal state: %w", err)
	}
	return nil
}

// connect dials the acquirer unless already connected.
func (t *Terminal) connect(ctx context.Context) error {
	if t.dead {
		return ErrPowerCut
	}
	if t.conn != nil {
		if t.conn.alive() {
			return nil
		}
		t.disconnect() // the host closed it since: a new one
	}
	c, err := dial(ctx, t.cfg.Host, t.cfg.ConnectTimeout, t.cfg.TLS, t.codec, t.writer(), t.unmatched,
		func(msg string, args ...any) { t.log.Debug(msg, args...) })
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrRefused, t.cfg.Host, unwrapAll(err))
	}
	t.conn = c
	return nil
}

func unwrapAll(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// unmatched receives responses that match no waiting request: late ones,
// logged and never clearing a reversal record (R9).
func (t *Terminal) unmatched(m *iso8583.Message) {
	resp, _ := t.cfg.Profile.Decode(m)
	if resp == nil {
		return
	}
	t.lateMu.Lock()
	t.late = append(t.late, LateResponse{MTI: resp.MTI, STAN: resp.STAN, ResponseCode: resp.ResponseCode})
	t.lateMu.Unlock()
	t.log.Warn("late response ignored", "mti", resp.MTI, "stan", resp.STAN, "rc", resp.ResponseCode, "pan", wire.MaskPAN(resp.PAN))
}

// sign marks req for a MAC under a dialect with working keys once the
// terminal has them (the codec signs the packed body); a sign-on goes
// unsigned. Every message that leaves is signed so, whether its answer
// is awaited or not.
func (t *Terminal) sign(req *wire.Txn) {
	if t.keyed() && t.macKey() != nil && req.Op != wire.OpSignOn && len(req.MAC) == 0 {
		req.MAC = make([]byte, 8)
	}
}

// send writes req and waits for its response, validating it (R4).
func (t *Terminal) send(ctx context.Context, req *wire.Txn) (*wire.Txn, error) {
	t.sign(req)
	m, err := t.cfg.Profile.Encode(req)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", req.MTI, err)
	}
	timeout := t.cfg.Timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if t.conn == nil {
		return nil, fmt.Errorf("%w: %w", ErrNoResponse, errNotSent)
	}
	t.log.Info("out", "mti", req.MTI, "stan", req.STAN, "tid", req.TID, "pan", wire.MaskPAN(req.PAN), "rc", req.ResponseCode)
	t.dump(">>", m)
	rm, body, err := t.conn.exchange(ctx, m, timeout)
	switch {
	case errors.Is(err, errTimeout):
		return nil, ErrNoResponse
	case errors.Is(err, errNotSent):
		t.disconnect()
		return nil, fmt.Errorf("%w: %w", ErrNoResponse, errNotSent)
	case errors.Is(err, errClosed):
		t.disconnect()
		return nil, fmt.Errorf("%w: the acquirer closed the connection", ErrNoResponse)
	case err != nil:
		t.disconnect()
		return nil, fmt.Errorf("%w: %v", ErrNoResponse, unwrapAll(err))
	}
	t.dump("<<", rm)
	resp, err := t.cfg.Profile.Decode(rm)
	if err != nil {
		return resp, fmt.Errorf("%w: %v", ErrInvalidResponse, err)
	}
	t.log.Info("in", "mti", resp.MTI, "stan", resp.STAN, "tid", resp.TID, "rc", resp.ResponseCode)
	if err := matches(req, resp); err != nil {
		return resp, fmt.Errorf("%w: %v", ErrInvalidResponse, err)
	}
	// R4: the MAC is checked only on approvals; not on the answer to a
	// sign-on (it brings the keys) nor to a sign-off (the host has dropped
	// the session's keys and has none to sign it with)
	if k := t.macKey(); t.keyed() && k != nil && resp.ResponseCode == "00" && req.Op != wire.OpSignOn && req.Op != wire.OpSignOff {
		if len(resp.MAC) == 0 || !wire.VerifyMAC(k, body) {
			return resp, fmt.Errorf("%w: %w", ErrInvalidResponse, wire.ErrBadMAC)
		}
	}
	if resp.ResponseCode == "A0" || resp.ResponseCode == "99" || resp.ResponseCode == "77" {
		t.state.SignedOn = false // the host wants a new sign-on
	}
	return resp, nil
}

// matches applies rule R4: the response counts only if its MTI is the
// request's plus 10 and DE3, DE11, DE41 and DE4 (and DE42 on approval) match.
func matches(req, resp *wire.Txn) error {
	want, _ := wire.ResponseMTI(req.MTI)
	switch {
	case resp.MTI != want:
		return fmt.Errorf("MTI %s, want %s", resp.MTI, want)
	case resp.STAN != req.STAN:
		return fmt.Errorf("DE11 %q, want %q", resp.STAN, req.STAN)
	case resp.TID != req.TID:
		return fmt.Errorf("DE41 %q, want %q", resp.TID, req.TID)
	case req.ProcessingCode != "" && resp.ProcessingCode != req.ProcessingCode:
		return fmt.Errorf("DE3 %q, want %q", resp.ProcessingCode, req.ProcessingCode)
	case req.HasAmount && (!resp.HasAmount || resp.Amount != req.Amount):
		return fmt.Errorf("DE4 %s, want %s", wire.FormatAmount(resp.Amount), wire.FormatAmount(req.Amount))
	case resp.ResponseCode == "":
		return errors.New("DE39 missing")
	case resp.ResponseCode == "00" && req.MID != "" && resp.MID != req.MID:
		return fmt.Errorf("DE42 %q, want %q", resp.MID, req.MID)
	}
	return nil
}

// nextSTAN returns the next trace number (000001-999999, wrapping).
func (t *Terminal) nextSTAN() string {
	t.state.STAN = t.state.STAN%999999 + 1
	return fmt.Sprintf("%06d", t.state.STAN)
}

func (t *Terminal) batch() string { return fmt.Sprintf("%06d", t.state.Batch) }

// base returns a request with the fields every message carries. The STAN
// is assigned by stamp, just before the request goes out, so that a pending
// reversal sent first takes the lower trace number.
func (t *Terminal) base(op wire.Op) *wire.Txn {
	return &wire.Txn{Op: op, TID: t.cfg.TID, MID: t.cfg.MID, Batch: t.batch()}
}

// adoptHost takes from a sign-on answer what the host hands a terminal:
// its batch number (cup 60.2) and the host's date and time (DE13, DE12),
// which the terminal's clock then follows.
func (t *Terminal) adoptHost(resp *wire.Txn) {
	if n, err := strconv.Atoi(resp.Batch); err == nil && n > 0 && n <= 999999 {
		t.state.Batch = n
	}
	if len(resp.LocalTime) != 6 || len(resp.LocalDate) != 4 {
		return
	}
	local := t.cfg.Clock()
	host, err := time.ParseInLocation("20060102150405", fmt.Sprintf("%04d%s%s", local.Year(), resp.LocalDate, resp.LocalTime), local.Location())
	if err != nil {
		return
	}
	// the host's date has no year: the one nearest the terminal's
	for _, y := range []int{-1, 1} {
		if alt := host.AddDate(y, 0, 0); absDuration(alt.Sub(local)) < absDuration(host.Sub(local)) {
			host = alt
		}
	}
	t.skew = host.Sub(local).Truncate(time.Second)
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// now is the terminal's clock: its own, set to the host's at sign-on.
func (t *Terminal) now() time.Time { return t.cfg.Clock().Add(t.skew) }

// stamp gives req its STAN and transmission time.
func (t *Terminal) stamp(req *wire.Txn) {
	now := t.now()
	t.stamped = now
	req.STAN = t.nextSTAN()
	req.TransmissionTime = wire.TransmissionTimeOf(now)
	req.LocalTime, req.LocalDate = now.Format("150405"), now.Format("0102")
}

func (t *Terminal) newResult(op string) *Result {
	return &Result{Operation: op, TID: t.cfg.TID, MID: t.cfg.MID, Currency: t.cfg.Currency, ReversalsSent: []ReversalSent{}}
}

// flush delivers the pending reversal before anything else goes online (R6).
func (t *Terminal) flush(ctx context.Context, res *Result) error {
	tried := false
	for t.state.Pending != nil {
		p := t.state.Pending
		if p.Attempts >= t.cfg.ReversalRetries+1 {
			if t.cfg.WhenExhausted == ExhaustedDrop {
				t.log.Warn("reversal dropped after retries", "stan", p.Request.STAN, "attempts", p.Attempts)
				t.state.Pending = nil
				res.ReversalDropped = true
				return t.save()
			}
			// a blocked terminal tries once more before each transaction
			if tried {
				res.ReversalPending = true
				return ErrBlocked
			}
		}
		now := t.cfg.Clock()
		var rev *wire.Txn
		if p.STAN == "" {
			p.STAN = t.nextSTAN()
			rev = t.cfg.Profile.Reversal(&p.Request, p.Reason, p.STAN, now)
		} else {
			rev = t.cfg.Profile.Repeat(t.cfg.Profile.Reversal(&p.Request, p.Reason, p.STAN, now))
		}
		if err := t.save(); err != nil { // the reversal's STAN, before it leaves
			return err
		}
		sent := ReversalSent{MTI: rev.MTI, STAN: rev.STAN, OriginalSTAN: p.Request.STAN, Reason: p.Reason}
		resp, err := t.send(ctx, rev)
		if errors.Is(err, errNotSent) {
			// the connection had dropped (the host went down since the last
			// exchange): the 0400 never left, so it is no attempt; once more
			// on a new connection
			if cerr := t.connect(ctx); cerr != nil {
				res.ReversalPending = true
				return cerr
			}
			resp, err = t.send(ctx, rev)
			if errors.Is(err, errNotSent) {
				res.ReversalPending = true
				return fmt.Errorf("%w: %s: %w", ErrRefused, t.cfg.Host, err)
			}
		}
		// written to a live connection: an attempt (R6)
		p.Attempts++
		tried = true
		switch {
		case errors.Is(err, ErrNoResponse):
			sent.Outcome = NoResponse
		case errors.Is(err, ErrInvalidResponse):
			sent.Outcome = InvalidResponse
		case err != nil:
			return err
		default:
			// any valid response completes the reversal (R6)
			sent.Outcome, sent.ResponseCode = Approved, resp.ResponseCode
			if resp.ResponseCode != "00" {
				sent.Outcome = Declined
			}
			t.state.Pending = nil
		}
		if err := t.save(); err != nil {
			return err
		}
		res.ReversalsSent = append(res.ReversalsSent, sent)
		if t.state.Pending != nil {
			if err := t.connect(ctx); err != nil {
				res.ReversalPending = true
				return err
			}
		}
	}
	return nil
}

// faults are the terminal-side faults one request asks for. They act at
// named points of a transaction (see online): before the request is read
// back (closeBeforeRead, a power cut after the send), after a valid
// answer (a power cut before the reversal record is cleared) and after
// the record is cleared (a power cut before the transaction is logged).
type faults struct {
	powerCut        string
	closeBeforeRead bool
	badMAC          bool
	// offline: the transaction was approved offline, so it is logged
	// before its advice leaves and stays logged whatever becomes of the
	// advice (its settlement counts it; a host that never got it finds it
	// in the batch upload as the terminal's alone).
	offline bool
	// complete, when set, finishes an approval at the terminal (the
	// chip's second GENERATE AC); an error makes the terminal reverse at
	// once with reason 06 and end ChipDeclined.
	complete func(resp *wire.Txn) error
}

func (r Request) faults() faults {
	return faults{powerCut: r.PowerCut, closeBeforeRead: r.CloseBeforeRead, badMAC: r.BadMAC}
}

// afterSend runs the faults that end a transaction once its request is
// written: the terminal hangs up, or loses its power. ended reports
// whether one did; err is then the transaction's.
func (f faults) afterSend(t *Terminal, req *wire.Txn, res *Result) (ended bool, err error) {
	switch {
	case f.closeBeforeRead:
		return true, t.closeBeforeRead(req, res)
	case f.powerCut == PowerCutAfterSend:
		return true, t.sendAndDie(req, res)
	}
	return false, nil
}

// afterResponse runs the fault of a valid answer not yet acted on.
func (f faults) afterResponse(t *Terminal, res *Result) (ended bool, err error) {
	if f.powerCut == PowerCutAfterResponse {
		return true, t.die(res)
	}
	return false, nil
}

// afterClear runs the fault of a terminal that saves in two steps: the
// record is cleared and saved, then the power fails before the
// transaction is logged.
func (f faults) afterClear(t *Terminal, resp *wire.Txn, res *Result) (ended bool, err error) {
	if f.powerCut != PowerCutAfterClear {
		return false, nil
	}
	t.state.Pending = nil
	if err := t.save(); err != nil {
		return true, res.finish(InvalidResponse, resp.ResponseCode, err)
	}
	return true, t.die(res)
}

// online runs one request through the full reversal discipline and fills
// res: the pending reversal goes first (R6), the record of this one is
// saved before it leaves (R2), the answer is checked (R4) and clears the
// record (R5). f are the request's terminal-side faults. commit, when set,
// records an approval in the state (the transaction log); it runs in the
// same save that clears the reversal record, so that a crash leaves either
// the record (and a reversal to send) or the logged transaction, never
// neither.
func (t *Terminal) online(ctx context.Context, req *wire.Txn, res *Result, f faults, commit func(resp *wire.Txn)) (*wire.Txn, error) {
	if err := t.ready(ctx, res); err != nil {
		return nil, err
	}
	t.stamp(req)
	res.STAN, res.Batch = req.STAN, req.Batch
	if req.PAN != "" {
		res.PAN = wire.MaskPAN(req.PAN)
	}
	if req.HasAmount {
		res.Amount = wire.FormatAmount(req.Amount)
	}
	if f.offline {
		t.logApproved(req, &wire.Txn{})
	}
	if req.Op.Reversible() {
		// R2: the record exists before a single byte leaves
		saved := *req
		saved.Track2, saved.PINBlock = "", nil
		t.state.Pending = &PendingReversal{Request: saved, Reason: wire.ReasonNoResponse, Created: t.cfg.Clock()}
	}
	if err := t.save(); err != nil {
		return nil, res.finish(Refused, "", err)
	}
	if f.badMAC {
		req.CorruptMAC = true
		defer func() { req.CorruptMAC = false }()
	}
	if ended, err := f.afterSend(t, req, res); ended {
		return nil, err
	}
	resp, sent, err := t.exchange(ctx, req)
	if !sent {
		t.state.Pending = nil // nothing left, nothing to reverse
		if serr := t.save(); serr != nil {
			return nil, res.finish(Refused, "", serr)
		}
		return nil, res.finish(Refused, "", fmt.Errorf("%w: %s: %w", ErrRefused, t.cfg.Host, errNotSent))
	}
	if err != nil {
		return resp, t.unanswered(ctx, res, err)
	}
	return resp, t.answered(ctx, resp, res, f, commit)
}

// ready brings the terminal to where a request may leave: connected,
// signed on, and the pending reversal delivered (R6).
func (t *Terminal) ready(ctx context.Context, res *Result) error {
	if t.dead {
		return res.finish(PowerCut, "", ErrPowerCut)
	}
	if err := t.connect(ctx); err != nil {
		res.ReversalPending = t.state.Pending != nil
		return res.finish(Refused, "", err)
	}
	if err := t.ensureSignedOn(ctx, res); err != nil {
		return err
	}
	if err := t.flush(ctx, res); err != nil {
		if errors.Is(err, ErrBlocked) {
			return res.finish(Blocked, "", err)
		}
		if errors.Is(err, ErrRefused) {
			return res.finish(Refused, "", err)
		}
		return res.finish(NoResponse, "", err)
	}
	if err := t.connect(ctx); err != nil {
		return res.finish(Refused, "", err)
	}
	return nil
}

// exchange sends req and waits for its answer. A request that never left
// (the connection had dropped) goes once more on a new connection; sent
// is false when it did not leave then either. An unanswered one is
// retransmitted with the same STAN as many times as the terminal is set
// to.
func (t *Terminal) exchange(ctx context.Context, req *wire.Txn) (resp *wire.Txn, sent bool, err error) {
	resp, err = t.sendAdvice(ctx, req)
	if errors.Is(err, errNotSent) {
		if cerr := t.connect(ctx); cerr == nil {
			resp, err = t.sendAdvice(ctx, req)
		}
		if errors.Is(err, errNotSent) || t.conn == nil {
			return nil, false, err
		}
	}
	for i := 0; i < t.cfg.Retransmits && errors.Is(err, ErrNoResponse); i++ {
		// some terminals retransmit the same message (same STAN) instead
		// of reversing at once
		if cerr := t.connect(ctx); cerr != nil {
			break
		}
		resp, err = t.send(ctx, req)
	}
	return resp, true, err
}

// unanswered ends a request without a valid answer: the reversal record
// stays, with the reason of what went wrong (R3), and goes at once when
// the terminal reverses immediately (R8).
func (t *Terminal) unanswered(ctx context.Context, res *Result, err error) error {
	if errors.Is(err, ErrInvalidResponse) {
		if t.state.Pending != nil {
			t.state.Pending.Reason = wire.ReasonOther
			if errors.Is(err, wire.ErrBadMAC) {
				t.state.Pending.Reason = wire.ReasonBadMAC // R3: A0, and sign on again
				t.state.SignedOn = false
			}
			_ = t.save()
		}
		res.ReversalPending = t.state.Pending != nil
		return res.finish(InvalidResponse, "", err)
	}
	res.ReversalPending = t.state.Pending != nil
	if res.ReversalPending && t.cfg.ImmediateReversal {
		if ferr := t.flush(ctx, res); ferr == nil {
			res.ReversalPending = false
		}
	}
	res.LateResponses = t.LateResponses()
	return res.finish(NoResponse, "", err)
}

// answered acts on a valid answer: an approval is completed at the terminal
// (a chip card's second GENERATE AC), then the record is cleared (R5) and
// the approval logged.
func (t *Terminal) answered(ctx context.Context, resp *wire.Txn, res *Result, f faults, commit func(resp *wire.Txn)) error {
	res.RRN, res.AuthCode = resp.RRN, resp.AuthCode
	if t.state.Pending != nil && resp.ResponseCode == "00" {
		// approved: until the record is cleared, a failure means "approved
		// but the terminal could not complete" (R3, reason 96)
		t.state.Pending.Reason = wire.ReasonIncomplete
		if err := t.saveSoon(); err != nil {
			return res.finish(InvalidResponse, resp.ResponseCode, err)
		}
	}
	if ended, err := f.afterResponse(t, res); ended {
		return err
	}
	if f.complete != nil && resp.ResponseCode == "00" {
		if cerr := f.complete(resp); cerr != nil {
			return t.reverseNow(ctx, res, cerr)
		}
	}
	if ended, err := f.afterClear(t, resp, res); ended {
		return err
	}
	// R5: any valid response, approval or decline, clears the record; an
	// approval is logged in the same save
	t.state.Pending = nil
	if commit != nil && resp.ResponseCode == "00" {
		commit(resp)
	}
	if err := t.saveSoon(); err != nil {
		return res.finish(InvalidResponse, resp.ResponseCode, err)
	}
	res.LateResponses = t.LateResponses()
	if resp.ResponseCode != "00" {
		return res.finish(Declined, resp.ResponseCode, nil)
	}
	return res.finish(Approved, "00", nil)
}

// reverseNow reverses the approval in flight at once with reason 06: the
// terminal (its chip kernel) refused what the host approved.
func (t *Terminal) reverseNow(ctx context.Context, res *Result, cause error) error {
	if t.state.Pending != nil {
		t.state.Pending.Reason = wire.ReasonOther
		if err := t.save(); err != nil {
			return res.finish(ChipDeclined, "00", err)
		}
	}
	res.ReversalPending = t.state.Pending != nil
	if err := t.flush(ctx, res); err == nil {
		res.ReversalPending = t.state.Pending != nil
	}
	res.LateResponses = t.LateResponses()
	return res.finish(ChipDeclined, "00", cause)
}

// sendAdvice sends req; an unanswered advice (0220) is retransmitted as a
// repeat (0221) up to AdviceRetries times (R11). Other requests go once.
func (t *Terminal) sendAdvice(ctx context.Context, req *wire.Txn) (*wire.Txn, error) {
	resp, err := t.send(ctx, req)
	if req.MTI == "" || len(req.MTI) != 4 || req.MTI[2] != '2' {
		return resp, err
	}
	for i := 0; i < t.cfg.AdviceRetries && errors.Is(err, ErrNoResponse) && !errors.Is(err, ErrInvalidResponse); i++ {
		if cerr := t.connect(ctx); cerr != nil {
			return nil, err
		}
		resp, err = t.send(ctx, t.cfg.Profile.Repeat(req))
	}
	return resp, err
}

// logApproved adds an approved transaction to the batch log (saved by the
// caller).
func (t *Terminal) logApproved(req, resp *wire.Txn) *LogEntry {
	t.state.Log = append(t.state.Log, LogEntry{
		Op: req.Op, MTI: req.MTI, PC: req.ProcessingCode, STAN: req.STAN, DE7: req.TransmissionTime,
		PAN: req.PAN, Amount: req.Amount, RRN: resp.RRN, AuthCode: resp.AuthCode, Time: t.cfg.Clock(),
	})
	return &t.state.Log[len(t.state.Log)-1]
}

// prepare sets the MTI and processing code of req as the profile encodes
// them.
func (t *Terminal) prepare(req *wire.Txn) error {
	m, err := t.cfg.Profile.Encode(req)
	if err != nil {
		return err
	}
	req.MTI, _ = m.GetMTI()
	req.ProcessingCode, _ = m.GetString(3)
	// what the response must echo is what actually went out (R4)
	_, sent := m.GetFields()[4]
	req.HasAmount = req.HasAmount && sent
	return nil
}

// card resolves the card of a request and fills PAN, expiry, track and PIN.
// For a purchase a chip card is inserted or tapped (see readChip): the
// session it returns runs the GENERATE AC commands; nil for a swipe.
func (t *Terminal) card(req *wire.Txn, r Request, purchase bool) (*chipSession, error) {
	c, err := t.cfg.Cards.Resolve(r.cardOrDefault())
	if err != nil {
		return nil, err
	}
	req.PAN, req.Expiry = c.PAN, c.Expiry
	req.Track2 = c.PAN + "=" + c.Expiry + "1010000000000"
	if c.Chip != nil {
		req.Track2 = c.PAN + "=" + c.Expiry + "2010000000000" // service code 2xx: a chip card
	}
	var chip *chipSession
	entry, wantPIN := "02", true
	if purchase {
		chip, entry, wantPIN = readChip(c, r, req.Amount)
	}
	req.Fallback = entry == "80"
	pin := r.PIN
	if pin == "" && !r.NoPIN && wantPIN {
		pin = c.PINToEnter()
	}
	req.EntryMode = entry + "2"
	if pin != "" && !r.NoPIN {
		key := t.pinKey
		t.keyMu.Lock()
		if t.pin != nil {
			key = *t.pin
		}
		t.keyMu.Unlock()
		block, err := key.EncryptPIN(pin, c.PAN)
		if err != nil {
			return nil, err
		}
		req.PINBlock, req.EntryMode = block, entry+"1"
		// cup: DE26, the most PIN digits the terminal takes, and DE53:
		// ISO 9564 format 0 (2), DES (0) or triple DES (6) as the key is
		// single or double length, no track encryption (0)
		alg := "0"
		if key.Double() {
			alg = "6"
		}
		req.PINCapture, req.Security = "06", "2"+alg+"0"+"0000000000000"
	}
	t.keyMu.Lock()
	tk := t.track
	t.keyMu.Unlock()
	if tk != nil {
		// key set 004: track data travels encrypted, and DE53 says so
		enc, err := wire.EncryptTrack(tk, req.Track2)
		if err != nil {
			return nil, err
		}
		req.Track2 = enc
		format := "0"
		if len(req.PINBlock) > 0 {
			format = "2"
		}
		req.Security = format + "6" + "1" + "0000000000000"
	}
	return chip, nil
}

// Request is the input of a terminal operation.
type Request struct {
	// Card is a card alias or a PAN; default "approve".
	Card string
	// Amount in minor units.
	Amount int64
	// PIN the cardholder types; empty uses the card's.
	PIN string
	// NoPIN sends no PIN block.
	NoPIN bool
	// RRN of the original transaction (void, refund, completion).
	RRN string
	// AuthCode of the original pre-authorisation (completion).
	AuthCode string
	// STAN of the logged transaction to reverse (explicit reversal).
	STAN string
	// TID and MID override the terminal's DE41 and DE42 for this request.
	TID, MID string
	// PowerCut cuts the power at one of the PowerCut points (a fault).
	PowerCut string
	// CloseBeforeRead hangs up right after sending (a fault).
	CloseBeforeRead bool
	// BadMAC sends a wrong MAC (a fault: keys out of step).
	BadMAC bool
	// CardResponse makes a chip card behave otherwise for this
	// transaction: one of CardResponses.
	CardResponse string
	// Fallback swipes a chip card (DE22 80x), as a terminal does when the
	// chip cannot be read.
	Fallback bool
	// Fields are fields the host requires that posim does not fill (its
	// private fields), by number: they go into the request as given.
	Fields map[int]string
}

func (r Request) cardOrDefault() string {
	if r.Card == "" {
		return "approve"
	}
	return r.Card
}

// Power-cut points: where a terminal fault may cut the power.
const (
	PowerCutAfterSend     = "after_send"     // the request left; nothing read
	PowerCutAfterResponse = "after_response" // a valid response arrived; the record is not cleared yet
	PowerCutAfterClear    = "after_clear"    // the record is cleared; the transaction is not logged yet
)

// die cuts the power: the connection drops and the terminal refuses every
// call until it is restarted from its state directory.
func (t *Terminal) die(res *Result) error {
	t.dead = true
	t.disconnect()
	res.ReversalPending = t.state.Pending != nil
	return res.finish(PowerCut, "", ErrPowerCut)
}

// sendAndDie writes the request and cuts the power before reading.
func (t *Terminal) sendAndDie(req *wire.Txn, res *Result) error {
	if err := t.write(req); err != nil {
		return res.finish(NoResponse, "", err)
	}
	return t.die(res)
}

// closeBeforeRead writes the request and hangs up without reading.
func (t *Terminal) closeBeforeRead(req *wire.Txn, res *Result) error {
	if err := t.write(req); err != nil {
		return res.finish(NoResponse, "", err)
	}
	t.disconnect()
	res.ReversalPending = t.state.Pending != nil
	return res.finish(NoResponse, "", fmt.Errorf("%w: the terminal closed the connection before reading", ErrNoResponse))
}

// write sends req without waiting for an answer.
func (t *Terminal) write(req *wire.Txn) error {
	t.sign(req)
	m, err := t.cfg.Profile.Encode(req)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", req.MTI, err)
	}
	t.log.Info("out", "mti", req.MTI, "stan", req.STAN, "tid", req.TID, "pan", wire.MaskPAN(req.PAN))
	t.dump(">>", m)
	if t.conn == nil {
		return fmt.Errorf("%w: %w", ErrNoResponse, errNotSent)
	}
	if err := t.conn.send(m, t.cfg.Timeout); err != nil {
		return fmt.Errorf("%w: %w", ErrNoResponse, err)
	}
	return nil
}

// dump writes a message field by field when the configuration asks for it.
func (t *Terminal) dump(direction string, m *iso8583.Message) {
	if t.cfg.Dump != nil {
		wire.Dump(t.cfg.Dump, direction, m)
	}
}

// writer returns the message writer: the codec, or a slow link that cuts
// each frame into pieces.
func (t *Terminal) writer() messageWriter {
	if t.cfg.WriteChunk <= 0 {
		return t.codec
	}
	return slowWriter{codec: t.codec, chunk: t.cfg.WriteChunk, gap: t.cfg.WriteGap}
}

// slowWriter writes a frame in chunks with a gap between them.
type slowWriter struct {
	codec *wire.Codec
	chunk int
	gap   time.Duration
}

func (s slowWriter) WriteMessage(w io.Writer, m *iso8583.Message) error {
	frame, err := s.codec.Frame(m)
	if err != nil {
		return err
	}
	for i := 0; i < len(frame); i += s.chunk {
		if i > 0 && s.gap > 0 {
			time.Sleep(s.gap)
		}
		if _, err := w.Write(frame[i:min(i+s.chunk, len(frame))]); err != nil {
			return err
		}
	}
	return nil
}

// ensureSignedOn signs on first when the terminal is set to and is not
// signed on; t.mu is held. It returns the operation's error when that fails.
func (t *Terminal) ensureSignedOn(ctx context.Context, res *Result) error {
	if !t.cfg.AutoSignOn || t.state.SignedOn || t.dead {
		return nil
	}
	sres := t.newResult(string(wire.OpSignOn))
	if err := t.networkLocked(ctx, wire.OpSignOn, wire.NetSignOn, sres); err != nil {
		res.ReversalPending = t.state.Pending != nil
		return res.finish(sres.Outcome, sres.ResponseCode, fmt.Errorf("signing on: %w", err))
	}
	res.SignedOnFirst = true
	return nil
}
