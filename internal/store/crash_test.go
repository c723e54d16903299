package store

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// model is what the test knows about each shard: the data attempted at each
// position and the positions acknowledged.
type model struct {
	mu        sync.Mutex
	attempted map[uint64]map[uint64]string // shard -> seq -> data
	acked     map[uint64]map[uint64]bool
}

func newModel() *model {
	return &model{attempted: map[uint64]map[uint64]string{}, acked: map[uint64]map[uint64]bool{}}
}

func (m *model) attempt(uid uint64, rs []Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.attempted[uid] == nil {
		m.attempted[uid] = map[uint64]string{}
	}
	for _, r := range rs {
		m.attempted[uid][r.Seq] = string(r.Data)
	}
}

func (m *model) ack(uid uint64, rs []Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.acked[uid] == nil {
		m.acked[uid] = map[uint64]bool{}
	}
	for _, r := range rs {
		m.acked[uid][r.Seq] = true
	}
}

// snapshotAcked copies the acknowledged positions.
func (m *model) snapshotAcked() map[uint64]map[uint64]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[uint64]map[uint64]bool{}
	for uid, seqs := range m.acked {
		out[uid] = map[uint64]bool{}
		for s := range seqs {
			out[uid][s] = true
		}
	}
	return out
}

// verify checks the recovered store against the model: in each shard the
// records are at positions 0..n-1 with the data attempted there (so nothing
// is duplicated or reordered), and every position acknowledged before the
// crash is present. It then resets the model to what was recovered, which is
// now durable.
func (m *model) verify(t *testing.T, s *Store, acked map[uint64]map[uint64]bool, when string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, uid := range s.ShardIDs() {
		sh, _ := s.Shard(uid)
		rs := readAll(t, sh)
		for i, r := range rs {
			if r.Seq != uint64(i) {
				t.Fatalf("%s: shard %d record %d has seq %d", when, uid, i, r.Seq)
			}
			if want, ok := m.attempted[uid][r.Seq]; !ok || want != string(r.Data) {
				t.Fatalf("%s: shard %d seq %d holds %q, attempted %q (%v)", when, uid, r.Seq, r.Data, want, ok)
			}
		}
		for seq := range acked[uid] {
			if seq >= uint64(len(rs)) {
				t.Fatalf("%s: shard %d lost acknowledged seq %d (recovered %d records)", when, uid, seq, len(rs))
			}
		}
		if sh.Next() != uint64(len(rs)) {
			t.Fatalf("%s: shard %d Next %d with %d records", when, uid, sh.Next(), len(rs))
		}
		att := map[uint64]string{}
		ack := map[uint64]bool{}
		for _, r := range rs {
			att[r.Seq] = string(r.Data)
			ack[r.Seq] = true
		}
		m.attempted[uid], m.acked[uid] = att, ack
	}
	for uid, seqs := range acked {
		if _, ok := s.Shard(uid); !ok && len(seqs) > 0 {
			t.Fatalf("%s: shard %d with acknowledged records is gone", when, uid)
		}
	}
}

// TestCrashWhileAppending runs concurrent appenders (Append and AppendMany)
// on several shards with small segments and frequent checkpoints, crashes at
// random moments, and checks every recovery; each round restarts from the
// previous crash.
func TestCrashWhileAppending(t *testing.T) { crashWhileAppending(t) }

// TestCrashWhileAppendingManyShardPaths is TestCrashWhileAppending with the
// paths meant for thousands of shards taken at once: every checkpoint flushes
// the shard logs and syncs the filesystem at once, and every AppendMany of
// two or more shards is applied on two goroutines.
func TestCrashWhileAppendingManyShardPaths(t *testing.T) {
	defer func(n, m int) { bulkSyncMinDirty, parallelApplyMin = n, m }(bulkSyncMinDirty, parallelApplyMin)
	bulkSyncMinDirty, parallelApplyMin = 1, 2
	crashWhileAppending(t)
}

func crashWhileAppending(t *testing.T) {
	const (
		shards  = 4
		writers = 6
		rounds  = 8
	)
	opts := Options{SegmentMaxBytes: 512, JournalSegmentMaxBytes: 1024, CheckpointBytes: 2048}
	rng := rand.New(rand.NewPCG(1, 2))
	fs := vfs.NewMem()
	m := newModel()
	var counter atomic.Int64
	for round := 0; round < rounds; round++ {
		s := mustOpen(t, fs, opts)
		for uid := uint64(1); uid <= shards; uid++ {
			if _, ok := s.Shard(uid); !ok {
				if _, err := s.CreateShard(uid); err != nil {
					t.Fatal(err)
				}
			}
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			seed := rng.Uint64()
			wg.Go(func() {
				r := rand.New(rand.NewPCG(seed, 0))
				for {
					select {
					case <-stop:
						return
					default:
					}
					newBatch := func() []Record {
						batch := make([]Record, 1+r.IntN(5))
						for i := range batch {
							batch[i] = Record{PartitionKey: "k", Data: fmt.Appendf(nil, "r%d", counter.Add(1))}
						}
						return batch
					}
					// A batch that fails (with ErrClosed, once the store
					// is closed after the crash) was never written. Every
					// written batch is recorded before verification,
					// which runs after every writer stopped.
					if r.IntN(2) == 0 {
						uid := 1 + r.Uint64N(shards)
						sh, _ := s.Shard(uid)
						batch := newBatch()
						if err := sh.Append(batch).Wait(); err != nil {
							return
						}
						m.attempt(uid, batch)
						m.ack(uid, batch)
						continue
					}
					// AppendMany over a random set of distinct shards.
					var batches []Batch
					for _, uid := range r.Perm(shards)[:1+r.IntN(shards)] {
						sh, _ := s.Shard(uint64(uid) + 1)
						batches = append(batches, Batch{Shard: sh, Recs: newBatch()})
					}
					err := s.AppendMany(batches).Wait()
					for _, b := range batches {
						if b.Err == nil {
							m.attempt(b.Shard.UID(), b.Recs)
							m.ack(b.Shard.UID(), b.Recs)
						}
					}
					if err != nil {
						return
					}
				}
			})
		}
		time.Sleep(time.Duration(2+rng.IntN(20)) * time.Millisecond)
		acked := m.snapshotAcked()
		crashed := fs.CrashClone()
		close(stop)
		s.Close()
		wg.Wait()

		fs = crashed
		s = mustOpen(t, fs, opts)
		total := 0
		for _, seqs := range acked {
			total += len(seqs)
		}
		t.Logf("round %d: %d acknowledged before the crash", round, total)
		m.verify(t, s, acked, fmt.Sprintf("round %d", round))
		// Restart after restart: a clean close and reopen changes nothing.
		s.Close()
		s = mustOpen(t, fs, opts)
		m.verify(t, s, m.snapshotAcked(), fmt.Sprintf("round %d clean reopen", round))
		s.Close()
	}
}

// crashScenario appends to three shards with tiny segments and
// checkpoints, so that rolls and checkpoints happen, and deletes the third.
func crashScenario(fs vfs.FS, m *model) {
	opts := Options{SegmentMaxBytes: 128, JournalSegmentMaxBytes: 160, CheckpointBytes: 100}
	s, err := Open(fs, "/data", opts)
	if err != nil {
		return
	}
	defer s.Close()
	var shards []*Shard
	for uid := uint64(1); uid <= 3; uid++ {
		sh, err := s.CreateShard(uid)
		if err != nil {
			return
		}
		shards = append(shards, sh)
	}
	for i := 0; i < 12; i++ {
		uid := uint64(1 + i%3)
		if i == 8 {
			if s.DeleteShard(3) != nil {
				return
			}
		}
		if uid == 3 && i >= 8 {
			continue
		}
		batch := []Record{{PartitionKey: "k", Data: fmt.Appendf(nil, "i%02d-a", i)}, {PartitionKey: "k", Data: fmt.Appendf(nil, "i%02d-b", i)}}
		if shards[uid-1].Append(batch).Wait() != nil {
			return
		}
		m.attempt(uid, batch)
		if uid != 3 { // a deleted shard may or may not come back
			m.ack(uid, batch)
		}
	}
}

// TestCrashAtEveryStep crashes before each filesystem operation of a
// scenario (so inside journal and shard-log rolls, checkpoints, shard
// creation and deletion) and checks recovery.
func TestCrashAtEveryStep(t *testing.T) {
	var total atomic.Int64
	crashScenario(vfs.NewErrorFS(vfs.NewMem(), vfs.InjectorFunc(func(vfs.Op) error {
		total.Add(1)
		return nil
	})), newModel())
	t.Logf("%d filesystem operations", total.Load())
	for k := int64(1); k <= total.Load(); k++ {
		mem := vfs.NewMem()
		m := newModel()
		var (
			ops    atomic.Int64
			mu     sync.Mutex
			clone  *vfs.MemFS
			ackedC map[uint64]map[uint64]bool
		)
		crashScenario(vfs.NewErrorFS(mem, vfs.InjectorFunc(func(vfs.Op) error {
			if ops.Add(1) == k {
				mu.Lock()
				ackedC = m.snapshotAcked()
				clone = mem.CrashClone()
				mu.Unlock()
			}
			return nil
		})), m)
		mu.Lock()
		c, acked := clone, ackedC
		mu.Unlock()
		if c == nil {
			continue
		}
		s, err := Open(c, "/data", Options{})
		if err != nil {
			t.Fatalf("crash before op %d: open: %v", k, err)
		}
		m.verify(t, s, acked, fmt.Sprintf("crash before op %d", k))
		s.Close()
	}
}
