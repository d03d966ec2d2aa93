package acquirer

import (
	"bytes"
	"sync"

	"github.com/posim/posim/cards"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// builtinWithRich is the built-in book with the approve card funded for
// benchmarks that sell many times.
func builtinWithRich() *cards.Book {
	b := cards.Builtin()
	for i := range b.Cards {
		if b.Cards[i].Alias == "approve" {
			b.Cards[i].Balance = 1 << 60
		}
	}
	return b
}
