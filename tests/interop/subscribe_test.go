package interop

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// h2cTransport speaks HTTP/2 with prior knowledge over plain TCP.
func h2cTransport() *http.Transport {
	t := &http.Transport{}
	t.Protocols = new(http.Protocols)
	t.Protocols.SetUnencryptedHTTP2(true)
	return t
}

// subscribeAndCheck registers a consumer, subscribes to shard 0 from
// TRIM_HORIZON, and checks that records written before and during the
// subscription arrive in order, with their timestamps, within the stream.
func subscribeAndCheck(t *testing.T, ctx context.Context, c *kinesis.Client, stream string) {
	t.Helper()
	createStream(t, ctx, c, stream, 1)
	arn := streamARN(stream)
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("app")})
	if err != nil {
		t.Fatalf("RegisterStreamConsumer: %v", err)
	}
	before := time.Now().Add(-time.Second)
	for i := 0; i < 5; i++ {
		if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("k"), Data: []byte(fmt.Sprint("r", i))}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String(shardID(0)),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}})
	if err != nil {
		t.Fatalf("SubscribeToShard: %v", err)
	}
	es := out.GetStream()
	defer es.Close()
	go func() {
		time.Sleep(200 * time.Millisecond)
		for i := 5; i < 10; i++ {
			c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("k"), Data: []byte(fmt.Sprint("r", i))})
		}
	}()
	var got []string
	lastCont := ""
	for ev := range es.Events() {
		e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
		if !ok {
			t.Fatalf("unexpected event %T", ev)
		}
		for _, r := range e.Value.Records {
			if r.ApproximateArrivalTimestamp == nil || r.ApproximateArrivalTimestamp.Before(before) || r.ApproximateArrivalTimestamp.After(time.Now()) {
				t.Fatalf("record %s has arrival time %v", r.Data, r.ApproximateArrivalTimestamp)
			}
			got = append(got, string(r.Data))
		}
		cont := aws.ToString(e.Value.ContinuationSequenceNumber)
		if lastCont != "" && !seqLess(lastCont, cont) && len(e.Value.Records) > 0 {
			t.Fatalf("continuation went from %s to %s", lastCont, cont)
		}
		lastCont = cont
		if len(got) >= 10 {
			break
		}
	}
	if err := es.Err(); err != nil {
		t.Fatalf("event stream: %v", err)
	}
	if fmt.Sprint(got) != "[r0 r1 r2 r3 r4 r5 r6 r7 r8 r9]" {
		t.Fatalf("received %v", got)
	}
}

// TestSubscribeOverEveryTransport subscribes with the Go SDK over HTTP/1.1
// and HTTP/2 cleartext on the plain port, and over HTTP/1.1 and h2 on the
// TLS port, checking the protocol each call actually used.
func TestSubscribeOverEveryTransport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := riffleCert(t, dir)
	s, tl := startTLSServer(t, dir)
	ctx := testCtx(t, time.Minute)
	for _, tc := range []struct {
		name, endpoint string
		rt             http.RoundTripper
		proto          string
	}{
		{"http1", s.endpoint, &http.Transport{}, "HTTP/1.1"},
		{"h2c", s.endpoint, h2cTransport(), "HTTP/2.0"},
		{"tls-http1", "https://localhost:" + tl.port(), httpsTransport(t, ca, false), "HTTP/1.1"},
		{"tls-h2", "https://localhost:" + tl.port(), httpsTransport(t, ca, true), "HTTP/2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &protoLog{rt: tc.rt}
			subscribeAndCheck(t, ctx, sdkOver(tc.endpoint, rec), "sub-"+tc.name)
			if seen := rec.seen(); len(seen) != 1 || seen[tc.proto] == 0 {
				t.Fatalf("protocols used: %v, want only %s", seen, tc.proto)
			}
		})
	}
}

// TestSubscribeErrorsAndReshard covers the errors of SubscribeToShard, a
// second subscription within five seconds, and a reshard under an active
// subscription, which ends it with ChildShards.
func TestSubscribeErrorsAndReshard(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	ctx := testCtx(t, time.Minute)
	c := s.client(1)
	createStream(t, ctx, c, "re", 1)
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARN("re")), ConsumerName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	carn := reg.Consumer.ConsumerARN
	sub := func(shard string, typ types.ShardIteratorType) (*kinesis.SubscribeToShardOutput, error) {
		return c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: carn, ShardId: aws.String(shard),
			StartingPosition: &types.StartingPosition{Type: typ}})
	}
	if _, err := sub(shardID(5), types.ShardIteratorTypeLatest); errorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("missing shard: %v", err)
	}
	_, err = c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(aws.ToString(carn) + "9"), ShardId: aws.String(shardID(0)),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	if errorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("unknown consumer: %v", err)
	}
	_, err = c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: carn, ShardId: aws.String(shardID(0)),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeAtSequenceNumber}})
	if errorCode(err) != "InvalidArgumentException" {
		t.Fatalf("AT_SEQUENCE_NUMBER without a number: %v", err)
	}
	out, err := sub(shardID(0), types.ShardIteratorTypeLatest)
	if err != nil {
		t.Fatal(err)
	}
	es := out.GetStream()
	defer es.Close()
	if _, err := sub(shardID(0), types.ShardIteratorTypeLatest); errorCode(err) != "ResourceInUseException" {
		t.Fatalf("second subscription within 5 s: %v", err)
	}
	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("re")}); errorCode(err) != "ResourceInUseException" {
		t.Fatalf("DeleteStream with a consumer: %v", err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("re"), TargetShardCount: aws.Int32(2), ScalingType: types.ScalingTypeUniformScaling})
	}()
	var children []types.ChildShard
	for ev := range es.Events() {
		if e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent); ok && len(e.Value.ChildShards) > 0 {
			children = e.Value.ChildShards
		}
	}
	if err := es.Err(); err != nil {
		t.Fatalf("event stream: %v", err)
	}
	if len(children) != 2 || aws.ToString(children[0].ShardId) != shardID(1) || children[0].ParentShards[0] != shardID(0) {
		t.Fatalf("ChildShards at the end of the subscription: %+v", children)
	}
}
