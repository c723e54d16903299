package store

import (
	"errors"
	"path"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// fullDisk is a filesystem whose disk can be filled and emptied: while full,
// every write, create and truncate fails with vfs.ErrNoSpace.
func fullDisk() (*vfs.ErrorFS, vfs.FS, *vfs.Switch) {
	mem := vfs.NewMem()
	sw := &vfs.Switch{Inner: vfs.DiskFull(0)}
	return vfs.NewErrorFS(mem, sw), mem, sw
}

func TestDiskFullThenReopen(t *testing.T) {
	efs, _, sw := fullDisk()
	s := mustOpen(t, efs, Options{ReopenInterval: -1}) // reopened by hand below
	defer s.Close()
	sh, _ := s.CreateShard(1)
	sh2, _ := s.CreateShard(2)
	if err := sh.Append(recs("a", "b")).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := sh2.Append(recs("x")).Wait(); err != nil {
		t.Fatal(err)
	}

	sw.Enable()
	err := sh.Append(recs("lost")).Wait()
	if !errors.Is(err, ErrFailed) || !IsNoSpace(err) {
		t.Fatalf("append on a full disk: %v, want ErrFailed for lack of space", err)
	}
	if err := sh2.Append(recs("later")).Wait(); !errors.Is(err, ErrFailed) {
		t.Fatalf("later append on a full disk: %v, want ErrFailed", err)
	}
	// Reopening while the disk is still full may succeed (it needs to write
	// nothing unless a torn tail must be cut); the next append fails again.
	if err := s.Reopen(); err != nil && !IsNoSpace(err) {
		t.Fatalf("Reopen while the disk is still full: %v", err)
	}
	if err := sh.Append(recs("still")).Wait(); !errors.Is(err, ErrFailed) || !IsNoSpace(err) {
		t.Fatalf("append after Reopen on a full disk: %v, want ErrFailed for lack of space", err)
	}

	sw.Disable()
	if err := s.Reopen(); err != nil {
		t.Fatalf("Reopen with space again: %v", err)
	}
	if got := dataOf(readAll(t, sh)); got != "0:a 1:b" {
		t.Fatalf("shard 1 after Reopen: %s, want the acknowledged 0:a 1:b", got)
	}
	if err := sh.Append(recs("c")).Wait(); err != nil {
		t.Fatalf("append after Reopen: %v", err)
	}
	if err := sh2.Append(recs("y")).Wait(); err != nil {
		t.Fatalf("append to shard 2 after Reopen: %v", err)
	}
	if got := dataOf(readAll(t, sh)); got != "0:a 1:b 2:c" {
		t.Fatalf("shard 1: %s", got)
	}
	if err := s.Reopen(); err != nil {
		t.Fatalf("Reopen of a healthy store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Everything acknowledged, before and after, survives a restart.
	s2 := mustOpen(t, efs, Options{})
	defer s2.Close()
	for uid, want := range map[uint64]string{1: "0:a 1:b 2:c", 2: "0:x 1:y"} {
		x, ok := s2.Shard(uid)
		if !ok {
			t.Fatalf("shard %d missing after restart", uid)
		}
		if got := dataOf(readAll(t, x)); got != want {
			t.Fatalf("shard %d after restart: %s, want %s", uid, got, want)
		}
	}
}

// TestDiskFullCrashKeepsAcknowledged: a crash while the store is failed
// (only synced bytes survive) still keeps every acknowledged record.
func TestDiskFullCrashKeepsAcknowledged(t *testing.T) {
	mem := vfs.NewMem()
	sw := &vfs.Switch{Inner: vfs.DiskFull(0)}
	s := mustOpen(t, vfs.NewErrorFS(mem, sw), Options{ReopenInterval: -1})
	sh, _ := s.CreateShard(1)
	for _, d := range []string{"a", "b", "c"} {
		if err := sh.Append(recs(d)).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	sw.Enable()
	if err := sh.Append(recs("lost")).Wait(); err == nil {
		t.Fatal("append on a full disk succeeded")
	}
	crashed := mem.CrashClone()
	s.Close()
	s2 := mustOpen(t, crashed, Options{})
	defer s2.Close()
	x, _ := s2.Shard(1)
	if got := dataOf(readAll(t, x)); got != "0:a 1:b 2:c" {
		t.Fatalf("after a crash on a full disk: %s, want 0:a 1:b 2:c", got)
	}
}

// TestDiskFullReopensByItself: with the default options the store retries
// on its own, and writes resume once space returns.
func TestDiskFullReopensByItself(t *testing.T) {
	efs, _, sw := fullDisk()
	s := mustOpen(t, efs, Options{ReopenInterval: 10 * time.Millisecond})
	defer s.Close()
	sh, _ := s.CreateShard(1)
	if err := sh.Append(recs("a")).Wait(); err != nil {
		t.Fatal(err)
	}
	sw.Enable()
	if err := sh.Append(recs("lost")).Wait(); !IsNoSpace(err) {
		t.Fatalf("append on a full disk: %v", err)
	}
	sw.Disable()
	// The store reopens in the background; appends fail until it has.
	for i := 0; ; i++ {
		err := sh.Append(recs("b")).Wait()
		if err == nil {
			break
		}
		if !errors.Is(err, ErrFailed) || i > 10000 {
			t.Fatalf("append after space returned: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := dataOf(readAll(t, sh)); got != "0:a 1:b" {
		t.Fatalf("after resuming: %s, want 0:a 1:b", got)
	}
}

// TestOtherErrorsDoNotReopen: an I/O error other than lack of space keeps
// the store failed (fail-stop) even with automatic reopening on.
func TestOtherErrorsDoNotReopen(t *testing.T) {
	var fail atomic.Bool
	efs := vfs.NewErrorFS(vfs.NewMem(), vfs.InjectorFunc(func(op vfs.Op) error {
		if fail.Load() && op.Kind == vfs.OpWrite && path.Base(path.Dir(op.Path)) == "journal" {
			return vfs.ErrInjected
		}
		return nil
	}))
	s := mustOpen(t, efs, Options{ReopenInterval: time.Millisecond})
	defer s.Close()
	sh, _ := s.CreateShard(1)
	fail.Store(true)
	if err := sh.Append(recs("a")).Wait(); !errors.Is(err, ErrFailed) {
		t.Fatalf("append with a failing write: %v", err)
	}
	fail.Store(false)
	s.mu.Lock()
	reopening := s.reopening
	s.mu.Unlock()
	if reopening {
		t.Fatal("the store reopens itself after an I/O error that is not a lack of space")
	}
	if err := sh.Append(recs("b")).Wait(); !errors.Is(err, ErrFailed) {
		t.Fatalf("append after an I/O error: %v, want ErrFailed", err)
	}
}
