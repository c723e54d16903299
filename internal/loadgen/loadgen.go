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
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Options configures a benchmark run.
type Options struct {
	Endpoint    string
	Producers   []int // producer counts of the PutRecords scenarios
	RecordSizes []int // record sizes of the PutRecords scenarios, bytes
	BatchSize   int
	Shards      int
	Scale       Scale // Riffle's (and an external endpoint's) scale
	Quick       bool  // smaller N for the memory and start-up scenarios
	Progress    io.Writer
	// ProfileDir, when set, receives a CPU profile of each target that
	// serves /debug/pprof/ (Target.Profile) over each throughput scenario.
	ProfileDir string
}

// Scale sets how much work each scenario does against one target; slow
// peers get smaller figures so that a comparison run stays within minutes.
type Scale struct {
	Duration   time.Duration // length of each throughput scenario
	LatencyN   int           // PutRecord calls in the latency scenario; half as many in the put→consume ones
	DrainN     int64         // records written, then drained, in the GetRecords scenario
	MemN       int64         // records written before the second memory figure
	DataBytes  int64         // data written before the restart scenarios
	ManyShards int           // shards of the spread-writes scenario
}

// DefaultOptions returns the scenarios of `make bench`.
func DefaultOptions() Options {
	return Options{
		Endpoint:    "http://127.0.0.1:4567",
		Producers:   []int{1, 4, 16},
		RecordSizes: []int{100, 1024},
		BatchSize:   500,
		Shards:      4,
		Scale: Scale{Duration: 5 * time.Second, LatencyN: 2000, DrainN: 1_000_000, MemN: 10_000_000,
			DataBytes: 1 << 30, ManyShards: 10_000},
		Progress: io.Discard,
	}
}

// QuickScale is the scale of --quick: the same scenarios with smaller N.
func QuickScale() Scale {
	return Scale{Duration: 2 * time.Second, LatencyN: 1000, DrainN: 200_000, MemN: 1_000_000, DataBytes: 128 << 20, ManyShards: 10_000}
}

// Result is one measured figure of one target.
type Result struct {
	Key      string // stable identifier of the scenario, the same for every target
	Scenario string // human description
	Value    float64
	Unit     string
	Note     string
	Err      string // the scenario failed or read back a wrong answer; Value is meaningless
	Skipped  string // why the scenario did not run on this target
	// LowerIsBetter marks latencies, times, memory and failure counts.
	LowerIsBetter bool
}

// Failed reports whether r is a failure.
func (r Result) Failed() bool { return r.Err != "" }

// Client returns an SDK client for endpoint with static credentials. With
// retries off every failure is seen and counted; with them on (the SDK's
// default retryer) a failed call is retried, as users' programs do.
func Client(endpoint string, retries bool) *kinesis.Client {
	o := kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	}
	if !retries {
		o.RetryMaxAttempts = 1
	}
	return kinesis.New(o)
}

// Run runs every scenario that needs no server process of its own against
// the external endpoint o.Endpoint.
func Run(ctx context.Context, o Options) []Result {
	t := &Target{Name: "endpoint", Endpoint: o.Endpoint, Scale: o.Scale, ReadBack: true, Subscribe: true}
	return RunTarget(ctx, o, t)
}
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func createStream(ctx context.Context, c *kinesis.Client, name string, shards int) error {
	_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(shards))})
	if err != nil {
		return fmt.Errorf("create stream %s: %w", name, err)
	}
	// A stream of thousands of shards may take a while on a slow peer.
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline) && ctx.Err() == nil; {
		d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err == nil && d.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("stream %s never became ACTIVE", name)
}

// seqCompare compares decimal sequence numbers numerically.
func seqCompare(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
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
