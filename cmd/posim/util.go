package main

import (
	"fmt"

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
