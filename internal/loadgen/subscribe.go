package loadgen

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// subscribeLatency measures, n times, the time from the start of a PutRecord
// to the arrival of its record at an idle SubscribeToShard subscriber, and
// checks that every record arrives once, in order.
func subscribeLatency(ctx context.Context, c *kinesis.Client, n int) ([]time.Duration, error) {
	name := fmt.Sprintf("bench-subscribe-%d", time.Now().UnixNano())
	if err := createStream(ctx, c, name, 1); err != nil {
		return nil, err
	}
	defer c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name), EnforceConsumerDeletion: aws.Bool(true)})
	d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: d.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("bench")})
	if err != nil {
		return nil, fmt.Errorf("RegisterStreamConsumer: %w", err)
	}
	for i := 0; ; i++ {
		dc, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: reg.Consumer.ConsumerARN})
		if err == nil && dc.ConsumerDescription.ConsumerStatus == types.ConsumerStatusActive {
			break
		}
		if i == 100 {
			return nil, fmt.Errorf("consumer never became ACTIVE")
		}
		time.Sleep(50 * time.Millisecond)
	}
	sub, err := c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN,
		ShardId: aws.String("shardId-000000000000"), StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	if err != nil {
		return nil, fmt.Errorf("SubscribeToShard: %w", err)
	}
	es := sub.GetStream()
	defer es.Close()
	arrived := make(chan string, 16)
	go func() {
		defer close(arrived)
		for ev := range es.Events() {
			if e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent); ok {
				for _, r := range e.Value.Records {
					arrived <- string(r.Data)
				}
			}
		}
	}()
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		want := strconv.Itoa(i)
		start := time.Now()
		if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte(want)}); err != nil {
			return nil, fmt.Errorf("PutRecord: %w", err)
		}
		select {
		case got, ok := <-arrived:
			if !ok {
				return nil, fmt.Errorf("subscription ended after %d records: %v", i, es.Err())
			}
			if got != want {
				return nil, fmt.Errorf("subscriber received %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			return nil, fmt.Errorf("record %d not pushed within 10s", i)
		}
		lat = append(lat, time.Since(start))
		time.Sleep(2 * time.Millisecond) // let the subscriber go idle again
	}
	slices.Sort(lat)
	return lat, nil
}
