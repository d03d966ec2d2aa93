package main

import (
	"fmt"
	"io"
	"os"

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
