package shardlog

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// TestWriteBehindReadsLikeAPlainLog appends the same batches to a plain log
// and to one with a write-behind buffer and checks that every read answers
// the same, whatever part of the data still sits in the buffer; then that a
// Sync makes it all survive a crash, and that a crash with buffered data loses
// at most the unsynced tail.
func TestWriteBehindReadsLikeAPlainLog(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	plainFS, wbFS := vfs.NewMem(), vfs.NewMem()
	opts := Options{SegmentMaxBytes: 16 << 10, IndexIntervalBytes: 512}
	plain := mustOpen(t, plainFS, opts)
	opts.WriteBehindBytes = 1000
	wb := mustOpen(t, wbFS, opts)
	var seq uint64
	for i := 0; i < 300; i++ {
		var recs []Record
		for j := rng.Intn(5); j >= 0; j-- {
			recs = append(recs, Record{Seq: seq, ArrivalMillis: int64(1000 + i), PartitionKey: fmt.Sprint("k", j),
				Data: make([]byte, rng.Intn(400))})
			rng.Read(recs[len(recs)-1].Data)
			seq++
		}
		for _, l := range []*Log{plain, wb} {
			if err := l.Append(recs); err != nil {
				t.Fatal(err)
			}
		}
		from := uint64(rng.Int63n(int64(seq)))
		n := 1 + rng.Intn(20)
		a, errA := plain.Read(from, n, 1<<20)
		b, errB := wb.Read(from, n, 1<<20)
		if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("append %d, read %d..+%d: plain %d records (%v), write-behind %d (%v)", i, from, n, len(a), errA, len(b), errB)
		}
		if ts := int64(1000 + i/2); plain.SeekTime(ts) != wb.SeekTime(ts) {
			t.Fatalf("SeekTime differs after append %d", i)
		}
		if c := cap(wb.segs[len(wb.segs)-1].f.(*writeBehind).buf); c > opts.WriteBehindBytes {
			t.Fatalf("write-behind buffer grew to %d bytes, limit %d", c, opts.WriteBehindBytes)
		}
	}
	if err := wb.Sync(); err != nil {
		t.Fatal(err)
	}
	crashed := mustOpen(t, wbFS.CrashClone(), opts)
	all, err := crashed.Read(0, int(seq), 1<<30)
	want, _ := plain.Read(0, int(seq), 1<<30)
	if err != nil || !reflect.DeepEqual(all, want) {
		t.Fatalf("after Sync and a crash: %d records (%v), want %d", len(all), err, len(want))
	}
	if err := wb.Append([]Record{{Seq: seq, ArrivalMillis: 5000, PartitionKey: "p", Data: []byte("late")}}); err != nil {
		t.Fatal(err)
	}
	if next := mustOpen(t, wbFS.CrashClone(), opts).Next(); next != seq {
		t.Fatalf("after a crash with only buffered data since the Sync: Next %d, want %d", next, seq)
	}
}
