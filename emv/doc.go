// Package emv holds what posim's chip cards and its issuer share: the EMV
// issuer key hierarchy (ICC master key derivation, option A, and the common
// session key derivation of EMV Book 2 annex A1.3), the application
// cryptogram (ARQC, TC, AAC: ISO 9797-1 MAC algorithm 3 with method 2
// padding) and the authorisation response cryptogram (ARPC, method 1).
// It imports neither the terminal nor the acquirer; both import it.
package emv
