package kpl

import (
	"bytes"
	"crypto/md5"
	"errors"
	"reflect"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	in := []Record{
		{PartitionKey: "a", Data: []byte("first")},
		{PartitionKey: "b", ExplicitHashKey: "12345", Data: []byte{}},
		{PartitionKey: "a", Data: []byte("third, ünïcode"), Tags: []Tag{{Key: "k", Value: "v"}}},
	}
	out, err := Deaggregate(Aggregate(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("got %d records, want %d", len(out), len(in))
	}
	for i := range in {
		if out[i].PartitionKey != in[i].PartitionKey || out[i].ExplicitHashKey != in[i].ExplicitHashKey ||
			!bytes.Equal(out[i].Data, in[i].Data) || !reflect.DeepEqual(out[i].Tags, in[i].Tags) {
			t.Errorf("record %d: got %+v, want %+v", i, out[i], in[i])
		}
	}
}

func TestNotAggregated(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("hello"), Magic, append(append([]byte{}, Magic...), make([]byte, 15)...)} {
		if _, err := Deaggregate(data); !errors.Is(err, ErrNotAggregated) {
			t.Errorf("Deaggregate(%q) = %v, want ErrNotAggregated", data, err)
		}
	}
}

func TestCorruptedChecksum(t *testing.T) {
	agg := Aggregate([]Record{{PartitionKey: "k", Data: []byte("payload")}})
	agg[len(Magic)+3] ^= 0x01
	if _, err := Deaggregate(agg); !errors.Is(err, ErrChecksum) {
		t.Fatalf("flipped bit: got %v, want ErrChecksum", err)
	}
}

// withSum frames a hand-written protobuf body with magic and a valid MD5, to
// reach the parser with malformed messages.
func withSum(body []byte) []byte {
	sum := md5.Sum(body)
	return append(append(append([]byte{}, Magic...), body...), sum[:]...)
}

func TestMalformed(t *testing.T) {
	cases := map[string][]byte{
		"index out of range": appendBytesField(appendBytesField(nil, 1, []byte("k")), 3,
			appendBytesField(appendVarintField(nil, 1, 5), 3, []byte("x"))),
		"missing data":     appendBytesField(appendBytesField(nil, 1, []byte("k")), 3, appendVarintField(nil, 1, 0)),
		"truncated length": {0x0A, 0x05, 'a'},
		"group wire type":  {0x0B},
		"field zero":       {0x00, 0x01},
	}
	for name, body := range cases {
		if _, err := Deaggregate(withSum(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func FuzzDeaggregate(f *testing.F) {
	f.Add([]byte("plain"))
	f.Add(Aggregate([]Record{{PartitionKey: "a", Data: []byte("x")}, {PartitionKey: "b", ExplicitHashKey: "1", Data: []byte("y")}}))
	f.Add(withSum([]byte{0x0A, 0x05, 'a'}))
	f.Add(withSum(appendBytesField(nil, 3, []byte{0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01})))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := Deaggregate(data)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode to records that decode the same.
		again, err := Deaggregate(Aggregate(recs))
		if err != nil {
			t.Fatalf("re-aggregated records do not decode: %v", err)
		}
		if len(again) != len(recs) {
			t.Fatalf("re-aggregated %d records, decoded %d", len(recs), len(again))
		}
		for i := range recs {
			if again[i].PartitionKey != recs[i].PartitionKey || !bytes.Equal(again[i].Data, recs[i].Data) {
				t.Fatalf("record %d changed on re-aggregation", i)
			}
		}
	})
}
