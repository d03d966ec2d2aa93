// Package wire is the one place that knows how ISO 8583 messages look on the
// wire: message specs (profiles), framing, the typed transaction model, the
// response-code catalogue with English and Chinese meanings, processing codes
// and card-data masking.
//
// The acquirer and the terminal speak only in terms of [Txn]; a [Profile]
// turns a Txn into bytes and back. Adding a dialect means adding a Profile,
// never touching the acquirer's or the terminal's decision logic.
package wire
