// Package scenarios loads scenario files, compiles their fault rules into
// acquirer handlers, drives the emulated terminal through their steps and
// checks their expectations; it also holds the built-in failure catalogue.
//
// A scenario is one YAML file: a story in English and Chinese, a setup
// (cards, merchants, terminal and acquirer policies), fault rules for the
// acquirer, terminal steps and the expected end state. Unknown keys and
// wrong types are errors reported as file:line: message.
package scenarios
