package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRouteMatchesALinearScan: routing through the jump table (many shards)
// and the plain binary search (few) finds the shard whose range holds the
// hash, for uneven ranges and hashes at range edges.
func TestRouteMatchesALinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 4, jumpMinShards - 1, jumpMinShards, 3000} {
		// n contiguous ranges with random boundaries, sorted.
		bounds := make([]hashKey, n-1)
		for i := range bounds {
			bounds[i] = hashKey{rng.Uint64(), rng.Uint64()}
			if i%7 == 0 { // clusters within one jump bucket
				bounds[i].hi = bounds[0].hi
			}
		}
		slices.SortFunc(bounds, func(a, b hashKey) int {
			if a.less(b) {
				return -1
			}
			if b.less(a) {
				return 1
			}
			return 0
		})
		s := &stream{}
		start := hashKey{}
		for i := 0; i < n; i++ {
			end := hashKey{^uint64(0), ^uint64(0)}
			if i < n-1 {
				end = bounds[i]
			}
			s.shards = append(s.shards, &shardState{meta: &shardMeta{ID: fmt.Sprint(i)}, start: start, end: end})
			start = hashKey{end.hi, end.lo + 1}
			if start.lo == 0 {
				start.hi++
			}
		}
		if n > 2 && n%2 == 1 {
			// A gap (a test-only shape): the shard before it must not
			// take the keys in it.
			s.shards = slices.Delete(s.shards, n/2, n/2+1)
		}
		s.index()
		if s.gapless == (n > 2 && n%2 == 1) {
			t.Fatalf("%d shards: gapless %v", n, s.gapless)
		}
		probe := func(h hashKey) {
			var want *shardState
			for _, sh := range s.shards {
				if !h.less(sh.start) && !sh.end.less(h) {
					want = sh
				}
			}
			if got := s.route(h); got != want {
				t.Fatalf("%d shards: route(%v) = %v, want %v", n, h, got, want)
			}
		}
		for _, sh := range s.shards {
			probe(sh.start)
			probe(sh.end)
		}
		for i := 0; i < 2000; i++ {
			probe(hashKey{rng.Uint64(), rng.Uint64()})
		}
	}
}
