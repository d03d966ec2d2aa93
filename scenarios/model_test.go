package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestText_In(t *testing.T) {
	both := Text{EN: "Card debited", ZH: "扣款了"}
	require.Equal(t, "扣款了", both.In("zh"))
	require.Equal(t, "Card debited", both.In("en"))
	require.Equal(t, "Card debited", both.In("fr"), "any other language reads English")
	require.Equal(t, "Card debited", Text{EN: "Card debited"}.In("zh"), "Chinese falls back to English when missing")
}

func TestScenario_HasTag(t *testing.T) {
	s := &Scenario{Tags: []string{"network", "reversal"}}
	require.True(t, s.HasTag("reversal"))
	require.True(t, s.HasTag("chip", "network"), "any one of the tags")
	require.False(t, s.HasTag("chip", "backoffice"))
	require.False(t, s.HasTag())
	require.False(t, (&Scenario{}).HasTag("network"))
}

func TestScenario_Supports(t *testing.T) {
	require.True(t, (&Scenario{}).Supports("cup"), "a scenario without profiles runs under every one")
	cupOnly := &Scenario{Profiles: []string{"cup"}}
	require.True(t, cupOnly.Supports("cup"))
	require.False(t, cupOnly.Supports("iso87"))
}
