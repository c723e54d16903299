package shardlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestBatchRoundTrip(t *testing.T) {
	recs := []Record{
		{Seq: 7, ArrivalMillis: 1000, PartitionKey: "a", Data: []byte("x")},
		{Seq: 8, ArrivalMillis: 1000, PartitionKey: "", Data: nil},
		{Seq: 9, ArrivalMillis: 1005, PartitionKey: "long-key", Data: bytes.Repeat([]byte{1}, 300)},
	}
	frame := appendBatch(nil, recs)
	h, got, err := decodeBatch(frame)
	if err != nil {
		t.Fatal(err)
	}
	if h.firstSeq != 7 || h.count != 3 || h.frameLen != int64(len(frame)) || h.lastArrival != 1005 {
		t.Fatalf("header %+v", h)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("decoded %+v", got)
	}
	// Every single-byte change is detected.
	for i := range frame {
		bad := bytes.Clone(frame)
		bad[i] ^= 0x01
		if _, _, err := decodeBatch(bad); !errors.Is(err, errBadFrame) {
			t.Fatalf("flip at %d: err = %v", i, err)
		}
	}
	// A truncated frame is rejected.
	if _, _, err := decodeBatch(frame[:len(frame)-1]); err == nil {
		t.Fatal("truncated frame accepted")
	}
}

func TestSegmentHeader(t *testing.T) {
	h := appendSegmentHeader(nil, 1234, 99)
	if len(h) != segmentHeaderSize {
		t.Fatalf("header is %d bytes", len(h))
	}
	base, prev, err := parseSegmentHeader(h)
	if err != nil || base != 1234 || prev != 99 {
		t.Fatalf("parse = %d %d %v", base, prev, err)
	}
	h[10] ^= 1
	if _, _, err := parseSegmentHeader(h); err == nil {
		t.Fatal("damaged header accepted")
	}
}

// FuzzDecodeBatch checks that the decoder never panics or over-allocates on
// any input, and that whatever it accepts re-encodes to an equal batch.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(appendBatch(nil, []Record{{Seq: 0, ArrivalMillis: 1, PartitionKey: "k", Data: []byte("v")}}))
	f.Add(appendBatch(nil, []Record{{Seq: 1 << 40, ArrivalMillis: -5}, {Seq: 1<<40 + 1, ArrivalMillis: 1 << 50, Data: []byte{0}}}))
	f.Add([]byte{})
	f.Add(binary.LittleEndian.AppendUint32(nil, maxFrameBody+1))
	f.Fuzz(func(t *testing.T, frame []byte) {
		h, recs, err := decodeBatch(frame)
		if err != nil {
			if !errors.Is(err, errBadFrame) {
				t.Fatalf("error does not wrap errBadFrame: %v", err)
			}
			return
		}
		if len(recs) != int(h.count) {
			t.Fatalf("%d records, header says %d", len(recs), h.count)
		}
		again := appendBatch(nil, recs)
		_, recs2, err := decodeBatch(again)
		if err != nil {
			t.Fatalf("re-encoded batch rejected: %v", err)
		}
		if !reflect.DeepEqual(recs, recs2) {
			t.Fatalf("round trip changed records")
		}
	})
}

func TestBatchSizeMatchesAppendBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 200; round++ {
		recs := make([]Record, 1+rng.IntN(20))
		arrival := int64(rng.Uint64N(1 << 42))
		for i := range recs {
			arrival += int64(rng.IntN(3)) << rng.IntN(30)
			recs[i] = Record{Seq: uint64(i), ArrivalMillis: arrival,
				PartitionKey: strings.Repeat("k", rng.IntN(300)), Data: make([]byte, rng.IntN(1<<rng.IntN(16)))}
		}
		if got, want := batchSize(recs), len(appendBatch([]byte("prefix"), recs))-len("prefix"); got != want {
			t.Fatalf("batchSize %d, appendBatch wrote %d", got, want)
		}
	}
}
