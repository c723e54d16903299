package interop

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestSDKReshardUnderLoad reshards 1 → 2 → 4 → 3 with UpdateShardCount and
// then splits and merges by hand, while producers keep writing; then it reads
// every shard parents first, following ChildShards, and checks that every
// acknowledged record is found exactly once and per-key order holds across
// the lineage. It restarts the server and checks the layout survived.
func TestSDKReshardUnderLoad(t *testing.T) {
	s := startServer(t, t.TempDir())
	c := s.client(3)
	ctx := testCtx(t, 2*time.Minute)
	const name = "reshard"
	createStream(t, ctx, c, name, 1)

	var mu sync.Mutex
	acked := map[string]string{} // payload -> shard it was acknowledged on
	// Payloads of calls that failed: their outcome is unknown, so they may
	// or may not be stored (the SDK can report a failure for a call the
	// server applied), but never twice.
	unknown := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pc := s.client(1)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var entries []types.PutRecordsRequestEntry
				for k := 0; k < 20; k++ {
					entries = append(entries, types.PutRecordsRequestEntry{
						PartitionKey: aws.String(fmt.Sprintf("p%d-k%d", p, k)),
						Data:         []byte(fmt.Sprintf("%d/%d/%07d", p, k, i)),
					})
				}
				out, err := pc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
				mu.Lock()
				if err != nil {
					for _, e := range entries {
						unknown[string(e.Data)] = true
					}
					mu.Unlock()
					continue
				}
				for j, r := range out.Records {
					if r.ErrorCode == nil {
						acked[string(entries[j].Data)] = aws.ToString(r.ShardId)
					}
				}
				mu.Unlock()
			}
		}()
	}
	pause := func() { time.Sleep(150 * time.Millisecond) }
	for _, n := range []int32{2, 4, 3} {
		pause()
		out, err := c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name),
			TargetShardCount: aws.Int32(n), ScalingType: types.ScalingTypeUniformScaling})
		if err != nil {
			t.Fatalf("UpdateShardCount %d: %v", n, err)
		}
		if aws.ToInt32(out.TargetShardCount) != n {
			t.Fatalf("UpdateShardCount answered %+v", out)
		}
		waitActive(t, ctx, c, name)
	}
	open := openShardsOf(t, ctx, c, name)
	if len(open) != 3 {
		t.Fatalf("%d open shards after scaling to 3", len(open))
	}
	for i, sh := range open {
		if sh.HashKeyRange.StartingHashKey == nil || *sh.HashKeyRange.StartingHashKey != shardStart(i, 3).String() ||
			*sh.HashKeyRange.EndingHashKey != shardEnd(i, 3).String() {
			t.Fatalf("open shard %d covers %s..%s", i, aws.ToString(sh.HashKeyRange.StartingHashKey), aws.ToString(sh.HashKeyRange.EndingHashKey))
		}
	}
	pause()
	mid := shardStart(1, 6) // inside the first of three shards
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: open[0].ShardId,
		NewStartingHashKey: aws.String(mid.String())}); err != nil {
		t.Fatalf("SplitShard: %v", err)
	}
	waitActive(t, ctx, c, name)
	after := openShardsOf(t, ctx, c, name)
	pause()
	if _, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(name),
		ShardToMerge: after[0].ShardId, AdjacentShardToMerge: after[1].ShardId}); err != nil {
		t.Fatalf("MergeShards: %v", err)
	}
	waitActive(t, ctx, c, name)
	pause()
	close(stop)
	wg.Wait()

	// Read everything, parents before children: a shard is read once all of
	// its parents have been read to their end, which returns ChildShards.
	all := listAllShards(t, ctx, c, name)
	byID := map[string]types.Shard{}
	for _, sh := range all {
		byID[aws.ToString(sh.ShardId)] = sh
	}
	done := map[string]bool{}
	seen := map[string]int{}
	last := map[string]int{}
	for len(done) < len(all) {
		progressed := false
		for _, sh := range all {
			id := aws.ToString(sh.ShardId)
			if done[id] {
				continue
			}
			ready := true
			for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
				if _, known := byID[aws.ToString(p)]; p != nil && known && !done[*p] {
					ready = false
				}
			}
			if !ready {
				continue
			}
			for _, r := range readLineageShard(t, ctx, c, name, sh) {
				seen[string(r.Data)]++
				var p, k, i int
				fmt.Sscanf(string(r.Data), "%d/%d/%d", &p, &k, &i)
				key := aws.ToString(r.PartitionKey)
				if l, ok := last[key]; ok && i <= l {
					t.Fatalf("key %s: record %d read after %d (shard %s)", key, i, l, id)
				}
				last[key] = i
			}
			done[id], progressed = true, true
		}
		if !progressed {
			t.Fatalf("lineage has a cycle or a missing parent: %v", done)
		}
	}
	for payload, shard := range acked {
		if seen[payload] != 1 {
			t.Fatalf("acknowledged record %s (on %s) read %d times", payload, shard, seen[payload])
		}
	}
	for payload, n := range seen {
		if _, ok := acked[payload]; !ok && (!unknown[payload] || n != 1) {
			t.Fatalf("record %s read %d times was never sent or not acknowledged", payload, n)
		}
	}
	if len(acked) == 0 {
		t.Fatal("no record was acknowledged")
	}
	t.Logf("%d records across %d shards", len(acked), len(all))

	// The layout survives a restart.
	s.stop()
	s2 := startServer(t, s.dataDir)
	c2 := s2.client(3)
	if got := listAllShards(t, ctx, c2, name); len(got) != len(all) {
		t.Fatalf("%d shards after restart, %d before", len(got), len(all))
	}
	if got := openShardsOf(t, ctx, c2, name); len(got) != 3 {
		t.Fatalf("%d open shards after restart, want 3", len(got))
	}
}

// readLineageShard reads a shard from TRIM_HORIZON; a closed shard must end
// with a null NextShardIterator and its ChildShards.
func readLineageShard(t *testing.T, ctx context.Context, c *kinesis.Client, stream string, sh types.Shard) []types.Record {
	t.Helper()
	it := iterator(t, ctx, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: sh.ShardId,
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	closed := sh.SequenceNumberRange.EndingSequenceNumber != nil
	var recs []types.Record
	for calls := 0; calls < 10000; calls++ {
		out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(1000)})
		if err != nil {
			t.Fatalf("GetRecords %s: %v", aws.ToString(sh.ShardId), err)
		}
		recs = append(recs, out.Records...)
		if out.NextShardIterator == nil {
			if !closed || len(out.ChildShards) == 0 {
				t.Fatalf("shard %s (closed=%v) ended with %d ChildShards", aws.ToString(sh.ShardId), closed, len(out.ChildShards))
			}
			return recs
		}
		if len(out.Records) == 0 && !closed {
			return recs
		}
		it = *out.NextShardIterator
	}
	t.Fatalf("shard %s never ended", aws.ToString(sh.ShardId))
	return nil
}

func listAllShards(t *testing.T, ctx context.Context, c *kinesis.Client, stream string) []types.Shard {
	t.Helper()
	var out []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(stream)}
	for {
		page, err := c.ListShards(ctx, in)
		if err != nil {
			t.Fatalf("ListShards: %v", err)
		}
		out = append(out, page.Shards...)
		if page.NextToken == nil {
			return out
		}
		in = &kinesis.ListShardsInput{NextToken: page.NextToken}
	}
}

// openShardsOf lists the open shards (ShardFilter AT_LATEST), in hash-key order.
func openShardsOf(t *testing.T, ctx context.Context, c *kinesis.Client, stream string) []types.Shard {
	t.Helper()
	out, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream),
		ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}})
	if err != nil {
		t.Fatalf("ListShards AT_LATEST: %v", err)
	}
	sort.Slice(out.Shards, func(i, j int) bool {
		return len(*out.Shards[i].HashKeyRange.StartingHashKey) < len(*out.Shards[j].HashKeyRange.StartingHashKey) ||
			len(*out.Shards[i].HashKeyRange.StartingHashKey) == len(*out.Shards[j].HashKeyRange.StartingHashKey) &&
				*out.Shards[i].HashKeyRange.StartingHashKey < *out.Shards[j].HashKeyRange.StartingHashKey
	})
	return out.Shards
}

// TestSDKReshardErrorsRetentionAndMode covers the documented error cases of
// resharding, the retention operations and UpdateStreamMode.
func TestSDKReshardErrorsRetentionAndMode(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir(), "--update-stream-delay", "300ms")
	c := s.client(1)
	ctx := testCtx(t, time.Minute)
	const name = "errs"
	createStream(t, ctx, c, name, 2)
	arn := streamARN(name)
	cases := []struct {
		what string
		call func() error
		code string
	}{
		{"split key at the shard's start", func() error {
			_, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: aws.String(shardID(0)), NewStartingHashKey: aws.String("0")})
			return err
		}, "InvalidArgumentException"},
		{"split of a missing shard", func() error {
			_, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: aws.String(shardID(7)), NewStartingHashKey: aws.String("12345")})
			return err
		}, "ResourceNotFoundException"},
		{"merge of a shard with itself", func() error {
			_, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(name), ShardToMerge: aws.String(shardID(0)), AdjacentShardToMerge: aws.String(shardID(0))})
			return err
		}, "InvalidArgumentException"},
		{"scale over double", func() error {
			_, err := c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name), TargetShardCount: aws.Int32(5), ScalingType: types.ScalingTypeUniformScaling})
			return err
		}, "LimitExceededException"},
		{"retention below 24 hours", func() error {
			_, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(12)})
			return err
		}, "InvalidArgumentException"},
		{"decrease to a longer period", func() error {
			_, err := c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(48)})
			return err
		}, "InvalidArgumentException"},
		{"retention of a missing stream", func() error {
			_, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("nope"), RetentionPeriodHours: aws.Int32(48)})
			return err
		}, "ResourceNotFoundException"},
	}
	for _, tc := range cases {
		if got := errorCode(tc.call()); got != tc.code {
			t.Errorf("%s: got %q, want %s", tc.what, got, tc.code)
		}
	}

	// A reshard leaves the stream UPDATING for the configured delay, during
	// which another is refused.
	if _, err := c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name), TargetShardCount: aws.Int32(4), ScalingType: types.ScalingTypeUniformScaling}); err != nil {
		t.Fatal(err)
	}
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil || sum.StreamDescriptionSummary.StreamStatus != types.StreamStatusUpdating {
		t.Fatalf("status right after UpdateShardCount: %v %v", sum, err)
	}
	_, err = c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: aws.String(shardID(0)), NewStartingHashKey: aws.String("12345")})
	if errorCode(err) != "ResourceInUseException" {
		t.Fatalf("split while UPDATING: %v", err)
	}
	waitActive(t, ctx, c, name)
	if n := len(openShardsOf(t, ctx, c, name)); n != 4 {
		t.Fatalf("%d open shards after the update completed", n)
	}

	// Retention and mode, then a restart keeps both.
	if _, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(168)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamARN: aws.String(arn), RetentionPeriodHours: aws.Int32(72)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: aws.String(arn),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, ctx, c, name)
	_, err = c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name), TargetShardCount: aws.Int32(5), ScalingType: types.ScalingTypeUniformScaling})
	if errorCode(err) != "ValidationException" {
		t.Fatalf("UpdateShardCount on an ON_DEMAND stream: %v", err)
	}
	s.stop()
	s2 := startServer(t, s.dataDir)
	sum, err = s2.client(3).DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if d := sum.StreamDescriptionSummary; aws.ToInt32(d.RetentionPeriodHours) != 72 || d.StreamModeDetails.StreamMode != types.StreamModeOnDemand || aws.ToInt32(d.OpenShardCount) != 4 {
		t.Fatalf("after restart: retention %d, mode %s, %d open shards", aws.ToInt32(d.RetentionPeriodHours), d.StreamModeDetails.StreamMode, aws.ToInt32(d.OpenShardCount))
	}
}

// TestBoto3Reshard runs testdata/boto3_reshard.py.
func TestBoto3Reshard(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	if out := runPython(t, "boto3_reshard.py", s.endpoint); !bytes.Contains(out, []byte("ok")) {
		t.Fatalf("boto3_reshard.py printed %q", out)
	}
}
