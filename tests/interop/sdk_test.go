package interop

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestSDKStreamLifecycle covers describing, paging and deleting streams.
func TestSDKStreamLifecycle(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	c := s.client(1)
	ctx := testCtx(t, 60*time.Second)
	const name = "sdk-four"
	createStream(t, ctx, c, name, 4)

	t.Run("DescribeStream", func(t *testing.T) {
		out, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		d := out.StreamDescription
		if aws.ToString(d.StreamName) != name || aws.ToString(d.StreamARN) != streamARN(name) {
			t.Errorf("name/ARN = %q/%q, want %q/%q", aws.ToString(d.StreamName), aws.ToString(d.StreamARN), name, streamARN(name))
		}
		if d.StreamStatus != types.StreamStatusActive {
			t.Errorf("status %s, want ACTIVE", d.StreamStatus)
		}
		if aws.ToBool(d.HasMoreShards) {
			t.Errorf("HasMoreShards true for a 4-shard stream without Limit")
		}
		if aws.ToInt32(d.RetentionPeriodHours) != 24 {
			t.Errorf("RetentionPeriodHours %d, want the default 24", aws.ToInt32(d.RetentionPeriodHours))
		}
		checkEvenShards(t, d.Shards, 4)
	})

	t.Run("DescribeStreamPaging", func(t *testing.T) {
		var got []string
		var start *string
		for page := 0; ; page++ {
			if page > 10 {
				t.Fatalf("DescribeStream paging did not end: %v", got)
			}
			out, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{
				StreamName: aws.String(name), Limit: aws.Int32(3), ExclusiveStartShardId: start,
			})
			if err != nil {
				t.Fatal(err)
			}
			d := out.StreamDescription
			if len(d.Shards) > 3 {
				t.Fatalf("Limit 3 returned %d shards", len(d.Shards))
			}
			for _, sh := range d.Shards {
				got = append(got, aws.ToString(sh.ShardId))
			}
			wantMore := len(got) < 4
			if aws.ToBool(d.HasMoreShards) != wantMore {
				t.Errorf("page %d: HasMoreShards %v after %d of 4 shards", page, aws.ToBool(d.HasMoreShards), len(got))
			}
			if !aws.ToBool(d.HasMoreShards) || len(d.Shards) == 0 {
				break
			}
			start = d.Shards[len(d.Shards)-1].ShardId
		}
		want := []string{shardID(0), shardID(1), shardID(2), shardID(3)}
		if !slices.Equal(got, want) {
			t.Errorf("paged shards %v, want %v", got, want)
		}
		out, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{
			StreamName: aws.String(name), Limit: aws.Int32(1), ExclusiveStartShardId: aws.String(shardID(1)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(out.StreamDescription.Shards); n != 1 || aws.ToString(out.StreamDescription.Shards[0].ShardId) != shardID(2) {
			t.Errorf("Limit 1 after %s: got %d shards %v, want [%s]", shardID(1), n, shardIDs(out.StreamDescription.Shards), shardID(2))
		}
	})

	t.Run("ListShardsPaging", func(t *testing.T) {
		var got []string
		in := &kinesis.ListShardsInput{StreamName: aws.String(name), MaxResults: aws.Int32(3)}
		for page := 0; ; page++ {
			if page > 10 {
				t.Fatalf("ListShards paging did not end: %v", got)
			}
			out, err := c.ListShards(ctx, in)
			if err != nil {
				t.Fatalf("page %d: %v", page, err)
			}
			if len(out.Shards) > 3 {
				t.Fatalf("MaxResults 3 returned %d shards", len(out.Shards))
			}
			got = append(got, shardIDs(out.Shards)...)
			if out.NextToken == nil {
				break
			}
			// AWS refuses NextToken together with StreamName: the token names the stream.
			in = &kinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int32(3)}
		}
		want := []string{shardID(0), shardID(1), shardID(2), shardID(3)}
		if !slices.Equal(got, want) {
			t.Errorf("paged shards %v, want %v", got, want)
		}

		out, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name), ExclusiveStartShardId: aws.String(shardID(1))})
		if err != nil {
			t.Fatal(err)
		}
		if g := shardIDs(out.Shards); !slices.Equal(g, want[2:]) {
			t.Errorf("ExclusiveStartShardId %s: got %v, want %v", shardID(1), g, want[2:])
		}
		out, err = c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		checkEvenShards(t, out.Shards, 4)
		for _, f := range []types.ShardFilterType{types.ShardFilterTypeAtLatest, types.ShardFilterTypeAtTrimHorizon, types.ShardFilterTypeFromTrimHorizon} {
			out, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name), ShardFilter: &types.ShardFilter{Type: f}})
			if err != nil {
				t.Errorf("ShardFilter %s: %v", f, err)
				continue
			}
			if g := shardIDs(out.Shards); !slices.Equal(g, want) {
				t.Errorf("ShardFilter %s: got %v, want all four open shards", f, g)
			}
		}
		out, err = c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name),
			ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAfterShardId, ShardId: aws.String(shardID(2))}})
		if err != nil {
			t.Fatal(err)
		}
		if g := shardIDs(out.Shards); !slices.Equal(g, want[3:]) {
			t.Errorf("ShardFilter AFTER_SHARD_ID %s: got %v, want %v", shardID(2), g, want[3:])
		}
	})

	t.Run("StreamARN", func(t *testing.T) {
		arn := aws.String(streamARN(name))
		sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: arn})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(sum.StreamDescriptionSummary.StreamName); got != name {
			t.Errorf("DescribeStreamSummary by ARN: name %q, want %q", got, name)
		}
		if got := aws.ToInt32(sum.StreamDescriptionSummary.OpenShardCount); got != 4 {
			t.Errorf("OpenShardCount %d, want 4", got)
		}
		desc, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamARN: arn})
		if err != nil {
			t.Fatal(err)
		}
		if len(desc.StreamDescription.Shards) != 4 {
			t.Errorf("DescribeStream by ARN: %d shards", len(desc.StreamDescription.Shards))
		}
		ls, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: arn})
		if err != nil {
			t.Fatal(err)
		}
		if len(ls.Shards) != 4 {
			t.Errorf("ListShards by ARN: %d shards", len(ls.Shards))
		}
		put, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: arn, PartitionKey: aws.String("by-arn"), Data: []byte("arn-1")})
		if err != nil {
			t.Fatal(err)
		}
		puts, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: arn, Records: []types.PutRecordsRequestEntry{
			{PartitionKey: aws.String("by-arn"), Data: []byte("arn-2")},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToInt32(puts.FailedRecordCount) != 0 || aws.ToString(puts.Records[0].ShardId) != aws.ToString(put.ShardId) {
			t.Errorf("PutRecords by ARN: %+v", puts.Records)
		}
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamARN: arn, ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: put.SequenceNumber,
		})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: arn, ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		if g := dataStrings(recs.Records); !slices.Equal(g, []string{"arn-1", "arn-2"}) {
			t.Errorf("records read by ARN: %q, want [arn-1 arn-2]", g)
		}
	})

	t.Run("DeleteStream", func(t *testing.T) {
		createStream(t, ctx, c, "sdk-doomed", 1)
		if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("sdk-doomed")}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("sdk-doomed")})
			if errorCode(err) == "ResourceNotFoundException" {
				break
			}
			if err != nil {
				t.Fatalf("DescribeStreamSummary after delete: %v, want ResourceNotFoundException", err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("stream still exists 15s after DeleteStream")
			}
			time.Sleep(20 * time.Millisecond)
		}
		_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("sdk-doomed"), PartitionKey: aws.String("k"), Data: []byte("x")})
		if errorCode(err) != "ResourceNotFoundException" {
			t.Errorf("PutRecord to deleted stream: %v, want ResourceNotFoundException", err)
		}
		ls, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(ls.StreamNames, "sdk-doomed") {
			t.Errorf("ListStreams still lists the deleted stream: %v", ls.StreamNames)
		}
		// The name is free again.
		createStream(t, ctx, c, "sdk-doomed", 2)
		if recs := readShard(t, ctx, c, "sdk-doomed", shardID(0)); len(recs) != 0 {
			t.Errorf("re-created stream has %d records from its predecessor", len(recs))
		}
	})
}

// TestSDKListStreamsPaging pages ListStreams on a server holding only the
// streams it creates.
func TestSDKListStreamsPaging(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	c := s.client(1)
	ctx := testCtx(t, 60*time.Second)
	names := []string{"page-e", "page-b", "page-d", "page-a", "page-c"}
	for _, n := range names {
		createStream(t, ctx, c, n, 1)
	}
	sorted := slices.Sorted(slices.Values(names))

	var got []string
	in := &kinesis.ListStreamsInput{Limit: aws.Int32(2)}
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatalf("ListStreams paging did not end: %v", got)
		}
		out, err := c.ListStreams(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.StreamNames) > 2 {
			t.Fatalf("Limit 2 returned %d names", len(out.StreamNames))
		}
		if len(out.StreamSummaries) != len(out.StreamNames) {
			t.Errorf("page %d: %d StreamSummaries for %d StreamNames", page, len(out.StreamSummaries), len(out.StreamNames))
		}
		for i, sum := range out.StreamSummaries {
			if i < len(out.StreamNames) && aws.ToString(sum.StreamName) != out.StreamNames[i] {
				t.Errorf("summary %d is %q, name is %q", i, aws.ToString(sum.StreamName), out.StreamNames[i])
			}
			if aws.ToString(sum.StreamARN) != streamARN(aws.ToString(sum.StreamName)) || sum.StreamStatus != types.StreamStatusActive {
				t.Errorf("summary %+v: want ARN %s, ACTIVE", sum, streamARN(aws.ToString(sum.StreamName)))
			}
		}
		got = append(got, out.StreamNames...)
		more := aws.ToBool(out.HasMoreStreams)
		if more != (len(got) < len(names)) {
			t.Errorf("page %d: HasMoreStreams %v after %d of %d", page, more, len(got), len(names))
		}
		if !more {
			if out.NextToken != nil {
				t.Errorf("last page carries NextToken %q", aws.ToString(out.NextToken))
			}
			break
		}
		if out.NextToken == nil {
			t.Fatalf("page %d: HasMoreStreams but no NextToken", page)
		}
		in = &kinesis.ListStreamsInput{Limit: aws.Int32(2), NextToken: out.NextToken}
	}
	if !slices.Equal(got, sorted) {
		t.Errorf("paged names %v, want %v", got, sorted)
	}

	out, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{Limit: aws.Int32(2), ExclusiveStartStreamName: aws.String("page-b")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.StreamNames, []string{"page-c", "page-d"}) || !aws.ToBool(out.HasMoreStreams) {
		t.Errorf("ExclusiveStartStreamName page-b: %v more=%v, want [page-c page-d] more=true", out.StreamNames, aws.ToBool(out.HasMoreStreams))
	}
}

// TestSDKRecords covers routing, batching, ordering and every iterator type.
func TestSDKRecords(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	c := s.client(3)
	ctx := testCtx(t, 90*time.Second)

	t.Run("PutRecordRouting", func(t *testing.T) {
		const stream = "route"
		createStream(t, ctx, c, stream, 4)
		type put struct{ shard, seq, data string }
		var puts []put
		for i := 0; i < 40; i++ {
			pk := fmt.Sprintf("user-%d", i)
			data := "route-" + pk
			out, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String(pk), Data: []byte(data)})
			if err != nil {
				t.Fatal(err)
			}
			want := shardID(shardFor(hashKey(pk), 4))
			if got := aws.ToString(out.ShardId); got != want {
				t.Errorf("partition key %q (MD5 %s): shard %s, want %s", pk, hashKey(pk), got, want)
			}
			checkSeq(t, aws.ToString(out.SequenceNumber))
			puts = append(puts, put{aws.ToString(out.ShardId), aws.ToString(out.SequenceNumber), data})
		}
		// ExplicitHashKey overrides the partition key's hash, at the edges of each range.
		explicit := []struct {
			key   *big.Int
			shard int
		}{
			{big.NewInt(0), 0},
			{shardEnd(0, 4), 0},
			{shardStart(1, 4), 1},
			{shardEnd(1, 4), 1},
			{shardStart(2, 4), 2},
			{shardStart(3, 4), 3},
			{new(big.Int).Sub(two128, big.NewInt(1)), 3},
		}
		for i, e := range explicit {
			data := fmt.Sprintf("explicit-%d", i)
			out, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("same-key"),
				ExplicitHashKey: aws.String(e.key.String()), Data: []byte(data)})
			if err != nil {
				t.Fatalf("ExplicitHashKey %s: %v", e.key, err)
			}
			if got := aws.ToString(out.ShardId); got != shardID(e.shard) {
				t.Errorf("ExplicitHashKey %s: shard %s, want %s", e.key, got, shardID(e.shard))
			}
			puts = append(puts, put{aws.ToString(out.ShardId), aws.ToString(out.SequenceNumber), data})
		}
		// Each record is where the reply said, under the sequence number it said.
		stored := map[string]put{}
		for i := 0; i < 4; i++ {
			for _, r := range readShard(t, ctx, c, stream, shardID(i)) {
				stored[string(r.Data)] = put{shardID(i), aws.ToString(r.SequenceNumber), string(r.Data)}
			}
		}
		for _, p := range puts {
			if got, ok := stored[p.data]; !ok || got != p {
				t.Errorf("record %q acknowledged as %s/%s, read back as %+v (found %v)", p.data, p.shard, p.seq, got, ok)
			}
		}
		if len(stored) != len(puts) {
			t.Errorf("read %d records, put %d", len(stored), len(puts))
		}
	})

	t.Run("PutRecords", func(t *testing.T) {
		const stream = "batch"
		createStream(t, ctx, c, stream, 4)
		var entries []types.PutRecordsRequestEntry
		var wantShard []string
		for i := 0; i < 60; i++ {
			pk := fmt.Sprintf("batch-key-%d", i)
			e := types.PutRecordsRequestEntry{PartitionKey: aws.String(pk), Data: []byte(fmt.Sprintf("batch-%02d", i))}
			want := shardFor(hashKey(pk), 4)
			if i%5 == 0 {
				// Every fifth entry pins its shard explicitly, cycling through all four.
				want = (i / 5) % 4
				e.ExplicitHashKey = aws.String(shardStart(want, 4).String())
			}
			entries = append(entries, e)
			wantShard = append(wantShard, shardID(want))
		}
		out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Errorf("FailedRecordCount %d, want 0", aws.ToInt32(out.FailedRecordCount))
		}
		if len(out.Records) != len(entries) {
			t.Fatalf("%d results for %d entries", len(out.Records), len(entries))
		}
		seqOf := map[string]string{}
		for i, r := range out.Records {
			if r.ErrorCode != nil {
				t.Errorf("entry %d failed: %s %s", i, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
			}
			if got := aws.ToString(r.ShardId); got != wantShard[i] {
				t.Errorf("entry %d: shard %s, want %s (results must be in request order)", i, got, wantShard[i])
			}
			checkSeq(t, aws.ToString(r.SequenceNumber))
			seqOf[string(entries[i].Data)] = aws.ToString(r.SequenceNumber)
		}
		// Within one shard, a batch is stored in request order.
		total := 0
		for i := 0; i < 4; i++ {
			recs := readShard(t, ctx, c, stream, shardID(i))
			total += len(recs)
			var prev string
			for _, r := range recs {
				if seqOf[string(r.Data)] != aws.ToString(r.SequenceNumber) {
					t.Errorf("record %q: read with sequence number %s, acknowledged %s", r.Data, aws.ToString(r.SequenceNumber), seqOf[string(r.Data)])
				}
				if prev != "" && string(r.Data) < prev {
					t.Errorf("shard %d: %q stored after %q, against request order", i, r.Data, prev)
				}
				prev = string(r.Data)
			}
		}
		if total != len(entries) {
			t.Errorf("read %d records, put %d", total, len(entries))
		}
	})

	t.Run("PartitionKeyOrder", func(t *testing.T) {
		const stream = "order"
		createStream(t, ctx, c, stream, 2)
		keys := []string{"alpha", "bravo", "charlie", "delta", "echo"}
		const perKey = 40
		last := map[string]string{}
		for i := 0; i < perKey; i++ {
			if i%2 == 0 {
				for _, k := range keys {
					in := &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String(k), Data: []byte(fmt.Sprintf("%s-%03d", k, i))}
					if prev, ok := last[k]; ok {
						in.SequenceNumberForOrdering = aws.String(prev)
					}
					out, err := c.PutRecord(ctx, in)
					if err != nil {
						t.Fatal(err)
					}
					if prev, ok := last[k]; ok && !seqLess(prev, aws.ToString(out.SequenceNumber)) {
						t.Errorf("key %s: sequence number %s not above previous %s", k, aws.ToString(out.SequenceNumber), prev)
					}
					last[k] = aws.ToString(out.SequenceNumber)
				}
				continue
			}
			var entries []types.PutRecordsRequestEntry
			for _, k := range keys {
				entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(k), Data: []byte(fmt.Sprintf("%s-%03d", k, i))})
			}
			out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToInt32(out.FailedRecordCount) != 0 {
				t.Fatalf("FailedRecordCount %d", aws.ToInt32(out.FailedRecordCount))
			}
			for j, r := range out.Records {
				last[keys[j]] = aws.ToString(r.SequenceNumber)
			}
		}
		seen := map[string][]string{}
		for i := 0; i < 2; i++ {
			recs := readShard(t, ctx, c, stream, shardID(i))
			checkIncreasing(t, shardID(i), recs)
			for _, r := range recs {
				k := aws.ToString(r.PartitionKey)
				if want := shardID(shardFor(hashKey(k), 2)); want != shardID(i) {
					t.Errorf("key %s found in %s, want %s", k, shardID(i), want)
				}
				seen[k] = append(seen[k], string(r.Data))
			}
		}
		for _, k := range keys {
			var want []string
			for i := 0; i < perKey; i++ {
				want = append(want, fmt.Sprintf("%s-%03d", k, i))
			}
			if !slices.Equal(seen[k], want) {
				t.Errorf("key %s read in order %v, want %v", k, seen[k], want)
			}
		}
	})

	t.Run("IteratorTypes", func(t *testing.T) {
		const stream = "iters"
		createStream(t, ctx, c, stream, 1)
		shard := aws.String(shardID(0))
		var seqs []string
		put := func(data string) {
			t.Helper()
			out, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("k"), Data: []byte(data)})
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, aws.ToString(out.SequenceNumber))
		}
		before := time.Now().Add(-2 * time.Second)
		for i := 0; i < 3; i++ {
			put(fmt.Sprintf("r%d", i))
		}
		// A clear gap in arrival time separates the two groups for AT_TIMESTAMP.
		time.Sleep(300 * time.Millisecond)
		mid := time.Now()
		time.Sleep(300 * time.Millisecond)

		latest := iterator(t, ctx, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: shard, ShardIteratorType: types.ShardIteratorTypeLatest})
		if recs, _ := readToEnd(t, ctx, c, latest, 0); len(recs) != 0 {
			t.Errorf("LATEST before new puts returned %q, want nothing", dataStrings(recs))
		}
		latest = iterator(t, ctx, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: shard, ShardIteratorType: types.ShardIteratorTypeLatest})
		for i := 3; i < 6; i++ {
			put(fmt.Sprintf("r%d", i))
		}
		all := []string{"r0", "r1", "r2", "r3", "r4", "r5"}

		cases := []struct {
			name string
			in   kinesis.GetShardIteratorInput
			want []string
		}{
			{"TRIM_HORIZON", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeTrimHorizon}, all},
			{"AT_SEQUENCE_NUMBER first", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(seqs[0])}, all},
			{"AT_SEQUENCE_NUMBER r2", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(seqs[2])}, all[2:]},
			{"AFTER_SEQUENCE_NUMBER r2", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(seqs[2])}, all[3:]},
			{"AFTER_SEQUENCE_NUMBER last", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(seqs[5])}, nil},
			{"AT_TIMESTAMP before all", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(before)}, all},
			{"AT_TIMESTAMP between", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(mid)}, all[3:]},
		}
		for _, tc := range cases {
			in := tc.in
			in.StreamName, in.ShardId = aws.String(stream), shard
			recs, _ := readToEnd(t, ctx, c, iterator(t, ctx, c, &in), 0)
			if got := dataStrings(recs); !slices.Equal(got, tc.want) {
				t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
			}
		}
		recs, _ := readToEnd(t, ctx, c, latest, 0)
		if got := dataStrings(recs); !slices.Equal(got, all[3:]) {
			t.Errorf("LATEST taken before r3..r5: got %q, want %q", got, all[3:])
		}
		for _, r := range recs {
			if r.ApproximateArrivalTimestamp == nil || time.Since(*r.ApproximateArrivalTimestamp).Abs() > 5*time.Minute {
				t.Errorf("record %q: ApproximateArrivalTimestamp %v is not about now", r.Data, r.ApproximateArrivalTimestamp)
			}
		}
	})

	t.Run("GetRecordsLimit", func(t *testing.T) {
		const stream = "limit"
		createStream(t, ctx, c, stream, 1)
		var want []string
		for i := 0; i < 25; i++ {
			want = append(want, fmt.Sprintf("L%02d", i))
		}
		var entries []types.PutRecordsRequestEntry
		for _, d := range want {
			entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte(d)})
		}
		if _, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries}); err != nil {
			t.Fatal(err)
		}
		it := iterator(t, ctx, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(shardID(0)), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(10)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Records) != 10 {
			t.Errorf("first GetRecords with Limit 10 of 25 records returned %d", len(out.Records))
		}
		if aws.ToInt64(out.MillisBehindLatest) < 0 {
			t.Errorf("MillisBehindLatest %d", aws.ToInt64(out.MillisBehindLatest))
		}
		rest, next := readToEnd(t, ctx, c, aws.ToString(out.NextShardIterator), 10)
		got := dataStrings(append(out.Records, rest...))
		if !slices.Equal(got, want) {
			t.Errorf("paged with Limit 10: %q, want %q", got, want)
		}
		// The final iterator still works and sees a later record.
		if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("k"), Data: []byte("later")}); err != nil {
			t.Fatal(err)
		}
		more, _ := readToEnd(t, ctx, c, next, 10)
		if g := dataStrings(more); !slices.Equal(g, []string{"later"}) {
			t.Errorf("caught-up iterator then saw %q, want [later]", g)
		}
	})
}

// TestSDKErrors checks the error type each bad request gets through the SDK.
func TestSDKErrors(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	c := s.client(1)
	ctx := testCtx(t, 60*time.Second)
	createStream(t, ctx, c, "errs", 2)
	put0, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("errs"), PartitionKey: aws.String("p"),
		ExplicitHashKey: aws.String("0"), Data: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	put1, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("errs"), PartitionKey: aws.String("p"),
		ExplicitHashKey: aws.String(shardStart(1, 2).String()), Data: []byte("y")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put0.ShardId) == aws.ToString(put1.ShardId) {
		t.Fatalf("both records on %s", aws.ToString(put0.ShardId))
	}
	bigEntries := make([]types.PutRecordsRequestEntry, 501)
	for i := range bigEntries {
		bigEntries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte("d")}
	}

	cases := []struct {
		name string
		call func() error
		want []string // acceptable error types
	}{
		{"unknown stream", func() error {
			_, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("nope")})
			return err
		}, []string{"ResourceNotFoundException"}},
		{"put to unknown stream", func() error {
			_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("nope"), PartitionKey: aws.String("k"), Data: []byte("d")})
			return err
		}, []string{"ResourceNotFoundException"}},
		{"unknown stream ARN", func() error {
			_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(streamARN("nope"))})
			return err
		}, []string{"ResourceNotFoundException"}},
		{"duplicate create", func() error {
			_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("errs"), ShardCount: aws.Int32(1)})
			return err
		}, []string{"ResourceInUseException"}},
		{"invalid stream name", func() error {
			_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("bad name!"), ShardCount: aws.Int32(1)})
			return err
		}, []string{"ValidationException"}},
		{"stream name too long", func() error {
			_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(strings.Repeat("n", 129)), ShardCount: aws.Int32(1)})
			return err
		}, []string{"ValidationException"}},
		{"ShardCount 0", func() error {
			_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("zero"), ShardCount: aws.Int32(0)})
			return err
		}, []string{"ValidationException"}},
		{"garbled iterator", func() error {
			_, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String("AAAAAAAAAAGarbledIteratorThatNobodyIssued==")})
			return err
		}, []string{"InvalidArgumentException"}},
		{"tampered iterator", func() error {
			it := iterator(t, ctx, c, &kinesis.GetShardIteratorInput{StreamName: aws.String("errs"), ShardId: put0.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			b := []byte(it)
			i := len(b) / 2
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			_, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(string(b))})
			return err
		}, []string{"InvalidArgumentException"}},
		{"sequence number of another shard", func() error {
			_, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("errs"), ShardId: put0.ShardId,
				ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: put1.SequenceNumber})
			return err
		}, []string{"InvalidArgumentException"}},
		{"AT_SEQUENCE_NUMBER without a sequence number", func() error {
			_, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("errs"), ShardId: put0.ShardId,
				ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber})
			return err
		}, []string{"InvalidArgumentException"}},
		{"AT_TIMESTAMP without a timestamp", func() error {
			_, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("errs"), ShardId: put0.ShardId,
				ShardIteratorType: types.ShardIteratorTypeAtTimestamp})
			return err
		}, []string{"InvalidArgumentException"}},
		{"AT_TIMESTAMP in the future", func() error {
			// AWS: "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis."
			_, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("errs"), ShardId: put0.ShardId,
				ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(time.Now().Add(time.Hour))})
			return err
		}, []string{"InvalidArgumentException"}},
		{"TRIM_HORIZON with a sequence number", func() error {
			_, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("errs"), ShardId: put0.ShardId,
				ShardIteratorType: types.ShardIteratorTypeTrimHorizon, StartingSequenceNumber: put0.SequenceNumber})
			return err
		}, []string{"InvalidArgumentException"}},
		{"iterator of a deleted stream", func() error {
			createStream(t, ctx, c, "errs-gone", 1)
			it := iterator(t, ctx, c, &kinesis.GetShardIteratorInput{StreamName: aws.String("errs-gone"), ShardId: aws.String(shardID(0)), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("errs-gone")}); err != nil {
				return err
			}
			for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if _, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("errs-gone")}); err != nil {
					break
				}
			}
			_, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
			return err
		}, []string{"ResourceNotFoundException"}},
		{"unknown iterator type", func() error {
			_, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("errs"), ShardId: put0.ShardId,
				ShardIteratorType: "BOGUS"})
			return err
		}, []string{"ValidationException"}},
		{"ExplicitHashKey 2^128", func() error {
			_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("errs"), PartitionKey: aws.String("k"),
				ExplicitHashKey: aws.String(two128.String()), Data: []byte("d")})
			return err
		}, []string{"InvalidArgumentException", "ValidationException"}},
		{"ExplicitHashKey not a number", func() error {
			_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("errs"), PartitionKey: aws.String("k"),
				ExplicitHashKey: aws.String("12ab"), Data: []byte("d")})
			return err
		}, []string{"ValidationException"}},
		{"record over 1 MiB", func() error {
			_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("errs"), PartitionKey: aws.String("k"),
				Data: make([]byte, 1<<20+1)})
			return err
		}, []string{"ValidationException"}},
		{"PutRecords entry over 1 MiB", func() error {
			_, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("errs"), Records: []types.PutRecordsRequestEntry{
				{PartitionKey: aws.String("k"), Data: make([]byte, 1<<20+1)},
			}})
			return err
		}, []string{"ValidationException"}},
		{"PutRecords with 501 entries", func() error {
			_, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("errs"), Records: bigEntries})
			return err
		}, []string{"ValidationException"}},
		{"PutRecords with no entries", func() error {
			_, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("errs"), Records: []types.PutRecordsRequestEntry{}})
			return err
		}, []string{"ValidationException"}},
		{"shard that does not exist", func() error {
			_, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("errs"), ShardId: aws.String(shardID(99)),
				ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			return err
		}, []string{"ResourceNotFoundException"}},
		{"ListShards NextToken with StreamName", func() error {
			out, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("errs"), MaxResults: aws.Int32(1)})
			if err != nil {
				return err
			}
			if out.NextToken == nil {
				return fmt.Errorf("ListShards MaxResults 1 of 2 shards gave no NextToken")
			}
			_, err = c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("errs"), NextToken: out.NextToken})
			return err
		}, []string{"InvalidArgumentException"}},
		{"ListShards garbled NextToken", func() error {
			_, err := c.ListShards(ctx, &kinesis.ListShardsInput{NextToken: aws.String("not-a-real-token")})
			return err
		}, []string{"InvalidArgumentException", "ExpiredNextTokenException"}},
		{"DescribeStream Limit 0", func() error {
			_, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("errs"), Limit: aws.Int32(0)})
			return err
		}, []string{"ValidationException"}},
		{"GetRecords Limit 10001", func() error {
			it := iterator(t, ctx, c, &kinesis.GetShardIteratorInput{StreamName: aws.String("errs"), ShardId: put0.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			_, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(10001)})
			return err
		}, []string{"ValidationException", "InvalidArgumentException"}},
	}
	for _, tc := range cases {
		err := tc.call()
		code := errorCode(err)
		if !slices.Contains(tc.want, code) {
			t.Errorf("%s: got error %v (type %q), want %v", tc.name, err, code, tc.want)
			continue
		}
		if errorMessage(err) == "" {
			t.Errorf("%s: %s with an empty message", tc.name, code)
		}
	}
	// None of the refused puts was stored.
	for i := 0; i < 2; i++ {
		if recs := readShard(t, ctx, c, "errs", shardID(i)); len(recs) != 1 {
			t.Errorf("%s holds %q, want only the one good record", shardID(i), dataStrings(recs))
		}
	}
}

func shardIDs(shards []types.Shard) []string {
	var ids []string
	for _, s := range shards {
		ids = append(ids, aws.ToString(s.ShardId))
	}
	return ids
}

// checkEvenShards asserts the ids and hash ranges of a freshly created
// n-shard stream.
func checkEvenShards(t *testing.T, shards []types.Shard, n int) {
	t.Helper()
	if len(shards) != n {
		t.Fatalf("%d shards, want %d", len(shards), n)
	}
	for i, sh := range shards {
		if got := aws.ToString(sh.ShardId); got != shardID(i) {
			t.Errorf("shard %d id %q, want %q", i, got, shardID(i))
		}
		if sh.HashKeyRange == nil {
			t.Errorf("shard %d has no HashKeyRange", i)
			continue
		}
		if got, want := aws.ToString(sh.HashKeyRange.StartingHashKey), shardStart(i, n).String(); got != want {
			t.Errorf("shard %d StartingHashKey %s, want %s", i, got, want)
		}
		if got, want := aws.ToString(sh.HashKeyRange.EndingHashKey), shardEnd(i, n).String(); got != want {
			t.Errorf("shard %d EndingHashKey %s, want %s", i, got, want)
		}
		if sh.SequenceNumberRange == nil {
			t.Errorf("shard %d has no SequenceNumberRange", i)
			continue
		}
		checkSeq(t, aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber))
		if sh.SequenceNumberRange.EndingSequenceNumber != nil {
			t.Errorf("open shard %d has EndingSequenceNumber %s", i, aws.ToString(sh.SequenceNumberRange.EndingSequenceNumber))
		}
		if sh.ParentShardId != nil {
			t.Errorf("shard %d of a new stream has parent %s", i, aws.ToString(sh.ParentShardId))
		}
	}
}

// checkSeq asserts the shape clients expect of a sequence number.
func checkSeq(t testing.TB, seq string) {
	t.Helper()
	if !isDecimal(seq) || len(seq) != 56 {
		t.Errorf("sequence number %q is not a 56-digit decimal string", seq)
	}
}

func checkIncreasing(t testing.TB, shard string, recs []types.Record) {
	t.Helper()
	for i := 1; i < len(recs); i++ {
		a, b := aws.ToString(recs[i-1].SequenceNumber), aws.ToString(recs[i].SequenceNumber)
		if !seqLess(a, b) {
			t.Errorf("%s: sequence number %s follows %s", shard, b, a)
		}
	}
}
