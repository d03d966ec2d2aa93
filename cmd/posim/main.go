// Command posim is an ISO 8583 POS terminal emulator and acquirer simulator.
//
// Run "posim --help" for the commands. Exit codes are the same for every
// command: 0 success (for terminal: approved), 1 usage error, 2 invalid
// input, 3 runtime failure (no response, connection refused, port busy),
// 4 expectation failed (for terminal: declined by the host).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes.
const (
	exitOK       = 0
	exitUsage    = 1
	exitInvalid  = 2
	exitRuntime  = 3
	exitExpected = 4
)

// exitError carries an exit code with its message. A silent one prints
// nothing more (the command already reported).
type exitError struct {
	code   int
	err    error
	silent bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

func invalid(err error) error    { return &exitError{code: exitInvalid, err: err} }
func runtimeErr(err error) error { return &exitError{code: exitRuntime, err: err} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode prints err (unless silent) and returns the process exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !ee.silent && ee.err != nil {
			fmt.Fprintln(stderr, "posim:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "posim:", err)
	if strings.Contains(err.Error(), "unknown command") || strings.Contains(err.Error(), "unknown flag") {
		return exitUsage
	}
	return exitRuntime
}

// run executes the command line args; it is main without the process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
