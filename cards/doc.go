// Package cards holds the test cards, merchants and terminals that seed the
// acquirer's ledger, and that the terminal uses to turn a card alias into a
// PAN, an expiry and the PIN the cardholder types.
//
// The built-in table ([Builtin]) works like a payment sandbox's test cards:
// each alias produces one documented answer. A YAML file ([Load]) adds cards,
// merchants and terminals of your own. Every PAN is a test PAN.
package cards
