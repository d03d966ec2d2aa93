package cards

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A mistake in a cards file is reported as file:line: message, at the
// line where the card, merchant or terminal starts (or of the key, for
// what the YAML decoder finds).
func TestParse_ErrorsNameFileAndLine(t *testing.T) {
	const ok = "cards:\n  - alias: first\n    pan: \"6200000000001300\"\n" // lines 1-3
	for _, tc := range []struct{ name, src, want string }{
		{"a bad status", ok + "  - alias: x\n    pan: \"6200000000001409\"\n    status: sleepy\n",
			`c.yaml:4: status "sleepy": want one of active, blocked, lost, stolen, pickup, fraud, restricted, not-permitted, aml`},
		{"a card without a PAN", ok + "  - alias: x\n", "c.yaml:4: card has no pan"},
		{"a PAN of letters, masked", ok + "  - {alias: x, pan: \"62000000000014AB\"}\n", "c.yaml:4: pan 620000******14AB: want 12 to 19 digits"},
		{"an 11-digit PAN", ok + "  - {alias: x, pan: \"62000000006\"}\n", "c.yaml:4: pan ***********: want 12 to 19 digits"},
		{"a 20-digit PAN", ok + "  - {alias: x, pan: \"62000000000000000006\"}\n", "c.yaml:4: pan 620000**********0006: want 12 to 19 digits"},
		{"month 00", ok + "  - {alias: x, pan: \"6200000000001409\", expiry: \"3000\"}\n", `c.yaml:4: expiry "3000": want YYMM, like 3012`},
		{"month 13", ok + "  - {alias: x, pan: \"6200000000001409\", expiry: \"3013\"}\n", `c.yaml:4: expiry "3013": want YYMM, like 3012`},
		{"a six-digit expiry", ok + "  - {alias: x, pan: \"6200000000001409\", expiry: \"203012\"}\n", `c.yaml:4: expiry "203012": want YYMM, like 3012`},
		{"a three-digit PIN", ok + "  - {alias: x, pan: \"6200000000001409\", pin: \"123\"}\n", "c.yaml:4: pin: want 4 to 12 digits"},
		{"a 13-digit PIN", ok + "  - {alias: x, pan: \"6200000000001409\", pin: \"1234567890123\"}\n", "c.yaml:4: pin: want 4 to 12 digits"},
		{"a PIN typed in letters", ok + "  - {alias: x, pan: \"6200000000001409\", entered_pin: abcd}\n", "c.yaml:4: pin: want 4 to 12 digits"},
		{"a balance of three decimals", ok + "  - {alias: x, pan: \"6200000000001409\", balance: \"1.234\"}\n", `c.yaml:4: balance: amount "1.234": want at most two decimals, like 12.34`},
		{"a card type", ok + "  - {alias: x, pan: \"6200000000001409\", type: prepaid}\n", `c.yaml:4: type "prepaid": want debit or credit`},
		{"a chip behaviour", ok + "  - alias: x\n    pan: \"6200000000001409\"\n    chip: {behaviour: sometimes}\n",
			`c.yaml:4: chip behaviour "sometimes": want one of approve, offline-decline, aac-after-approval, online-pin`},
		{"a chip PSN", ok + "  - {alias: x, pan: \"6200000000001409\", chip: {psn: \"1\"}}\n", `c.yaml:4: chip psn "1": want two digits, like 01`},
		{"an alias used twice", ok + "  - {alias: first, pan: \"6200000000001409\"}\n", `c.yaml:4: alias "first" already used at line 2`},
		{"a PAN used twice", ok + "  - {alias: x, pan: \"6200000000001300\"}\n", "c.yaml:4: PAN 620000******1300 already used at line 2"},
		{"a PAN that fails Luhn", ok + "  - {alias: x, pan: \"6200000000001400\"}\n", "c.yaml:4: PAN 620000******1400 fails the Luhn check"},
		{"a built-in PAN", ok + "  - {alias: x, pan: \"4111111111111111\"}\n", `c.yaml:4: PAN 411111******1111 is the built-in card "visa-approve"`},
		{"an unknown key", ok + "    colour: red\n", `c.yaml:4: unknown key "colour"`},
		{"a chip's unknown key", ok + "    chip: {psn: \"01\", cvm_limit: 5}\n", `c.yaml:4: unknown key "cvm_limit"`},
		{"a wrong type", ok + "    balance: [1]\n", "c.yaml:4: cannot unmarshal !!seq into string"},
		{"a YAML syntax error", ok + "    description: a: b\n", "c.yaml:4: mapping values are not allowed in this context"},
		{"a merchant's status", ok + "merchants:\n  - {mid: M1}\n  - {mid: M2, status: closed}\n",
			`c.yaml:6: merchant: status "closed": want active, frozen or restricted`},
		{"a merchant without a MID", ok + "merchants:\n  - name: shop\n", "c.yaml:5: merchant: mid must be 1 to 15 characters"},
		{"a 16-character MID", ok + "merchants:\n  - mid: \"1234567890123456\"\n", "c.yaml:5: merchant: mid must be 1 to 15 characters"},
		{"a merchant's refusal", ok + "merchants:\n  - {mid: M1, refuse: [credit, debit]}\n", `c.yaml:5: merchant: refuse "debit": want credit or foreign`},
		{"a terminal's status", ok + "terminals:\n  - {tid: T1, status: asleep}\n", `c.yaml:5: terminal: status "asleep": want active, deregistered or restricted`},
		{"a 9-character TID", ok + "terminals:\n  - {tid: \"123456789\"}\n", "c.yaml:5: terminal: tid must be 1 to 8 characters"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.src))
			require.ErrorContains(t, err, tc.want)
			require.True(t, strings.HasPrefix(err.Error(), tc.want[:strings.Index(tc.want, ": ")+2]), "file and line first: %v", err)
		})
	}
	t.Run("reports every type error, one line each", func(t *testing.T) {
		_, err := Parse("c.yaml", []byte("cards:\n  - alias: x\n    pan: [1]\n    balance: {a: 1}\n"))
		require.EqualError(t, err, "c.yaml:3: cannot unmarshal !!seq into string\nc.yaml:4: cannot unmarshal !!map into string")
	})
	for _, src := range []string{"", "# nothing but a comment\n"} {
		t.Run("refuses an empty file: "+src, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(src))
			require.EqualError(t, err, "c.yaml: the file is empty")
		})
	}
	t.Run("refuses content over the size limit before reading it", func(t *testing.T) {
		data := append([]byte("cards: []\n"), bytes.Repeat([]byte("#"), MaxFileSize)...)
		_, err := Parse("c.yaml", data)
		require.ErrorContains(t, err, "more than the 1048576 posim reads")
	})
}

func TestParse_Accepts(t *testing.T) {
	b, err := Parse("c.yaml", []byte(`
cards:
  - alias: no-pin
    pan: "6200000000001300"
    pin: none
  - alias: typist
    pan: "6200000000001409"
    pin: "123456"
    entered_pin: "654321"
    type: credit
    balance: "0.5"
  - alias: chip
    pan: "6200000000001508"
    chip: {contactless: true}
  - pan: "6200000000001607"
    invalid_pan: true
merchants:
  - {mid: "POSIM0000000002"}
  - {mid: M3, name: TEA HOUSE, status: restricted, refuse: [credit, foreign]}
terminals:
  - {tid: POSIM002, mid: "POSIM0000000002"}
`))
	require.NoError(t, err)
	require.Len(t, b.Cards, 4)
	c, _ := b.ByAlias("no-pin")
	require.Empty(t, c.PIN, "pin: none turns the PIN check off")
	require.Empty(t, c.PINToEnter())
	require.Equal(t, StatusActive, c.Status)
	c, _ = b.ByAlias("typist")
	require.Equal(t, "123456", c.PIN)
	require.Equal(t, "654321", c.PINToEnter())
	require.Equal(t, "credit", c.CardType())
	require.Equal(t, int64(50), c.Balance, "0.5 is fifty minor units")
	c, _ = b.ByAlias("chip")
	require.Equal(t, &Chip{PSN: "01", Behaviour: ChipApprove, Contactless: true}, c.Chip, "the chip's defaults filled")
	require.Nil(t, b.Cards[0].Chip)
	c, ok := b.ByPAN("6200000000001607")
	require.True(t, ok, "a card without an alias, its bad PAN said on purpose")
	require.Empty(t, c.Alias)
	require.Equal(t, []Merchant{
		{MID: "POSIM0000000002", Status: MerchantActive},
		{MID: "M3", Name: "TEA HOUSE", Status: MerchantRestricted, Refuse: []string{RefuseCredit, RefuseForeign}},
	}, b.Merchants)
	require.Equal(t, []Terminal{{TID: "POSIM002", MID: "POSIM0000000002", Status: TerminalActive}}, b.Terminals)

	t.Run("a card that overrides a built-in one replaces it when merged", func(t *testing.T) {
		own, err := Parse("c.yaml", []byte("cards:\n  - {alias: lost, pan: \"6200000000001706\", override: true}\n"))
		require.NoError(t, err)
		c, err := Builtin().Merge(own).Resolve("lost")
		require.NoError(t, err)
		require.Equal(t, "6200000000001706", c.PAN)
		require.Equal(t, StatusActive, c.Status)
		_, err = Builtin().Merge(own).Resolve("6200000000000401")
		require.NoError(t, err, "the old PAN is now an unknown one")
	})
}

func TestMerchantAndTerminal_Validate(t *testing.T) {
	m := Merchant{MID: "M1"}
	require.NoError(t, m.Validate())
	require.Equal(t, MerchantActive, m.Status, "the default filled in")
	m = Merchant{MID: "M1", Status: MerchantFrozen}
	require.NoError(t, m.Validate())
	require.Equal(t, MerchantFrozen, m.Status)
	m = Merchant{MID: "M1", Refuse: []string{"cash"}}
	require.ErrorContains(t, m.Validate(), `refuse "cash"`)

	tm := Terminal{TID: "T1"}
	require.NoError(t, tm.Validate())
	require.Equal(t, TerminalActive, tm.Status)
	tm = Terminal{TID: "T1", Status: TerminalRestricted}
	require.NoError(t, tm.Validate())
	require.Equal(t, TerminalRestricted, tm.Status)
	tm = Terminal{}
	require.ErrorContains(t, tm.Validate(), "tid must be 1 to 8 characters")
	require.Empty(t, tm.Status, "nothing filled in when refused")
}

func TestReadLimited(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, size int) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("x"), size), 0o600))
		return path
	}
	data, err := ReadLimited(write("at.yaml", 100), 100)
	require.NoError(t, err)
	require.Len(t, data, 100, "a file of exactly the limit is read whole")
	big := write("over.yaml", 101)
	_, err = ReadLimited(big, 100)
	require.EqualError(t, err, big+" is larger than 100 bytes, the most posim reads")
	_, err = ReadLimited(filepath.Join(dir, "missing.yaml"), 100)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cards.yaml")
	require.NoError(t, os.WriteFile(path, []byte("cards:\n  - alias: mine\n    pan: \"6200000000001300\"\n    colour: red\n"), 0o600))
	_, err := Load(path)
	require.EqualError(t, err, path+`:4: unknown key "colour"`)

	require.NoError(t, os.WriteFile(path, []byte("cards:\n  - {alias: mine, pan: \"6200000000001300\"}\n"), 0o600))
	b, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, []string{"mine"}, b.Aliases())

	big := filepath.Join(dir, "big.yaml")
	require.NoError(t, os.WriteFile(big, append([]byte("cards: []\n"), bytes.Repeat([]byte("#"), MaxFileSize)...), 0o600))
	_, err = Load(big)
	require.ErrorContains(t, err, "reading cards file: "+big+" is larger than 1048576 bytes")

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, "reading cards file")
}
