package engine

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func putBatch(t *testing.T, e *Engine, stream string, n, size int) *PutRecordsOutput {
	t.Helper()
	in := &PutRecordsInput{StreamRef: StreamRef{StreamName: stream}}
	for i := 0; i < n; i++ {
		in.Records = append(in.Records, PutRecordsRequestEntry{Data: bytes.Repeat([]byte{'x'}, size), PartitionKey: "k"})
	}
	return must[*PutRecordsOutput](t)(e.PutRecords(ctx, in))
}

// checkPartial checks a PutRecords result: the first ok entries written, the
// rest refused for throughput with AWS's message, and FailedRecordCount.
func checkPartial(t *testing.T, out *PutRecordsOutput, ok int) {
	t.Helper()
	if out.FailedRecordCount != len(out.Records)-ok {
		t.Fatalf("FailedRecordCount %d, want %d", out.FailedRecordCount, len(out.Records)-ok)
	}
	for i, r := range out.Records {
		if i < ok {
			if r.ErrorCode != "" || r.SequenceNumber == "" || r.ShardId != "shardId-000000000000" {
				t.Fatalf("entry %d: want written, got %+v", i, r)
			}
			continue
		}
		want := "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000."
		if r.ErrorCode != "ProvisionedThroughputExceededException" || r.ErrorMessage != want || r.SequenceNumber != "" || r.ShardId != "" {
			t.Fatalf("entry %d: want throttled, got %+v", i, r)
		}
	}
}

func TestWriteLimits(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 1)
		// Off by default: anything goes.
		for i := 0; i < 3; i++ {
			checkPartial(t, putBatch(t, v.e, "s", 500, 1), 500)
		}
		v.e.SetEnforceLimits(true)
		// 1,000 records a second: two batches pass, the third is refused.
		checkPartial(t, putBatch(t, v.e, "s", 500, 1), 500)
		checkPartial(t, putBatch(t, v.e, "s", 500, 1), 500)
		checkPartial(t, putBatch(t, v.e, "s", 500, 1), 0)
		_, err := v.e.PutRecord(ctx, &PutRecordInput{StreamRef: StreamRef{StreamName: "s"}, PartitionKey: "k", Data: []byte("x")})
		wantKind(t, err, KindProvisionedThroughputExceeded, "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000.")
		// Half a second refills half the budget.
		v.clock.Advance(500 * time.Millisecond)
		checkPartial(t, putBatch(t, v.e, "s", 501, 1), 500)

		// 1 MiB a second: of 500 records of 4 KiB and a 1-byte key, 255 fit.
		v.clock.Advance(time.Second)
		checkPartial(t, putBatch(t, v.e, "s", 500, 4096), 255)

		// Turned off at run time, it stops at once.
		v.e.SetEnforceLimits(false)
		checkPartial(t, putBatch(t, v.e, "s", 500, 4096), 500)
	})
}

func getRecords(e *Engine, it string) (*GetRecordsOutput, error) {
	return e.GetRecords(ctx, &GetRecordsInput{ShardIterator: it})
}

func TestReadLimits(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 1)
		// 10 records of 1,000 KiB, written with limits off.
		for i := 0; i < 2; i++ {
			putBatch(t, v.e, "s", 5, 1000<<10)
		}
		it := must[*GetShardIteratorOutput](t)(v.e.GetShardIterator(ctx, &GetShardIteratorInput{StreamRef: StreamRef{StreamName: "s"},
			ShardId: "shardId-000000000000", ShardIteratorType: IteratorLatest})).ShardIterator
		v.e.SetEnforceLimits(true)
		// Five calls a second.
		for i := 0; i < 5; i++ {
			if _, err := getRecords(v.e, it); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		_, err := getRecords(v.e, it)
		wantKind(t, err, KindProvisionedThroughputExceeded, "Rate exceeded for Shard - 000000000000/s/shardId-000000000000")
		v.clock.Advance(200 * time.Millisecond)
		must[*GetRecordsOutput](t)(getRecords(v.e, it))

		// A call returning 10 MiB: the shard's reads are refused for 5 s.
		v.clock.Advance(time.Second)
		it = must[*GetShardIteratorOutput](t)(v.e.GetShardIterator(ctx, &GetShardIteratorInput{StreamRef: StreamRef{StreamName: "s"},
			ShardId: "shardId-000000000000", ShardIteratorType: IteratorTrimHorizon})).ShardIterator
		out := must[*GetRecordsOutput](t)(getRecords(v.e, it))
		if len(out.Records) != 10 {
			t.Fatalf("read %d records, want 10", len(out.Records))
		}
		start := v.clock.Now()
		for _, at := range []time.Duration{time.Second, 3 * time.Second, 4800 * time.Millisecond} {
			v.clock.Advance(start.Add(at).Sub(v.clock.Now()))
			_, err := getRecords(v.e, out.NextShardIterator)
			wantKind(t, err, KindProvisionedThroughputExceeded, "Rate exceeded for Shard")
		}
		v.clock.Advance(start.Add(5 * time.Second).Sub(v.clock.Now()))
		must[*GetRecordsOutput](t)(getRecords(v.e, out.NextShardIterator))
	})
}

func TestControlPlaneRates(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		v.e.SetEnforceLimits(true)
		// CreateStream: 5 a second per account, named by stream.
		for i := 0; i < 5; i++ {
			create(t, v.e, fmt.Sprintf("s%d", i), 1)
		}
		one := 1
		err := v.e.CreateStream(ctx, &CreateStreamInput{StreamName: "s5", ShardCount: &one})
		wantKind(t, err, KindLimitExceeded, "Rate exceeded for stream s5 under account 000000000000.")
		// ListStreams: 5 a second per account, which no stream names.
		for i := 0; i < 5; i++ {
			must[*ListStreamsOutput](t)(v.e.ListStreams(ctx, &ListStreamsInput{}))
		}
		_, err = v.e.ListStreams(ctx, &ListStreamsInput{})
		wantKind(t, err, KindLimitExceeded, "Rate exceeded for account 000000000000.")
		// ListShards: 1,000 a second per stream; another stream has its own.
		for i := 0; i < 1000; i++ {
			must[*ListShardsOutput](t)(v.e.ListShards(ctx, &ListShardsInput{StreamRef: StreamRef{StreamName: "s0"}}))
		}
		_, err = v.e.ListShards(ctx, &ListShardsInput{StreamRef: StreamRef{StreamName: "s0"}})
		wantKind(t, err, KindLimitExceeded, "Rate exceeded for stream s0 under account 000000000000.")
		must[*ListShardsOutput](t)(v.e.ListShards(ctx, &ListShardsInput{StreamRef: StreamRef{StreamName: "s1"}}))
		// A second later, all is well again.
		v.clock.Advance(time.Second)
		create(t, v.e, "s5", 1)
		must[*ListStreamsOutput](t)(v.e.ListStreams(ctx, &ListStreamsInput{}))
		must[*ListShardsOutput](t)(v.e.ListShards(ctx, &ListShardsInput{StreamRef: StreamRef{StreamName: "s0"}}))
		// GetShardIterator: 5 a second per shard.
		in := &GetShardIteratorInput{StreamRef: StreamRef{StreamName: "s0"}, ShardId: "shardId-000000000000", ShardIteratorType: IteratorLatest}
		for i := 0; i < 5; i++ {
			must[*GetShardIteratorOutput](t)(v.e.GetShardIterator(ctx, in))
		}
		_, err = v.e.GetShardIterator(ctx, in)
		wantKind(t, err, KindProvisionedThroughputExceeded, "Rate exceeded for shard shardId-000000000000 in stream s0 under account 000000000000.")
	})
}

// throttleRecorder is an Observer that keeps the refusals it sees.
type throttleRecorder struct {
	recorder
	mu        sync.Mutex
	throttles []Throttle
}

func (r *throttleRecorder) Throttled(t Throttle) {
	r.mu.Lock()
	r.throttles = append(r.throttles, t)
	r.mu.Unlock()
}

func TestThrottlesReachObserver(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		rec := &throttleRecorder{}
		v.cfg.Observer = rec
		v.restart()
		create(t, v.e, "s", 1)
		v.e.SetEnforceLimits(true)
		putBatch(t, v.e, "s", 500, 1)
		putBatch(t, v.e, "s", 500, 1)
		checkPartial(t, putBatch(t, v.e, "s", 500, 1), 0)
		v.e.PutRecord(ctx, &PutRecordInput{StreamRef: StreamRef{StreamName: "s"}, PartitionKey: "k", Data: []byte("x")})
		want := []Throttle{
			{StreamLabel: StreamLabel{Account: "000000000000", Region: "us-east-1", Stream: "s"}, ShardID: "shardId-000000000000", Op: "PutRecords", Records: 500},
			{StreamLabel: StreamLabel{Account: "000000000000", Region: "us-east-1", Stream: "s"}, ShardID: "shardId-000000000000", Op: "PutRecord", Records: 1},
		}
		if fmt.Sprint(rec.throttles) != fmt.Sprint(want) {
			t.Fatalf("observed %+v, want %+v", rec.throttles, want)
		}
	})
}

func TestFaults(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 1)
		put := func() error {
			_, err := v.e.PutRecord(ctx, &PutRecordInput{StreamRef: StreamRef{StreamName: "s"}, PartitionKey: "k", Data: []byte("x")})
			return err
		}
		if err := v.e.SetFaults(Faults{Rate: 1, Types: []string{FaultInternal}}); err != nil {
			t.Fatal(err)
		}
		wantKind(t, put(), KindInternal, "Internal service failure.")
		out := putBatch(t, v.e, "s", 3, 1)
		if out.FailedRecordCount != 3 {
			t.Fatalf("FailedRecordCount %d, want 3", out.FailedRecordCount)
		}
		for _, r := range out.Records {
			if r.ErrorCode != "InternalFailure" || r.ErrorMessage != "Internal service failure." {
				t.Fatalf("entry %+v, want InternalFailure", r)
			}
		}
		_, err := v.e.GetShardIterator(ctx, &GetShardIteratorInput{StreamRef: StreamRef{StreamName: "s"}, ShardId: "shardId-000000000000", ShardIteratorType: IteratorLatest})
		wantKind(t, err, KindInternal, "")

		must[any](t)(nil, v.e.SetFaults(Faults{Rate: 1, Types: []string{FaultThroughput}}))
		wantKind(t, put(), KindProvisionedThroughputExceeded, "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000.")
		checkPartial(t, putBatch(t, v.e, "s", 3, 1), 0)

		// Rate 0 turns them off; nothing faulted was written.
		must[any](t)(nil, v.e.SetFaults(Faults{}))
		if err := put(); err != nil {
			t.Fatal(err)
		}
		it := must[*GetShardIteratorOutput](t)(v.e.GetShardIterator(ctx, &GetShardIteratorInput{StreamRef: StreamRef{StreamName: "s"},
			ShardId: "shardId-000000000000", ShardIteratorType: IteratorTrimHorizon})).ShardIterator
		if got := must[*GetRecordsOutput](t)(getRecords(v.e, it)).Records; len(got) != 1 {
			t.Fatalf("stream holds %d records, want only the one put without faults", len(got))
		}
		if f := v.e.Faults(); f.Rate != 0 || len(f.Types) != 2 {
			t.Fatalf("Faults() = %+v", f)
		}

		err = v.e.SetFaults(Faults{Rate: 1.5, Types: []string{"Boom"}})
		if err == nil || !strings.Contains(err.Error(), "from 0 to 1") || !strings.Contains(err.Error(), `"Boom"`) {
			t.Fatalf("SetFaults with a bad rate and type: %v", err)
		}
	})
}
