package acquirer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/posim/posim/wire"
)

// counts reports how a record counts in settlement totals: +1 debit, -1
// credit, 0 nowhere, with its amount. Voided and reversed transactions
// count nowhere, except the part of a reversed sale that refunds had
// already given back (its refunds count as credits).
func counts(r *booking) (sign int, amount int64) {
	switch owed := r.owed(); {
	case owed > 0:
		return 1, owed
	case owed < 0:
		return -1, -owed
	}
	return 0, 0
}

// open returns the terminal's unsettled records: its open batch.
func (e *Engine) open(tid string) []*booking {
	var out []*booking
	for r := range e.l.records.all(0) {
		if r.TID() == tid && !r.Settled {
			out = append(out, r)
		}
	}
	return out
}

// countsOf is counts as the dialect settles: under cup a voided sale
// still counts as a debit and its void as a credit.
func (e *Engine) countsOf(r *booking) (sign int, amount int64) {
	if e.caps.VoidsInTotals {
		switch {
		case (r.Op() == wire.OpSale || r.Op() == wire.OpCompletion) && r.Status() == StatusVoided:
			return 1, r.Amount
		case (r.Op() == wire.OpVoid || r.Op() == wire.OpCompletionVoid) && r.Status() == StatusApproved:
			// a credit while its sale stands voided (a voided sale
			// reversed as well counts nowhere, and so does its void)
			if sale := e.byID(r.Original); sale == nil || sale.Status() == StatusVoided {
				return -1, r.Amount
			}
			return 0, 0
		}
	}
	return counts(r)
}

// totalsOf adds up records as the dialect settles (domestic and foreign
// cards apart under cup).
func (e *Engine) totalsOf(recs []*booking) wire.Totals {
	var t wire.Totals
	for _, r := range recs {
		sign, amount := e.countsOf(r)
		t.AddCard(sign, amount, e.caps.ForeignTotals && wire.Foreign(r.PAN()))
	}
	return t
}

// SetDialect makes the engine settle as the dialect does (see
// wire.Capabilities: voids in the totals, foreign cards apart).
func (e *Engine) SetDialect(caps wire.Capabilities) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.caps = caps
}

func batchKey(tid, batch string) string { return tid + "|" + batch }

// close marks the open batch settled: its requests, retransmitted, are no
// longer duplicates.
func (e *Engine) close(tid string, s Settlement) {
	for _, r := range e.open(tid) {
		r.Settled = true
	}
	for k, id := range e.l.orphans {
		if r := e.l.record(id); r == nil || r.TID() == tid {
			delete(e.l.orphans, k)
		}
	}
	delete(e.l.uploads, batchKey(tid, s.Batch))
	e.l.settled[batchKey(tid, s.Batch)] = s
	e.l.settles = append(e.l.settles, s)
	if t := e.l.terminals[tid]; t != nil {
		t.Batch = nextBatch(s.Batch) // the terminal goes on with the next batch
	}
}

// nextBatch is the batch number after b (000001-999999, wrapping), or ""
// when b is not a number.
func nextBatch(b string) string {
	n, err := strconv.Atoi(b)
	if err != nil || b == "" {
		return ""
	}
	return string(appendDigits(nil, int64(n%999999+1), 6))
}

func (e *Engine) settle(req *wire.Txn, now time.Time) Decision {
	if req.Totals == nil {
		return Decision{Response: req.Response("30"), Why: "settlement without totals (DE74/76/86/88)"}
	}
	host := e.totalsOf(e.open(req.TID))
	resp := req.Response("00")
	resp.Totals = &host
	if prev, done := e.l.settled[batchKey(req.TID, req.Batch)]; done && host == (wire.Totals{}) {
		if prev.Terminal == *req.Totals {
			resp.Totals = &prev.Host
			return Decision{Response: resp, Why: "batch " + req.Batch + " already closed with the same totals"}
		}
	}
	if host != *req.Totals {
		resp.ResponseCode = "95"
		resp.SettleResult = result(host.Domestic() == req.Totals.Domestic()) + result(host.ForeignOnly() == req.Totals.ForeignOnly())
		e.l.uploads[batchKey(req.TID, req.Batch)] = []uploadItem{}
		return Decision{Response: resp, Why: fmt.Sprintf("out of balance: terminal %s, host %s", fmtTotals(*req.Totals), fmtTotals(host))}
	}
	s := Settlement{TID: req.TID, Batch: req.Batch, Time: now, Balanced: true, Terminal: *req.Totals, Host: host}
	e.close(req.TID, s)
	return Decision{Response: resp, Why: "batch " + req.Batch + " balanced and closed",
		Notes: []Note{{KindSettlement, "balanced " + fmtTotals(host)}}}
}

// result is a cup settlement result digit: 1 balanced, 2 not.
func result(balanced bool) string {
	if balanced {
		return "1"
	}
	return "2"
}

func fmtTotals(t wire.Totals) string {
	return fmt.Sprintf("debits %d/%s credits %d/%s", t.DebitCount, wire.FormatAmount(t.DebitAmount), t.CreditCount, wire.FormatAmount(t.CreditAmount))
}

func (e *Engine) upload(req *wire.Txn) Decision {
	k := batchKey(req.TID, req.Batch)
	if len(req.Uploads) > 0 {
		// cup: up to eight transactions, each read
		var stans []string
		for _, u := range req.Uploads {
			e.l.uploads[k] = append(e.l.uploads[k], uploadItem{STAN: u.STAN, PAN: u.PAN, Amount: u.Amount})
			stans = append(stans, u.STAN)
		}
		return Decision{Response: req.Response("00"), Why: fmt.Sprintf("batch upload: %d items (STAN %s), %d so far", len(req.Uploads), strings.Join(stans, ", "), len(e.l.uploads[k]))}
	}
	if req.Original == nil || !req.HasAmount {
		return Decision{Response: req.Response("30"), Why: "batch upload item without DE90 or DE4"}
	}
	e.l.uploads[k] = append(e.l.uploads[k], uploadItem{
		STAN: req.Original.STAN, MTI: req.Original.MTI, RRN: req.RRN, PAN: req.PAN, Amount: req.Amount,
	})
	return Decision{Response: req.Response("00"), Why: fmt.Sprintf("batch upload item %d: STAN %s", len(e.l.uploads[k]), req.Original.STAN)}
}

func (e *Engine) trailer(req *wire.Txn, now time.Time) Decision {
	k := batchKey(req.TID, req.Batch)
	items := e.l.uploads[k]
	recs := e.open(req.TID)
	host := e.totalsOf(recs)
	var terminal wire.Totals
	if req.Totals != nil {
		terminal = *req.Totals
	}
	var disc []Discrepancy
	matched := map[*booking]bool{}
	for _, it := range items {
		var rec *booking // the newest unsettled one that counts
		if it.MTI == "" {
			// a cup entry names its transaction by trace number alone
			for _, r := range slices.Backward(recs) {
				if sign, _ := e.countsOf(r); r.STAN() == it.STAN && sign != 0 && !matched[r] {
					rec = r
					break
				}
			}
		} else {
			for r := range e.l.originals(origKey(req.TID, it.MTI, it.STAN)) {
				if sign, _ := e.countsOf(r); !r.Settled && sign != 0 {
					rec = r
					break
				}
			}
		}
		if rec == nil {
			disc = append(disc, Discrepancy{Kind: TerminalOnly, STAN: it.STAN, RRN: it.RRN, PAN: wire.MaskPAN(it.PAN), TerminalAmount: it.Amount})
			continue
		}
		matched[rec] = true
		if _, amount := e.countsOf(rec); amount != it.Amount {
			disc = append(disc, Discrepancy{Kind: AmountMismatch, STAN: it.STAN, RRN: rec.RRN(), PAN: rec.MaskedPAN(), HostAmount: amount, TerminalAmount: it.Amount})
		}
	}
	for _, r := range recs {
		if sign, amount := e.countsOf(r); sign != 0 && !matched[r] {
			disc = append(disc, Discrepancy{Kind: HostOnly, STAN: r.STAN(), RRN: r.RRN(), PAN: r.MaskedPAN(), HostAmount: amount})
		}
	}
	// balanced only when the figures agree and no transaction is one side's
	// alone (a cup trailer carries a count, not the foreign totals)
	s := Settlement{TID: req.TID, Batch: req.Batch, Time: now, Balanced: host == terminal && len(disc) == 0, Terminal: terminal, Host: host,
		Uploaded: len(items), Discrepancies: disc}
	e.close(req.TID, s)
	resp := req.Response("00")
	resp.Totals = &host
	var lines []string
	for _, d := range disc {
		lines = append(lines, fmt.Sprintf("%s stan=%s pan=%s host=%s terminal=%s", d.Kind, d.STAN, d.PAN, wire.FormatAmount(d.HostAmount), wire.FormatAmount(d.TerminalAmount)))
	}
	detail := fmt.Sprintf("closed with host figures %s after %d uploaded items; %d discrepancies", fmtTotals(host), len(items), len(disc))
	if len(lines) > 0 {
		detail += ": " + strings.Join(lines, "; ")
	}
	return Decision{Response: resp, Why: "settlement trailer: batch " + req.Batch + " closed", Notes: []Note{{KindSettlement, detail}}}
}
