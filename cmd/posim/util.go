package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
)

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }

// loadProfile returns the named profile or an invalid-input error.
func loadProfile(name string) (wire.Profile, error) {
	p, err := wire.ProfileByName(name)
	if err != nil {
		return nil, invalid(fmt.Errorf("--profile: %w", err))
	}
	return p, nil
}

// loadCards returns the built-in cards merged with a cards file, if any.
func loadCards(path string) (*cards.Book, error) {
	book := cards.Builtin()
	if path == "" {
		return book, nil
	}
	extra, err := cards.Load(path)
	if err != nil {
		return nil, invalid(fmt.Errorf("--cards: %w", err))
	}
	return book.Merge(extra), nil
}

// specFlags are the flags of a user-supplied spec.
type specFlags struct {
	spec, framing string
}

func (sf *specFlags) add(fl interface {
	StringVar(p *string, name, value, usage string)
}) {
	fl.StringVar(&sf.spec, "spec", "", "your host's field spec (moov-io/iso8583 JSON) with the ISO 8583:1987 field assignments; replaces --profile")
	fl.StringVar(&sf.framing, "framing", wire.FramingBinary2, "with --spec: length framing binary2, ascii4 or bcd2")
}

// customProfile loads --spec with --framing (and a TPDU and header when
// given) and registers it as the profile "custom".
func (sf specFlags) customProfile(tpdu, header string) (wire.Profile, error) {
	data, err := os.ReadFile(sf.spec)
	if err != nil {
		return nil, invalid(fmt.Errorf("--spec: %w", err))
	}
	framer, err := wire.Framing(sf.framing, tpdu, header)
	if err != nil {
		return nil, invalid(fmt.Errorf("--framing: %w", err))
	}
	p, err := wire.CustomProfile(sf.spec, data, framer)
	if err != nil {
		return nil, invalid(err)
	}
	wire.RegisterCustom(p)
	return p, nil
}

// writeFileWith creates path and fills it with write, reporting the first
// error of writing or closing.
func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Speed bounds: below, a scenario's 30 s timeout would take most of an
// hour; above, its delays shrink under the scheduler's resolution and
// timing faults stop meaning anything.
const (
	minSpeed = 0.01
	maxSpeed = 1000.0
)

// checkSpeed refuses a --speed outside minSpeed..maxSpeed.
func checkSpeed(speed float64) error {
	if !(speed >= minSpeed && speed <= maxSpeed) { // NaN too
		return invalid(fmt.Errorf("--speed %g: want %g to %g", speed, minSpeed, maxSpeed))
	}
	return nil
}

// checkAddr refuses an address that is not HOST:PORT with a port number:
// a typo is invalid input (2), not a connection failure (3).
func checkAddr(flag, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return invalid(fmt.Errorf("%s %q: want HOST:PORT, e.g. 127.0.0.1:8583", flag, addr))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return invalid(fmt.Errorf("%s %q: the port must be a number from 0 to 65535", flag, addr))
	}
	if strings.ContainsAny(host, " /") {
		return invalid(fmt.Errorf("%s %q: %q is not a host name or address", flag, addr, host))
	}
	return nil
}

// checkCurrency refuses a currency that is not an ISO 4217 numeric code.
func checkCurrency(flag, code string) error {
	if len(code) != 3 || strings.Trim(code, "0123456789") != "" || code == "000" {
		return invalid(fmt.Errorf("%s %q: want an ISO 4217 numeric code, e.g. 156 (CNY), 840 (USD), 978 (EUR)", flag, code))
	}
	return nil
}

// dialects is the help of a --profile flag: the built-in dialects.
func dialects() string {
	return "dialect: " + strings.Join(wire.ProfileNames(), " or ") + " (--spec FILE makes your own)"
}

// keyedDialects lists the built-in dialects with TPDU framing or working
// keys (what --tpdu, --tmk and the like are for).
func keyedDialects() []string {
	var out []string
	for _, n := range wire.ProfileNames() {
		if p, _ := wire.ProfileByName(n); p.Capabilities().TPDU || p.Capabilities().WorkingKeys {
			out = append(out, n)
		}
	}
	return out
}
