package interop

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// sample is one line of a Prometheus text scrape.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var sampleLabel = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

// scrapeMetrics fetches GET /metrics and parses the text format: enough of
// it for the samples Riffle writes (no timestamps, no exemplars).
func scrapeMetrics(t testing.TB, s *server) []sample {
	t.Helper()
	resp, err := http.Get(s.endpoint + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var out []sample
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if sp < 0 || err != nil {
			t.Fatalf("unparsable metrics line %q", line)
		}
		head := line[:sp]
		smp := sample{name: head, labels: map[string]string{}, value: v}
		if i := strings.IndexByte(head, '{'); i >= 0 {
			smp.name = head[:i]
			for _, m := range sampleLabel.FindAllStringSubmatch(head[i:], -1) {
				smp.labels[m[1]] = m[2]
			}
		}
		out = append(out, smp)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	return out
}

// sumOf adds the samples of name whose labels include want, and counts them.
func sumOf(samples []sample, name string, want map[string]string) (sum float64, n int) {
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for k, v := range want {
			if s.labels[k] != v {
				continue next
			}
		}
		sum += s.value
		n++
	}
	return sum, n
}

// shardSeries lists the shard-level series of a stream, as "name shard".
func shardSeries(samples []sample, stream string) []string {
	var out []string
	for _, s := range samples {
		if strings.HasPrefix(s.name, "riffle_kinesis_shard_") && s.labels["stream"] == stream {
			out = append(out, s.name+" "+s.labels["shard"])
		}
	}
	return out
}

// TestMetricsAndEnhancedMonitoring writes records of known size through the
// SDK and checks what /metrics reports, before and after shard-level metrics
// are enabled, across a restart, after they are disabled and after the
// stream is deleted.
func TestMetricsAndEnhancedMonitoring(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	s := startServer(t, dataDir)
	ctx := testCtx(t, 90*time.Second)
	c := s.client(1)
	const stream = "metered"
	createStream(t, ctx, c, stream, 3)
	of := map[string]string{"account": accountID, "region": region, "stream": stream}

	// put writes n records of known size, half with PutRecords, half with
	// PutRecord, and returns their size as Kinesis counts it (data and
	// partition key).
	put := func(prefix string, n int) (size int) {
		t.Helper()
		var entries []types.PutRecordsRequestEntry
		for i := 0; i < n; i++ {
			pk := fmt.Sprintf("%s-%d", prefix, i)
			data := []byte(strings.Repeat("x", 100+i))
			size += len(pk) + len(data)
			if i%2 == 0 {
				if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String(pk), Data: data}); err != nil {
					t.Fatalf("PutRecord: %v", err)
				}
				continue
			}
			entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(pk), Data: data})
		}
		out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
		if err != nil {
			t.Fatalf("PutRecords: %v", err)
		}
		if f := aws.ToInt32(out.FailedRecordCount); f != 0 {
			t.Fatalf("PutRecords: %d records failed", f)
		}
		return size
	}
	expect := func(samples []sample, name string, want float64) {
		t.Helper()
		got, n := sumOf(samples, name, of)
		if n != 1 || got != want {
			t.Errorf("%s{stream=%q}: %v in %d series, want %v in one", name, stream, got, n, want)
		}
	}

	const n1 = 20
	bytes1 := put("a", n1)
	m := scrapeMetrics(t, s)
	expect(m, "riffle_kinesis_incoming_records_total", n1)
	expect(m, "riffle_kinesis_incoming_bytes_total", float64(bytes1))
	expect(m, "riffle_kinesis_put_record_requests_total", n1/2)
	expect(m, "riffle_kinesis_put_records_records_total", n1/2)
	expect(m, "riffle_kinesis_put_record_latency_seconds_count", n1/2)
	if got := shardSeries(m, stream); len(got) != 0 {
		t.Errorf("shard-level series without enhanced monitoring: %v", got)
	}
	if v, n := sumOf(m, "riffle_store_fsync_duration_seconds_count", nil); n != 1 || v < 1 {
		t.Errorf("riffle_store_fsync_duration_seconds_count = %v (%d series), want >= 1", v, n)
	}

	// Enable IncomingRecords: per-shard series appear and add up to what is
	// written from then on.
	en, err := c.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{
		StreamName: aws.String(stream), ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingRecords}})
	if err != nil {
		t.Fatalf("EnableEnhancedMonitoring: %v", err)
	}
	if aws.ToString(en.StreamName) != stream || aws.ToString(en.StreamARN) != streamARN(stream) ||
		len(en.CurrentShardLevelMetrics) != 0 || !slices.Equal(en.DesiredShardLevelMetrics, []types.MetricsName{types.MetricsNameIncomingRecords}) {
		t.Fatalf("EnableEnhancedMonitoring output: %+v", en)
	}
	const n2 = 30
	bytes2 := put("b", n2)
	m = scrapeMetrics(t, s)
	expect(m, "riffle_kinesis_incoming_records_total", n1+n2)
	expect(m, "riffle_kinesis_incoming_bytes_total", float64(bytes1+bytes2))
	sum, series := sumOf(m, "riffle_kinesis_shard_incoming_records_total", of)
	if sum != n2 || series < 2 || series > 3 {
		t.Errorf("shard incoming records: %v over %d shards, want %d over 2-3 shards", sum, series, n2)
	}
	if _, n := sumOf(m, "riffle_kinesis_shard_incoming_bytes_total", of); n != 0 {
		t.Errorf("IncomingBytes shard series exist, but only IncomingRecords is enabled")
	}
	summary := func() []types.MetricsName {
		t.Helper()
		d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		if err != nil {
			t.Fatalf("DescribeStreamSummary: %v", err)
		}
		if len(d.StreamDescriptionSummary.EnhancedMonitoring) != 1 {
			t.Fatalf("EnhancedMonitoring: %+v", d.StreamDescriptionSummary.EnhancedMonitoring)
		}
		return d.StreamDescriptionSummary.EnhancedMonitoring[0].ShardLevelMetrics
	}
	if got := summary(); !slices.Equal(got, []types.MetricsName{types.MetricsNameIncomingRecords}) {
		t.Fatalf("DescribeStreamSummary EnhancedMonitoring: %v", got)
	}

	// The setting survives a restart; counters start again from zero.
	s.stop()
	s = startServer(t, dataDir)
	c = s.client(1)
	if got := summary(); !slices.Equal(got, []types.MetricsName{types.MetricsNameIncomingRecords}) {
		t.Fatalf("after restart, EnhancedMonitoring: %v", got)
	}
	const n3 = 6
	put("c", n3)
	m = scrapeMetrics(t, s)
	if sum, _ := sumOf(m, "riffle_kinesis_shard_incoming_records_total", of); sum != n3 {
		t.Errorf("after restart, shard incoming records sum to %v, want %d", sum, n3)
	}

	// Errors, as AWS reports them.
	_, err = c.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{
		StreamName: aws.String("nope"), ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}})
	if errorCode(err) != "ResourceNotFoundException" || errorMessage(err) != "Stream nope under account 000000000000 not found." {
		t.Errorf("EnableEnhancedMonitoring on a missing stream: %v", err)
	}
	_, err = c.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{
		StreamName: aws.String(stream), ShardLevelMetrics: []types.MetricsName{"Bogus"}})
	if errorCode(err) != "ValidationException" || !strings.Contains(errorMessage(err), "Member must satisfy enum value set") {
		t.Errorf("DisableEnhancedMonitoring with an unknown metric: %v", err)
	}
	_, err = c.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{
		StreamName: aws.String(stream), ShardLevelMetrics: []types.MetricsName{}})
	if errorCode(err) != "ValidationException" || !strings.Contains(errorMessage(err), "Member must have length greater than or equal to 1") {
		t.Errorf("EnableEnhancedMonitoring with no metric: %v", err)
	}

	// Disable: the shard-level series are gone at the next scrape.
	dis, err := c.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{
		StreamARN: aws.String(streamARN(stream)), ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}})
	if err != nil {
		t.Fatalf("DisableEnhancedMonitoring: %v", err)
	}
	if !slices.Equal(dis.CurrentShardLevelMetrics, []types.MetricsName{types.MetricsNameIncomingRecords}) || len(dis.DesiredShardLevelMetrics) != 0 {
		t.Fatalf("DisableEnhancedMonitoring output: %+v", dis)
	}
	put("d", 4)
	m = scrapeMetrics(t, s)
	if got := shardSeries(m, stream); len(got) != 0 {
		t.Errorf("shard-level series after DisableEnhancedMonitoring ALL: %v", got)
	}
	expect(m, "riffle_kinesis_incoming_records_total", n3+4)

	// Delete: no series of the stream is left behind.
	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(stream)}); err != nil {
		t.Fatalf("DeleteStream: %v", err)
	}
	for _, smp := range scrapeMetrics(t, s) {
		if smp.labels["stream"] == stream {
			t.Errorf("series of deleted stream: %s%v", smp.name, smp.labels)
		}
	}
}

// TestMetricsBoto3 runs testdata/metrics_boto3.py: boto3 drives enhanced
// monitoring and the script checks /metrics itself.
func TestMetricsBoto3(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	out := runPython(t, "metrics_boto3.py", s.endpoint, "boto-metered")
	var sum struct {
		Records      int
		ShardRecords int
		Enabled      []string
	}
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	if sum.Records != 25 || sum.ShardRecords != 15 || len(sum.Enabled) != 7 {
		t.Errorf("boto3 summary %+v, want 25 records, 15 counted per shard, 7 metrics enabled by ALL", sum)
	}
}
