package store

import (
	"bytes"
	"errors"
	"testing"
)

func TestEntryRoundTrip(t *testing.T) {
	in := []Record{
		{Seq: 5, ArrivalMillis: 1700000000000, PartitionKey: "pk", Data: []byte("hello")},
		{Seq: 6, ArrivalMillis: 1700000000001, PartitionKey: "", Data: nil},
		{Seq: 7, ArrivalMillis: -1, PartitionKey: string(bytes.Repeat([]byte("k"), 256)), Data: bytes.Repeat([]byte{0}, 300)},
	}
	b := encodeEntry(nil, 0xfeed, 5, in)
	if len(b) != entrySize(in) {
		t.Fatalf("entrySize %d, encoded %d", entrySize(in), len(b))
	}
	uid, first, out, err := decodeEntry(b)
	if err != nil || uid != 0xfeed || first != 5 || len(out) != 3 {
		t.Fatalf("decode = %x %d %d %v", uid, first, len(out), err)
	}
	for i := range in {
		if out[i].Seq != in[i].Seq || out[i].ArrivalMillis != in[i].ArrivalMillis ||
			out[i].PartitionKey != in[i].PartitionKey || !bytes.Equal(out[i].Data, in[i].Data) {
			t.Fatalf("record %d: %+v, want %+v", i, out[i], in[i])
		}
	}
	for cut := 0; cut < len(b); cut++ {
		if _, _, _, err := decodeEntry(b[:cut]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("decode of %d/%d bytes: %v", cut, len(b), err)
		}
	}
}

// FuzzDecodeEntry checks that the journal entry decoder never panics and that
// what it accepts re-encodes to the same values.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(nil, 1, 0, []Record{{ArrivalMillis: 1, PartitionKey: "a", Data: []byte("b")}}))
	f.Add(encodeEntry(nil, 1<<63, 1<<40, []Record{{}, {Data: []byte("x")}}))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		uid, first, recs, err := decodeEntry(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		// Uvarints may be non-minimal in the input, so compare values.
		uid2, first2, recs2, err := decodeEntry(encodeEntry(nil, uid, first, recs))
		if err != nil || uid2 != uid || first2 != first || len(recs2) != len(recs) {
			t.Fatalf("re-encoding does not decode the same: %v", err)
		}
		for i := range recs {
			if recs2[i].Seq != first+uint64(i) || recs2[i].ArrivalMillis != recs[i].ArrivalMillis ||
				recs2[i].PartitionKey != recs[i].PartitionKey || !bytes.Equal(recs2[i].Data, recs[i].Data) {
				t.Fatalf("record %d differs after re-encoding", i)
			}
		}
	})
}
