package store

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riffle-streams/riffle/internal/journal"
	"github.com/riffle-streams/riffle/internal/vfs"
)

var errInjected = errors.New("injected")

// fakeClock is a controllable Now.
type fakeClock struct{ ms atomic.Int64 }

func (c *fakeClock) Now() time.Time { return time.UnixMilli(c.ms.Load()) }

func mustOpen(t testing.TB, fs vfs.FS, opts Options) *Store {
	t.Helper()
	s, err := Open(fs, "/data", opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

func recs(data ...string) []Record {
	out := make([]Record, len(data))
	for i, d := range data {
		out[i] = Record{PartitionKey: "pk-" + d, Data: []byte(d)}
	}
	return out
}

func readAll(t testing.TB, sh *Shard) []Record {
	t.Helper()
	var out []Record
	from := uint64(0)
	for {
		rs, err := sh.Read(from, 1000, 1<<20)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if len(rs) == 0 {
			return out
		}
		out = append(out, rs...)
		from = rs[len(rs)-1].Seq + 1
	}
}

func dataOf(rs []Record) string {
	var b bytes.Buffer
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d:%s", r.Seq, r.Data)
	}
	return b.String()
}

func TestAppendReadReopen(t *testing.T) {
	fs := vfs.NewMem()
	clk := &fakeClock{}
	clk.ms.Store(1000)
	s := mustOpen(t, fs, Options{Now: clk.Now})
	if b, err := s.LoadMeta(); b != nil || err != nil {
		t.Fatalf("LoadMeta on a new store = %q, %v", b, err)
	}
	sh, err := s.CreateShard(0xabc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateShard(0xabc); !errors.Is(err, ErrShardExists) {
		t.Fatalf("second CreateShard: %v", err)
	}
	changed := sh.Changed()
	batch := recs("a", "b")
	if err := sh.Append(batch).Wait(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("Changed not closed after an append")
	}
	if batch[0].Seq != 0 || batch[1].Seq != 1 || batch[0].ArrivalMillis != 1000 {
		t.Fatalf("assigned %+v", batch)
	}
	clk.ms.Store(500) // the clock goes back: arrival must not
	b2 := recs("c")
	if err := sh.Append(b2).Wait(); err != nil {
		t.Fatal(err)
	}
	if b2[0].Seq != 2 || b2[0].ArrivalMillis != 1000 {
		t.Fatalf("after clock went back: %+v", b2[0])
	}
	if got := dataOf(readAll(t, sh)); got != "0:a 1:b 2:c" {
		t.Fatalf("read %s", got)
	}
	if sh.Next() != 3 || sh.LastArrivalMillis() != 1000 {
		t.Fatalf("Next %d LastArrival %d", sh.Next(), sh.LastArrivalMillis())
	}
	if err := s.SaveMeta([]byte("meta-v1")); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveMeta([]byte("meta-v2")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sh.Append(recs("late")).Wait(); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}

	s = mustOpen(t, fs, Options{Now: clk.Now})
	defer s.Close()
	if ids := s.ShardIDs(); len(ids) != 1 || ids[0] != 0xabc {
		t.Fatalf("ShardIDs %x", ids)
	}
	if b, err := s.LoadMeta(); string(b) != "meta-v2" || err != nil {
		t.Fatalf("LoadMeta = %q, %v", b, err)
	}
	sh, _ = s.Shard(0xabc)
	if got := dataOf(readAll(t, sh)); got != "0:a 1:b 2:c" {
		t.Fatalf("after reopen read %s", got)
	}
	b3 := recs("d")
	if err := sh.Append(b3).Wait(); err != nil || b3[0].Seq != 3 {
		t.Fatalf("append after reopen: seq %d err %v", b3[0].Seq, err)
	}
	if err := sh.Append(nil).Wait(); err != nil {
		t.Fatalf("empty append: %v", err)
	}
}

func TestCorruptMeta(t *testing.T) {
	fs := vfs.NewMem()
	s := mustOpen(t, fs, Options{})
	s.SaveMeta([]byte("hello"))
	s.Close()
	f, _ := fs.OpenAppend("/data/meta")
	f.Write([]byte("x"))
	f.Close()
	s = mustOpen(t, fs, Options{})
	defer s.Close()
	if _, err := s.LoadMeta(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("LoadMeta of a corrupt file: %v", err)
	}
}

func TestMetaSurvivesCrashAtomically(t *testing.T) {
	fs := vfs.NewMem()
	s := mustOpen(t, fs, Options{})
	s.SaveMeta([]byte("v1"))
	crashed := fs.CrashClone()
	s.Close()
	s = mustOpen(t, crashed, Options{})
	defer s.Close()
	if b, err := s.LoadMeta(); string(b) != "v1" || err != nil {
		t.Fatalf("LoadMeta after crash = %q, %v", b, err)
	}
}

// blockFS blocks or fails Sync of files whose path contains "journal".
type blockFS struct {
	vfs.FS
	block   chan struct{} // nil: don't block
	fail    atomic.Bool
	entered chan struct{}
}

type blockFile struct {
	vfs.File
	b       *blockFS
	journal bool
}

func (b *blockFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return &blockFile{File: f, b: b, journal: path.Base(path.Dir(name)) == "journal"}, nil
}
func (b *blockFS) Create(n string) (vfs.File, error) {
	f, err := b.FS.Create(n)
	return b.wrap(n, f, err)
}
func (b *blockFS) OpenAppend(n string) (vfs.File, error) {
	f, err := b.FS.OpenAppend(n)
	return b.wrap(n, f, err)
}
func (b *blockFS) OpenWrite(n string) (vfs.File, error) {
	f, err := b.FS.OpenWrite(n)
	return b.wrap(n, f, err)
}

func (f *blockFile) Sync() error {
	if f.journal {
		if f.b.fail.Load() {
			return errInjected
		}
		if ch := f.b.block; ch != nil {
			select {
			case f.b.entered <- struct{}{}:
			default:
			}
			<-ch
		}
	}
	return f.File.Sync()
}

// TestAckWaitsForFsync: while the journal fsync is blocked, Ack.Wait does
// not return and the records are not readable.
func TestAckWaitsForFsync(t *testing.T) {
	bfs := &blockFS{FS: vfs.NewMem(), entered: make(chan struct{}, 1)}
	s := mustOpen(t, bfs, Options{})
	defer s.Close()
	sh, _ := s.CreateShard(1)
	bfs.block = make(chan struct{})
	ack := sh.Append(recs("x"))
	<-bfs.entered
	select {
	case <-ack.Done():
		t.Fatal("ack completed while the fsync was blocked")
	case <-time.After(50 * time.Millisecond):
	}
	if rs, _ := sh.Read(0, 10, 1<<20); len(rs) != 0 || sh.Next() != 0 {
		t.Fatalf("records visible before the fsync: %v", rs)
	}
	close(bfs.block)
	if err := ack.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := dataOf(readAll(t, sh)); got != "0:x" {
		t.Fatalf("read %s", got)
	}
}

func TestFsyncErrorFailsEveryLaterAppend(t *testing.T) {
	bfs := &blockFS{FS: vfs.NewMem()}
	s := mustOpen(t, bfs, Options{})
	sh, _ := s.CreateShard(1)
	sh2, _ := s.CreateShard(2)
	if err := sh.Append(recs("ok")).Wait(); err != nil {
		t.Fatal(err)
	}
	bfs.fail.Store(true)
	err := sh.Append(recs("bad")).Wait()
	if !errors.Is(err, ErrFailed) || !errors.Is(err, errInjected) {
		t.Fatalf("append with failing fsync: %v", err)
	}
	bfs.fail.Store(false)
	for _, x := range []*Shard{sh, sh2} {
		if err := x.Append(recs("later")).Wait(); !errors.Is(err, ErrFailed) {
			t.Fatalf("later append: %v, want ErrFailed", err)
		}
	}
	if _, err := s.CreateShard(3); !errors.Is(err, ErrFailed) {
		t.Fatalf("CreateShard after failure: %v", err)
	}
	if got := dataOf(readAll(t, sh)); got != "0:ok" {
		t.Fatalf("failed record became visible: %s", got)
	}
	if err := s.Close(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Close after failure: %v", err)
	}
}

func TestShardLogWriteErrorIsFailStop(t *testing.T) {
	var failShard atomic.Bool
	efs := vfs.NewErrorFS(vfs.NewMem(), vfs.InjectorFunc(func(op vfs.Op) error {
		if op.Kind == vfs.OpWrite && failShard.Load() && path.Base(path.Dir(path.Dir(op.Path))) == "shards" {
			return vfs.ErrInjected
		}
		return nil
	}))
	s := mustOpen(t, efs, Options{})
	defer s.Close()
	sh, _ := s.CreateShard(1)
	failShard.Store(true)
	// Larger than the shard log's write-behind buffer, so that it is written
	// (and fails) at once.
	if err := sh.Append(recs(strings.Repeat("a", 2*shardLogWriteBehindBytes))).Wait(); !errors.Is(err, ErrFailed) || !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("append with failing shard write: %v", err)
	}
	failShard.Store(false)
	if err := sh.Append(recs("b")).Wait(); !errors.Is(err, ErrFailed) {
		t.Fatalf("later append: %v", err)
	}
}

func TestDeleteShard(t *testing.T) {
	fs := vfs.NewMem()
	s := mustOpen(t, fs, Options{})
	a, _ := s.CreateShard(1)
	b, _ := s.CreateShard(2)
	for i := 0; i < 3; i++ {
		if err := a.Append(recs(fmt.Sprint("a", i))).Wait(); err != nil {
			t.Fatal(err)
		}
		if err := b.Append(recs(fmt.Sprint("b", i))).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	changed := a.Changed()
	if err := s.DeleteShard(1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("Changed not closed on delete")
	}
	if err := s.DeleteShard(1); !errors.Is(err, ErrShardNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := a.Append(recs("x")).Wait(); !errors.Is(err, ErrShardNotFound) {
		t.Fatalf("append to deleted shard: %v", err)
	}
	if _, err := a.Read(0, 10, 100); !errors.Is(err, ErrShardNotFound) {
		t.Fatalf("read of deleted shard: %v", err)
	}
	if _, ok := s.Shard(1); ok {
		t.Fatal("deleted shard still listed")
	}
	// The journal still holds entries for shard 1; after a crash they are
	// ignored and shard 2 is intact.
	crashed := fs.CrashClone()
	s.Close()
	s = mustOpen(t, crashed, Options{})
	defer s.Close()
	if ids := s.ShardIDs(); len(ids) != 1 || ids[0] != 2 {
		t.Fatalf("ShardIDs after crash %v", ids)
	}
	b, _ = s.Shard(2)
	if got := dataOf(readAll(t, b)); got != "0:b0 1:b1 2:b2" {
		t.Fatalf("shard 2 after crash: %s", got)
	}
}

func TestRetention(t *testing.T) {
	clk := &fakeClock{}
	s := mustOpen(t, vfs.NewMem(), Options{Now: clk.Now, SegmentMaxBytes: 200})
	defer s.Close()
	sh, _ := s.CreateShard(7)
	for i := 0; i < 20; i++ {
		clk.ms.Store(int64(i) * 1000)
		if err := sh.Append(recs(fmt.Sprintf("r%02d", i))).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if got := sh.SeekTime(10_000); got != 10 {
		t.Fatalf("SeekTime(10s) = %d", got)
	}
	if err := sh.TrimBefore(10_000); err != nil {
		t.Fatal(err)
	}
	if sh.First() != 10 || sh.Next() != 20 {
		t.Fatalf("after trim First %d Next %d", sh.First(), sh.Next())
	}
	rs := readAll(t, sh)
	if len(rs) != 10 || rs[0].Seq != 10 || string(rs[0].Data) != "r10" {
		t.Fatalf("after trim read %s", dataOf(rs))
	}
}

// TestGapIsAnError: if a shard log lost records whose journal entries were
// released, recovery fails with ErrGap instead of skipping.
func TestGapIsAnError(t *testing.T) {
	fs := vfs.NewMem()
	// One entry per journal segment, so that checkpoints release them.
	opts := Options{JournalSegmentMaxBytes: 1}
	s := mustOpen(t, fs, opts)
	sh, _ := s.CreateShard(1)
	for i := 0; i < 4; i++ {
		if err := sh.Append(recs(fmt.Sprint(i))).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// Lose the shard log's data (as a broken disk would), keep its dir.
	dir := "/data/shards/" + shardName(1)
	names, _ := fs.List(dir)
	for _, n := range names {
		fs.Remove(path.Join(dir, n))
	}
	if _, err := Open(fs, "/data", opts); !errors.Is(err, ErrGap) {
		t.Fatalf("open: %v, want ErrGap", err)
	}
}

func TestCheckpointReleasesJournal(t *testing.T) {
	fs := vfs.NewMem()
	s := mustOpen(t, fs, Options{JournalSegmentMaxBytes: 256, CheckpointBytes: 512})
	defer s.Close()
	sh, _ := s.CreateShard(1)
	data := string(bytes.Repeat([]byte("d"), 100))
	for i := 0; i < 100; i++ {
		if err := sh.Append(recs(data)).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	// Checkpoints run in the background and may still be catching up with
	// the last appends: wait until they settle.
	deadline := time.Now().Add(5 * time.Second)
	for st := s.Stats(); (st.Checkpoints < 3 || st.JournalBytes > 4096) && time.Now().Before(deadline); st = s.Stats() {
		time.Sleep(time.Millisecond)
	}
	st := s.Stats()
	if st.Checkpoints < 3 || st.JournalBytes > 4096 || st.Shards != 1 || st.Fsyncs == 0 {
		t.Fatalf("stats %+v: checkpoints should keep the journal small", st)
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := Open(vfs.NewMem(), "/d", Options{CheckpointBytes: -1, Fsync: journal.FsyncPolicy(9)}); err == nil {
		t.Fatal("Open accepted bad options")
	}
}

func benchAppend(b *testing.B, shards int) {
	// The real filesystem, so that fsync costs what it costs.
	s, err := Open(vfs.Default(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var all []*Shard
	for i := 0; i < shards; i++ {
		sh, err := s.CreateShard(uint64(i))
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, sh)
	}
	data := bytes.Repeat([]byte("x"), 100)
	var next atomic.Int64
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N / 4
	for g := 0; g < 4; g++ {
		n := per
		if g == 0 {
			n += b.N % 4
		}
		wg.Go(func() {
			for i := 0; i < n; i++ {
				sh := all[int(next.Add(1))%len(all)]
				if err := sh.Append([]Record{{PartitionKey: "k", Data: data}}).Wait(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	st := s.Stats()
	if st.Fsyncs > 0 {
		b.ReportMetric(float64(b.N)/float64(st.Fsyncs), "appends/fsync")
	}
}

// BenchmarkAppendWait4Shards: Append+Wait from 4 goroutines on 4 shards.
func BenchmarkAppendWait4Shards(b *testing.B) { benchAppend(b, 4) }

// BenchmarkAppendWait1000Shards: Append+Wait from 4 goroutines spread over
// 1,000 shards.
func BenchmarkAppendWait1000Shards(b *testing.B) { benchAppend(b, 1000) }
