package cards

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBook_Resolve(t *testing.T) {
	b := Builtin().Merge(&Book{Cards: []Card{
		// an alias that is all digits: the alias is looked up first
		{Alias: "6200000000000401", PAN: "6200000000003009", Status: StatusActive},
	}})
	for _, tc := range []struct {
		name, in      string
		alias, status string
		pan           string
	}{
		{"an alias", "stolen", "stolen", StatusStolen, "6200000000000500"},
		{"the PAN of a known card, as that card", "6200000000000500", "stolen", StatusStolen, "6200000000000500"},
		{"an alias before a PAN", "6200000000000401", "6200000000000401", StatusActive, "6200000000003009"},
	} {
		t.Run("finds "+tc.name, func(t *testing.T) {
			c, err := b.Resolve(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.alias, c.Alias)
			require.Equal(t, tc.status, c.Status)
			require.Equal(t, tc.pan, c.PAN)
		})
	}
	for _, pan := range []string{"400000000002", "4000000000000000002"} {
		t.Run(fmt.Sprintf("makes a card of an unknown PAN of %d digits", len(pan)), func(t *testing.T) {
			c, err := b.Resolve(pan)
			require.NoError(t, err)
			require.Equal(t, Card{PAN: pan, Expiry: "3012", PIN: DefaultPIN}, c, "no balance, no status: the acquirer decides")
			require.Equal(t, DefaultPIN, c.PINToEnter())
		})
	}
	for _, in := range []string{"", "no-such-card", "40000000002", "40000000000000000002", "4000 0000 0000 0002", "400000000000000A"} {
		t.Run("refuses "+in, func(t *testing.T) {
			_, err := b.Resolve(in)
			require.ErrorContains(t, err, "unknown card")
			require.ErrorContains(t, err, "chip-approve", "the error lists the aliases")
		})
	}
}

func TestBook_Merge(t *testing.T) {
	base := &Book{
		Cards: []Card{
			{Alias: "a", PAN: "6200000000000013"},
			{Alias: "b", PAN: "6200000000000021"},
			{Alias: "c", PAN: "6200000000000039"},
		},
		Merchants: []Merchant{{MID: "M1", Status: MerchantActive}, {MID: "M2", Status: MerchantActive}},
		Terminals: []Terminal{{TID: "T1", Status: TerminalActive}, {TID: "T2", Status: TerminalActive}},
	}
	other := &Book{
		Cards: []Card{
			{Alias: "a", PAN: "6200000000000047", Status: StatusLost},  // same alias
			{Alias: "x", PAN: "6200000000000021", Status: StatusFraud}, // same PAN as b
			{Alias: "d", PAN: "6200000000000054"},
		},
		Merchants: []Merchant{{MID: "M2", Status: MerchantFrozen}, {MID: "M3"}},
		Terminals: []Terminal{{TID: "T1", Status: TerminalDeregistered}},
	}
	m := base.Merge(other)
	t.Run("replaces a card of the same alias or PAN, keeps the others", func(t *testing.T) {
		require.Equal(t, []Card{
			{Alias: "c", PAN: "6200000000000039"},
			{Alias: "a", PAN: "6200000000000047", Status: StatusLost},
			{Alias: "x", PAN: "6200000000000021", Status: StatusFraud},
			{Alias: "d", PAN: "6200000000000054"},
		}, m.Cards)
		_, ok := m.ByAlias("b")
		require.False(t, ok, "b's PAN now belongs to x")
		c, err := m.Resolve("6200000000000021")
		require.NoError(t, err)
		require.Equal(t, "x", c.Alias)
	})
	t.Run("replaces merchants by MID and terminals by TID", func(t *testing.T) {
		require.Equal(t, []Merchant{{MID: "M1", Status: MerchantActive}, {MID: "M2", Status: MerchantFrozen}, {MID: "M3"}}, m.Merchants)
		require.Equal(t, []Terminal{{TID: "T2", Status: TerminalActive}, {TID: "T1", Status: TerminalDeregistered}}, m.Terminals)
	})
	t.Run("leaves both books as they were", func(t *testing.T) {
		require.Len(t, base.Cards, 3)
		require.Equal(t, "6200000000000013", base.Cards[0].PAN)
		require.Len(t, other.Cards, 3)
		require.Equal(t, MerchantActive, base.Merchants[1].Status)
	})
	t.Run("with an empty book is the same book", func(t *testing.T) {
		require.Equal(t, base.Cards, base.Merge(&Book{}).Cards)
		require.Equal(t, other.Cards, (&Book{}).Merge(other).Cards)
	})
}

func TestBook_Aliases(t *testing.T) {
	b := &Book{Cards: []Card{{Alias: "zeta"}, {Alias: "alpha"}, {Alias: "mu"}}}
	require.Equal(t, []string{"alpha", "mu", "zeta"}, b.Aliases())
	require.Equal(t, "zeta", b.Cards[0].Alias, "the book's order is left alone")
	require.Empty(t, (&Book{}).Aliases())
}

func TestCard_TypeAndPIN(t *testing.T) {
	for typ, want := range map[string]string{"": "debit", "debit": "debit", "credit": "credit", "prepaid": "debit"} {
		require.Equal(t, want, Card{Type: typ}.CardType(), "type %q", typ)
	}
	require.Equal(t, "1234", Card{PIN: "1234"}.PINToEnter())
	require.Equal(t, "4321", Card{PIN: "1234", EnteredPIN: "4321"}.PINToEnter())
	require.Empty(t, Card{}.PINToEnter(), "no PIN check, nothing typed")
}
