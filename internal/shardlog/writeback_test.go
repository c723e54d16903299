package shardlog

import (
	"errors"
	"runtime"
	"testing"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// rangeFile records the writeback ranges started on it.
type rangeFile struct {
	vfs.File
	ranges [][2]int64
	err    error
}

func (f *rangeFile) StartWriteback(off, n int64) error {
	f.ranges = append(f.ranges, [2]int64{off, n})
	return f.err
}

// TestWriteback: a segment file starts writeback of each writebackBytes
// written, in contiguous ranges from where it was opened, restarts after a
// truncation, and stops trying after an error.
func TestWriteback(t *testing.T) {
	defer func(n int64) { writebackBytes = n }(writebackBytes)
	writebackBytes = 100
	mem := vfs.NewMem()
	inner, err := mem.Create("/f")
	if err != nil {
		t.Fatal(err)
	}
	inner.Write(make([]byte, 28)) // a segment header
	rf := &rangeFile{File: inner}
	f := withWriteback(rf, 28)
	for i := 0; i < 10; i++ {
		if _, err := f.Write(make([]byte, 30)); err != nil {
			t.Fatal(err)
		}
	}
	// 28+300 bytes: writeback started at 28+120 and 28+240.
	want := [][2]int64{{28, 120}, {148, 120}}
	if len(rf.ranges) != len(want) || rf.ranges[0] != want[0] || rf.ranges[1] != want[1] {
		t.Fatalf("ranges %v, want %v", rf.ranges, want)
	}
	if err := f.Truncate(200); err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 100))
	if last := rf.ranges[len(rf.ranges)-1]; last != [2]int64{200, 100} {
		t.Fatalf("after truncating to 200 and writing 100: range %v", last)
	}
	rf.err = errors.ErrUnsupported
	f.Write(make([]byte, 100))
	f.Write(make([]byte, 100))
	if len(rf.ranges) != 4 {
		t.Fatalf("%d ranges; want no more after the failed one", len(rf.ranges))
	}
	// A file that cannot start writeback is used as it is.
	if g := withWriteback(inner, 0); g != inner {
		t.Fatal("wrapped a file without writeback")
	}
}

// TestWritebackOS: a log on the real filesystem starts writeback
// (sync_file_range on Linux) as it writes and reads everything back after a
// reopen.
func TestWritebackOS(t *testing.T) {
	defer func(n int64) { writebackBytes = n }(writebackBytes)
	writebackBytes = 512
	dir := t.TempDir() + "/shard"
	for _, wb := range []int{0, 256} {
		opts := Options{SegmentMaxBytes: 8 << 10, WriteBehindBytes: wb}
		l, err := Open(vfs.OS, dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS == "linux" {
			f := l.tail.Load().f
			if wb := l.tail.Load().wb; wb != nil {
				f = wb.f
			}
			if _, ok := f.(*writebackFile); !ok {
				t.Fatalf("write-behind %d: the active segment's file %T starts no writeback", wb, f)
			}
		}
		appendN(t, l, 500, 3)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l, err = Open(vfs.OS, dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := uint64(len(readAll(t, l))), l.Next(); got != want {
			t.Fatalf("read %d records, want %d", got, want)
		}
		l.Close()
	}
}
