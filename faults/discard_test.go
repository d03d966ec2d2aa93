package faults

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDiscard_TheHostNeverSeesIt(t *testing.T) {
	require.Empty(t, playOn(t, "[discard]", newFake()))
}

func TestDiscard_AfterProcessIsRefused(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[process, discard]", "")[0], "use no_response")
}
