package faults

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTimers(t *testing.T) {
	t.Run("runs what is scheduled", func(t *testing.T) {
		var tm Timers
		done := make(chan struct{})
		tm.After(time.Millisecond, func() { close(done) })
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the scheduled function never ran")
		}
		require.Eventually(t, func() bool { return tm.Pending() == 0 }, 5*time.Second, time.Millisecond)
	})
	t.Run("stop cancels what is pending and refuses more", func(t *testing.T) {
		var tm Timers
		ran := make(chan struct{}, 2)
		tm.After(time.Hour, func() { ran <- struct{}{} })
		require.Equal(t, 1, tm.Pending())
		tm.Stop()
		require.Equal(t, 0, tm.Pending())
		tm.After(time.Nanosecond, func() { ran <- struct{}{} })
		require.Equal(t, 0, tm.Pending(), "nothing is scheduled after Stop")
		tm.Stop() // idempotent
		select {
		case <-ran:
			t.Fatal("a function ran after Stop")
		case <-time.After(50 * time.Millisecond):
		}
	})
}
