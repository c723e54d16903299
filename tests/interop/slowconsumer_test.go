package interop

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestSlowConsumerHoldsBackNoOne subscribes one consumer that stops reading
// its event stream and another that reads normally, then writes far more
// than the stalled connection's buffers hold: the producer and the healthy
// consumer must get everything while the stalled one stays stalled.
func TestSlowConsumerHoldsBackNoOne(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	ctx := testCtx(t, 90*time.Second)
	c := s.client(3)
	createStream(t, ctx, c, "slow", 1)
	register := func(name string) string {
		out, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARN("slow")), ConsumerName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Consumer.ConsumerARN)
	}
	stalledARN, healthyARN := register("stalled"), register("healthy")

	// The stalled consumer: a raw subscription whose body is never read.
	body := fmt.Sprintf(`{"ConsumerARN":%q,"ShardId":"shardId-000000000000","StartingPosition":{"Type":"LATEST"}}`, stalledARN)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint+"/", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.SubscribeToShard")
	req.Header.Set("Authorization", fakeAuth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("stalled subscription: %v %v", resp, err)
	}
	defer resp.Body.Close()

	sub, err := c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(healthyARN), ShardId: aws.String(shardID(0)),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	if err != nil {
		t.Fatal(err)
	}
	es := sub.GetStream()
	defer es.Close()
	const batches, perBatch, size = 40, 100, 10 << 10 // 40 MB in all
	received := make(chan int, 1)
	go func() {
		n := 0
		for ev := range es.Events() {
			if e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent); ok {
				n += len(e.Value.Records)
				if n == batches*perBatch {
					break
				}
			}
		}
		received <- n
	}()
	payload := bytes.Repeat([]byte("x"), size)
	for b := 0; b < batches; b++ {
		var entries []types.PutRecordsRequestEntry
		for i := 0; i < perBatch; i++ {
			entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)), Data: payload})
		}
		out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("slow"), Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("PutRecords %d while a consumer is stalled: %v", b, err)
		}
	}
	select {
	case n := <-received:
		if n != batches*perBatch {
			t.Fatalf("healthy consumer received %d records, want %d (stream error: %v)", n, batches*perBatch, es.Err())
		}
	case <-ctx.Done():
		t.Fatal("healthy consumer did not receive everything")
	}
}
