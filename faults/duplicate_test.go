package faults

import (
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
