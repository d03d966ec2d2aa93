package terminal

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/posim/posim/wire"
)

// Sale debits the card (0200, processing code 000000).
func (t *Terminal) Sale(ctx context.Context, r Request) (*Result, error) {
	return t.purchase(ctx, wire.OpSale, r)
}

// PreAuth places a hold on the card (0100).
func (t *Terminal) PreAuth(ctx context.Context, r Request) (*Result, error) {
	return t.purchase(ctx, wire.OpPreAuth, r)
}

// Balance asks for the card's available balance (0200, 310000).
func (t *Terminal) Balance(ctx context.Context, r Request) (*Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := t.newResult(string(wire.OpBalance))
	if err := t.ensureSignedOn(ctx, res); err != nil {
		return res, err
	}
	req := t.base(wire.OpBalance)
	r.identify(req)
	req.Currency = t.cfg.Currency
	req.Condition = wire.CondNormal
	if _, err := t.card(req, r, false); err != nil {
		return res, res.finish(Refused, "", fmt.Errorf("%w: %v", ErrInvalidRequest, err))
	}
	if err := t.prepare(req); err != nil {
		return res, res.finish(Refused, "", fmt.Errorf("%w: %v", ErrInvalidRequest, err))
	}
	resp, err := t.online(ctx, req, res, r.faults(), nil)
	if err == nil && resp.Balance != nil {
		res.Balance = wire.FormatAmount(*resp.Balance)
	}
	return res, err
}

// OfflineSale records a sale the terminal approved offline (its floor
// limit, a phone authorisation) and sends it as an advice (0220; cup 60.1
// 30, 离线结算). The sale is in the batch from the start: an advice the host
// never answers is retransmitted (0221, R11), never reversed, and the sale
// stays for the settlement, where a host that never got it finds it only
// in the terminal's batch upload.
func (t *Terminal) OfflineSale(ctx context.Context, r Request) (*Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := t.newResult(string(wire.OpOfflineSale))
	if err := t.ensureSignedOn(ctx, res); err != nil {
		return res, err
	}
	req := t.base(wire.OpOfflineSale)
	r.identify(req)
	req.Amount, req.HasAmount = r.Amount, true
	req.Currency, req.Condition = t.cfg.Currency, wire.CondNormal
	if _, err := t.card(req, r, false); err != nil {
		return res, res.finish(Refused, "", fmt.Errorf("%w: %v", ErrInvalidRequest, err))
	}
	req.PINBlock = nil // approved offline: no PIN went to the host
	if err := t.prepare(req); err != nil {
		return res, res.finish(Refused, "", fmt.Errorf("%w: %v", ErrInvalidRequest, err))
	}
	f := r.faults()
	f.offline = true
	resp, err := t.online(ctx, req, res, f, nil)
	t.offlineReceipt(res, req, resp)
	return res, err
}

// offlineReceipt prints the slip of a transaction the terminal approved
// itself (an offline sale, an adjustment, a tip): the approval's, whatever
// became of its advice.
func (t *Terminal) offlineReceipt(res *Result, req, resp *wire.Txn) {
	approved := *res
	approved.Outcome, approved.ResponseCode = Approved, "00"
	t.receipt(&approved, req, resp)
	res.Receipt = approved.Receipt
}

// Adjust changes the amount of an offline sale of the open batch (cup
// 0220 with 60.1 32, 离线结算调整): r.STAN names the offline sale by its
// trace number, r.Amount is its new amount. The batch has the new amount
// at once, and the advice goes as an offline sale's does: repeated (0221)
// while unanswered, never reversed.
func (t *Terminal) Adjust(ctx context.Context, r Request) (*Result, error) {
	return t.adjust(ctx, wire.OpAdjust, r)
}

// Tip adds a tip to a sale or an offline sale of the open batch (cup 0220
// with 60.1 34, 小费): r.STAN names the sale by its trace number, r.Amount
// is the tip, and the advice carries the new total (DE4). Like Adjust, the
// batch has the new total at once and the advice is never reversed.
func (t *Terminal) Tip(ctx context.Context, r Request) (*Result, error) {
	return t.adjust(ctx, wire.OpTip, r)
}

func (t *Terminal) adjust(ctx context.Context, op wire.Op, r Request) (*Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := t.newResult(string(op))
	if err := t.loadLog(); err != nil {
		return res, res.finish(Refused, "", err)
	}
	kinds, what := []wire.Op{wire.OpOfflineSale}, "offline sale"
	if op == wire.OpTip {
		kinds, what = []wire.Op{wire.OpSale, wire.OpOfflineSale}, "sale or offline sale"
	}
	at := -1
	for i := len(t.state.Log) - 1; i >= 0 && r.STAN != ""; i-- {
		if e := t.state.Log[i]; e.STAN == r.STAN && slices.Contains(kinds, e.Op) && !e.Voided {
			at = i
			break
		}
	}
	switch {
	case at < 0:
		return res, res.finish(Refused, "", fmt.Errorf("%w: no %s with trace %q in the open batch", ErrInvalidRequest, what, r.STAN))
	case r.Amount <= 0:
		return res, res.finish(Refused, "", fmt.Errorf("%w: %s needs an amount above zero", ErrInvalidRequest, op))
	}
	orig := t.state.Log[at]
	amount := r.Amount
	if op == wire.OpTip {
		amount += orig.Amount
	}
	if err := t.ensureSignedOn(ctx, res); err != nil {
		return res, err
	}
	req := t.base(op)
	r.identify(req)
	req.PAN, req.Amount, req.HasAmount = orig.PAN, amount, true
	req.Currency, req.Condition, req.EntryMode = t.cfg.Currency, wire.CondNormal, orig.Entry
	req.RRN, req.AuthCode = orig.RRN, orig.AuthCode
	req.OrigRef = &wire.OrigRef{Batch: t.batch(), STAN: orig.STAN, Date: orig.Time.Format("0102")}
	if err := t.prepare(req); err != nil {
		return res, res.finish(Refused, "", fmt.Errorf("%w: %v", ErrInvalidRequest, err))
	}
	// done at the terminal before the advice leaves: the batch has the new
	// amount and the adjustment, which counts nowhere itself
	t.state.Log[at].Amount = amount
	t.state.Log = append(t.state.Log, LogEntry{Op: op, MTI: req.MTI, PC: req.ProcessingCode, STAN: req.STAN,
		PAN: req.PAN, Amount: amount, Time: t.cfg.Clock()})
	resp, err := t.online(ctx, req, res, r.faults(), nil)
	if res.Outcome == Declined {
		// the host refused it (its original unknown or settled): undone
		// at the terminal too, so that both batches leave it out
		for i := range t.state.Log {
			if e := &t.state.Log[i]; e.STAN == orig.STAN && e.Op == orig.Op {
				e.Amount = orig.Amount
			}
		}
		t.state.Log = slices.DeleteFunc(t.state.Log, func(e LogEntry) bool { return e.Op == op && e.STAN == req.STAN })
		if serr := t.save(); serr != nil && err == nil {
			err = serr
		}
	}
	t.offlineReceipt(res, req, resp)
	return res, err
}

// ErrInvalidRequest: the operation's input is wrong (unknown card, missing
// RRN ...); nothing was sent.
var ErrInvalidRequest = errors.New("invalid request")

func (t *Terminal) purchase(ctx context.Context, op wire.Op, r Request) (*Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := t.newResult(string(op))
	if err := t.ensureSignedOn(ctx, res); err != nil {
		return res, err
	}
	req := t.base(op)
	r.identify(req)
	req.Amount, req.HasAmount = r.Amount, true
	req.Currency = t.cfg.Currency
	req.Condition = wire.CondNormal
	if op == wire.OpPreAuth {
		req.Condition = wire.CondPreAuth
	}
	chip, err := t.card(req, r, true)
	if err != nil {
		return res, res.finish(Refused, "", fmt.Errorf("%w: %v", ErrInvalidRequest, err))
	}
	if err := t.prepare(req); err != nil {
		return res, res.finish(Refused, "", fmt.Errorf("%w: %v", ErrInvalidRequest, err))
	}
	if r.CardResponse != "" && (chip == nil || !slices.Contains(CardResponses(), r.CardResponse)) {
		return res, res.finish(Refused, "", fmt.Errorf("%w: card response %q needs a chip card read through its chip and one of %v", ErrInvalidRequest, r.CardResponse, CardResponses()))
	}
	f := r.faults()
	if chip != nil {
		res.Chip = chip.res
		offline, err := t.firstGenerateAC(chip, req)
		if err != nil {
			return res, res.finish(Refused, "", fmt.Errorf("%w: chip: %v", ErrInvalidRequest, err))
		}
		if offline {
			res.PAN, res.Amount = wire.MaskPAN(req.PAN), wire.FormatAmount(req.Amount)
			return res, res.finish(ChipDeclined, "", fmt.Errorf("%w: the card declined offline (AAC at the first GENERATE AC)", errChip))
		}
		if !chip.card.Chip.Contactless {
			f.complete = func(resp *wire.Txn) error {
				err := chip.secondGenerateAC(resp)
				if err != nil && t.state.Pending != nil {
					t.state.Pending.Request.ICC = chip.reversalICC()
				}
				return err
			}
		}
		// a tap (qPBOC) ends with the ARQC: the card has left the field
		// before the answer comes, so there is no second GENERATE AC, no
		// issuer authentication at the card and no TC to upload
	}
	resp, err := t.online(ctx, req, res, f, func(resp *wire.Txn) { chip.logTC(t.logApproved(req, resp), req) })
	if err == nil {
		t.scriptAdvice(ctx, chip, req, resp)
	}
	t.receipt(res, req, resp)
	return res, err
}

// find returns the logged transaction with the RRN, or else (no RRN) the
// newest one of the operations with the authorisation code.
func (t *Terminal) find(rrn, authCode string, ops ...wire.Op) *LogEntry {
	for i := len(t.state.Log) - 1; i >= 0; i-- {
		e := &t.state.Log[i]
		if (rrn != "" && e.RRN == rrn) || (rrn == "" && authCode != "" && e.AuthCode == authCode && slices.Contains(ops, e.Op)) {
			return e
		}
	}
	return nil
}

// originalOps are the operations an operation may refer to.
func originalOps(op wire.Op) []wire.Op {
	switch op {
	case wire.OpCompletion, wire.OpPreAuthVoid:
		return []wire.Op{wire.OpPreAuth}
	case wire.OpCompletionVoid:
		return []wire.Op{wire.OpCompletion}
	}
	return []wire.Op{wire.OpSale, wire.OpCompletion}
}

// referenced builds a request that refers to an original by RRN.
func (t *Terminal) referenced(ctx context.Context, op wire.Op, r Request) (*Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := t.newResult(string(op))
	if err := t.ensureSignedOn(ctx, res); err != nil {
		return res, err
	}
	byAuth := op == wire.OpCompletion || op == wire.OpPreAuthVoid
	if r.RRN == "" && (!byAuth || r.AuthCode == "") {
		need := "the original RRN"
		if byAuth {
			need += " or authorisation code"
		}
		return res, res.finish(Refused, "", fmt.Errorf("%w: %s needs %s", ErrInvalidRequest, op, need))
	}
	req := t.base(op)
	r.identify(req)
	req.RRN = r.RRN
	req.Currency = t.cfg.Currency
	req.Condition = wire.CondNormal
	if err := t.loadLog(); err != nil {
		return res, res.finish(Refused, "", err)
	}
	orig := t.find(r.RRN, r.AuthCode, originalOps(op)...)
	// DE61 (cup): the original's batch, trace number and date
	req.OrigRef = &wire.OrigRef{Batch: "000000", STAN: "000000", Date: "0000"}
	if orig != nil {
		req.OrigRef = &wire.OrigRef{Batch: t.batch(), STAN: orig.STAN, Date: orig.Time.Format("0102")}
		if req.RRN == "" {
			req.RRN = orig.RRN
		}
	}
	switch {
	case r.Card != "" || orig == nil:
		if _, err := t.card(req, r, false); err != nil {
			return res, res.finish(Refused, "", fmt.Errorf("%w: %v", ErrInvalidRequest, err))
		}
	default:
		req.PAN = orig.PAN
		req.EntryMode = "012"
	}
	req.Amount, req.HasAmount = r.Amount, true
	voids := op == wire.OpVoid || op == wire.OpPreAuthVoid || op == wire.OpCompletionVoid
	if voids && r.Amount == 0 && orig != nil {
		req.Amount = orig.Amount
	}
	if req.Amount == 0 {
		return res, res.finish(Refused, "", fmt.Errorf("%w: %s needs an amount", ErrInvalidRequest, op))
	}
	req.AuthCode = r.AuthCode
	if req.AuthCode == "" && orig != nil {
		req.AuthCode = orig.AuthCode
	}
	switch op {
	case wire.OpCompletion, wire.OpPreAuthVoid, wire.OpCompletionVoid:
		req.Condition = wire.CondPreAuth
	}
	if op != wire.OpCompletion {
		req.PINBlock = nil // voids and refunds are cashier operations
	}
	if err := t.prepare(req); err != nil {
		return res, res.finish(Refused, "", fmt.Errorf("%w: %v", ErrInvalidRequest, err))
	}
	rrn, authCode := req.RRN, req.AuthCode
	resp, err := t.online(ctx, req, res, r.faults(), func(resp *wire.Txn) {
		// find the original again: the log may have changed since (a
		// pending reversal sent first takes its transaction out)
		orig := t.find(rrn, authCode, originalOps(op)...)
		if orig != nil && (voids || op == wire.OpCompletion) {
			orig.Voided = true // cancelled, or (a pre-authorisation) its hold consumed
		}
		if e := t.logApproved(req, resp); voids {
			e.Voided = true // a void counts nowhere (iso87); it only cancels its original
		}
	})
	t.receipt(res, req, resp)
	return res, err
}

// Void cancels a sale of the open batch by its RRN (0200, 020000).
func (t *Terminal) Void(ctx context.Context, r Request) (*Result, error) {
	return t.referenced(ctx, wire.OpVoid, r)
}

// PreAuthVoid cancels a pre-authorisation (预授权撤销: cup 0100 200000, DE25
// 06) by its authorisation code (or RRN); the hold is released. Reversible.
func (t *Terminal) PreAuthVoid(ctx context.Context, r Request) (*Result, error) {
	return t.referenced(ctx, wire.OpPreAuthVoid, r)
}

// CompletionVoid cancels a completion (预授权完成撤销: cup 0200 200000, DE25
// 06) by its RRN: the card is credited, the pre-authorisation stands again.
// Reversible.
func (t *Terminal) CompletionVoid(ctx context.Context, r Request) (*Result, error) {
	return t.referenced(ctx, wire.OpCompletionVoid, r)
}

// Refund credits the card against a sale's RRN (0220, 200000). An
// unanswered refund is retransmitted as 0221, never reversed.
func (t *Terminal) Refund(ctx context.Context, r Request) (*Result, error) {
	return t.referenced(ctx, wire.OpRefund, r)
}

// Completion completes a pre-authorisation by its RRN (0200, DE25 06).
func (t *Terminal) Completion(ctx context.Context, r Request) (*Result, error) {
	return t.referenced(ctx, wire.OpCompletion, r)
}

func (t *Terminal) network(ctx context.Context, op wire.Op, code string) (*Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := t.newResult(string(op))
	return res, t.networkLocked(ctx, op, code, res)
}

// networkLocked runs a network management exchange; t.mu is held.
func (t *Terminal) networkLocked(ctx context.Context, op wire.Op, code string, res *Result) error {
	req := t.base(op)
	t.stamp(req)
	req.NetworkCode = code
	req.Batch = ""
	if (op == wire.OpSignOn || op == wire.OpMasterKey) && t.keyed() {
		req.Batch = t.batch()
		req.Private63 = t.cfg.Operator // 63.1: who signs on
	}
	if op == wire.OpSignOn && t.keyed() {
		req.NetworkCode = t.cfg.KeySet
	}
	if err := t.prepare(req); err != nil {
		return res.finish(Refused, "", err)
	}
	res.STAN = req.STAN
	if err := t.connect(ctx); err != nil {
		return res.finish(Refused, "", err)
	}
	res.ReversalPending = t.state.Pending != nil
	resp, err := t.send(ctx, req)
	switch {
	case errors.Is(err, ErrInvalidResponse):
		return res.finish(InvalidResponse, "", err)
	case err != nil:
		_ = t.save()
		return res.finish(NoResponse, "", err)
	}
	if op == wire.OpSignOn && t.keyed() && resp.ResponseCode == "00" {
		wk, err := wire.OpenKeys(t.masterKey(), t.cfg.KeySet, resp.Keys)
		if err != nil {
			return res.finish(InvalidResponse, resp.ResponseCode, fmt.Errorf("%w: %v", ErrInvalidResponse, err))
		}
		t.state.Keys = &StoredKeys{PIN: wire.HexKey(wk.PIN), MAC: wire.HexKey(wk.MAC), Track: wire.HexKey(wk.Track)}
		if err := t.useKeys(t.state.Keys); err != nil {
			return res.finish(InvalidResponse, resp.ResponseCode, err)
		}
	}
	if op == wire.OpMasterKey && resp.ResponseCode == "00" {
		if err := t.openMasterKey(resp.Keys); err != nil {
			_ = t.save()
			return res.finish(InvalidResponse, resp.ResponseCode, err)
		}
	}
	if op == wire.OpSignOn || op == wire.OpSignOff {
		t.state.SignedOn = op == wire.OpSignOn && resp.ResponseCode == "00"
	}
	if op == wire.OpSignOn && resp.ResponseCode == "00" {
		t.adoptHost(resp)
	}
	if err := t.save(); err != nil {
		return err
	}
	if resp.ResponseCode != "00" {
		return res.finish(Declined, resp.ResponseCode, nil)
	}
	if op == wire.OpSignOn && t.keyed() && t.cfg.ChipDownload && t.hostAsksToDownload() {
		// a failed download does not undo the sign-on: the next one
		// tries again
		dres := t.newResult(string(wire.OpDownload))
		if err := t.download(ctx, dres); err != nil {
			t.log.Warn("chip download after sign-on failed", "err", err)
		}
		res.Download = dres.Download
	}
	return res.finish(Approved, "00", nil)
}

// hostAsksToDownload reports whether the last answer's header asks the
// terminal to download (cup: its processing request is a parameter, CA key
// or chip parameter download).
func (t *Terminal) hostAsksToDownload() bool {
	_, hd, ok := t.echo.Last()
	if !ok {
		return false
	}
	switch wire.HostRequestOf(hd[:]) {
	case wire.HostRequestParams, wire.HostRequestCAPK, wire.HostRequestICParams:
		return true
	}
	return false
}

// SignOn signs the terminal on (0800, DE70 001).
func (t *Terminal) SignOn(ctx context.Context) (*Result, error) {
	return t.network(ctx, wire.OpSignOn, wire.NetSignOn)
}

// SignOff signs the terminal off (0800, DE70 002).
func (t *Terminal) SignOff(ctx context.Context) (*Result, error) {
	return t.network(ctx, wire.OpSignOff, wire.NetSignOff)
}

// Echo tests the link (0800, DE70 301). It does not flush reversals.
func (t *Terminal) Echo(ctx context.Context) (*Result, error) {
	return t.network(ctx, wire.OpEcho, wire.NetEcho)
}

// Reversal sends the pending reversal if there is one. Without one it
// reverses a logged transaction: the one with r.STAN, or the last reversible
// one, with reason 06 (cancelled at the terminal).
func (t *Terminal) Reversal(ctx context.Context, r Request) (*Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := t.newResult(string(wire.OpReversal))
	if t.state.Pending == nil {
		if err := t.loadLog(); err != nil {
			return res, res.finish(Refused, "", err)
		}
		idx := -1
		for i := len(t.state.Log) - 1; i >= 0; i-- {
			e := t.state.Log[i]
			if e.Op.Reversible() && !e.Voided && (r.STAN == "" || e.STAN == r.STAN) {
				idx = i
				break
			}
		}
		if idx < 0 {
			return res, res.finish(Refused, "", ErrNothingToReverse)
		}
		e := t.state.Log[idx]
		t.state.Pending = &PendingReversal{
			Request: wire.Txn{Op: e.Op, MTI: e.MTI, ProcessingCode: e.PC, STAN: e.STAN, TransmissionTime: e.DE7,
				PAN: e.PAN, Amount: e.Amount, HasAmount: true, AuthCode: e.AuthCode, TID: t.cfg.TID, MID: t.cfg.MID,
				Currency: t.cfg.Currency, Batch: t.batch()},
			Reason:  wire.ReasonOther,
			Created: t.cfg.Clock(),
		}
		t.state.Log = append(t.state.Log[:idx], t.state.Log[idx+1:]...)
		if err := t.save(); err != nil {
			return res, err
		}
	}
	p := t.state.Pending
	res.STAN, res.PAN = p.Request.STAN, wire.MaskPAN(p.Request.PAN)
	res.Amount = wire.FormatAmount(p.Request.Amount)
	if err := t.connect(ctx); err != nil {
		res.ReversalPending = true
		return res, res.finish(Refused, "", err)
	}
	if err := t.flush(ctx, res); err != nil {
		res.ReversalPending = t.state.Pending != nil
		if errors.Is(err, ErrBlocked) {
			return res, res.finish(Blocked, "", err)
		}
		return res, res.finish(Refused, "", err)
	}
	res.ReversalPending = t.state.Pending != nil
	if res.ReversalPending {
		return res, res.finish(NoResponse, "", ErrNoResponse)
	}
	if res.ReversalDropped {
		return res, res.finish(NoResponse, "", ErrNoResponse)
	}
	last := res.ReversalsSent[len(res.ReversalsSent)-1]
	if last.ResponseCode != "00" {
		return res, res.finish(Declined, last.ResponseCode, nil)
	}
	return res, res.finish(Approved, "00", nil)
}

// Settle reconciles the open batch (0500): totals from the terminal's log;
// when the host answers 95 the terminal uploads every transaction (0320) and
// closes with a settlement trailer. The batch number then goes up by one.
func (t *Terminal) Settle(ctx context.Context) (*Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := t.newResult(string(wire.OpSettle))
	if err := t.loadLog(); err != nil {
		return res, res.finish(Refused, "", err)
	}
	caps := t.cfg.Profile.Capabilities()
	totals := t.state.Totals(caps)
	sr := &SettlementResult{Batch: t.batch(), Terminal: totals}
	res.Settlement = sr
	req := t.base(wire.OpSettle)
	req.Totals = &totals
	req.Currency = t.cfg.Currency
	if t.keyed() {
		req.Private63 = t.cfg.Operator // 63.1: who settles
	}
	if err := t.prepare(req); err != nil {
		return res, res.finish(Refused, "", err)
	}
	resp, err := t.online(ctx, req, res, faults{}, nil)
	if err != nil && (resp == nil || resp.ResponseCode != "95") {
		return res, err
	}
	sr.Host = resp.Totals
	if resp.ResponseCode == "95" {
		if err := t.uploadBatch(ctx, res, totals); err != nil {
			return res, err
		}
	} else {
		sr.Balanced = true
	}
	for _, e := range t.state.Log {
		if e.ICC != "" && !e.Voided && e.Op.Settles() != 0 {
			e.Batch = t.state.Batch
			t.state.TCPending = append(t.state.TCPending, e)
		}
	}
	t.state.Log = nil
	t.state.Batch = t.state.Batch%999999 + 1
	if err := t.save(); err != nil {
		return res, err
	}
	if !t.cfg.SkipTCUpload {
		t.uploadTCs(ctx, sr)
	} else {
		sr.TCPending = len(t.state.TCPending)
	}
	return res, res.finish(Approved, "00", nil)
}

// uploadBatch is the settlement of a batch the host found out of balance
// (95): every transaction of the log uploaded (0320: one a message under
// iso87, up to eight under cup), then the settlement trailer; the host's
// totals replace the terminal's view of them.
func (t *Terminal) uploadBatch(ctx context.Context, res *Result, totals wire.Totals) error {
	caps := t.cfg.Profile.Capabilities()
	sr := res.Settlement
	var items []LogEntry
	for _, e := range t.state.Log {
		if e.counts(caps) != 0 {
			items = append(items, e)
		}
	}
	// one transaction a 0320 (iso87), or up to eight (cup)
	per := max(caps.UploadBatch, 1)
	for start := 0; start < len(items); start += per {
		group := items[start:min(start+per, len(items))]
		e := group[0]
		up := t.base(wire.OpBatchUpload)
		t.stamp(up)
		up.ProcessingCode, up.PAN, up.Amount, up.HasAmount = e.PC, e.PAN, e.Amount, true
		up.RRN, up.AuthCode, up.Currency = e.RRN, e.AuthCode, t.cfg.Currency
		up.Original = &wire.Original{MTI: e.MTI, STAN: e.STAN, TransmissionTime: e.DE7}
		if per > 1 {
			for _, g := range group {
				up.Uploads = append(up.Uploads, wire.Upload{STAN: g.STAN, PAN: g.PAN, Amount: g.Amount, Foreign: caps.ForeignTotals && wire.Foreign(g.PAN)})
			}
		}
		if err := t.prepare(up); err != nil {
			return res.finish(Refused, "", err)
		}
		if _, err := t.send(ctx, up); err != nil {
			_ = t.save()
			return res.finish(NoResponse, "", err)
		}
		sr.Uploaded += len(group)
	}
	trailer := t.base(wire.OpSettleTrailer)
	t.stamp(trailer)
	trailer.Totals = &totals
	trailer.Currency = t.cfg.Currency
	if err := t.prepare(trailer); err != nil {
		return res.finish(Refused, "", err)
	}
	tresp, err := t.send(ctx, trailer)
	if err != nil {
		_ = t.save()
		return res.finish(NoResponse, "", err)
	}
	if tresp.ResponseCode != "00" {
		_ = t.save()
		return res.finish(Declined, tresp.ResponseCode, nil)
	}
	if tresp.Totals != nil {
		sr.Host = tresp.Totals
	}
	return nil
}

// identify applies the request's TID and MID overrides.
func (r Request) identify(req *wire.Txn) {
	if len(r.Fields) > 0 {
		req.Extra = r.Fields
	}
	if r.TID != "" {
		req.TID = r.TID
	}
	if r.MID != "" {
		req.MID = r.MID
	}
}
