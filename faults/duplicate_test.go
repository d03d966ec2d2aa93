package faults

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDuplicate_AnswerTwice(t *testing.T) {
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042", "respond 0210 00 stan 000042"},
		playOn(t, "[process, {duplicate: {gap: 1s}}]", newFake()))
}

func TestDuplicate_ToHostSendsTheRequestAgain(t *testing.T) {
	require.Equal(t, []string{"forward 0200", "process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"},
		playOn(t, "[{duplicate: {to: host}}, process]", newFake()))
}

func TestDuplicate_ToHostOnlyThroughTheProxy(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[{duplicate: {to: host}}, process]", WhereAcquirer)[0], "needs a host behind posim")
	require.Empty(t, checkPipeline(t, "[{duplicate: {to: host}}, process]", WhereProxy))
	require.Contains(t, checkPipeline(t, "[process, {duplicate: {to: host}}]", WhereProxy)[0], "comes after process")
	require.Contains(t, checkPipeline(t, "[process, {duplicate: {to: space}}]", "")[0], "want terminal or host")
}

func TestDuplicate_TheSecondCopyIsAnotherMessage(t *testing.T) {
	x := newFake()
	playOn(t, "[process, duplicate]", x)
	require.Len(t, x.sent, 2)
	require.Equal(t, x.sent[0], x.sent[1])
	require.NotSame(t, x.sent[0], x.sent[1], "a copy, not the same message sent twice")
}

func TestDuplicate_EndsWithTheConnectionBetweenTheCopies(t *testing.T) {
	f, _ := pipeline(t, "[process, {duplicate: {gap: 1h}}]")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	x := newFake()
	f.Serve(ctx, x)
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"}, x.Events(), "the first copy only")
}
