package cards

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/posim/posim/wire"
	"go.yaml.in/yaml/v3"
)

// CardSpec is a card as written in a cards file or a scenario's setup.
type CardSpec struct {
	Alias       string `yaml:"alias"`
	PAN         string `yaml:"pan"`
	Expiry      string `yaml:"expiry"`
	PIN         string `yaml:"pin"`
	EnteredPIN  string `yaml:"entered_pin"`
	Balance     string `yaml:"balance"`
	Status      string `yaml:"status"`
	Description string `yaml:"description"`
	Type        string `yaml:"type"`
	Chip        *Chip  `yaml:"chip"`
	// Override lets a cards file replace a built-in card of the same alias
	// or PAN; InvalidPAN lets it hold a PAN that fails the Luhn check (to
	// see a host refuse it). A cards file must say so: both are more often
	// mistakes.
	Override   bool `yaml:"override"`
	InvalidPAN bool `yaml:"invalid_pan"`
}

// lines is decoded beside file to know where each entry starts.
type lines struct {
	Cards     []yaml.Node `yaml:"cards"`
	Merchants []yaml.Node `yaml:"merchants"`
	Terminals []yaml.Node `yaml:"terminals"`
}

type file struct {
	Cards     []CardSpec `yaml:"cards"`
	Merchants []Merchant `yaml:"merchants"`
	Terminals []Terminal `yaml:"terminals"`
}

// Load reads a cards file (YAML). Errors name the file and line.
//
//	cards:
//	  - alias: my-card
//	    pan: "6200000000001300"
//	    expiry: "3012"      # YYMM, default 3012
//	    pin: "1234"         # default 1234; "" disables the PIN check
//	    balance: "250.00"
//	    status: active      # active, blocked, lost, stolen, pickup, fraud, restricted, not-permitted, aml
//	    chip: {psn: "01", behaviour: approve, contactless: false}  # optional: a chip card
//	merchants:
//	  - {mid: "POSIM0000000002", status: frozen}      # active, frozen, restricted
//	terminals:
//	  - {tid: "POSIM002", mid: "POSIM0000000002", status: deregistered}
func Load(path string) (*Book, error) {
	data, err := ReadLimited(path, MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("reading cards file: %w", err)
	}
	return Parse(path, data)
}

// MaxFileSize is the largest cards or scenario file posim reads: far more
// than any real one, and a bound on what a mistaken path can cost.
const MaxFileSize = 1 << 20

// ReadLimited reads a file of at most max bytes; a larger one is an error
// that says so, never a silent truncation.
func ReadLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes, the most posim reads", path, max)
	}
	return data, nil
}

// Parse parses cards-file content; name is used in error messages.
func Parse(name string, data []byte) (*Book, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d posim reads", name, len(data), MaxFileSize)
	}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the file is empty", name)
		}
		return nil, YAMLError(name, err)
	}
	var at lines
	_ = yaml.Unmarshal(data, &at) // the strict decode above already succeeded
	b := &Book{}
	builtin := Builtin()
	seenAlias := map[string]int{}
	seenPAN := map[string]int{}
	for i, fc := range f.Cards {
		n := at.Cards[i]
		c, err := fc.Card()
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n.Line, err)
		}
		if !wire.LuhnValid(c.PAN) && !fc.InvalidPAN {
			return nil, fmt.Errorf("%s:%d: PAN %s fails the Luhn check: fix its last digit, or say invalid_pan: true to keep it on purpose", name, n.Line, wire.MaskPAN(c.PAN))
		}
		if !fc.Override {
			if bc, ok := builtin.ByAlias(c.Alias); ok && c.Alias != "" {
				return nil, fmt.Errorf("%s:%d: alias %q is a built-in card (%s): choose another alias, or say override: true to replace it", name, n.Line, c.Alias, wire.MaskPAN(bc.PAN))
			}
			if bc, ok := builtin.ByPAN(c.PAN); ok {
				return nil, fmt.Errorf("%s:%d: PAN %s is the built-in card %q: use another PAN, or say override: true to replace it", name, n.Line, wire.MaskPAN(c.PAN), bc.Alias)
			}
		}
		if prev, dup := seenAlias[c.Alias]; dup && c.Alias != "" {
			return nil, fmt.Errorf("%s:%d: alias %q already used at line %d", name, n.Line, c.Alias, prev)
		}
		if prev, dup := seenPAN[c.PAN]; dup {
			return nil, fmt.Errorf("%s:%d: PAN %s already used at line %d", name, n.Line, wire.MaskPAN(c.PAN), prev)
		}
		seenAlias[c.Alias], seenPAN[c.PAN] = n.Line, n.Line
		b.Cards = append(b.Cards, c)
	}
	for i, m := range f.Merchants {
		if err := m.validate(); err != nil {
			return nil, fmt.Errorf("%s:%d: merchant: %w", name, at.Merchants[i].Line, err)
		}
		b.Merchants = append(b.Merchants, m.withDefaults())
	}
	for i, t := range f.Terminals {
		if err := t.validate(); err != nil {
			return nil, fmt.Errorf("%s:%d: terminal: %w", name, at.Terminals[i].Line, err)
		}
		b.Terminals = append(b.Terminals, t.withDefaults())
	}
	return b, nil
}

func (m Merchant) withDefaults() Merchant {
	if m.Status == "" {
		m.Status = MerchantActive
	}
	return m
}

func (m Merchant) validate() error {
	if m.MID == "" || len(m.MID) > 15 {
		return errors.New("mid must be 1 to 15 characters")
	}
	if m.Status != "" && !oneOf(m.Status, MerchantActive, MerchantFrozen, MerchantRestricted) {
		return fmt.Errorf("status %q: want active, frozen or restricted", m.Status)
	}
	for _, r := range m.Refuse {
		if !oneOf(r, RefuseCredit, RefuseForeign) {
			return fmt.Errorf("refuse %q: want credit or foreign", r)
		}
	}
	return nil
}

func (t Terminal) withDefaults() Terminal {
	if t.Status == "" {
		t.Status = TerminalActive
	}
	return t
}

func (t Terminal) validate() error {
	if t.TID == "" || len(t.TID) > 8 {
		return errors.New("tid must be 1 to 8 characters")
	}
	if t.Status != "" && !oneOf(t.Status, TerminalActive, TerminalDeregistered, TerminalRestricted) {
		return fmt.Errorf("status %q: want active, deregistered or restricted", t.Status)
	}
	if err := wire.CheckMACKeyLayout(t.MACKey); err != nil {
		return fmt.Errorf("terminal %s: %w", t.TID, err)
	}
	return nil
}

// Validate checks a merchant as written in a file and fills its defaults.
func (m *Merchant) Validate() error {
	if err := m.validate(); err != nil {
		return err
	}
	*m = m.withDefaults()
	return nil
}

// Validate checks a terminal as written in a file and fills its defaults.
func (t *Terminal) Validate() error {
	if err := t.validate(); err != nil {
		return err
	}
	*t = t.withDefaults()
	return nil
}

// Card validates the spec and returns the card with defaults filled in.
func (fc CardSpec) Card() (Card, error) {
	c := Card{Alias: fc.Alias, PAN: fc.PAN, Expiry: fc.Expiry, PIN: fc.PIN, EnteredPIN: fc.EnteredPIN, Status: fc.Status, Description: fc.Description, Type: fc.Type}
	if c.Type != "" && c.Type != "debit" && c.Type != "credit" {
		return c, fmt.Errorf("type %q: want debit or credit", c.Type)
	}
	if fc.Chip != nil {
		chip := *fc.Chip
		if err := chip.Validate(); err != nil {
			return c, err
		}
		c.Chip = &chip
	}
	if c.PAN == "" {
		return c, errors.New("card has no pan")
	}
	if !isDigits(c.PAN) || len(c.PAN) < 12 || len(c.PAN) > 19 {
		return c, fmt.Errorf("pan %s: want 12 to 19 digits", wire.MaskPAN(c.PAN))
	}
	if c.Expiry == "" {
		c.Expiry = "3012"
	}
	if !isDigits(c.Expiry) || len(c.Expiry) != 4 || c.Expiry[2:] < "01" || c.Expiry[2:] > "12" {
		return c, fmt.Errorf("expiry %q: want YYMM, like 3012", c.Expiry)
	}
	if c.PIN == "" {
		c.PIN = DefaultPIN
	}
	if c.PIN == "none" {
		c.PIN = ""
	}
	for _, p := range []string{c.PIN, c.EnteredPIN} {
		if p != "" && (!isDigits(p) || len(p) < 4 || len(p) > 12) {
			return c, errors.New("pin: want 4 to 12 digits")
		}
	}
	if fc.Balance != "" {
		v, err := wire.ParseAmount(fc.Balance)
		if err != nil {
			return c, fmt.Errorf("balance: %w", err)
		}
		c.Balance = v
	}
	if c.Status == "" {
		c.Status = StatusActive
	}
	if _, ok := StatusCodes[c.Status]; !ok && c.Status != StatusActive {
		return c, fmt.Errorf("status %q: want one of %s", c.Status, strings.Join(CardStatuses(), ", "))
	}
	return c, nil
}

// CardStatuses lists the card statuses a cards file may use.
func CardStatuses() []string {
	return []string{StatusActive, StatusBlocked, StatusLost, StatusStolen, StatusPickUp, StatusFraud, StatusRestricted, StatusNotAllowed, StatusAML}
}

func oneOf(s string, set ...string) bool { return slices.Contains(set, s) }

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// YAMLError rewrites a yaml.v3 error as "name:line: message", one line per
// problem, and unknown keys as "unknown key".
func YAMLError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var lines []string
		for _, e := range te.Errors {
			lines = append(lines, formatYAMLLine(name, e))
		}
		return errors.New(strings.Join(lines, "\n"))
	}
	return errors.New(formatYAMLLine(name, strings.TrimPrefix(err.Error(), "yaml: ")))
}

var notFound = regexp.MustCompile(`field (\S+) not found in type \S+`)

func formatYAMLLine(name, msg string) string {
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		text := m[2]
		if nf := notFound.FindStringSubmatch(text); nf != nil {
			text = fmt.Sprintf("unknown key %q", nf[1])
		}
		return fmt.Sprintf("%s:%s: %s", name, m[1], text)
	}
	return fmt.Sprintf("%s: %s", name, msg)
}
