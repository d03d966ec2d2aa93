package terminal

import (
	"time"

	"github.com/posim/posim/wire"
)

// PendingReversal is the saved reversal record of a transaction whose outcome
// the terminal does not know. Request is a copy of the original request
// without track data or PIN block.
type PendingReversal struct {
	Request  wire.Txn  `json:"request"`
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	STAN     string    `json:"stan,omitempty"` // the reversal's own STAN, fixed at its first send
	Created  time.Time `json:"created"`
}

// LogEntry is one approved transaction in the terminal's open batch.
type LogEntry struct {
	Op       wire.Op   `json:"op"`
	MTI      string    `json:"mti"`
	PC       string    `json:"processing_code"`
	STAN     string    `json:"stan"`
	DE7      string    `json:"de7"`
	PAN      string    `json:"pan"`
	Amount   int64     `json:"amount"`
	RRN      string    `json:"rrn"`
	AuthCode string    `json:"auth_code"`
	Time     time.Time `json:"time"`
	Voided   bool      `json:"voided,omitempty"`
	// ICC is a chip transaction's data after its second GENERATE AC
	// (the TC in 9F26), in hex: what the TC upload sends.
	ICC string `json:"icc,omitempty"`
	// CardSeq is the chip card's sequence number (DE23).
	CardSeq string `json:"card_seq,omitempty"`
	// Entry is the entry mode (DE22) the transaction went with.
	Entry string `json:"entry,omitempty"`
	// Batch is the batch it settled in (set when it awaits its TC upload).
	Batch int `json:"batch,omitempty"`
}

// counts reports how the entry counts in settlement totals: +1 debit,
// -1 credit, 0 nowhere (pre-auths; voids and voided sales, unless the
// dialect counts them: under cup a voided sale is still a debit and its
// void a credit).
func (e LogEntry) counts(caps wire.Capabilities) int {
	if caps.VoidsInTotals {
		switch {
		case e.Op == wire.OpVoid || e.Op == wire.OpCompletionVoid:
			return -1
		case e.Voided && (e.Op == wire.OpSale || e.Op == wire.OpCompletion):
			return 1
		}
	}
	if e.Voided {
		return 0
	}
	return e.Op.Settles()
}

// State is everything the terminal keeps across restarts.
type State struct {
	STAN     int              `json:"stan"`
	Batch    int              `json:"batch"`
	SignedOn bool             `json:"signed_on"`
	Pending  *PendingReversal `json:"pending_reversal,omitempty"`
	// Keys are the working keys of the last sign-on (cup), clear, in hex:
	// this is a simulator's state file, kept with mode 0600.
	Keys *StoredKeys `json:"keys,omitempty"`
	Log  []LogEntry  `json:"log"`
	// ATC is each emulated chip card's application transaction counter
	// (by PAN and sequence number): a card counts every GENERATE AC it
	// was asked for, and an issuer may refuse a counter it has seen.
	ATC map[string]int `json:"atc,omitempty"`
	// ChipSeq is the terminal's transaction sequence counter (9F41).
	ChipSeq int `json:"chip_seq,omitempty"`
	// TCPending are settled chip transactions whose certificate (TC)
	// has not been uploaded yet; the next settlement tries again.
	TCPending []LogEntry `json:"tc_pending,omitempty"`
	// CAPKs are the chip CA public keys and ChipParams the chip
	// application parameters the host handed out (cup download), as TLV
	// in hex.
	CAPKs      []string `json:"capks,omitempty"`
	ChipParams []string `json:"chip_params,omitempty"`
	// Params are the terminal parameters the host downloaded (cup 0800
	// 360), by name; Blacklist the card numbers it sent (0800 390).
	Params    map[string]string `json:"params,omitempty"`
	Blacklist []string          `json:"blacklist,omitempty"`
	// TMK is the terminal master key a master key download brought (cup
	// 0800 350), in hex; sign-ons open their working keys with it in
	// place of the configured one. This is a simulator's state file.
	TMK string `json:"tmk,omitempty"`
}

// Totals computes the settlement totals of the open batch from the log,
// as the dialect counts them (caps).
func (s *State) Totals(caps wire.Capabilities) wire.Totals {
	var t wire.Totals
	for _, e := range s.Log {
		t.AddCard(e.counts(caps), e.Amount, caps.ForeignTotals && wire.Foreign(e.PAN))
	}
	return t
}

// StoredKeys are working keys in hex.
type StoredKeys struct {
	PIN   string `json:"pin"`
	MAC   string `json:"mac"`
	Track string `json:"track,omitempty"` // key set 004: the track key
}
