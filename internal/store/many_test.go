package store

import (
	"errors"
	"testing"

	"github.com/riffle-streams/riffle/internal/journal"
	"github.com/riffle-streams/riffle/internal/vfs"
)

func TestAppendMany(t *testing.T) {
	fs := vfs.NewMem()
	clk := &fakeClock{}
	clk.ms.Store(1000)
	s := mustOpen(t, fs, Options{Now: clk.Now})
	a, _ := s.CreateShard(1)
	b, _ := s.CreateShard(2)
	c, _ := s.CreateShard(3)
	if err := b.Append(recs("b0")).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteShard(3); err != nil {
		t.Fatal(err)
	}
	changedA, changedB := a.Changed(), b.Changed()
	// Out of uid order on purpose, with a deleted shard among them.
	batches := []Batch{
		{Shard: b, Recs: recs("b1", "b2")},
		{Shard: c, Recs: recs("c0")},
		{Shard: a, Recs: recs("a0")},
	}
	err := s.AppendMany(batches).Wait()
	if !errors.Is(err, ErrShardNotFound) {
		t.Fatalf("Wait = %v, want the deleted shard's ErrShardNotFound", err)
	}
	if batches[0].Err != nil || batches[2].Err != nil || !errors.Is(batches[1].Err, ErrShardNotFound) {
		t.Fatalf("batch errors %v, %v, %v", batches[0].Err, batches[1].Err, batches[2].Err)
	}
	if r := batches[0].Recs; r[0].Seq != 1 || r[1].Seq != 2 || r[0].ArrivalMillis != 1000 {
		t.Fatalf("shard 2 batch assigned %+v", r)
	}
	for _, ch := range []<-chan struct{}{changedA, changedB} {
		select {
		case <-ch:
		default:
			t.Fatal("Changed not closed after AppendMany")
		}
	}
	if got := dataOf(readAll(t, a)); got != "0:a0" {
		t.Fatalf("shard 1: %s", got)
	}
	if got := dataOf(readAll(t, b)); got != "0:b0 1:b1 2:b2" {
		t.Fatalf("shard 2: %s", got)
	}
	// A batch over the journal's entry limit fails alone.
	big := []Batch{{Shard: a, Recs: []Record{{PartitionKey: "k", Data: make([]byte, journal.MaxEntryBytes)}}}, {Shard: b, Recs: recs("b3")}}
	if err := s.AppendMany(big).Wait(); !errors.Is(err, ErrBatchTooLarge) || big[1].Err != nil {
		t.Fatalf("too large: %v (other batch %v)", err, big[1].Err)
	}
	if err := s.AppendMany(nil).Wait(); err != nil {
		t.Fatalf("empty AppendMany: %v", err)
	}
	// Everything acknowledged survives a crash.
	crashed := fs.CrashClone()
	s.Close()
	s = mustOpen(t, crashed, Options{})
	defer s.Close()
	b, _ = s.Shard(2)
	if got := dataOf(readAll(t, b)); got != "0:b0 1:b1 2:b2 3:b3" {
		t.Fatalf("shard 2 after crash: %s", got)
	}
	if err := s.AppendMany([]Batch{{Shard: b, Recs: recs("b4")}}).Wait(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.AppendMany([]Batch{{Shard: b, Recs: recs("late")}}).Wait(); !errors.Is(err, ErrClosed) {
		t.Fatalf("AppendMany after Close: %v", err)
	}
}

// TestAppendManyAfterFsyncError: a failed journal fails every batch, and
// none becomes visible.
func TestAppendManyAfterFsyncError(t *testing.T) {
	bfs := &blockFS{FS: vfs.NewMem()}
	s := mustOpen(t, bfs, Options{})
	a, _ := s.CreateShard(1)
	b, _ := s.CreateShard(2)
	bfs.fail.Store(true)
	batches := []Batch{{Shard: a, Recs: recs("a0")}, {Shard: b, Recs: recs("b0")}}
	if err := s.AppendMany(batches).Wait(); !errors.Is(err, ErrFailed) || !errors.Is(err, errInjected) {
		t.Fatalf("Wait = %v, want ErrFailed", err)
	}
	for i, bt := range batches {
		if !errors.Is(bt.Err, ErrFailed) {
			t.Fatalf("batch %d: %v", i, bt.Err)
		}
	}
	bfs.fail.Store(false)
	if err := s.AppendMany([]Batch{{Shard: a, Recs: recs("later")}}).Wait(); !errors.Is(err, ErrFailed) {
		t.Fatalf("later AppendMany: %v, want ErrFailed", err)
	}
	if got := dataOf(readAll(t, a)) + dataOf(readAll(t, b)); got != "" {
		t.Fatalf("failed records became visible: %s", got)
	}
	s.Close()
}
