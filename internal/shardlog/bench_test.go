package shardlog

import (
	"testing"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// BenchmarkAppend appends batches of 10 records of 100 bytes (no fsync).
func BenchmarkAppend(b *testing.B) {
	for _, fsName := range []string{"mem", "os"} {
		b.Run(fsName, func(b *testing.B) {
			var fsys vfs.FS = vfs.NewMem()
			dir := "/s"
			if fsName == "os" {
				fsys, dir = vfs.OS, b.TempDir()
			}
			l, err := Open(fsys, dir, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			data := make([]byte, 100)
			recs := make([]Record, 10)
			b.SetBytes(int64(len(recs) * len(data)))
			for b.Loop() {
				for i := range recs {
					recs[i] = Record{Seq: l.Next() + uint64(i), ArrivalMillis: 1, PartitionKey: "key", Data: data}
				}
				if err := l.Append(recs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadSequential drains 100,000 small records, 10,000 per Read,
// from single-record batches, the worst case for framing overhead.
func BenchmarkReadSequential(b *testing.B) {
	l, err := Open(vfs.NewMem(), "/s", Options{SegmentMaxBytes: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	const n = 100_000
	for i := 0; i < n; i++ {
		if err := l.Append([]Record{{Seq: uint64(i), ArrivalMillis: 1, PartitionKey: "k", Data: make([]byte, 50)}}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(n * 51)
	for b.Loop() {
		from := uint64(0)
		for from < n {
			recs, err := l.Read(from, 10_000, 0)
			if err != nil || len(recs) == 0 {
				b.Fatalf("Read(%d): %d records, %v", from, len(recs), err)
			}
			from = recs[len(recs)-1].Seq + 1
		}
	}
}
