package faults

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestProcess_HostHandlesThenTheAnswerLeaves(t *testing.T) {
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000", "respond 0210 00 stan 000042"}, playOn(t, "[process]", newFake()))
}

func TestProcess_NothingToAnswerSendsNothing(t *testing.T) {
	x := newFake()
	x.answer = nil
	require.Equal(t, []string{"process 0200 stan 000042 amount 1000"}, playOn(t, "[process]", x))
}

func TestProcess_TwiceIsRefused(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[process, process]", "")[0], "process comes twice")
}

func TestProcess_TakesNoArguments(t *testing.T) {
	var rule Rule
	err := yaml.Unmarshal([]byte("id: r\ndo: [{process: {a: 1}}]"), &rule)
	require.ErrorContains(t, err, "action process takes no arguments")
}
