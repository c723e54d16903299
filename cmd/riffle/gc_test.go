package main

import "testing"

func TestMemoryLimitFollowsALargeLiveHeap(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int64
	}{{0, gcSoftLimit}, {20 << 20, gcSoftLimit}, {40 << 20, gcSoftLimit}, {48 << 20, 96 << 20}, {200 << 20, 400 << 20}} {
		if got := memoryLimitFor(c.live); got != c.want {
			t.Errorf("memoryLimitFor(%d MiB) = %d MiB, want %d MiB", c.live>>20, got>>20, c.want>>20)
		}
	}
}
