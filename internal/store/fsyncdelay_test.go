package store

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// TestGroupCommitAcrossShardsWithSlowFsync shows that the store batches
// durability across shards: when every fsync costs 5 ms (a real disk, unlike
// the ~65 µs of the virtual disks the benchmarks run on), many concurrent
// producers writing to 1,000 different shards are acknowledged after far
// fewer fsyncs than appends. A design that fsynced per shard or per append
// would need one 5 ms fsync per acknowledged put.
func TestGroupCommitAcrossShardsWithSlowFsync(t *testing.T) {
	const (
		shards    = 1000
		producers = 50
		perProd   = 40 // appends per producer: 2,000 appends in all
		delay     = 5 * time.Millisecond
	)
	var slow atomic.Bool
	var journalSyncs, otherSyncs atomic.Int64
	fs := vfs.NewErrorFS(vfs.NewMem(), vfs.InjectorFunc(func(op vfs.Op) error {
		if op.Kind == vfs.OpSync && slow.Load() {
			if strings.Contains(op.Path, "/shards/") {
				otherSyncs.Add(1)
			} else {
				journalSyncs.Add(1)
			}
			time.Sleep(delay)
		}
		return nil
	}))
	s := mustOpen(t, fs, Options{})
	defer s.Close()
	all := make([]*Shard, shards)
	for i := range all {
		sh, err := s.CreateShard(uint64(i + 1))
		if err != nil {
			t.Fatalf("create shard %d: %v", i+1, err)
		}
		all[i] = sh
	}

	slow.Store(true)
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Go(func() {
			for i := 0; i < perProd; i++ {
				// Spread the writes: consecutive appends of one producer go to
				// different shards, and producers start at different shards.
				sh := all[(p*perProd+i)*7%shards]
				data := fmt.Sprintf("p%d-%d", p, i)
				if err := sh.Append(recs(data)).Wait(); err != nil {
					t.Errorf("append %s: %v", data, err)
					return
				}
			}
		})
	}
	wg.Wait()
	slow.Store(false)

	appends := int64(producers * perProd)
	js, ss := journalSyncs.Load(), otherSyncs.Load()
	t.Logf("%d appends over %d shards by %d producers: %d journal fsyncs, %d shard-log fsyncs (5 ms each)",
		appends, shards, producers, js, ss)
	// Every acknowledged append waited for a journal fsync; with grouping, one
	// fsync covers many producers' appends at once.
	if js == 0 {
		t.Fatal("no journal fsync seen: the appends were acknowledged without fsync")
	}
	if js > appends/10 {
		t.Fatalf("%d journal fsyncs for %d concurrent appends: group commit is not grouping across shards", js, appends)
	}
	// Shard logs are fsynced only by checkpoints, which this small load does
	// not trigger; none may sit on the acknowledgement path.
	if ss > appends/10 {
		t.Fatalf("%d shard-log fsyncs for %d appends: shard logs are synced per append", ss, appends)
	}
	// Everything acknowledged is readable, once and in order, in its shard.
	total := 0
	seen := make(map[string]bool)
	for _, sh := range all {
		rs := readAll(t, sh)
		for i, r := range rs {
			if i > 0 && r.Seq <= rs[i-1].Seq {
				t.Fatalf("shard %016x: sequence %d after %d", sh.UID(), r.Seq, rs[i-1].Seq)
			}
			if seen[string(r.Data)] {
				t.Fatalf("record %q read back twice", r.Data)
			}
			seen[string(r.Data)] = true
		}
		total += len(rs)
	}
	if int64(total) != appends {
		t.Fatalf("read back %d records, %d were acknowledged", total, appends)
	}
}
