package shardlog

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// rec returns the record at seq of the synthetic logs used below: its
// contents derive from seq so any reader can check them.
func rec(seq uint64, ms int64) Record {
	return Record{Seq: seq, ArrivalMillis: ms, PartitionKey: fmt.Sprintf("k%d", seq%7), Data: []byte(fmt.Sprintf("data-%d", seq))}
}

func checkRec(t testing.TB, r Record) {
	t.Helper()
	want := rec(r.Seq, r.ArrivalMillis)
	if r.PartitionKey != want.PartitionKey || !bytes.Equal(r.Data, want.Data) {
		t.Fatalf("record %d = %q %q, want %q %q", r.Seq, r.PartitionKey, r.Data, want.PartitionKey, want.Data)
	}
}

func mustOpen(t testing.TB, fsys vfs.FS, opts Options) *Log {
	t.Helper()
	l, err := Open(fsys, "/s", opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

// appendN appends n records in batches of size batch, arrival = seq/10.
func appendN(t testing.TB, l *Log, n, batch int) {
	t.Helper()
	for i := 0; i < n; i += batch {
		var recs []Record
		for j := i; j < min(n, i+batch); j++ {
			seq := l.Next() + uint64(j-i)
			recs = append(recs, rec(seq, int64(seq/10)))
		}
		if err := l.Append(recs); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
}

// readAll reads everything readable, checking order and contents.
func readAll(t testing.TB, l *Log) []Record {
	t.Helper()
	var out []Record
	from := uint64(0)
	for {
		recs, err := l.Read(from, 100, 0)
		if err != nil {
			t.Fatalf("Read(%d): %v", from, err)
		}
		if len(recs) == 0 {
			return out
		}
		for _, r := range recs {
			if len(out) > 0 && r.Seq != out[len(out)-1].Seq+1 {
				t.Fatalf("gap: %d after %d", r.Seq, out[len(out)-1].Seq)
			}
			checkRec(t, r)
			out = append(out, r)
		}
		from = recs[len(recs)-1].Seq + 1
	}
}

func TestReadAndSeekAgainstModel(t *testing.T) {
	mem := vfs.NewMem()
	l := mustOpen(t, mem, Options{SegmentMaxBytes: 2000, IndexIntervalBytes: 200})
	appendN(t, l, 1000, 3)
	if l.SegmentCount() < 10 {
		t.Fatalf("SegmentCount = %d, want many", l.SegmentCount())
	}
	check := func(l *Log) {
		for _, from := range []uint64{0, 1, 2, 3, 499, 500, 998, 999} {
			recs, err := l.Read(from, 5, 0)
			if err != nil {
				t.Fatal(err)
			}
			if want := min(5, 1000-int(from)); len(recs) != want || recs[0].Seq != from {
				t.Fatalf("Read(%d) = %d records starting %d", from, len(recs), recs[0].Seq)
			}
		}
		for ms := int64(-1); ms <= 101; ms++ {
			want := uint64(max(ms, 0) * 10)
			want = min(want, 1000)
			if got := l.SeekTime(ms); got != want {
				t.Fatalf("SeekTime(%d) = %d, want %d", ms, got, want)
			}
		}
		if got := len(readAll(t, l)); got != 1000 {
			t.Fatalf("read %d records", got)
		}
	}
	check(l)
	// The index rebuilt on open answers the same.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, mem, Options{SegmentMaxBytes: 2000, IndexIntervalBytes: 200})
	check(l)
}

func TestReadByteLimit(t *testing.T) {
	l := mustOpen(t, vfs.NewMem(), Options{})
	big := Record{Seq: 0, ArrivalMillis: 1, PartitionKey: "k", Data: make([]byte, 1000)}
	small := Record{Seq: 1, ArrivalMillis: 1, PartitionKey: "k", Data: make([]byte, 10)}
	if err := l.Append([]Record{big, small}); err != nil {
		t.Fatal(err)
	}
	recs, _ := l.Read(0, 0, 100)
	if len(recs) != 1 || recs[0].Seq != 0 {
		t.Fatalf("oversized first record: got %d records", len(recs))
	}
	recs, _ = l.Read(0, 0, 1012)
	if len(recs) != 2 {
		t.Fatalf("exact fit: got %d records", len(recs))
	}
	recs, _ = l.Read(0, 0, 1011)
	if len(recs) != 1 {
		t.Fatalf("one byte short: got %d records", len(recs))
	}
	// Returned slices are the caller's: changing them changes nothing.
	recs[0].Data[0] = 0xff
	again, _ := l.Read(0, 1, 0)
	if again[0].Data[0] != 0 {
		t.Fatal("Read returned memory shared with the log")
	}
}

// TestCrashDuringRoll crashes the machine before each filesystem operation
// of a roll, and checks that the log reopens with every synced record and a
// consistent state.
func TestCrashDuringRoll(t *testing.T) {
	opts := Options{SegmentMaxBytes: 300}
	for k := 1; ; k++ {
		mem := vfs.NewMem()
		var armed atomic.Bool
		var n atomic.Int64
		var crashed *vfs.MemFS
		inj := vfs.InjectorFunc(func(op vfs.Op) error {
			if armed.Load() && n.Add(1) == int64(k) {
				crashed = mem.CrashClone()
			}
			return nil
		})
		l := mustOpen(t, vfs.NewErrorFS(mem, inj), opts)
		for l.SegmentCount() == 1 {
			appendN(t, l, 1, 1)
		}
		appendN(t, l, 2, 1) // unsynced, in the second segment
		if err := l.Sync(); err != nil {
			t.Fatal(err)
		}
		synced := l.Next()
		appendN(t, l, 1, 1) // unsynced
		segs := l.SegmentCount()
		armed.Store(true)
		for l.SegmentCount() == segs {
			appendN(t, l, 1, 1)
		}
		armed.Store(false)
		if crashed == nil {
			if k < 5 {
				t.Fatalf("a roll took only %d operations", k-1)
			}
			return // crashed after the roll at every step
		}
		l2, err := Open(crashed, "/s", opts)
		if err != nil {
			t.Fatalf("crash before op %d: Open: %v", k, err)
		}
		all := readAll(t, l2)
		if uint64(len(all)) < synced || l2.Next() != uint64(len(all)) || l2.First() != 0 {
			t.Fatalf("crash before op %d: %d records, next %d, synced %d", k, len(all), l2.Next(), synced)
		}
		// The log goes on.
		appendN(t, l2, 3, 1)
		if err := l2.Sync(); err != nil {
			t.Fatal(err)
		}
		if got := len(readAll(t, l2)); got != len(all)+3 {
			t.Fatalf("crash before op %d: after appending, %d records", k, got)
		}
		names, _ := crashed.List("/s")
		for _, name := range names {
			if _, ok := parseSegmentName(name); !ok {
				t.Fatalf("crash before op %d: stray file %s after Open", k, name)
			}
		}
	}
}

// TestTornTailAnyLength cuts the unsynced tail of the last segment at every
// length, as a crash may, and checks the log recovers the longest valid
// prefix.
func TestTornTailAnyLength(t *testing.T) {
	mem := vfs.NewMem()
	l := mustOpen(t, mem, Options{})
	appendN(t, l, 10, 2)
	l.Sync()
	syncedSize := l.SizeBytes()
	appendN(t, l, 6, 3)
	fullSize := l.SizeBytes()
	l.Close()
	for size := syncedSize; size <= fullSize; size++ {
		c := mem.CrashClone()
		f, _ := c.OpenAppend("/s/00000000000000000000.seg")
		f.Truncate(size)
		f.Sync()
		f.Close()
		l2 := mustOpen(t, c, Options{})
		var wantNext uint64
		switch {
		case size == fullSize:
			wantNext = 16
		case size >= syncedSize+(fullSize-syncedSize)/2:
			wantNext = 13
		default:
			wantNext = 10
		}
		if l2.Next() != wantNext || len(readAll(t, l2)) != int(wantNext) {
			t.Fatalf("size %d: next %d, want %d", size, l2.Next(), wantNext)
		}
		if got := l2.Recovered() + l2.SizeBytes(); got != size {
			t.Fatalf("size %d: recovered %d + size %d", size, l2.Recovered(), l2.SizeBytes())
		}
	}
}

func TestFailStopDiskFull(t *testing.T) {
	mem := vfs.NewMem()
	var syncs atomic.Int64
	count := vfs.InjectorFunc(func(op vfs.Op) error {
		if op.Kind == vfs.OpSync {
			syncs.Add(1)
		}
		return nil
	})
	sw := &vfs.Switch{Inner: vfs.DiskFull(200)}
	inj := vfs.InjectorFunc(func(op vfs.Op) error {
		count(op)
		return sw.MaybeError(op)
	})
	l := mustOpen(t, vfs.NewErrorFS(mem, inj), Options{})
	appendN(t, l, 2, 1)
	sw.Enable()
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = l.Append([]Record{rec(l.Next(), 100)})
	}
	if !errors.Is(err, vfs.ErrNoSpace) {
		t.Fatalf("Append = %v, want ErrNoSpace", err)
	}
	next := l.Next()
	sw.Disable()
	before := syncs.Load()
	if err2 := l.Sync(); !errors.Is(err2, vfs.ErrNoSpace) {
		t.Fatalf("Sync after failure = %v", err2)
	}
	if err2 := l.Append([]Record{rec(next, 100)}); !errors.Is(err2, vfs.ErrNoSpace) {
		t.Fatalf("Append after failure = %v", err2)
	}
	if err2 := l.TrimBefore(1000); !errors.Is(err2, vfs.ErrNoSpace) {
		t.Fatalf("TrimBefore after failure = %v", err2)
	}
	if syncs.Load() != before {
		t.Fatal("a failed log still calls fsync")
	}
	if l.Next() != next {
		t.Fatal("failed append advanced Next")
	}
	l.Close()
	l2 := mustOpen(t, mem, Options{})
	if l2.Next() != next {
		t.Fatalf("reopened Next = %d, want %d", l2.Next(), next)
	}
	if err := l2.Append([]Record{rec(next, 100)}); err != nil {
		t.Fatalf("Append after reopen: %v", err)
	}
}

func TestConcurrentReadersAndWriter(t *testing.T) {
	l := mustOpen(t, vfs.NewMem(), Options{SegmentMaxBytes: 4096, IndexIntervalBytes: 256})
	const total = 3000
	var wg sync.WaitGroup
	var done atomic.Bool
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := uint64(0)
			for !done.Load() || from < l.Next() {
				first := l.First()
				recs, err := l.Read(from, 50, 0)
				if err != nil {
					t.Errorf("Read: %v", err)
					return
				}
				for i, r := range recs {
					if r.Seq < from || (i > 0 && r.Seq != recs[i-1].Seq+1) || r.Seq < first {
						t.Errorf("bad seq %d (from %d, first %d)", r.Seq, from, first)
						return
					}
					if want := rec(r.Seq, 0); !bytes.Equal(r.Data, want.Data) {
						t.Errorf("record %d: data %q", r.Seq, r.Data)
						return
					}
				}
				if len(recs) > 0 {
					from = recs[len(recs)-1].Seq + 1
				}
				l.SeekTime(int64(from / 10))
			}
		}()
	}
	for l.Next() < total {
		appendN(t, l, 7, 7)
		if l.Next()%70 == 0 {
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			// Keep the last ~500 records.
			if err := l.TrimBefore(int64(l.Next()/10) - 50); err != nil {
				t.Fatal(err)
			}
		}
	}
	done.Store(true)
	wg.Wait()
	if l.SegmentCount() > 20 {
		t.Fatalf("retention left %d segments", l.SegmentCount())
	}
}

func TestOSFilesystem(t *testing.T) {
	dir := t.TempDir() + "/shard/0"
	l, err := Open(vfs.OS, dir, Options{SegmentMaxBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 100, 4)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = Open(vfs.OS, dir, Options{SegmentMaxBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := len(readAll(t, l)); got != 100 || l.SegmentCount() < 3 {
		t.Fatalf("read %d records from %d segments", got, l.SegmentCount())
	}
	if !errors.Is(l.Append([]Record{rec(5, 100)}), ErrOutOfSequence) {
		t.Fatal("out-of-sequence append accepted")
	}
}

// TestAppendDuringSync: a slow fsync (a checkpoint's, of tens of MiB) does
// not hold up appends to the log; a roll, which must sync and close the
// file being synced, waits for it (the race detector checks that no close
// overlaps the fsync); and every record survives a reopen.
func TestAppendDuringSync(t *testing.T) {
	for _, wb := range []int{0, 1024} {
		t.Run(fmt.Sprintf("write-behind %d", wb), func(t *testing.T) {
			mem := vfs.NewMem()
			var block atomic.Bool
			entered, release := make(chan struct{}), make(chan struct{})
			inj := vfs.InjectorFunc(func(op vfs.Op) error {
				if op.Kind == vfs.OpSync && block.CompareAndSwap(true, false) {
					entered <- struct{}{}
					<-release
				}
				return nil
			})
			l := mustOpen(t, vfs.NewErrorFS(mem, inj), Options{SegmentMaxBytes: 4096, WriteBehindBytes: wb})
			appendN(t, l, 10, 5)
			block.Store(true)
			synced := make(chan error, 1)
			go func() { synced <- l.Sync() }()
			<-entered

			// appendOne may not stop the test (t.Fatal) off its goroutine.
			appendOne := func() {
				if err := l.Append([]Record{rec(l.Next(), int64(l.Next()/10))}); err != nil {
					t.Errorf("Append: %v", err)
				}
			}
			appended := make(chan struct{})
			go func() {
				defer close(appended)
				appendOne() // into the segment being synced
			}()
			select {
			case <-appended:
			case <-time.After(10 * time.Second):
				t.Fatal("Append waited for a Sync in progress")
			}
			rolled := make(chan struct{})
			segs := l.SegmentCount()
			go func() {
				defer close(rolled)
				for l.SegmentCount() == segs && !t.Failed() {
					appendOne()
				}
			}()
			close(release)
			<-rolled
			if err := <-synced; err != nil {
				t.Fatalf("Sync: %v", err)
			}
			next := l.Next()
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l2 := mustOpen(t, mem, Options{})
			defer l2.Close()
			if got := readAll(t, l2); uint64(len(got)) != next {
				t.Fatalf("reopened log holds %d records, want %d", len(got), next)
			}
		})
	}
}

func TestClosed(t *testing.T) {
	for _, discard := range []bool{false, true} {
		l := mustOpen(t, vfs.NewMem(), Options{})
		if discard {
			l.Discard()
		} else {
			l.Close()
		}
		if _, err := l.Read(0, 1, 0); !errors.Is(err, ErrClosed) {
			t.Fatalf("Read after Close (discard %v) = %v", discard, err)
		}
		if err := l.Append([]Record{rec(0, 1)}); !errors.Is(err, ErrClosed) {
			t.Fatalf("Append after Close (discard %v) = %v", discard, err)
		}
	}
}

// TestCreateEmpty: once made durable by the caller, what CreateEmpty wrote
// opens as an empty log, across a crash; until then nothing of it is.
func TestCreateEmpty(t *testing.T) {
	m := vfs.NewMem()
	if err := CreateEmpty(m, "/s"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CrashClone().Stat("/s"); err == nil {
		t.Fatal("CreateEmpty synced something")
	}
	bs, _ := m.OpenBulkSyncer("/")
	if err := bs.Sync(); err != nil {
		t.Fatal(err)
	}
	l := mustOpen(t, m.CrashClone(), Options{})
	defer l.Close()
	if l.Next() != 0 || l.First() != 0 || l.SegmentCount() != 1 || l.Recovered() != 0 {
		t.Fatalf("next %d, first %d, %d segments, %d bytes cut", l.Next(), l.First(), l.SegmentCount(), l.Recovered())
	}
	appendN(t, l, 10, 3)
	if got := len(readAll(t, l)); got != 10 {
		t.Fatalf("read %d records, want 10", got)
	}
}

func TestRandomizedCrashes(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	mem := vfs.NewMem()
	opts := Options{SegmentMaxBytes: 1500, IndexIntervalBytes: 100}
	l := mustOpen(t, mem, opts)
	synced := uint64(0)
	for step := 0; step < 300; step++ {
		switch rng.Intn(10) {
		case 0:
			mem = mem.CrashClone()
			l = mustOpen(t, mem, opts)
			if l.Next() < synced {
				t.Fatalf("step %d: lost synced records: next %d < %d", step, l.Next(), synced)
			}
			readAll(t, l)
		case 1, 2:
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			synced = l.Next()
		case 3:
			if err := l.TrimBefore(int64(l.Next()/10) - 20); err != nil {
				t.Fatal(err)
			}
		default:
			appendN(t, l, 1+rng.Intn(5), 1+rng.Intn(3))
		}
	}
}
