// Package acquirer simulates an ISO 8583 acquiring host.
//
// An [Acquirer] listens on TCP (or TLS), reads framed messages with the
// dialect's codec (wire: the compiled codec on the hot path, moov-io/iso8583
// for everything else; posim's own server, not moov's), and answers them
// from a ledger of cards, merchants, terminals, holds and postings. Its
// decisions (risk rules, reversal matching, duplicate detection,
// settlement, working keys, chip cryptograms, the back office) live in
// [Engine], a pure function of request, ledger state, policies and clock
// that is table-tested without sockets. Every message and every decision
// is written to a [Journal]; every change to the books can be kept by a
// [ChangeLog] (package store keeps it in SQLite) and replayed on start.
//
// Faults act through a [Handler]: the default one processes each request
// and answers it. A scenario's rules (package faults) replace it: a rule's
// pipeline of primitives decides whether the request reaches the engine
// (process) and what becomes of the answer (delayed, lost, cut, mangled,
// sent twice ...), so "lost before the host booked it" and "lost after"
// are two different, testable cases. The rules, policies and back office
// can be changed while the host runs, through the control API
// ([NewControl]).
//
// The domain rules the code cites (reversal rules R1-R11, money rules,
// settlement) are in docs/domain.md.
package acquirer
