// Package scenarios loads scenario files, builds the acquirer a scenario
// describes (its cards, policies, back office and fault rules, compiled by
// package faults), drives the emulated terminal through its steps and
// checks its expectations; it also holds the built-in failure catalogue.
//
// A scenario is one YAML file: a story in English and Chinese, a setup
// (cards, merchants, terminal and acquirer policies), fault rules for the
// acquirer, terminal steps and the expected end state. Unknown keys and
// wrong types are errors reported as file:line: message.
package scenarios
