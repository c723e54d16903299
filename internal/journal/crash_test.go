package journal

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// crashScenario appends entries "e1".."e<n>" in groups, releasing along the
// way, on fs. It returns the number of entries acknowledged.
func crashScenario(t *testing.T, fs vfs.FS, acked *atomic.Int64) {
	j, err := Open(fs, "/j", Options{SegmentMaxBytes: headerSize + 2*frameSize(3)})
	if err != nil {
		return // a crash point inside Open; the clone is checked anyway
	}
	next := 1
	for g := 0; g < 5; g++ {
		var wg sync.WaitGroup
		for i := 0; i < 3; i++ {
			e := fmt.Sprintf("e%02d", next)
			next++
			wg.Add(1)
			j.Append([]byte(e), func(lsn uint64, err error) {
				if err == nil {
					if want := fmt.Sprintf("e%02d", lsn); want != e {
						t.Errorf("entry %s got lsn %d", e, lsn)
					}
					acked.Add(1)
				}
				wg.Done()
			})
		}
		wg.Wait()
		if g == 2 {
			j.Release(4)
		}
	}
	j.Close()
}

// TestCrashAtEveryStep crashes the journal before each filesystem operation
// of a scenario with rolls and releases, and checks that recovery finds every
// acknowledged entry, in order, and nothing else but a prefix of later ones:
// on a filesystem that appends to new segments, and on one that preallocates
// them.
func TestCrashAtEveryStep(t *testing.T) {
	t.Run("append", func(t *testing.T) { crashAtEveryStep(t, false) })
	t.Run("preallocate", func(t *testing.T) { crashAtEveryStep(t, true) })
}

func crashAtEveryStep(t *testing.T, preallocate bool) {
	newMem := func() (*vfs.MemFS, vfs.FS) {
		m := vfs.NewMem()
		return m, &hookFS{FS: m, truncateAllocates: preallocate}
	}
	// Count the operations of a crash-free run.
	var total, allocs atomic.Int64
	_, inner := newMem()
	counting := vfs.NewErrorFS(inner, vfs.InjectorFunc(func(op vfs.Op) error {
		total.Add(1)
		if op.Kind == vfs.OpAllocate {
			allocs.Add(1)
		}
		return nil
	}))
	var acked atomic.Int64
	crashScenario(t, counting, &acked)
	if acked.Load() != 15 {
		t.Fatalf("crash-free run acknowledged %d of 15", acked.Load())
	}
	if preallocate && allocs.Load() == 0 {
		t.Fatal("no segment was preallocated")
	}
	for k := int64(1); k <= total.Load(); k++ {
		mem, inner := newMem()
		var (
			ops         atomic.Int64
			clone       *vfs.MemFS
			ackedAtCrsh int64
			acked       atomic.Int64
			mu          sync.Mutex
		)
		fs := vfs.NewErrorFS(inner, vfs.InjectorFunc(func(op vfs.Op) error {
			if ops.Add(1) == k {
				mu.Lock()
				clone = mem.CrashClone()
				ackedAtCrsh = acked.Load()
				mu.Unlock()
			}
			return nil
		}))
		crashScenario(t, fs, &acked)
		mu.Lock()
		c, a := clone, ackedAtCrsh
		mu.Unlock()
		if c == nil {
			continue // the scenario took a different path with fewer ops
		}
		j, err := Open(c, "/j", Options{SegmentMaxBytes: headerSize + 2*frameSize(3)})
		if err != nil {
			t.Fatalf("crash before op %d: reopen: %v", k, err)
		}
		var got []uint64
		err = j.Replay(func(lsn uint64, entry []byte) error {
			if want := fmt.Sprintf("e%02d", lsn); string(entry) != want {
				return fmt.Errorf("lsn %d holds %q, want %q", lsn, entry, want)
			}
			if len(got) > 0 && lsn != got[len(got)-1]+1 {
				return fmt.Errorf("lsn %d follows %d", lsn, got[len(got)-1])
			}
			got = append(got, lsn)
			return nil
		})
		if err != nil {
			t.Fatalf("crash before op %d: replay: %v", k, err)
		}
		last := uint64(0)
		if len(got) > 0 {
			last = got[len(got)-1]
			// Release(4) may have removed the first segments, never more.
			if got[0] > 5 {
				t.Fatalf("crash before op %d: replay starts at lsn %d", k, got[0])
			}
		}
		if last < uint64(a) {
			t.Fatalf("crash before op %d: %d entries acknowledged, only %d recovered", k, a, last)
		}
		// The journal keeps working after recovery with the next LSN.
		if lsn, err := appendWait(j, fmt.Sprintf("e%02d", last+1)); err != nil || lsn != last+1 {
			t.Fatalf("crash before op %d: append after recovery: lsn %d err %v", k, lsn, err)
		}
		j.Close()
	}
}
