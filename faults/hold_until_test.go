package faults

import (
	"context"
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func TestHoldUntil_TheReversalReleasesTheAnswer(t *testing.T) {
	f, _ := pipeline(t, "[process, {hold_until: {reversal: true}}]")
	f.rules[0].When.MTI = "0200"
	x := newFake()
	done := make(chan struct{})
	go func() { f.Serve(context.Background(), x); close(done) }()
	require.Eventually(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.holds) == 1
	}, 5*time.Second, time.Millisecond)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000"}, x.Events(), "held")
	rev := newFake()
	rev.req = &wire.Txn{MTI: "0400", Op: wire.OpReversal, STAN: "000043", TID: "TERM0001", Original: &wire.Original{MTI: "0200", STAN: "000042"}}
	f.Serve(context.Background(), rev)
	<-done
	require.Equal(t, "respond 0210 00 stan 000042", x.Events()[1])
}

func TestHoldUntil_TimesOut(t *testing.T) {
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"},
		playOn(t, "[process, {hold_until: {reversal: true, timeout: 1s}}]", newFake()))
}

func TestHoldUntil_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[process, {hold_until: {timeout: 1s}}]", "")[0], "the only event to wait for is the reversal")
}

func TestHoldUntil_EndsWithTheConnection(t *testing.T) {
	f, _ := pipeline(t, "[process, {hold_until: {reversal: true}}]")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	x := newFake()
	f.Serve(ctx, x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000"}, x.Events(), "no answer after the connection ended")
}

func TestHoldUntil_ARepeatedReversalReleasesToo(t *testing.T) {
	f, _ := pipeline(t, "[process]")
	for _, tc := range []struct {
		name     string
		rev      *wire.Txn
		releases bool
	}{
		{"its 0401 repeat", &wire.Txn{MTI: "0401", Op: wire.OpReversal, TID: "TERM0001", Original: &wire.Original{MTI: "0200", STAN: "000042"}}, true},
		{"naming a repeated original", &wire.Txn{MTI: "0400", Op: wire.OpReversal, TID: "TERM0001", Original: &wire.Original{MTI: "0201", STAN: "000042"}}, true},
		{"a reversal advice", &wire.Txn{MTI: "0420", Op: wire.OpReversalAdvice, TID: "TERM0001", Original: &wire.Original{MTI: "0200", STAN: "000042"}}, true},
		{"of another terminal", &wire.Txn{MTI: "0400", Op: wire.OpReversal, TID: "TERM0002", Original: &wire.Original{MTI: "0200", STAN: "000042"}}, false},
		{"of another STAN", &wire.Txn{MTI: "0400", Op: wire.OpReversal, TID: "TERM0001", Original: &wire.Original{MTI: "0200", STAN: "000041"}}, false},
		{"without original data", &wire.Txn{MTI: "0400", Op: wire.OpReversal, TID: "TERM0001"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := make(chan struct{})
			f.holds[holdKey("TERM0001", "0200", "000042")] = ch
			x := newFake()
			x.req = tc.rev
			f.Serve(t.Context(), x)
			select {
			case <-ch:
				require.True(t, tc.releases, "released")
			default:
				require.False(t, tc.releases, "still held")
			}
			delete(f.holds, holdKey("TERM0001", "0200", "000042"))
		})
	}
}

// slowHost is a fake exchange whose host answers only when told to, as a
// slow real host behind posim proxy does.
type slowHost struct {
	*fakeExchange
	waiting chan struct{} // closed when Process starts waiting
	answer  chan struct{} // close to let the host answer
}

func (x *slowHost) Process() *wire.Txn {
	close(x.waiting)
	<-x.answer
	return x.fakeExchange.Process()
}

// The terminal gives up and reverses while the host is still working on
// the request: the reversal, which comes before the hold begins, still
// releases the answer (it is not held until the hold's timeout).
func TestHoldUntil_AReversalDuringProcessReleasesTheAnswer(t *testing.T) {
	f, _ := pipeline(t, "[process, {hold_until: {reversal: true}}]")
	f.rules[0].When.MTI = "0200"
	x := &slowHost{fakeExchange: newFake(), waiting: make(chan struct{}), answer: make(chan struct{})}
	done := make(chan struct{})
	go func() { f.Serve(t.Context(), x); close(done) }()
	<-x.waiting
	rev := newFake()
	rev.req = &wire.Txn{MTI: "0400", Op: wire.OpReversal, STAN: "000043", TID: "TERM0001", Original: &wire.Original{MTI: "0200", STAN: "000042"}}
	f.Serve(t.Context(), rev)
	close(x.answer)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the answer stayed held although its reversal had come")
	}
	require.Equal(t, "respond 0210 00 stan 000042", x.Events()[1])
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Empty(t, f.holds, "no hold left behind")
}
