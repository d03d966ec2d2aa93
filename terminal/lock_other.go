//go:build !unix

package terminal

import (
	"errors"
	"os"
)

// lockFile is not available off Unix: posim's terminal state directories
// are locked only on Unix systems, so running two terminals on one state
// directory there is refused here rather than left unguarded.
func lockFile(*os.File) error {
	return errors.New("state directory locking needs a Unix system; use --state only on Unix or leave it in memory")
}

func unlockFile(*os.File) error { return nil }
