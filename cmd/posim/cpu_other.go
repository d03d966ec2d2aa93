//go:build !linux

package main

import (
	"errors"
	"time"
)

// selfCPU is not measured off Linux.
func selfCPU() time.Duration { return 0 }

// procCPU is not measured off Linux.
func procCPU(int) (time.Duration, error) {
	return 0, errors.New("a process's CPU time is read from /proc, on Linux only")
}
