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
	res, err := Alternate(ctx, []*Fleet{a, b}, d, warmup, rounds, nil)
	if err != nil {
		return nil, nil, err
	}
	return res[0], res[1], nil
}

// Alternate measures each fleet for d, in rounds whose order turns round
// every other time (0 1 2, 2 1 0, 0 1 2 ...), after a warm-up of each, and
// returns their results in the fleets' order. around, when set, wraps
// every measured run (to read CPU times before and after it). A cancelled
// ctx ends the rounds early with what was measured.
func Alternate(ctx context.Context, fleets []*Fleet, d, warmup time.Duration, rounds int, around func(i int, run func() error) error) ([]*Result, error) {
	rounds = max(rounds, 1)
	for _, f := range fleets {
		if warmup > 0 {
			if _, err := f.Run(ctx, warmup); err != nil {
				return nil, err
			}
		}
	}
	if around == nil {
		around = func(_ int, run func() error) error { return run() }
	}
	res := make([]*Result, len(fleets))
	slice := d / time.Duration(rounds)
	for round := range rounds {
		for k := range fleets {
			i := k
			if round%2 == 1 {
				i = len(fleets) - 1 - k
			}
			err := around(i, func() error {
				r, err := fleets[i].Run(ctx, slice)
				if err != nil {
					return err
				}
				if res[i] == nil {
					res[i] = r
				} else {
					res[i].Merge(r)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return res, nil
}
