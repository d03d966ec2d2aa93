package acquirer

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/posim/posim/wire"
)

// counts reports how a record counts in settlement totals: +1 debit, -1
// credit, 0 nowhere, with its amount. Voided and reversed transactions
// count nowhere, except the part of a reversed sale that refunds had
// already given back (its refunds count as credits).
func counts(r *Record) (sign int, amount int64) {
	switch owed := r.owed(); {
	case owed > 0:
		return 1, owed
	case owed < 0:
		return -1, -owed
	}
	return 0, 0
}

// open returns the terminal's unsettled records: its open batch.
func (e *Engine) open(tid string) []*Record {
	var out []*Record
	for _, r := range e.l.records {
		if r.TID == tid && !r.Settled {
			out = append(out, r)
		}
	}
	return out
}

func totalsOf(recs []*Record) wire.Totals {
	var t wire.Totals
	for _, r := range recs {
		t.Add(counts(r))
	}
	return t
}

func batchKey(tid, batch string) string { return tid + "|" + batch }

// close marks the open batch settled: its requests, retransmitted, are no
// longer duplicates.
func (e *Engine) close(tid string, s Settlement) {
	for _, r := range e.open(tid) {
		r.Settled = true
	}
	for k, r := range e.l.orphans {
		if r.TID == tid {
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
	host := totalsOf(e.open(req.TID))
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
		e.l.uploads[batchKey(req.TID, req.Batch)] = []uploadItem{}
		return Decision{Response: resp, Why: fmt.Sprintf("out of balance: terminal %s, host %s", fmtTotals(*req.Totals), fmtTotals(host))}
	}
	s := Settlement{TID: req.TID, Batch: req.Batch, Time: now, Balanced: true, Terminal: *req.Totals, Host: host}
	e.close(req.TID, s)
	return Decision{Response: resp, Why: "batch " + req.Batch + " balanced and closed",
		Notes: []Note{{KindSettlement, "balanced " + fmtTotals(host)}}}
}

func fmtTotals(t wire.Totals) string {
	return fmt.Sprintf("debits %d/%s credits %d/%s", t.DebitCount, wire.FormatAmount(t.DebitAmount), t.CreditCount, wire.FormatAmount(t.CreditAmount))
}

func (e *Engine) upload(req *wire.Txn) Decision {
	if req.Original == nil || !req.HasAmount {
		return Decision{Response: req.Response("30"), Why: "batch upload item without DE90 or DE4"}
	}
	k := batchKey(req.TID, req.Batch)
	e.l.uploads[k] = append(e.l.uploads[k], uploadItem{
		STAN: req.Original.STAN, MTI: req.Original.MTI, RRN: req.RRN, PAN: req.PAN, Amount: req.Amount,
	})
	return Decision{Response: req.Response("00"), Why: fmt.Sprintf("batch upload item %d: STAN %s", len(e.l.uploads[k]), req.Original.STAN)}
}

func (e *Engine) trailer(req *wire.Txn, now time.Time) Decision {
	k := batchKey(req.TID, req.Batch)
	items := e.l.uploads[k]
	recs := e.open(req.TID)
	host := totalsOf(recs)
	var terminal wire.Totals
	if req.Totals != nil {
		terminal = *req.Totals
	}
	var disc []Discrepancy
	matched := map[*Record]bool{}
	for _, it := range items {
		var rec *Record // the newest unsettled one that counts
		for r := range e.l.originals(origKey(req.TID, it.MTI, it.STAN)) {
			if sign, _ := counts(r); !r.Settled && sign != 0 {
				rec = r
				break
			}
		}
		if rec == nil {
			disc = append(disc, Discrepancy{Kind: TerminalOnly, STAN: it.STAN, RRN: it.RRN, PAN: wire.MaskPAN(it.PAN), TerminalAmount: it.Amount})
			continue
		}
		matched[rec] = true
		if _, amount := counts(rec); amount != it.Amount {
			disc = append(disc, Discrepancy{Kind: AmountMismatch, STAN: it.STAN, RRN: rec.RRN, PAN: rec.MaskedPAN, HostAmount: amount, TerminalAmount: it.Amount})
		}
	}
	for _, r := range recs {
		if sign, amount := counts(r); sign != 0 && !matched[r] {
			disc = append(disc, Discrepancy{Kind: HostOnly, STAN: r.STAN, RRN: r.RRN, PAN: r.MaskedPAN, HostAmount: amount})
		}
	}
	s := Settlement{TID: req.TID, Batch: req.Batch, Time: now, Balanced: host == terminal, Terminal: terminal, Host: host, Uploaded: len(items), Discrepancies: disc}
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
