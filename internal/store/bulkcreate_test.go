package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// checkNewShards checks that the shards of uids are present, empty and
// writable, and that no unfinished shard directory is left.
func checkNewShards(t *testing.T, fs vfs.FS, s *Store, uids []uint64, what string) {
	t.Helper()
	for _, uid := range uids {
		sh, ok := s.Shard(uid)
		if !ok {
			t.Fatalf("%s: shard %d missing", what, uid)
		}
		if err := sh.Append(recs(fmt.Sprint("r", uid))).Wait(); err != nil {
			t.Fatalf("%s: append to shard %d: %v", what, uid, err)
		}
		if got, want := dataOf(readAll(t, sh)), fmt.Sprintf("0:r%d", uid); got != want {
			t.Fatalf("%s: shard %d holds %s, want %s", what, uid, got, want)
		}
	}
	names, err := fs.List("/data/shards")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, newShardSuffix) {
			t.Fatalf("%s: unfinished shard directory %s left", what, name)
		}
	}
}

func TestCreateShardsInBulk(t *testing.T) {
	defer func(n int) { bulkCreateMin = n }(bulkCreateMin)
	for _, min := range []int{2, 100} { // in bulk, then one at a time
		bulkCreateMin = min
		fs := vfs.NewMem()
		var counting atomic.Bool
		var syncs atomic.Int64
		s := mustOpen(t, vfs.NewErrorFS(fs, vfs.InjectorFunc(func(op vfs.Op) error {
			if counting.Load() && (op.Kind == vfs.OpSync || op.Kind == vfs.OpSyncDir) {
				syncs.Add(1)
			}
			return nil
		})), Options{})
		uids := []uint64{3, 4, 5}
		counting.Store(true)
		if _, err := s.CreateShards(uids); err != nil {
			t.Fatal(err)
		}
		counting.Store(false)
		// In bulk: one sync of the filesystem, one of the shards directory.
		if n := syncs.Load(); min == 2 && n != 2 || min == 100 && n < int64(len(uids)) {
			t.Fatalf("bulkCreateMin %d: %d syncs to create %d shards", min, n, len(uids))
		}
		if _, err := s.CreateShards([]uint64{6, 4}); !errors.Is(err, ErrShardExists) {
			t.Fatalf("CreateShards of an existing shard: %v", err)
		}
		if _, ok := s.Shard(6); ok {
			t.Fatal("a failed CreateShards left shard 6")
		}
		checkNewShards(t, fs, s, uids, fmt.Sprintf("bulkCreateMin %d", min))
		crashed := fs.CrashClone()
		s.Close()
		s = mustOpen(t, crashed, Options{})
		if ids := s.ShardIDs(); fmt.Sprint(ids) != "[3 4 5]" {
			t.Fatalf("bulkCreateMin %d: shards after a crash: %v", min, ids)
		}
		s.Close()
	}
}

func TestCreateShardsInBulkSyncError(t *testing.T) {
	defer func(n int) { bulkCreateMin = n }(bulkCreateMin)
	bulkCreateMin = 2
	sw := &vfs.Switch{Inner: vfs.InjectorFunc(func(op vfs.Op) error {
		if op.Kind == vfs.OpSync && op.Path == "/data/shards" {
			return errInjected
		}
		return nil
	})}
	fs := vfs.NewErrorFS(vfs.NewMem(), sw)
	s := mustOpen(t, fs, Options{})
	defer s.Close()
	sw.Enable()
	if _, err := s.CreateShards([]uint64{1, 2, 3}); !errors.Is(err, errInjected) {
		t.Fatalf("CreateShards = %v, want the injected error", err)
	}
	if ids := s.ShardIDs(); len(ids) != 0 {
		t.Fatalf("shards after a failed CreateShards: %v", ids)
	}
	if names, _ := fs.List("/data/shards"); len(names) != 0 {
		t.Fatalf("directories left by a failed CreateShards: %v", names)
	}
}

// TestCrashWhileCreatingShardsInBulk crashes before each filesystem
// operation of a bulk CreateShards: the store always reopens, and once
// CreateShards has returned every shard survives.
func TestCrashWhileCreatingShardsInBulk(t *testing.T) {
	defer func(n int) { bulkCreateMin = n }(bulkCreateMin)
	bulkCreateMin = 2
	uids := []uint64{7, 8, 9}
	// run creates the shards on fs and returns the number of filesystem
	// operations done when CreateShards returned.
	run := func(fs vfs.FS, ops *atomic.Int64) int64 {
		s, err := Open(fs, "/data", Options{})
		if err != nil {
			return -1
		}
		defer s.Close()
		if _, err := s.CreateShards(uids); err != nil {
			return -1
		}
		return ops.Load()
	}
	var total atomic.Int64
	count := vfs.InjectorFunc(func(vfs.Op) error { total.Add(1); return nil })
	run(vfs.NewErrorFS(vfs.NewMem(), count), &total)
	for k := int64(1); k <= total.Load(); k++ {
		mem := vfs.NewMem()
		var (
			ops   atomic.Int64
			mu    sync.Mutex
			clone *vfs.MemFS
		)
		returned := run(vfs.NewErrorFS(mem, vfs.InjectorFunc(func(vfs.Op) error {
			if ops.Add(1) == k {
				mu.Lock()
				clone = mem.CrashClone()
				mu.Unlock()
			}
			return nil
		})), &ops)
		mu.Lock()
		c := clone
		mu.Unlock()
		what := fmt.Sprintf("crash before op %d", k)
		s, err := Open(c, "/data", Options{})
		if err != nil {
			t.Fatalf("%s: open: %v", what, err)
		}
		if returned >= 0 && k > returned {
			checkNewShards(t, c, s, uids, what)
		} else {
			// Any shard that survived is whole; the engine removes it
			// as an orphan, since its metadata never named it.
			var present []uint64
			for _, uid := range uids {
				if _, ok := s.Shard(uid); ok {
					present = append(present, uid)
				}
			}
			checkNewShards(t, c, s, present, what)
		}
		s.Close()
	}
}

func TestDeleteShardsDeletesWhatItCan(t *testing.T) {
	fs := vfs.NewMem()
	s := mustOpen(t, fs, Options{})
	defer s.Close()
	for uid := uint64(1); uid <= 3; uid++ {
		if _, err := s.CreateShard(uid); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteShards([]uint64{1, 9, 3}); !errors.Is(err, ErrShardNotFound) {
		t.Fatalf("DeleteShards with an unknown shard: %v", err)
	}
	if ids := s.ShardIDs(); fmt.Sprint(ids) != "[2]" {
		t.Fatalf("shards left: %v", ids)
	}
	crashed := fs.CrashClone()
	s2 := mustOpen(t, crashed, Options{})
	defer s2.Close()
	if ids := s2.ShardIDs(); fmt.Sprint(ids) != "[2]" {
		t.Fatalf("shards after a crash: %v", ids)
	}
}
