package cards

import (
	"testing"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func TestBuiltin(t *testing.T) {
	b := Builtin()
	seen := map[string]bool{}
	for _, c := range b.Cards {
		require.True(t, wire.LuhnValid(c.PAN), "%s: %s fails Luhn", c.Alias, c.PAN)
		require.False(t, seen[c.PAN], "duplicate PAN %s", c.PAN)
		seen[c.PAN] = true
	}
	for _, alias := range []string{"approve", "insufficient-funds", "do-not-honor", "lost", "stolen", "expired", "wrong-pin"} {
		_, ok := b.ByAlias(alias)
		require.True(t, ok, alias)
	}
	wp, _ := b.ByAlias("wrong-pin")
	require.NotEqual(t, wp.PIN, wp.PINToEnter())
}

func TestResolve(t *testing.T) {
	b := Builtin()
	c, err := b.Resolve("lost")
	require.NoError(t, err)
	require.Equal(t, StatusLost, c.Status)
	c, err = b.Resolve("4000000000000002")
	require.NoError(t, err)
	require.Equal(t, "4000000000000002", c.PAN)
	_, err = b.Resolve("no-such-card")
	require.ErrorContains(t, err, "unknown card")
}

func TestParse(t *testing.T) {
	t.Run("reads cards, merchants and terminals", func(t *testing.T) {
		b, err := Parse("c.yaml", []byte(`
cards:
  - alias: mine
    pan: "6200000000001300"
    balance: "250.00"
    status: lost
merchants:
  - {mid: "M1", status: frozen}
terminals:
  - {tid: "T1", status: deregistered}
`))
		require.NoError(t, err)
		c, ok := b.ByAlias("mine")
		require.True(t, ok)
		require.Equal(t, int64(25000), c.Balance)
		require.Equal(t, "3012", c.Expiry)
		require.Equal(t, MerchantFrozen, b.Merchants[0].Status)
		require.Equal(t, TerminalDeregistered, b.Terminals[0].Status)
	})
	bad := map[string]string{
		"unknown key":  "cards:\n  - alias: x\n    pan: \"6200000000001300\"\n    colour: red\n",
		"bad status":   "cards:\n  - alias: x\n    pan: \"6200000000001300\"\n    status: sleepy\n",
		"bad pan":      "cards:\n  - alias: x\n    pan: \"12ab\"\n",
		"bad balance":  "cards:\n  - alias: x\n    pan: \"6200000000001300\"\n    balance: lots\n",
		"bad expiry":   "cards:\n  - alias: x\n    pan: \"6200000000001300\"\n    expiry: \"3013\"\n",
		"dup alias":    "cards:\n  - {alias: x, pan: \"6200000000001300\"}\n  - {alias: x, pan: \"6200000000001409\"}\n",
		"wrong type":   "cards: 7\n",
		"merchant bad": "merchants:\n  - {mid: M, status: closed}\n",
	}
	for name, src := range bad {
		t.Run("refuses "+name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(src))
			require.Error(t, err)
			require.Contains(t, err.Error(), "c.yaml")
		})
	}
	t.Run("unknown key names file and line", func(t *testing.T) {
		_, err := Parse("c.yaml", []byte(bad["unknown key"]))
		require.EqualError(t, err, `c.yaml:4: unknown key "colour"`)
	})
}

func TestParse_OverridesAndInvalidPANsMustBeSaid(t *testing.T) {
	_, err := Parse("c.yaml", []byte("cards:\n  - {alias: approve, pan: \"6200000000123450\"}\n"))
	require.ErrorContains(t, err, `c.yaml:2: alias "approve" is a built-in card`)
	_, err = Parse("c.yaml", []byte("cards:\n  - {alias: mine, pan: \"6200000000000005\"}\n"))
	require.ErrorContains(t, err, `is the built-in card "approve"`)
	_, err = Parse("c.yaml", []byte("cards:\n  - {alias: mine, pan: \"6200000000123455\"}\n"))
	require.ErrorContains(t, err, "c.yaml:2: PAN 620000******3455 fails the Luhn check")

	b, err := Parse("c.yaml", []byte("cards:\n  - {alias: approve, pan: \"6200000000123450\", override: true}\n  - {alias: bad, pan: \"6200000000123455\", invalid_pan: true}\n"))
	require.NoError(t, err)
	require.Len(t, b.Cards, 2)
}
