package load

import (
	"context"
	"time"
)

// Measure warms the fleet up for warmup (not measured), then measures it
// for d.
func Measure(ctx context.Context, f *Fleet, d, warmup time.Duration) (*Result, error) {
	if warmup > 0 {
		if _, err := f.Run(ctx, warmup); err != nil {
			return nil, err
		}
	}
	return f.Run(ctx, d)
}

// Compare measures two fleets for d each, in rounds that alternate A B B A
// A B ..., after a warm-up of each: both targets then see the same machine,
// the same drift and the same share of whatever else runs, which a run of
// one after the other does not give on a shared or virtual machine.
func Compare(ctx context.Context, a, b *Fleet, d, warmup time.Duration, rounds int) (ra, rb *Result, err error) {
	if rounds < 1 {
		rounds = 1
	}
	for _, f := range []*Fleet{a, b} {
		if warmup > 0 {
			if _, err := f.Run(ctx, warmup); err != nil {
				return nil, nil, err
			}
		}
	}
	slice := d / time.Duration(rounds)
	for i := range rounds {
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		for _, f := range []*Fleet{first, second} {
			r, err := f.Run(ctx, slice)
			if err != nil {
				return nil, nil, err
			}
			dst := &ra
			if f == b {
				dst = &rb
			}
			if *dst == nil {
				*dst = r
			} else {
				(*dst).Merge(r)
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return ra, rb, nil
}
