// Package faults is posim's fault engine: rules that pick requests
// (triggers on decoded fields, counters, seeded probability, scope, time
// window) and run a pipeline of fault primitives on them (process,
// respond, delay, no_response, close, truncate, mutate, duplicate ...).
//
// A primitive acts on an Exchange: one request and the connection it came
// on. posim's acquirer gives an exchange whose Process books the request
// in its ledger (Faults is an acquirer.Handler); posim proxy gives one
// whose Process forwards it to a real host; tests give a fake. Each
// primitive is one file (NAME.go: arguments, checks, what it does, its
// description) registered by name, so the YAML decoder, the checks, the
// runner and the JSON schema are loops over one registry.
//
// Rules are read from YAML (a scenario's rules:, or POST /rules) with
// line numbers; CheckWhen, CheckPipeline and Check report what is wrong
// with them where it is written. Randomness comes from the seed, one
// stream per rule.
package faults
