// Package terminal emulates a POS terminal speaking ISO 8583 to an acquirer.
//
// A [Terminal] keeps what a real terminal keeps across power cycles in a
// state directory: the STAN counter, the batch number, the pending reversal
// record and the transaction log of the open batch. It follows the reversal
// rules of docs/domain.md, R1-R11: the reversal record is saved before the
// request goes out (R2), a response counts only when it matches the request
// (R4), any valid response clears the record (R5), a missing response leaves
// it with reason 98, and the pending reversal is sent before the next online
// transaction and before settlement, repeated up to N+1 times (R6), then
// dropped or blocking (R7). Late responses are logged and never clear it
// (R9).
package terminal
