package cards

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// Each declining card carries the status whose response code its alias
// and description promise.
func TestBuiltin_StatusCardsDeclineWithTheirCode(t *testing.T) {
	b := Builtin()
	for _, tc := range []struct{ alias, status, code string }{
		{"do-not-honor", StatusBlocked, "05"},
		{"lost", StatusLost, "41"},
		{"stolen", StatusStolen, "43"},
		{"pick-up", StatusPickUp, "04"},
		{"fraud", StatusFraud, "34"},
		{"restricted", StatusRestricted, "62"},
		{"not-permitted", StatusNotAllowed, "57"},
		{"aml", StatusAML, "93"},
	} {
		t.Run(tc.alias, func(t *testing.T) {
			c, ok := b.ByAlias(tc.alias)
			require.True(t, ok)
			require.Equal(t, tc.status, c.Status)
			require.Equal(t, tc.code, StatusCodes[c.Status])
			require.Contains(t, c.Description, "declined "+tc.code)
			require.Positive(t, c.Balance, "declined for its status, not its balance")
		})
	}
	t.Run("every status but active has a code, and only those", func(t *testing.T) {
		for _, s := range CardStatuses() {
			_, ok := StatusCodes[s]
			require.Equal(t, s != StatusActive, ok, s)
		}
		require.Len(t, StatusCodes, len(CardStatuses())-1)
	})
}

func TestBuiltin_EachCardIsWhatItsAliasSays(t *testing.T) {
	b := Builtin()
	card := func(alias string) Card {
		t.Helper()
		c, ok := b.ByAlias(alias)
		require.True(t, ok, alias)
		return c
	}
	now := time.Now().UTC().Format("0601") // YYMM
	t.Run("the expired card has expired, the others have not", func(t *testing.T) {
		require.Less(t, card("expired").Expiry, now)
		require.Equal(t, StatusActive, card("expired").Status, "declined for its date alone")
		for _, c := range b.Cards {
			if c.Alias != "expired" {
				// a failure here after 12/30 means the table needs new dates
				require.Greater(t, c.Expiry, now, c.Alias)
			}
		}
	})
	t.Run("balances", func(t *testing.T) {
		require.Zero(t, card("insufficient-funds").Balance)
		require.Equal(t, int64(5_000), card("low-balance").Balance, "50.00")
		require.Greater(t, card("unlimited").Balance, int64(1e15), "never runs out")
	})
	t.Run("only the wrong-pin cardholder types a wrong PIN", func(t *testing.T) {
		for _, c := range b.Cards {
			require.Equal(t, DefaultPIN, c.PIN, c.Alias)
			if c.Alias == "wrong-pin" {
				require.Equal(t, "9999", c.PINToEnter())
			} else {
				require.Equal(t, DefaultPIN, c.PINToEnter(), c.Alias)
			}
		}
	})
	t.Run("the card types", func(t *testing.T) {
		credit := map[string]bool{"visa-approve": true, "mastercard-approve": true, "credit-approve": true}
		for _, c := range b.Cards {
			want := "debit"
			if credit[c.Alias] {
				want = "credit"
			}
			require.Equal(t, want, c.CardType(), c.Alias)
		}
	})
	t.Run("the schemes by their first digits", func(t *testing.T) {
		require.True(t, strings.HasPrefix(card("visa-approve").PAN, "4"))
		require.True(t, strings.HasPrefix(card("mastercard-approve").PAN, "5"))
		for _, c := range b.Cards {
			if !strings.Contains(c.Alias, "visa") && !strings.Contains(c.Alias, "mastercard") {
				require.True(t, strings.HasPrefix(c.PAN, "62"), "%s is a UnionPay card", c.Alias)
			}
		}
	})
	t.Run("chip cards have a valid chip, the others none", func(t *testing.T) {
		chips := map[string]string{
			"chip-approve":            ChipApprove,
			"chip-offline-decline":    ChipOfflineDecline,
			"chip-aac-after-approval": ChipAACAfterApproval,
			"chip-online-pin":         ChipOnlinePIN,
			"contactless":             ChipApprove,
		}
		for _, c := range b.Cards {
			want, isChip := chips[c.Alias]
			if !isChip {
				require.Nil(t, c.Chip, c.Alias)
				continue
			}
			require.NotNil(t, c.Chip, c.Alias)
			require.Equal(t, want, c.Chip.Behaviour, c.Alias)
			require.Equal(t, c.Alias == "contactless", c.Chip.Contactless, c.Alias)
			chip := *c.Chip
			require.NoError(t, chip.Validate(), c.Alias)
			require.Equal(t, *c.Chip, chip, "%s: nothing left to default", c.Alias)
		}
	})
	t.Run("every card is valid as a cards file would have it", func(t *testing.T) {
		for _, c := range b.Cards {
			require.True(t, wire.LuhnValid(c.PAN), c.Alias)
			got, err := CardSpec{Alias: c.Alias, PAN: c.PAN, Expiry: c.Expiry, PIN: c.PIN, EnteredPIN: c.EnteredPIN,
				Status: c.Status, Description: c.Description, Type: c.Type, Chip: c.Chip}.Card()
			require.NoError(t, err, c.Alias)
			got.Balance = c.Balance
			require.Equal(t, c, got, c.Alias)
		}
	})
	t.Run("aliases are unique", func(t *testing.T) {
		aliases := b.Aliases()
		require.Len(t, aliases, len(b.Cards))
		for i := 1; i < len(aliases); i++ {
			require.NotEqual(t, aliases[i-1], aliases[i])
		}
	})
}

func TestBuiltin_EachCallIsAFreshBook(t *testing.T) {
	a := Builtin()
	a.Cards[0].Balance = 1
	a.Cards[0].Status = StatusLost
	for _, c := range a.Cards {
		if c.Chip != nil {
			c.Chip.Behaviour = ChipOfflineDecline
		}
	}
	b := Builtin()
	require.Equal(t, int64(1_000_000), b.Cards[0].Balance)
	require.Equal(t, StatusActive, b.Cards[0].Status)
	c, _ := b.ByAlias("chip-approve")
	require.Equal(t, ChipApprove, c.Chip.Behaviour)
}

var (
	readmeRow     = regexp.MustCompile("^\\| `([a-z-]+)` \\| (\\d+) \\| (.*) \\|$")
	readmeBalance = regexp.MustCompile(`balance (\d+\.\d\d)`)
	readmeExpired = regexp.MustCompile(`expired (\d\d)/(\d\d)`)
)

// The README's table of test cards is the built-in table: the same
// aliases and PANs, and what each row promises (response code, balance,
// expiry) is what the card carries.
func TestBuiltin_MatchesTheREADME(t *testing.T) {
	f, err := os.Open("../README.md")
	require.NoError(t, err)
	defer f.Close()
	b := Builtin()
	rows := map[string]bool{}
	inTable := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			inTable = line == "## Test cards"
			continue
		}
		m := readmeRow.FindStringSubmatch(line)
		if !inTable || m == nil {
			continue
		}
		alias, pan, answer := m[1], m[2], m[3]
		rows[alias] = true
		c, ok := b.ByAlias(alias)
		require.True(t, ok, "the README names %s", alias)
		require.Equal(t, pan, c.PAN, alias)
		if code, ok := StatusCodes[c.Status]; ok {
			require.True(t, strings.HasPrefix(answer, code), "%s: README says %q, the card's status gives %s", alias, answer, code)
		}
		if bal := readmeBalance.FindStringSubmatch(answer); bal != nil {
			want, err := wire.ParseAmount(bal[1])
			require.NoError(t, err)
			require.Equal(t, want, c.Balance, alias)
		}
		if exp := readmeExpired.FindStringSubmatch(answer); exp != nil {
			require.Equal(t, exp[2]+exp[1], c.Expiry, "%s: MM/YY in the README, YYMM in the card", alias)
		}
	}
	require.NoError(t, sc.Err())
	require.ElementsMatch(t, b.Aliases(), keys(rows), "every built-in card has a README row")
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
