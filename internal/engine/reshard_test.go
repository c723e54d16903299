package engine

import (
	"fmt"
	"math/big"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riffle-streams/riffle/internal/vfs"
)

func describe(t *testing.T, e *Engine, name string) StreamDescription {
	t.Helper()
	return must[*DescribeStreamOutput](t)(e.DescribeStream(ctx, &DescribeStreamInput{StreamRef: StreamRef{StreamName: name}, Limit: ptr(10000)})).StreamDescription
}

func openShards(d StreamDescription) []Shard {
	var out []Shard
	for _, sh := range d.Shards {
		if sh.SequenceNumberRange.EndingSequenceNumber == "" {
			out = append(out, sh)
		}
	}
	return out
}

func TestSplitAndMerge(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 2)
		ref := StreamRef{StreamName: "s"}
		put := func(pk string) *PutRecordOutput {
			return must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: pk, Data: []byte(pk)}))
		}
		// A key routed to shard 0 before the split.
		var before *PutRecordOutput
		for i := 0; before == nil || before.ShardId != "shardId-000000000000"; i++ {
			before = put(fmt.Sprint("k", i))
		}
		it := iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: "shardId-000000000000", ShardIteratorType: IteratorTrimHorizon})

		// 2^126 splits shard 0 (0 .. 2^127-1) in half.
		split := new(big.Int).Lsh(big.NewInt(1), 126).String()
		for _, bad := range []string{"0", "1", "170141183460469231731687303715884105727"} {
			err := v.e.SplitShard(ctx, &SplitShardInput{StreamRef: ref, ShardToSplit: "shardId-000000000000", NewStartingHashKey: bad})
			wantKind(t, err, KindInvalidArgument, "is not both greater than one plus the shard's StartingHashKey")
		}
		if err := v.e.SplitShard(ctx, &SplitShardInput{StreamRef: ref, ShardToSplit: "shardId-000000000000", NewStartingHashKey: split}); err != nil {
			t.Fatal(err)
		}
		d := describe(t, v.e, "s")
		if len(d.Shards) != 4 || d.Shards[0].SequenceNumberRange.EndingSequenceNumber == "" {
			t.Fatalf("after split: %+v", d.Shards)
		}
		c2, c3 := d.Shards[2], d.Shards[3]
		if c2.ShardId != "shardId-000000000002" || c2.ParentShardId != "shardId-000000000000" || c2.HashKeyRange.StartingHashKey != "0" ||
			c2.HashKeyRange.EndingHashKey != new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 126), big.NewInt(1)).String() ||
			c3.HashKeyRange.StartingHashKey != split || c3.HashKeyRange.EndingHashKey != "170141183460469231731687303715884105727" {
			t.Fatalf("children: %+v %+v", c2, c3)
		}
		err := v.e.SplitShard(ctx, &SplitShardInput{StreamRef: ref, ShardToSplit: "shardId-000000000000", NewStartingHashKey: split})
		wantKind(t, err, KindResourceInUse, "has already been merged or split")
		err = v.e.MergeShards(ctx, &MergeShardsInput{StreamRef: ref, ShardToMerge: "shardId-000000000002", AdjacentShardToMerge: "shardId-000000000001"})
		wantKind(t, err, KindInvalidArgument, "are not an adjacent pair of shards eligible for merging")
		err = v.e.SplitShard(ctx, &SplitShardInput{StreamRef: ref, ShardToSplit: "shardId-000000000009", NewStartingHashKey: split})
		wantKind(t, err, KindResourceNotFound, "Could not find shard shardId-000000000009 in stream s")

		// The same key now goes to a child; the parent ends with ChildShards.
		again := must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "k0", Data: []byte("again")}))
		if again.ShardId == "shardId-000000000000" {
			t.Fatal("a put went to the closed parent")
		}
		r := must[*GetRecordsOutput](t)(v.e.GetRecords(ctx, &GetRecordsInput{ShardIterator: it}))
		if len(r.Records) == 0 || r.NextShardIterator != "" || len(r.ChildShards) != 2 || r.ChildShards[0].ShardId != "shardId-000000000002" ||
			strings.Join(r.ChildShards[1].ParentShards, ",") != "shardId-000000000000" {
			t.Fatalf("reading the closed parent: %d records, next %q, children %+v", len(r.Records), r.NextShardIterator, r.ChildShards)
		}

		// Merge the two children back.
		if err := v.e.MergeShards(ctx, &MergeShardsInput{StreamRef: ref, ShardToMerge: "shardId-000000000002", AdjacentShardToMerge: "shardId-000000000003"}); err != nil {
			t.Fatal(err)
		}
		d = describe(t, v.e, "s")
		m := d.Shards[4]
		if m.ParentShardId != "shardId-000000000002" || m.AdjacentParentShardId != "shardId-000000000003" ||
			m.HashKeyRange.StartingHashKey != "0" || m.HashKeyRange.EndingHashKey != "170141183460469231731687303715884105727" {
			t.Fatalf("merged: %+v", m)
		}
		latest := must[*ListShardsOutput](t)(v.e.ListShards(ctx, &ListShardsInput{StreamRef: ref, ShardFilter: &ShardFilter{Type: FilterAtLatest}}))
		if len(latest.Shards) != 2 || latest.Shards[0].ShardId != "shardId-000000000001" || latest.Shards[1].ShardId != "shardId-000000000004" {
			t.Fatalf("AT_LATEST: %+v", latest.Shards)
		}
		v.restart()
		if d2 := describe(t, v.e, "s"); len(d2.Shards) != 5 || len(openShards(d2)) != 2 {
			t.Fatalf("after restart: %d shards, %d open", len(d2.Shards), len(openShards(d2)))
		}
	})
}

// TestReshardUnderLoad reshards 1 → 2 → 4 → 3 while producers write, then
// reads every shard, parents before children, and checks that every
// acknowledged record is there exactly once and per-key order holds across
// the lineage.
func TestReshardUnderLoad(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 1)
		ref := StreamRef{StreamName: "s"}
		var mu sync.Mutex
		acked := map[string]bool{}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for p := 0; p < 4; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					var entries []PutRecordsRequestEntry
					for j := 0; j < 10; j++ {
						entries = append(entries, PutRecordsRequestEntry{PartitionKey: fmt.Sprintf("key-%d-%d", p, j), Data: []byte(fmt.Sprintf("%d/%d/%06d", p, j, i))})
					}
					out, err := v.e.PutRecords(ctx, &PutRecordsInput{StreamRef: ref, Records: entries})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for k, r := range out.Records {
						if r.ErrorCode == "" {
							acked[string(entries[k].Data)] = true
						}
					}
					mu.Unlock()
				}
			}()
		}
		for _, n := range []int{2, 4, 3} {
			time.Sleep(30 * time.Millisecond)
			if _, err := v.e.UpdateShardCount(ctx, &UpdateShardCountInput{StreamRef: ref, TargetShardCount: ptr(n), ScalingType: "UNIFORM_SCALING"}); err != nil {
				t.Fatalf("UpdateShardCount %d: %v", n, err)
			}
		}
		time.Sleep(30 * time.Millisecond)
		close(stop)
		wg.Wait()

		d := describe(t, v.e, "s")
		open := openShards(d)
		want := splitHashSpace(3)
		if len(open) != 3 {
			t.Fatalf("%d open shards, want 3", len(open))
		}
		for i, sh := range open {
			if sh.HashKeyRange.StartingHashKey != want[i][0].String() || sh.HashKeyRange.EndingHashKey != want[i][1].String() {
				t.Fatalf("open shard %d covers %s..%s", i, sh.HashKeyRange.StartingHashKey, sh.HashKeyRange.EndingHashKey)
			}
		}
		// Read in lineage order: a shard after its parents (ids grow with creation).
		seen := map[string]int{}
		last := map[string]int{} // per key, last sequence index i read
		for _, sh := range d.Shards {
			recs := readAll(t, v.e, iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: sh.ShardId, ShardIteratorType: IteratorTrimHorizon}), 1000)
			for _, r := range recs {
				seen[string(r.Data)]++
				var p, j, i int
				fmt.Sscanf(string(r.Data), "%d/%d/%d", &p, &j, &i)
				if l, ok := last[r.PartitionKey]; ok && i <= l {
					t.Fatalf("key %s: record %d read after %d", r.PartitionKey, i, l)
				}
				last[r.PartitionKey] = i
			}
		}
		for k := range acked {
			if seen[k] != 1 {
				t.Fatalf("acknowledged record %s read %d times", k, seen[k])
			}
		}
		if len(acked) == 0 || len(seen) != len(acked) {
			t.Fatalf("%d acknowledged, %d distinct read", len(acked), len(seen))
		}
	})
}

func TestUpdateShardCountLimits(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 4)
		ref := StreamRef{StreamName: "s"}
		_, err := v.e.UpdateShardCount(ctx, &UpdateShardCountInput{StreamRef: ref, TargetShardCount: ptr(9), ScalingType: "UNIFORM_SCALING"})
		wantKind(t, err, KindLimitExceeded, "cannot scale up over double your current open shard count")
		_, err = v.e.UpdateShardCount(ctx, &UpdateShardCountInput{StreamRef: ref, TargetShardCount: ptr(1), ScalingType: "UNIFORM_SCALING"})
		wantKind(t, err, KindLimitExceeded, "cannot scale down below half your current open shard count")
		out := must[*UpdateShardCountOutput](t)(v.e.UpdateShardCount(ctx, &UpdateShardCountInput{StreamRef: ref, TargetShardCount: ptr(3), ScalingType: "UNIFORM_SCALING"}))
		if out.CurrentShardCount != 4 || out.TargetShardCount != 3 {
			t.Fatalf("output %+v", out)
		}
		od := 4
		if err := v.e.CreateStream(ctx, &CreateStreamInput{StreamName: "od", ShardCount: &od, StreamModeDetails: &StreamModeDetails{StreamMode: ModeOnDemand}}); err != nil {
			t.Fatal(err)
		}
		_, err = v.e.UpdateShardCount(ctx, &UpdateShardCountInput{StreamRef: StreamRef{StreamName: "od"}, TargetShardCount: ptr(5), ScalingType: "UNIFORM_SCALING"})
		wantKind(t, err, KindValidation, "ON_DEMAND")
	})
}

func TestRetentionPeriodAndSpaceReclaimed(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 1)
		ref := StreamRef{StreamName: "s"}
		for _, c := range []struct {
			inc  bool
			h    int
			want string
		}{
			{true, 23, "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short."},
			{true, 8761, "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long."},
			{false, 48, "can not be longer than existing retention period (24 hours). Use IncreaseRetentionPeriod API."},
		} {
			var err error
			if c.inc {
				err = v.e.IncreaseStreamRetentionPeriod(ctx, &RetentionPeriodInput{StreamRef: ref, RetentionPeriodHours: ptr(c.h)})
			} else {
				err = v.e.DecreaseStreamRetentionPeriod(ctx, &RetentionPeriodInput{StreamRef: ref, RetentionPeriodHours: ptr(c.h)})
			}
			wantKind(t, err, KindInvalidArgument, c.want)
		}
		if err := v.e.IncreaseStreamRetentionPeriod(ctx, &RetentionPeriodInput{StreamRef: ref, RetentionPeriodHours: ptr(72)}); err != nil {
			t.Fatal(err)
		}
		err := v.e.IncreaseStreamRetentionPeriod(ctx, &RetentionPeriodInput{StreamRef: ref, RetentionPeriodHours: ptr(48)})
		wantKind(t, err, KindInvalidArgument, "can not be shorter than existing retention period (72 hours). Use DecreaseRetentionPeriod API.")

		payload := strings.Repeat("x", 1000)
		for i := 0; i < 300; i++ {
			must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: []byte(payload)}))
		}
		full := dirBytes(t, v.fs, v.dir)
		v.clock.Advance(50 * time.Hour)
		must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: []byte("fresh")}))
		// Still within 72 hours: nothing expires.
		v.e.EnforceRetention()
		shard := "shardId-000000000000"
		if n := len(readAll(t, v.e, iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: shard, ShardIteratorType: IteratorTrimHorizon}), 10000)); n != 301 {
			t.Fatalf("read %d records within retention, want 301", n)
		}
		// Down to 48 hours: the old records expire at once and their space goes.
		if err := v.e.DecreaseStreamRetentionPeriod(ctx, &RetentionPeriodInput{StreamRef: ref, RetentionPeriodHours: ptr(48)}); err != nil {
			t.Fatal(err)
		}
		got := readAll(t, v.e, iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: shard, ShardIteratorType: IteratorTrimHorizon}), 10000)
		if len(got) != 1 || string(got[0].Data) != "fresh" {
			t.Fatalf("after decreasing retention read %d records", len(got))
		}
		if after := dirBytes(t, v.fs, v.dir); after > full/3 {
			t.Fatalf("data directory holds %d bytes after expiry, %d before: space not reclaimed", after, full)
		}
		if d := describe(t, v.e, "s"); d.RetentionPeriodHours != 48 {
			t.Fatalf("retention %d", d.RetentionPeriodHours)
		}
	})
}

func TestExpiredClosedShardsDropOut(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 1)
		ref := StreamRef{StreamName: "s"}
		must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: []byte("x")}))
		if _, err := v.e.UpdateShardCount(ctx, &UpdateShardCountInput{StreamRef: ref, TargetShardCount: ptr(2), ScalingType: "UNIFORM_SCALING"}); err != nil {
			t.Fatal(err)
		}
		v.clock.Advance(25 * time.Hour)
		v.e.EnforceRetention()
		d := describe(t, v.e, "s")
		if len(d.Shards) != 2 || d.Shards[0].ShardId != "shardId-000000000001" || d.Shards[0].ParentShardId != "shardId-000000000000" {
			t.Fatalf("after expiry: %+v", d.Shards)
		}
		if n := len(v.st.ShardIDs()); n != 2 {
			t.Fatalf("%d shard directories remain, want 2", n)
		}
	})
}

// dirBytes is the size of the files under dir, but for the journal's spare
// segments: released segments it keeps (a few, whatever the data) to reuse.
func dirBytes(t *testing.T, fs vfs.FS, dir string) int64 {
	t.Helper()
	names, err := fs.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, name := range names {
		p := path.Join(dir, name)
		fi, err := fs.Stat(p)
		if err != nil {
			continue
		}
		if fi.IsDir() {
			n += dirBytes(t, fs, p)
		} else if !strings.HasPrefix(name, "spare-") {
			n += fi.Size()
		}
	}
	return n
}
