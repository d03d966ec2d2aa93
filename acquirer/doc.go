// Package acquirer simulates an ISO 8583 acquiring host.
//
// An [Acquirer] listens on TCP, reads framed messages with
// moov-io/iso8583-connection, and answers them from a ledger of cards,
// merchants, terminals, holds and postings. Its decisions (risk rules,
// reversal matching, duplicate detection, settlement) live in [Engine], a
// pure function of request, ledger state, policies and clock that is
// table-tested without sockets. Every message and every decision is written
// to a [Journal].
//
// Faults act through a [Handler]: the default one processes each request and
// answers it; a scenario may replace it to drop, delay, mangle or duplicate
// responses at the on_receive, before_respond and after_respond points.
package acquirer
