package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riffle-streams/riffle/internal/store"
	"github.com/riffle-streams/riffle/internal/vfs"
)

func register(t *testing.T, e *Engine, streamARN, name string) Consumer {
	t.Helper()
	return must[*RegisterStreamConsumerOutput](t)(e.RegisterStreamConsumer(ctx, &RegisterStreamConsumerInput{StreamARN: streamARN, ConsumerName: name})).Consumer
}

func TestConsumersLifecycle(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 1)
		arn := describe(t, v.e, "s").StreamARN
		c := register(t, v.e, arn, "app")
		wantARN := fmt.Sprintf("%s/consumer/app:%d", arn, v.clock.Now().Unix())
		if c.ConsumerARN != wantARN || c.ConsumerStatus != ConsumerActive {
			t.Fatalf("registered %+v, want ARN %s", c, wantARN)
		}
		_, err := v.e.RegisterStreamConsumer(ctx, &RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: "app"})
		wantKind(t, err, KindResourceInUse, "already exists")
		for i := 1; i < MaxConsumersPerStream; i++ {
			register(t, v.e, arn, fmt.Sprint("c", i))
		}
		_, err = v.e.RegisterStreamConsumer(ctx, &RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: "one-too-many"})
		wantKind(t, err, KindLimitExceeded, "maximum of 20")

		// Paging through all 20.
		var names []string
		in := &ListStreamConsumersInput{StreamARN: arn, MaxResults: ptr(7)}
		for i := 0; i < 10; i++ {
			out := must[*ListStreamConsumersOutput](t)(v.e.ListStreamConsumers(ctx, in))
			for _, c := range out.Consumers {
				names = append(names, c.ConsumerName)
			}
			if out.NextToken == "" {
				break
			}
			in = &ListStreamConsumersInput{StreamARN: arn, MaxResults: ptr(7), NextToken: out.NextToken}
		}
		if len(names) != 20 || names[0] != "app" || names[19] != "c19" {
			t.Fatalf("listed %v", names)
		}
		d := must[*DescribeStreamConsumerOutput](t)(v.e.DescribeStreamConsumer(ctx, &ConsumerRef{ConsumerARN: c.ConsumerARN})).ConsumerDescription
		if d.StreamARN != arn || d.ConsumerName != "app" {
			t.Fatalf("described %+v", d)
		}
		if n := must[*DescribeStreamSummaryOutput](t)(v.e.DescribeStreamSummary(ctx, &DescribeStreamSummaryInput{StreamRef: StreamRef{StreamName: "s"}})).StreamDescriptionSummary.ConsumerCount; n != 20 {
			t.Fatalf("ConsumerCount %d", n)
		}
		// Tags by consumer ARN.
		if err := v.e.TagResource(ctx, &TagResourceInput{ResourceARN: c.ConsumerARN, Tags: map[string]string{"team": "a"}}); err != nil {
			t.Fatal(err)
		}
		v.restart()
		tags := must[*ListTagsForResourceOutput](t)(v.e.ListTagsForResource(ctx, &ListTagsForResourceInput{ResourceARN: c.ConsumerARN}))
		if len(tags.Tags) != 1 {
			t.Fatalf("consumer tags after restart: %+v", tags)
		}
		// A stream with consumers is deleted only when asked to enforce it.
		err = v.e.DeleteStream(ctx, &DeleteStreamInput{StreamRef: StreamRef{StreamName: "s"}})
		wantKind(t, err, KindResourceInUse, "has registered consumers")
		if err := v.e.DeregisterStreamConsumer(ctx, &ConsumerRef{StreamARN: arn, ConsumerName: "app"}); err != nil {
			t.Fatal(err)
		}
		_, err = v.e.DescribeStreamConsumer(ctx, &ConsumerRef{ConsumerARN: c.ConsumerARN})
		wantKind(t, err, KindResourceNotFound, "Consumer app under stream s")
		if err := v.e.DeleteStream(ctx, &DeleteStreamInput{StreamRef: StreamRef{StreamName: "s"}, EnforceConsumerDeletion: ptr(true)}); err != nil {
			t.Fatal(err)
		}
	})
}

// collect reads events until n records arrived.
func collect(t *testing.T, sub *Subscription, n int) ([]Record, *SubscribeToShardEvent) {
	t.Helper()
	var recs []Record
	var last *SubscribeToShardEvent
	for len(recs) < n {
		ev, err := sub.Next(context.Background())
		if err != nil {
			t.Fatalf("after %d records: %v", len(recs), err)
		}
		recs = append(recs, ev.Records...)
		last = ev
	}
	return recs, last
}

func TestSubscribeToShard(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, err := store.Open(vfs.NewMem(), "data", store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e, err := Open(DefaultConfig(), st)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		defer e.Close()
		create(t, e, "s", 1)
		ref := StreamRef{StreamName: "s"}
		arn := describe(t, e, "s").StreamARN
		c := register(t, e, arn, "app")
		for i := 0; i < 3; i++ {
			must[*PutRecordOutput](t)(e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: []byte(fmt.Sprint("old", i))}))
		}
		sub, err := e.SubscribeToShard(ctx, &SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardId: "shardId-000000000000",
			StartingPosition: &StartingPosition{Type: IteratorTrimHorizon}})
		if err != nil {
			t.Fatal(err)
		}
		recs, ev := collect(t, sub, 3)
		if string(recs[0].Data) != "old0" || ev.MillisBehindLatest != 0 {
			t.Fatalf("first event: %q behind %d", recs[0].Data, ev.MillisBehindLatest)
		}
		// A second subscription within 5 seconds is refused; after, it takes over.
		in := &SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardId: "shardId-000000000000",
			StartingPosition: &StartingPosition{Type: IteratorAfterSequenceNumber, SequenceNumber: ev.ContinuationSequenceNumber}}
		_, err = e.SubscribeToShard(ctx, in)
		wantKind(t, err, KindResourceInUse, "Another active subscription")

		// Idle: a heartbeat within 5 seconds, with a larger continuation number.
		t0 := time.Now()
		hb, err := sub.Next(ctx)
		if err != nil || len(hb.Records) != 0 || time.Since(t0) > 5*time.Second || !seqLess(ev.ContinuationSequenceNumber, hb.ContinuationSequenceNumber) {
			t.Fatalf("heartbeat after %s: %+v %v", time.Since(t0), hb, err)
		}
		// Records are pushed as soon as they are durable.
		go func() {
			time.Sleep(time.Second)
			e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: []byte("new")})
		}()
		t0 = time.Now()
		pushed, err := sub.Next(ctx)
		if err != nil || len(pushed.Records) != 1 || string(pushed.Records[0].Data) != "new" || time.Since(t0) != time.Second {
			t.Fatalf("push after %s: %+v %v", time.Since(t0), pushed, err)
		}
		// Takeover after 5 seconds: the old subscription ends.
		time.Sleep(SubscriptionTakeoverAfter)
		sub2, err := e.SubscribeToShard(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sub.Next(ctx); !errors.Is(err, ErrSubscriptionEnded) {
			t.Fatalf("taken-over subscription: %v", err)
		}
		// The continuation number resumes after the last record seen then.
		got, _ := collect(t, sub2, 1)
		if string(got[0].Data) != "new" {
			t.Fatalf("resumed at %q", got[0].Data)
		}
		// A reshard ends the subscription with ChildShards at once.
		go func() {
			time.Sleep(time.Second)
			e.UpdateShardCount(ctx, &UpdateShardCountInput{StreamRef: ref, TargetShardCount: ptr(2), ScalingType: "UNIFORM_SCALING"})
		}()
		end, err := sub2.Next(ctx)
		if err != nil || len(end.ChildShards) != 2 || !strings.HasPrefix(end.ChildShards[0].ShardId, "shardId-00000000000") {
			t.Fatalf("after reshard: %+v %v", end, err)
		}
		if _, err := sub2.Next(ctx); !errors.Is(err, ErrSubscriptionEnded) {
			t.Fatalf("after ChildShards: %v", err)
		}
		// A subscription lasts five minutes.
		sub3, err := e.SubscribeToShard(ctx, &SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardId: "shardId-000000000001",
			StartingPosition: &StartingPosition{Type: IteratorLatest}})
		if err != nil {
			t.Fatal(err)
		}
		t0 = time.Now()
		for {
			if _, err := sub3.Next(ctx); err != nil {
				if !errors.Is(err, ErrSubscriptionEnded) || time.Since(t0) != SubscriptionLifetime {
					t.Fatalf("ended after %s: %v", time.Since(t0), err)
				}
				break
			}
		}
		// Deregistering the consumer ends its subscriptions.
		sub4, err := e.SubscribeToShard(ctx, &SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardId: "shardId-000000000002",
			StartingPosition: &StartingPosition{Type: IteratorLatest}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.DeregisterStreamConsumer(ctx, &ConsumerRef{ConsumerARN: c.ConsumerARN}); err != nil {
			t.Fatal(err)
		}
		if _, err := sub4.Next(ctx); !errors.Is(err, ErrSubscriptionEnded) {
			t.Fatalf("after deregistering: %v", err)
		}
		_, err = e.SubscribeToShard(ctx, in)
		wantKind(t, err, KindResourceNotFound, "Consumer app")
	})
}
