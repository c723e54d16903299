package api

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/riffle-streams/riffle/internal/engine"
	"github.com/riffle-streams/riffle/internal/journal"
	"github.com/riffle-streams/riffle/internal/store"
	"github.com/riffle-streams/riffle/internal/vfs"
)

// putRecordsBody is a PutRecords request of n records of size bytes, with
// partition keys pk-<first>, pk-<first+1>, ...
func putRecordsBody(stream string, first, n, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"StreamName":%q,"Records":[`, stream)
	data := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), size))
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"Data":%q,"PartitionKey":"pk-%d"}`, data, first+i)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// BenchmarkPutRecords measures the whole server path of a 500 x 100 B
// PutRecords on a disk store with fsync: decode, validation, routing,
// group commit, response encoding; on 4 shards, and on 10,000 shards over
// which every call spreads its records.
func BenchmarkPutRecords(b *testing.B) {
	b.Run("shards=4", func(b *testing.B) { benchmarkPutRecords(b, 4) })
	b.Run("shards=10000", func(b *testing.B) { benchmarkPutRecords(b, 10000) })
}

// benchHandler is a handler on a disk store with the given fsync policy,
// with a stream "s" of the given shards; it is closed when b ends.
func benchHandler(b *testing.B, fsync journal.FsyncPolicy, shards int) http.Handler {
	st, err := store.Open(vfs.Default(), b.TempDir(), store.Options{Fsync: fsync})
	if err != nil {
		b.Fatal(err)
	}
	cfg := engine.DefaultConfig()
	cfg.ShardLimit = shards
	eng, err := engine.Open(cfg, st)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		eng.Close()
		st.Close()
	})
	h := New(eng, Options{})
	call(b, h, "CreateStream", []byte(fmt.Sprintf(`{"StreamName":"s","ShardCount":%d}`, shards)), true)
	return h
}

// serveBench serves one request of op for a benchmark.
func serveBench(b *testing.B, h http.Handler, op string, body []byte) {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
}

// BenchmarkPutRecord measures one producer's PutRecord of 100 B, call after
// call, on 4 shards: with fsync, ns/op is the server's share of a call's
// latency; without, its CPU cost.
func BenchmarkPutRecord(b *testing.B) {
	for _, fsync := range []journal.FsyncPolicy{journal.Always, journal.Never} {
		b.Run("fsync="+fsync.String(), func(b *testing.B) {
			h := benchHandler(b, fsync, 4)
			data := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 100))
			bodies := make([][]byte, 64)
			for i := range bodies {
				bodies[i] = fmt.Appendf(nil, `{"StreamName":"s","Data":%q,"PartitionKey":"pk-%d"}`, data, i)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				serveBench(b, h, "PutRecord", bodies[i%len(bodies)])
			}
		})
	}
}

func benchmarkPutRecords(b *testing.B, shards int) {
	h := benchHandler(b, journal.Always, shards)
	// Calls with keys of their own, as a producer's are: with the same keys
	// each call wrote to the same shards, whose state stayed in the cache.
	bodies := make([][]byte, 64)
	for i := range bodies {
		bodies[i] = putRecordsBody("s", i*500, 500, 100)
	}
	var calls atomic.Int64
	b.ResetTimer()
	b.SetBytes(int64(len(bodies[0])))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serveBench(b, h, "PutRecords", bodies[calls.Add(1)%int64(len(bodies))])
		}
	})
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkGetRecords measures draining a shard: GetRecords calls of 10,000
// records of 100 B, each followed by its NextShardIterator.
func BenchmarkGetRecords(b *testing.B) {
	st, err := store.Open(vfs.Default(), b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	eng, err := engine.Open(engine.DefaultConfig(), st)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	defer eng.Close()
	h := New(eng, Options{})
	call(b, h, "CreateStream", []byte(`{"StreamName":"s","ShardCount":1}`), true)
	body := putRecordsBody("s", 0, 500, 100)
	for i := 0; i < 200; i++ { // 100,000 records
		call(b, h, "PutRecords", body, true)
	}
	_, it, _ := call(b, h, "GetShardIterator", []byte(`{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}`), true)
	first := it["ShardIterator"].(string)
	iter := first
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(`{"ShardIterator":"`+iter+`","Limit":10000}`)))
		req.Header.Set("X-Amz-Target", targetPrefix+"GetRecords")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		// Only the server is measured: find the iterator and count the
		// records without decoding the response.
		body := rec.Body.Bytes()
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
		records := bytes.Count(body, []byte(`"SequenceNumber"`))
		n += records
		const key = `"NextShardIterator":"`
		i := bytes.Index(body, []byte(key)) + len(key)
		iter = string(body[i : i+bytes.IndexByte(body[i:], '"')])
		if records == 0 {
			iter = first
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
