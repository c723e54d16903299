// Package loadgen is Riffle's load generator: it drives a Kinesis endpoint
// with the AWS SDK for Go v2 (what users run, so client cost is realistic),
// verifies everything it reads back, and reports throughput and latency.
package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Options configures a benchmark run.
type Options struct {
	Endpoint    string
	Producers   []int         // producer counts for the PutRecords scenario
	Duration    time.Duration // length of each throughput scenario
	RecordBytes int
	BatchSize   int
	Shards      int
	LatencyN    int // PutRecord calls in the latency scenario
	Progress    io.Writer
}

// DefaultOptions returns the scenarios of `make bench`.
func DefaultOptions() Options {
	return Options{
		Endpoint:    "http://127.0.0.1:4567",
		Producers:   []int{1, 4, 16},
		Duration:    5 * time.Second,
		RecordBytes: 100,
		BatchSize:   500,
		Shards:      4,
		LatencyN:    2000,
		Progress:    io.Discard,
	}
}

// Result is one measured figure.
type Result struct {
	Scenario string
	Value    float64
	Unit     string
	Note     string
}

// Client returns an SDK client for endpoint with static credentials and no
// retries, so that every failure is seen and counted.
func Client(endpoint string) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	})
}

// Run runs every scenario and returns the results.
func Run(ctx context.Context, o Options) ([]Result, error) {
	c := Client(o.Endpoint)
	var results []Result
	for _, p := range o.Producers {
		name := fmt.Sprintf("bench-put-%d-%d", p, time.Now().UnixNano())
		if err := createStream(ctx, c, name, o.Shards); err != nil {
			return results, err
		}
		fmt.Fprintf(o.Progress, "PutRecords: %d producers, %d x %d B, %s\n", p, o.BatchSize, o.RecordBytes, o.Duration)
		acked, failed, elapsed, err := putLoad(ctx, c, name, p, o)
		if err != nil {
			return results, err
		}
		results = append(results, Result{
			Scenario: fmt.Sprintf("PutRecords %d x %d B, %d producers, %d shards", o.BatchSize, o.RecordBytes, p, o.Shards),
			Value:    float64(acked) / elapsed.Seconds(), Unit: "records/s",
			Note: fmt.Sprintf("%d acknowledged, %d failed calls", acked, failed),
		})
		if p == o.Producers[len(o.Producers)-1] {
			fmt.Fprintf(o.Progress, "GetRecords drain of %d records\n", acked)
			n, elapsed, err := drain(ctx, c, name, acked)
			if err != nil {
				return results, err
			}
			results = append(results, Result{Scenario: "GetRecords drain from TRIM_HORIZON",
				Value: float64(n) / elapsed.Seconds(), Unit: "records/s", Note: fmt.Sprintf("%d records verified", n)})
		}
		c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)})
	}
	fmt.Fprintf(o.Progress, "PutRecord latency: %d calls\n", o.LatencyN)
	lat, err := putLatency(ctx, c, o)
	if err != nil {
		return results, err
	}
	results = append(results,
		Result{Scenario: "PutRecord latency p50, 1 producer", Value: ms(lat[len(lat)/2]), Unit: "ms"},
		Result{Scenario: "PutRecord latency p99, 1 producer", Value: ms(lat[len(lat)*99/100]), Unit: "ms"})
	fmt.Fprintf(o.Progress, "SubscribeToShard put→event latency: %d records\n", o.LatencyN/2)
	sl, err := subscribeLatency(ctx, c, o.LatencyN/2)
	if err != nil {
		return results, err
	}
	results = append(results,
		Result{Scenario: "SubscribeToShard put→event latency p50 (PutRecord start to event)", Value: ms(sl[len(sl)/2]), Unit: "ms"},
		Result{Scenario: "SubscribeToShard put→event latency p99", Value: ms(sl[len(sl)*99/100]), Unit: "ms"})
	return results, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func createStream(ctx context.Context, c *kinesis.Client, name string, shards int) error {
	_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(shards))})
	if err != nil {
		return fmt.Errorf("create stream %s: %w", name, err)
	}
	for i := 0; i < 100; i++ {
		d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err == nil && d.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("stream %s never became ACTIVE", name)
}

// putLoad runs producers PutRecords loops for the configured duration and
// returns how many records were acknowledged and how many calls failed.
func putLoad(ctx context.Context, c *kinesis.Client, stream string, producers int, o Options) (acked, failed int64, elapsed time.Duration, err error) {
	var wg sync.WaitGroup
	var nAcked, nFailed atomic.Int64
	deadline := time.Now().Add(o.Duration)
	start := time.Now()
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := make([]byte, o.RecordBytes)
			for i := range payload {
				payload[i] = byte('a' + i%26)
			}
			entries := make([]types.PutRecordsRequestEntry, o.BatchSize)
			for seq := 0; time.Now().Before(deadline); seq++ {
				for i := range entries {
					entries[i] = types.PutRecordsRequestEntry{Data: payload, PartitionKey: aws.String(fmt.Sprintf("p%d-%d", p, i))}
				}
				out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
				if err != nil {
					nFailed.Add(1)
					continue
				}
				nAcked.Add(int64(len(entries)) - int64(aws.ToInt32(out.FailedRecordCount)))
			}
		}()
	}
	wg.Wait()
	return nAcked.Load(), nFailed.Load(), time.Since(start), nil
}

// drain reads every shard from TRIM_HORIZON to the end, checking that
// sequence numbers strictly increase and that the count is what was acked.
func drain(ctx context.Context, c *kinesis.Client, stream string, want int64) (int64, time.Duration, error) {
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	var total int64
	for _, sh := range shards.Shards {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream),
			ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			return total, 0, err
		}
		iter, prev := it.ShardIterator, ""
		for iter != nil {
			out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				return total, 0, fmt.Errorf("GetRecords: %w", err)
			}
			for _, r := range out.Records {
				s := aws.ToString(r.SequenceNumber)
				if prev != "" && seqCompare(prev, s) >= 0 {
					return total, 0, fmt.Errorf("shard %s: sequence numbers out of order: %s then %s", aws.ToString(sh.ShardId), prev, s)
				}
				prev = s
			}
			total += int64(len(out.Records))
			if len(out.Records) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	elapsed := time.Since(start)
	if total != want {
		return total, elapsed, fmt.Errorf("drained %d records, %d were acknowledged", total, want)
	}
	return total, elapsed, nil
}

// seqCompare compares decimal sequence numbers numerically.
func seqCompare(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func putLatency(ctx context.Context, c *kinesis.Client, o Options) ([]time.Duration, error) {
	name := fmt.Sprintf("bench-latency-%d", time.Now().UnixNano())
	if err := createStream(ctx, c, name, o.Shards); err != nil {
		return nil, err
	}
	defer c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)})
	data := make([]byte, o.RecordBytes)
	lat := make([]time.Duration, 0, o.LatencyN)
	for i := 0; i < o.LatencyN; i++ {
		t0 := time.Now()
		_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), Data: data, PartitionKey: aws.String(fmt.Sprint(i))})
		if err != nil {
			return nil, fmt.Errorf("PutRecord: %w", err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	return lat, nil
}

// Markdown renders results as the table kept in docs/benchmarks.md.
func Markdown(results []Result, o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s, %s\n\n", time.Now().UTC().Format("2006-01-02"), machine())
	fmt.Fprintf(&b, "Riffle with `--fsync always` (every acknowledged put fsynced); client: AWS SDK for Go v2 on the same machine.\n\n")
	b.WriteString("| scenario | result | note |\n|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %.1f %s | %s |\n", r.Scenario, r.Value, r.Unit, r.Note)
	}
	return b.String()
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				model = strings.TrimSpace(line[strings.Index(line, ":")+1:])
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores, %s/%s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
}
