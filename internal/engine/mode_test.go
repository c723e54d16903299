package engine

import (
	"fmt"
	"testing"
	"time"
)

func TestOnDemandSplitsHotShards(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		// No ShardCount: an on-demand stream starts with four shards.
		if err := v.e.CreateStream(ctx, &CreateStreamInput{StreamName: "od", StreamModeDetails: &StreamModeDetails{StreamMode: ModeOnDemand}}); err != nil {
			t.Fatal(err)
		}
		ref := StreamRef{StreamName: "od"}
		summary := func() StreamDescriptionSummary {
			return must[*DescribeStreamSummaryOutput](t)(v.e.DescribeStreamSummary(ctx, &DescribeStreamSummaryInput{StreamRef: ref})).StreamDescriptionSummary
		}
		if s := summary(); s.OpenShardCount != 4 || s.StreamModeDetails.StreamMode != ModeOnDemand {
			t.Fatalf("new on-demand stream: %+v", s)
		}
		// writeSecond sends n records to shard 0 and lets a second pass.
		writeSecond := func(n int) {
			var batch []PutRecordsRequestEntry
			for i := 0; i < n; i++ {
				batch = append(batch, PutRecordsRequestEntry{PartitionKey: "p", ExplicitHashKey: "1", Data: []byte("x")})
				if len(batch) == 500 || i == n-1 {
					must[*PutRecordsOutput](t)(v.e.PutRecords(ctx, &PutRecordsInput{StreamRef: ref, Records: batch}))
					batch = nil
				}
			}
			v.clock.Advance(time.Second)
			v.e.AutoScale()
		}
		v.e.AutoScale()
		// Busy but within a shard's capacity: no split.
		for i := 0; i < 15; i++ {
			writeSecond(900)
		}
		if n := summary().OpenShardCount; n != 4 {
			t.Fatalf("split below capacity: %d open shards", n)
		}
		// Over capacity, but not for long enough.
		for i := 0; i < 5; i++ {
			writeSecond(1500)
		}
		writeSecond(100)
		if n := summary().OpenShardCount; n != 4 {
			t.Fatalf("split after a short burst: %d open shards", n)
		}
		// Sustained: shard 0 splits in two.
		for i := 0; i < int(OnDemandScaleWindow/time.Second)+2; i++ {
			writeSecond(1500)
		}
		if n := summary().OpenShardCount; n != 5 {
			t.Fatalf("after sustained load: %d open shards, want 5", n)
		}
		d := describe(t, v.e, "od")
		if !d.Shards[0].isClosed() || d.Shards[4].ParentShardId != "shardId-000000000000" || d.Shards[5].ParentShardId != "shardId-000000000000" {
			t.Fatalf("lineage after auto split: %+v", d.Shards)
		}
	})
}

func (s Shard) isClosed() bool { return s.SequenceNumberRange.EndingSequenceNumber != "" }

func TestUpdateStreamMode(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 2)
		arn := describe(t, v.e, "s").StreamARN
		set := func(mode string) error {
			return v.e.UpdateStreamMode(ctx, &UpdateStreamModeInput{StreamARN: arn, StreamModeDetails: &StreamModeDetails{StreamMode: mode}})
		}
		if err := set(ModeOnDemand); err != nil {
			t.Fatal(err)
		}
		wantKind(t, set(ModeOnDemand), KindInvalidArgument, "already in ON_DEMAND mode")
		if err := set(ModeProvisioned); err != nil {
			t.Fatal(err)
		}
		wantKind(t, set(ModeOnDemand), KindLimitExceeded, "at most twice within 24 hours")
		v.clock.Advance(25 * time.Hour)
		if err := set(ModeOnDemand); err != nil {
			t.Fatal(err)
		}
		v.restart()
		if m := describe(t, v.e, "s").StreamModeDetails.StreamMode; m != ModeOnDemand {
			t.Fatalf("mode after restart: %s", m)
		}
	})
}

func TestCreateStreamSettingsAndOnDemandQuota(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		err := v.e.CreateStream(ctx, &CreateStreamInput{StreamName: "big", ShardCount: ptr(1), MaxRecordSizeInKiB: ptr(20000)})
		wantKind(t, err, KindValidation, "Member must have value less than or equal to 10240")
		if err := v.e.CreateStream(ctx, &CreateStreamInput{StreamName: "big", ShardCount: ptr(1), MaxRecordSizeInKiB: ptr(8192)}); err != nil {
			t.Fatal(err)
		}
		s := must[*DescribeStreamSummaryOutput](t)(v.e.DescribeStreamSummary(ctx, &DescribeStreamSummaryInput{StreamRef: StreamRef{StreamName: "big"}}))
		if s.StreamDescriptionSummary.MaxRecordSizeInKiB != 8192 {
			t.Fatalf("MaxRecordSizeInKiB %d", s.StreamDescriptionSummary.MaxRecordSizeInKiB)
		}
		// A 3 MiB record fits, and PutRecords takes requests up to the raised
		// size (two such records: 6 MiB, over the default 5 MiB).
		data := make([]byte, 3<<20)
		must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: StreamRef{StreamName: "big"}, PartitionKey: "p", Data: data}))
		entries := []PutRecordsRequestEntry{{PartitionKey: "a", Data: data}, {PartitionKey: "b", Data: data}}
		if out := must[*PutRecordsOutput](t)(v.e.PutRecords(ctx, &PutRecordsInput{StreamRef: StreamRef{StreamName: "big"}, Records: entries})); out.FailedRecordCount != 0 {
			t.Fatalf("failed %d", out.FailedRecordCount)
		}

		v.cfg.ShardLimit = 10000
		v.restart()
		for i := 0; i < DefaultOnDemandStreamLimit; i++ {
			if err := v.e.CreateStream(ctx, &CreateStreamInput{StreamName: fmt.Sprint("od", i), StreamModeDetails: &StreamModeDetails{StreamMode: ModeOnDemand}}); err != nil {
				t.Fatal(err)
			}
		}
		err = v.e.CreateStream(ctx, &CreateStreamInput{StreamName: "one-more", StreamModeDetails: &StreamModeDetails{StreamMode: ModeOnDemand}})
		wantKind(t, err, KindLimitExceeded, "Current On-Demand streams count: 50. Limit: 50.")
		create(t, v.e, "prov", 1)
		err = v.e.UpdateStreamMode(ctx, &UpdateStreamModeInput{StreamARN: describe(t, v.e, "prov").StreamARN, StreamModeDetails: &StreamModeDetails{StreamMode: ModeOnDemand}})
		wantKind(t, err, KindLimitExceeded, "On-Demand streams")
	})
}
