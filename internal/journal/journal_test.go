package journal

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riffle-streams/riffle/internal/vfs"
)

var errInjected = errors.New("injected")

type replayed struct {
	lsn   uint64
	entry string
}

func replayAll(t *testing.T, j *Journal) []replayed {
	t.Helper()
	var out []replayed
	if err := j.Replay(func(lsn uint64, entry []byte) error {
		out = append(out, replayed{lsn, string(entry)})
		return nil
	}); err != nil {
		t.Fatalf("replay: %v", err)
	}
	return out
}

// appendWait appends entry and waits for its callback.
func appendWait(j *Journal, entry string) (uint64, error) {
	type res struct {
		lsn uint64
		err error
	}
	ch := make(chan res, 1)
	j.Append([]byte(entry), func(lsn uint64, err error) { ch <- res{lsn, err} })
	r := <-ch
	return r.lsn, r.err
}

func mustOpen(t *testing.T, fs vfs.FS, dir string, opts Options) *Journal {
	t.Helper()
	j, err := Open(fs, dir, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return j
}

func TestAppendReopenReplay(t *testing.T) {
	dir := t.TempDir()
	fs := vfs.Default()
	j := mustOpen(t, fs, dir, Options{})
	if got := replayAll(t, j); len(got) != 0 {
		t.Fatalf("fresh journal replayed %v", got)
	}
	for i := 1; i <= 5; i++ {
		lsn, err := appendWait(j, fmt.Sprintf("e%d", i))
		if err != nil || lsn != uint64(i) {
			t.Fatalf("append %d: lsn %d err %v", i, lsn, err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := appendWait(j, "late"); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v, want ErrClosed", err)
	}
	j = mustOpen(t, fs, dir, Options{})
	defer j.Close()
	got := replayAll(t, j)
	if len(got) != 5 {
		t.Fatalf("replayed %d entries, want 5: %v", len(got), got)
	}
	for i, r := range got {
		if r.lsn != uint64(i+1) || r.entry != fmt.Sprintf("e%d", i+1) {
			t.Fatalf("entry %d = %+v", i, r)
		}
	}
	lsn, err := appendWait(j, "e6")
	if err != nil || lsn != 6 {
		t.Fatalf("append after reopen: lsn %d err %v", lsn, err)
	}
	if err := j.Replay(func(uint64, []byte) error { return nil }); !errors.Is(err, ErrReplayAfterAppend) {
		t.Fatalf("replay after append: %v", err)
	}
}

func TestDoneInOrderFromManyGoroutines(t *testing.T) {
	j := mustOpen(t, vfs.Default(), t.TempDir(), Options{})
	defer j.Close()
	var mu sync.Mutex
	var order []uint64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 50; i++ {
				done := make(chan struct{})
				j.Append([]byte("x"), func(lsn uint64, err error) {
					if err != nil {
						t.Errorf("append: %v", err)
					}
					mu.Lock()
					order = append(order, lsn)
					mu.Unlock()
					close(done)
				})
				<-done
			}
		})
	}
	wg.Wait()
	if len(order) != 400 {
		t.Fatalf("%d callbacks, want 400", len(order))
	}
	for i, lsn := range order {
		if lsn != uint64(i+1) {
			t.Fatalf("callback %d had lsn %d: callbacks out of order", i, lsn)
		}
	}
}

// TestGroupCommit shows that N concurrent appenders cost far fewer than N
// fsyncs when each fsync takes a while.
func TestGroupCommit(t *testing.T) {
	h := newHookFS(vfs.Default())
	j := mustOpen(t, h, t.TempDir(), Options{})
	defer j.Close()
	h.setOnSync(func(string) error { time.Sleep(5 * time.Millisecond); return nil })
	before := h.syncs.Load()
	const n = 200
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Go(func() {
			if _, err := appendWait(j, "entry"); err != nil {
				t.Errorf("append: %v", err)
			}
		})
	}
	wg.Wait()
	syncs := h.syncs.Load() - before
	t.Logf("%d appenders, %d fsyncs", n, syncs)
	if syncs > n/5 {
		t.Fatalf("%d fsyncs for %d concurrent appends; group commit is not grouping", syncs, n)
	}
	if st := j.Stats(); st.Fsyncs < uint64(syncs) || st.FsyncTime < time.Duration(syncs)*5*time.Millisecond {
		t.Fatalf("stats %+v do not account for %d slow fsyncs", st, syncs)
	}
}

// TestDoneWaitsForFsync: under Always, no callback runs while the fsync that
// covers its entry is blocked.
func TestDoneWaitsForFsync(t *testing.T) {
	h := newHookFS(vfs.Default())
	j := mustOpen(t, h, t.TempDir(), Options{})
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	h.setOnSync(func(string) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		return nil
	})
	done := make(chan error, 1)
	j.Append([]byte("a"), func(_ uint64, err error) { done <- err })
	<-entered
	select {
	case <-done:
		t.Fatal("done ran before the fsync returned")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.setOnSync(nil)
	j.Close()
}

func TestFailStopOnSyncError(t *testing.T) {
	h := newHookFS(vfs.Default())
	j := mustOpen(t, h, t.TempDir(), Options{})
	defer j.Close()
	if _, err := appendWait(j, "ok"); err != nil {
		t.Fatal(err)
	}
	h.setOnSync(func(string) error { return errInjected })
	before := h.syncs.Load()
	_, err := appendWait(j, "fails")
	if !errors.Is(err, ErrFailed) || !errors.Is(err, errInjected) {
		t.Fatalf("append during failing fsync: %v, want ErrFailed wrapping the cause", err)
	}
	h.setOnSync(nil) // the disk "recovers"; the journal must not
	for i := 0; i < 3; i++ {
		if _, err := appendWait(j, "later"); !errors.Is(err, ErrFailed) || !errors.Is(err, errInjected) {
			t.Fatalf("later append %d: %v, want the kept error", i, err)
		}
	}
	if got := h.syncs.Load() - before; got != 1 {
		t.Fatalf("%d fsyncs after the failure, want exactly 1 (no retry)", got)
	}
	if err := j.Release(100); !errors.Is(err, ErrFailed) {
		t.Fatalf("release after failure: %v", err)
	}
	if err := j.Close(); !errors.Is(err, ErrFailed) {
		t.Fatalf("close after failure: %v", err)
	}
}

func TestFailStopOnWriteError(t *testing.T) {
	h := newHookFS(vfs.Default())
	dir := t.TempDir()
	j := mustOpen(t, h, dir, Options{})
	if _, err := appendWait(j, "ok"); err != nil {
		t.Fatal(err)
	}
	h.setOnWrite(func(string) error { return errInjected })
	// Several appenders at once: every pending one must fail.
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Go(func() {
			if _, err := appendWait(j, "x"); !errors.Is(err, errInjected) {
				t.Errorf("append: %v, want injected error", err)
			}
		})
	}
	wg.Wait()
	h.setOnWrite(nil)
	if _, err := appendWait(j, "later"); !errors.Is(err, ErrFailed) {
		t.Fatalf("later append: %v", err)
	}
	j.Close()
	// Reopening clears the condition; only the durable entry is there.
	j = mustOpen(t, vfs.Default(), dir, Options{})
	defer j.Close()
	if got := replayAll(t, j); len(got) != 1 || got[0].entry != "ok" {
		t.Fatalf("replayed %v, want just ok", got)
	}
}

func TestEntryTooLarge(t *testing.T) {
	j := mustOpen(t, vfs.Default(), t.TempDir(), Options{})
	defer j.Close()
	var got error
	j.Append(make([]byte, MaxEntryBytes+1), func(_ uint64, err error) { got = err })
	if !errors.Is(got, ErrEntryTooLarge) {
		t.Fatalf("got %v, want ErrEntryTooLarge synchronously", got)
	}
	if lsn, err := appendWait(j, "small"); err != nil || lsn != 1 {
		t.Fatalf("append after too-large: lsn %d err %v", lsn, err)
	}
}

// TestAppendMany: the entries get consecutive LSNs and one fsync, done runs
// once with the last LSN, and a too-large entry refuses the whole set.
func TestAppendMany(t *testing.T) {
	h := newHookFS(vfs.Default())
	dir := t.TempDir()
	j := mustOpen(t, h, dir, Options{})
	if _, err := appendWait(j, "first"); err != nil {
		t.Fatal(err)
	}
	var got error
	j.AppendMany([][]byte{[]byte("x"), make([]byte, MaxEntryBytes+1)}, func(_ uint64, err error) { got = err })
	if !errors.Is(got, ErrEntryTooLarge) {
		t.Fatalf("got %v, want ErrEntryTooLarge synchronously", got)
	}
	before := h.syncs.Load()
	calls := make(chan uint64, 4)
	j.AppendMany([][]byte{[]byte("a"), []byte("b"), []byte("c")}, func(lsn uint64, err error) {
		if err != nil {
			t.Errorf("append many: %v", err)
		}
		calls <- lsn
	})
	if lsn := <-calls; lsn != 4 {
		t.Fatalf("done with lsn %d, want 4 (the last of 2, 3, 4)", lsn)
	}
	if n := h.syncs.Load() - before; n != 1 {
		t.Fatalf("%d fsyncs for one AppendMany, want 1", n)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 0 {
		t.Fatalf("done called more than once")
	}
	j = mustOpen(t, vfs.Default(), dir, Options{})
	defer j.Close()
	want := []replayed{{1, "first"}, {2, "a"}, {3, "b"}, {4, "c"}}
	if got := replayAll(t, j); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("replayed %v, want %v", got, want)
	}
}

func TestRollAndRelease(t *testing.T) {
	dir := t.TempDir()
	fs := vfs.Default()
	// 3 frames of 100-byte entries fit in one 400-byte segment.
	opts := Options{SegmentMaxBytes: headerSize + 3*frameSize(100)}
	j := mustOpen(t, fs, dir, opts)
	entry := bytes.Repeat([]byte("z"), 100)
	for i := 0; i < 10; i++ {
		if _, err := appendWait(j, string(entry)); err != nil {
			t.Fatal(err)
		}
	}
	st := j.Stats()
	if st.Segments != 4 {
		t.Fatalf("%d segments, want 4 (3+3+3+1)", st.Segments)
	}
	if want := 4*int64(headerSize) + 10*frameSize(100); st.Bytes != want {
		t.Fatalf("stats bytes %d, want %d", st.Bytes, want)
	}
	// Entries 1..3 are in segment 1; releasing 5 frees only segment 1.
	if err := j.Release(5); err != nil {
		t.Fatal(err)
	}
	if got := j.Stats().Segments; got != 3 {
		t.Fatalf("%d segments after release(5), want 3", got)
	}
	if err := j.Release(6); err != nil {
		t.Fatal(err)
	}
	// Releasing everything never removes the active segment.
	if err := j.Release(1000); err != nil {
		t.Fatal(err)
	}
	if got := j.Stats().Segments; got != 1 {
		t.Fatalf("%d segments after release(all), want 1", got)
	}
	j.Close()
	// Released segments are kept as spares for the next rolls.
	names, _ := fs.List(dir)
	if len(names) < 2 || len(names) > 1+maxSpares || names[0] != segmentName(10) || !strings.HasPrefix(names[len(names)-1], "spare-") {
		t.Fatalf("files %v, want %s and up to %d spares", names, segmentName(10), maxSpares)
	}
	j = mustOpen(t, fs, dir, opts)
	defer j.Close()
	got := replayAll(t, j)
	if len(got) != 1 || got[0].lsn != 10 {
		t.Fatalf("replayed %v, want only lsn 10", got)
	}
	if lsn, _ := appendWait(j, "next"); lsn != 11 {
		t.Fatalf("next lsn %d, want 11", lsn)
	}
}

func TestTornTailIsCut(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, vfs.Default(), dir, Options{})
	for i := 0; i < 3; i++ {
		appendWait(j, fmt.Sprintf("e%d", i+1))
	}
	j.Close()
	name := filepath.Join(dir, segmentName(1))
	full, _ := os.ReadFile(name)
	// A torn write is worth a warning; the padding that every crash leaves
	// after a recycled or preallocated segment's end (old frames, zeros) is
	// not.
	for _, tc := range []struct {
		name string
		tail []byte
		warn bool
	}{
		{"partial header", []byte{9, 0, 0}, true},
		{"partial payload", appendFrame(nil, 4, []byte("e4"))[:frameHeaderSize+1], true},
		{"bad checksum", func() []byte { b := appendFrame(nil, 4, []byte("e4")); b[len(b)-1] ^= 1; return b }(), true},
		{"lsn ahead", appendFrame(nil, 7, []byte("e4")), true},
		{"old frame", appendFrame(nil, 2, []byte("e2")), false},
		{"zeros", make([]byte, 64), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir() // a reopened journal continues in a new segment
			name := filepath.Join(dir, segmentName(1))
			if err := os.WriteFile(name, append(append([]byte(nil), full...), tc.tail...), 0o600); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			j := mustOpen(t, vfs.Default(), dir, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if warned := strings.Contains(logs.String(), "level=WARN"); warned != tc.warn || !strings.Contains(logs.String(), "cutting") {
				t.Errorf("warned %v, want %v; logged:\n%s", warned, tc.warn, logs.String())
			}
			got := replayAll(t, j)
			if len(got) != 3 || got[2].entry != "e3" {
				t.Fatalf("replayed %v", got)
			}
			if lsn, err := appendWait(j, "e4"); err != nil || lsn != 4 {
				t.Fatalf("append after cut: lsn %d err %v", lsn, err)
			}
			j.Close()
			j = mustOpen(t, vfs.Default(), dir, Options{})
			if got := replayAll(t, j); len(got) != 4 || got[3].entry != "e4" {
				t.Fatalf("after append, replayed %v", got)
			}
			j.Close()
		})
	}
}

func TestCorruptionInEarlierSegmentIsAnError(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentMaxBytes: headerSize + 2*frameSize(2)}
	j := mustOpen(t, vfs.Default(), dir, opts)
	for i := 0; i < 5; i++ {
		appendWait(j, fmt.Sprintf("e%d", i+1))
	}
	j.Close()
	name := filepath.Join(dir, segmentName(1))
	b, _ := os.ReadFile(name)
	b[len(b)-1] ^= 0xff // last frame of the first, sealed segment
	os.WriteFile(name, b, 0o600)
	j = mustOpen(t, vfs.Default(), dir, opts)
	defer j.Close()
	err := j.Replay(func(uint64, []byte) error { return nil })
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("replay: %v, want ErrCorrupt", err)
	}

	// A missing middle segment is a hole in the LSN sequence.
	os.WriteFile(name, append(b[:len(b)-1:len(b)-1], b[len(b)-1]^0xff), 0o600)
	os.Remove(filepath.Join(dir, segmentName(3)))
	j2 := mustOpen(t, vfs.Default(), dir, opts)
	defer j2.Close()
	if err := j2.Replay(func(uint64, []byte) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("replay with a missing segment: %v, want ErrCorrupt", err)
	}
}

func TestBadHeaderIsAnError(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, vfs.Default(), dir, Options{})
	appendWait(j, "a")
	j.Close()
	name := filepath.Join(dir, segmentName(1))
	b, _ := os.ReadFile(name)
	b[0] = 'X'
	os.WriteFile(name, b, 0o600)
	if _, err := Open(vfs.Default(), dir, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open: %v, want ErrCorrupt", err)
	}
}

func TestLeftoverTempIsRemoved(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, vfs.Default(), dir, Options{})
	appendWait(j, "a")
	j.Close()
	tmp := path.Join(dir, segmentName(2)+tempSuffix)
	os.WriteFile(tmp, []byte("junk"), 0o600)
	j = mustOpen(t, vfs.Default(), dir, Options{})
	defer j.Close()
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temp file still there: %v", err)
	}
	if got := replayAll(t, j); len(got) != 1 {
		t.Fatalf("replayed %v", got)
	}
}

// TestSparesOutliveOpen: Open keeps up to maxSpares spares, removes every
// other temporary file, and continues in a new segment over a spare; new
// spares are numbered after the kept ones, and later rolls write over them,
// whatever they held.
func TestSparesOutliveOpen(t *testing.T) {
	m := vfs.NewMem()
	opts := Options{SegmentMaxBytes: 100}
	j := mustOpen(t, m, "/j", opts)
	appendWait(j, "a")
	j.Close()
	junk := []string{segmentName(2) + tempSuffix, "spare-x" + tempSuffix}
	for _, name := range append([]string{spareName(3), spareName(9), spareName(4), spareName(5), spareName(6)}, junk...) {
		f, err := m.Create("/j/" + name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(strings.Repeat("stale bytes ", 20)))
		f.Sync()
		f.Close()
	}
	m.SyncDir("/j")
	j = mustOpen(t, m, "/j", opts)
	if !j.padded {
		t.Error("the journal appends to the segment it recovered, though it has spares")
	}
	names, _ := m.List("/j")
	var spares []string
	for _, name := range names {
		if slices.Contains(junk, name) {
			t.Errorf("%s not removed at Open", name)
		}
		if _, ok := parseSpareName(name); ok {
			spares = append(spares, name)
		}
	}
	if len(spares) != maxSpares-1 || fmt.Sprint(spares) != fmt.Sprint(j.spares) {
		t.Fatalf("spares after Open: %v, kept %v; want %d of them, one taken", spares, j.spares, maxSpares-1)
	}
	for _, name := range spares {
		if n, _ := parseSpareName(name); n > j.spareSeq {
			t.Fatalf("%s kept, but new spares are numbered from %d", name, j.spareSeq+1)
		}
	}
	want := []replayed{{1, "a"}}
	if got := replayAll(t, j); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("replayed %v, want %v", got, want)
	}
	for i := 2; i <= 12; i++ { // rolls over every kept spare
		e := fmt.Sprintf("entry-%02d-%s", i, strings.Repeat("x", 20))
		if lsn, err := appendWait(j, e); err != nil || lsn != uint64(i) {
			t.Fatalf("append %d: lsn %d, %v", i, lsn, err)
		}
		want = append(want, replayed{uint64(i), e})
	}
	if err := j.Release(11); err != nil {
		t.Fatal(err)
	}
	j.Close()
	r := mustOpen(t, m.CrashClone(), "/j", opts)
	defer r.Close()
	if got := replayAll(t, r); fmt.Sprint(got) != fmt.Sprint(want[len(want)-len(got):]) || len(got) == 0 {
		t.Fatalf("after reopening: replayed %v, want a suffix of %v", got, want)
	}
}

func TestPolicies(t *testing.T) {
	for _, p := range []FsyncPolicy{Interval, Never} {
		t.Run(p.String(), func(t *testing.T) {
			h := newHookFS(vfs.Default())
			dir := t.TempDir()
			j := mustOpen(t, h, dir, Options{Fsync: p, FsyncInterval: time.Hour})
			before := h.syncs.Load()
			for i := 0; i < 20; i++ {
				if _, err := appendWait(j, "x"); err != nil {
					t.Fatal(err)
				}
			}
			// The first Interval group may sync (no sync yet); after that an
			// hour-long interval means none.
			if got := h.syncs.Load() - before; got > 1 {
				t.Fatalf("%d fsyncs for 20 appends under %v", got, p)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			j = mustOpen(t, vfs.Default(), dir, Options{})
			defer j.Close()
			if got := replayAll(t, j); len(got) != 20 {
				t.Fatalf("replayed %d entries, want 20 (Close flushes)", len(got))
			}
		})
	}
	t.Run("interval ticks", func(t *testing.T) {
		h := newHookFS(vfs.Default())
		j := mustOpen(t, h, t.TempDir(), Options{Fsync: Interval, FsyncInterval: 50 * time.Millisecond})
		defer j.Close()
		appendWait(j, "x") // the first group syncs: none happened yet
		before := h.syncs.Load()
		appendWait(j, "y") // within the interval: written, not synced
		deadline := time.Now().Add(5 * time.Second)
		for h.syncs.Load() == before && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if h.syncs.Load() == before {
			t.Fatal("the ticker never fsynced the dirty segment")
		}
	})
	if _, err := ParseFsyncPolicy("sometimes"); err == nil {
		t.Fatal("ParseFsyncPolicy accepted garbage")
	}
	for _, p := range []FsyncPolicy{Always, Interval, Never} {
		if q, err := ParseFsyncPolicy(p.String()); err != nil || q != p {
			t.Fatalf("round trip of %v: %v %v", p, q, err)
		}
	}
	if err := (Options{Fsync: 7, SegmentMaxBytes: -1}).Validate(); err == nil {
		t.Fatal("Validate accepted a bad policy")
	}
}

func TestBackPressureAndCloseWithQueue(t *testing.T) {
	h := newHookFS(vfs.Default())
	dir := t.TempDir()
	j := mustOpen(t, h, dir, Options{})
	release := make(chan struct{})
	h.setOnSync(func(string) error { <-release; return nil })
	var wg sync.WaitGroup
	var count sync.Map
	for i := 0; i < 50; i++ {
		wg.Go(func() {
			_, err := appendWait(j, "q")
			count.Store(i, err)
		})
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	count.Range(func(_, v any) bool {
		if v != nil {
			t.Errorf("append: %v", v)
		}
		n++
		return true
	})
	j = mustOpen(t, vfs.Default(), dir, Options{})
	defer j.Close()
	if got := replayAll(t, j); len(got) != n || n != 50 {
		t.Fatalf("replayed %d, callbacks %d, want 50", len(got), n)
	}
}

func BenchmarkAppendParallel(b *testing.B) {
	for _, size := range []int{100, 4096} {
		b.Run(fmt.Sprintf("entry=%dB", size), func(b *testing.B) {
			j, err := Open(vfs.Default(), b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			entry := make([]byte, size)
			b.SetBytes(int64(size))
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				ch := make(chan error, 1)
				for pb.Next() {
					j.Append(entry, func(_ uint64, err error) { ch <- err })
					if err := <-ch; err != nil {
						b.Error(err)
						return
					}
				}
			})
			st := j.Stats()
			b.ReportMetric(float64(b.N)/float64(st.Fsyncs), "entries/fsync")
		})
	}
}

// TestPaddedSegments: a released segment is written over by a later one, and
// a new one is preallocated when there is no released one. Neither's padding
// (stale frames, zeros) ever replays, whether the process crashes while the
// padded segment is active (it follows the last frame) or after it was sealed
// short of its padded size (it is cut to its written size first).
func TestPaddedSegments(t *testing.T) {
	t.Run("recycled", func(t *testing.T) { paddedSegments(t, false) })
	t.Run("preallocated", func(t *testing.T) { paddedSegments(t, true) })
}

func paddedSegments(t *testing.T, preallocate bool) {
	m := vfs.NewMem()
	fsys := &hookFS{FS: m, truncateAllocates: preallocate}
	opts := Options{SegmentMaxBytes: 200}
	j := mustOpen(t, fsys, "/j", opts)
	var want []replayed
	put := func(size int) {
		t.Helper()
		e := fmt.Sprintf("e%03d-%s", len(want)+1, strings.Repeat("x", size))
		lsn, err := appendWait(j, e)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, replayed{lsn, e})
	}
	check := func(fsys vfs.FS, when string) {
		t.Helper()
		r := mustOpen(t, fsys, "/j", opts)
		defer r.Close()
		got := replayAll(t, r)
		if len(got) == 0 || fmt.Sprint(got) != fmt.Sprint(want[len(want)-len(got):]) {
			t.Fatalf("%s: replayed %v, want a suffix of %v", when, got, want)
		}
	}
	if preallocate {
		if size, _ := m.Stat("/j/" + segmentName(1)); !j.padded || size.Size() != opts.SegmentMaxBytes {
			t.Fatalf("new segment not preallocated: %d bytes", size.Size())
		}
		put(4)
	} else {
		for i := 0; i < 20; i++ { // several full segments
			put(4)
		}
		if err := j.Release(uint64(len(want)) - 3); err != nil {
			t.Fatal(err)
		}
		if names, _ := m.List("/j"); !slices.Contains(names, spareName(1)) {
			t.Fatalf("no spare after release: %v", names)
		}
		for !j.padded { // until a roll takes the spare
			put(4)
		}
	}
	check(m.CrashClone(), "crash with a padded active segment")
	segs := j.Stats().Segments
	put(150) // does not fit: seals the padded segment well short of its padded size
	if j.Stats().Segments != segs+1 {
		t.Fatal("a large entry did not roll past the padded segment")
	}
	check(m.CrashClone(), "crash after a padded segment was sealed")
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	check(m, "after Close")
}

// TestDiskFullWithPreallocation: on a filesystem that preallocates, a full
// disk fails the appends but not a reopening, which reads what is there and,
// with no spare, continues in the recovered segment; nothing acknowledged is
// lost, and once space returns the journal goes on.
func TestDiskFullWithPreallocation(t *testing.T) {
	m := vfs.NewMem()
	sw := &vfs.Switch{Inner: vfs.DiskFull(0)}
	fsys := vfs.NewErrorFS(&hookFS{FS: m, truncateAllocates: true}, sw)
	opts := Options{SegmentMaxBytes: 200}
	j := mustOpen(t, fsys, "/j", opts)
	var want []replayed
	for i := 1; i <= 5; i++ { // more than one segment
		e := fmt.Sprintf("e%d-%s", i, strings.Repeat("x", 40))
		lsn, err := appendWait(j, e)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, replayed{lsn, e})
	}
	sw.Enable()
	if _, err := appendWait(j, "full"); !errors.Is(err, vfs.ErrNoSpace) {
		t.Fatalf("append on a full disk: %v, want ErrNoSpace", err)
	}
	j.Close()
	check := func(j *Journal, when string) {
		t.Helper()
		if got := replayAll(t, j); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: replayed %v, want %v", when, got, want)
		}
	}
	j = mustOpen(t, fsys, "/j", opts)
	check(j, "reopened on the full disk")
	if j.padded {
		t.Error("reopened on a full disk in a new segment")
	}
	if _, err := appendWait(j, "still full"); !errors.Is(err, vfs.ErrNoSpace) {
		t.Fatalf("append on a full disk after reopening: %v, want ErrNoSpace", err)
	}
	j.Close()
	sw.Disable()
	j = mustOpen(t, fsys, "/j", opts)
	defer j.Close()
	check(j, "reopened after space returned")
	if _, err := appendWait(j, "after"); err != nil {
		t.Fatalf("append after space returned: %v", err)
	}
}
