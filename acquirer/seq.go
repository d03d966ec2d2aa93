package acquirer

import "iter"

// seqBlock is how many values a block of a seq holds.
const seqBlock = 1024

// seq is a list of values kept in fixed-size blocks: it grows without
// ever copying what it holds. A slice of millions of values grows by
// copying itself into a new array a quarter larger; a copy of hundreds of
// megabytes made while the collector marks makes the goroutine that
// allocates it (holding the engine's lock) wait for the whole mark to end,
// and a host keeping every record stopped answering for seconds (issue
// 17). The ledger's postings and its per-card record lists are seqs.
type seq[T any] struct {
	blocks [][]T
	head   int // values dropped from the front of blocks[0]
	n      int // values held
}

// len is how many values s holds; a nil seq holds none.
func (s *seq[T]) len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// push appends v.
func (s *seq[T]) push(v T) {
	if k := len(s.blocks); k == 0 || len(s.blocks[k-1]) == seqBlock {
		s.blocks = append(s.blocks, make([]T, 0, seqBlock))
	}
	last := &s.blocks[len(s.blocks)-1]
	*last = append(*last, v)
	s.n++
}

// at returns the i-th value held (0: the oldest).
func (s *seq[T]) at(i int) T {
	i += s.head
	return s.blocks[i/seqBlock][i%seqBlock]
}

// all yields the values held, oldest first.
func (s *seq[T]) all() iter.Seq[T] {
	return func(yield func(T) bool) {
		for i := range s.len() {
			if !yield(s.at(i)) {
				return
			}
		}
	}
}

// backward yields the values held, newest first.
func (s *seq[T]) backward() iter.Seq[T] {
	return func(yield func(T) bool) {
		for i := s.len() - 1; i >= 0; i-- {
			if !yield(s.at(i)) {
				return
			}
		}
	}
}

// dropFront drops the k oldest values; a block left empty goes.
func (s *seq[T]) dropFront(k int) {
	k = min(k, s.n)
	s.head += k
	s.n -= k
	for len(s.blocks) > 0 && (s.head >= seqBlock || s.n == 0) {
		s.head -= min(s.head, seqBlock)
		s.blocks[0] = nil
		s.blocks = s.blocks[1:]
	}
	if s.n == 0 {
		s.blocks, s.head = nil, 0
	}
}
