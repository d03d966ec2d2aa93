package faults

import (
	"sync"
	"time"
)

// Timers schedules what a rule set does later (the end of a refuse: the
// host back on the network) and owns it: Stop cancels whatever is still
// pending, so nothing a rule scheduled runs after its host or proxy is
// gone. The zero value is ready; it is safe for concurrent use. Give its
// After to Env.After, and Stop it when the host or proxy stops.
type Timers struct {
	mu      sync.Mutex
	pending map[*time.Timer]struct{}
	stopped bool
}

// After runs fn after d of real time, unless Stop comes first; after Stop
// it does nothing.
func (t *Timers) After(d time.Duration, fn func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	if t.pending == nil {
		t.pending = map[*time.Timer]struct{}{}
	}
	var tm *time.Timer
	tm = time.AfterFunc(d, func() {
		t.mu.Lock()
		_, live := t.pending[tm]
		delete(t.pending, tm)
		t.mu.Unlock()
		if live {
			fn()
		}
	})
	t.pending[tm] = struct{}{}
}

// Pending returns how many scheduled functions have not run yet.
func (t *Timers) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// Stop cancels every pending function and refuses new ones. It is
// idempotent.
func (t *Timers) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	for tm := range t.pending {
		tm.Stop()
	}
	t.pending = nil
}
