package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Throttling and fault injection as a client sees them. Rates are checked
// against bounds computed from the time the calls took, so that a slow
// machine makes the checks looser, never wrong.

func batch(stream string, n, size int) *kinesis.PutRecordsInput {
	in := &kinesis.PutRecordsInput{StreamName: aws.String(stream)}
	for i := 0; i < n; i++ {
		in.Records = append(in.Records, types.PutRecordsRequestEntry{Data: bytes.Repeat([]byte{'x'}, size), PartitionKey: aws.String("k")})
	}
	return in
}

// checkEntries checks a PutRecords answer's shape: each entry either written
// (shard and sequence number) or refused with code and AWS's message, and
// FailedRecordCount counting the refused. It returns how many were written.
func checkEntries(t *testing.T, out *kinesis.PutRecordsOutput, stream, code string) int {
	t.Helper()
	ok, failed := 0, 0
	msg := "Rate exceeded for shard shardId-000000000000 in stream " + stream + " under account 000000000000."
	if code == "InternalFailure" {
		msg = "Internal service failure."
	}
	for i, r := range out.Records {
		switch {
		case r.ErrorCode == nil:
			if aws.ToString(r.ShardId) != shardID(0) || !isDecimal(aws.ToString(r.SequenceNumber)) {
				t.Fatalf("entry %d written without shard or sequence number: %+v", i, r)
			}
			ok++
		case aws.ToString(r.ErrorCode) == code && aws.ToString(r.ErrorMessage) == msg && r.SequenceNumber == nil && r.ShardId == nil:
			failed++
		default:
			t.Fatalf("entry %d: %s %q, want %s %q", i, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage), code, msg)
		}
	}
	if int(aws.ToInt32(out.FailedRecordCount)) != failed {
		t.Fatalf("FailedRecordCount %d, but %d entries failed", aws.ToInt32(out.FailedRecordCount), failed)
	}
	return ok
}

func TestEnforceLimits(t *testing.T) {
	s := startServer(t, "", "--in-memory", "--enforce-limits")
	c := s.client(1) // no retries: the test sees each refusal
	ctx := testCtx(t, 2*time.Minute)
	createStream(t, ctx, c, "bytes", 1)
	createStream(t, ctx, c, "recs", 1)

	// 1 MiB/s: of 500 records of 4 KiB in one call, about 256 fit.
	start := time.Now()
	out, err := c.PutRecords(ctx, batch("bytes", 500, 4096))
	if err != nil {
		t.Fatal(err)
	}
	written := checkEntries(t, out, "bytes", "ProvisionedThroughputExceededException")
	most := int((1 + time.Since(start).Seconds()) * (1 << 20) / 4097)
	if written < 250 || written > most {
		t.Fatalf("%d of 500 records of 4 KiB written, want 250 to %d", written, most)
	}
	throttled := 500 - written

	// 1,000 records/s: 2,000 records in four calls.
	start = time.Now()
	written = 0
	for i := 0; i < 4; i++ {
		out, err := c.PutRecords(ctx, batch("recs", 500, 10))
		if err != nil {
			t.Fatal(err)
		}
		written += checkEntries(t, out, "recs", "ProvisionedThroughputExceededException")
	}
	elapsed := time.Since(start)
	throttled += 2000 - written
	if most := 1000 + int(1000*elapsed.Seconds()) + 1; written < 1000 || written > most {
		t.Fatalf("%d of 2,000 records written in %v, want 1,000 to %d", written, elapsed, most)
	}
	t.Logf("2,000 records in %v: %d written, %d throttled", elapsed, written, 2000-written)

	// PutRecord is refused whole, in the same words.
	_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("bytes"), PartitionKey: aws.String("k"), Data: bytes.Repeat([]byte{'x'}, 1000<<10)})
	if err != nil {
		throttled++
		if errorCode(err) != "ProvisionedThroughputExceededException" ||
			errorMessage(err) != "Rate exceeded for shard shardId-000000000000 in stream bytes under account 000000000000." {
			t.Fatalf("PutRecord over the limit: %v", err)
		}
	}

	// GetRecords: 5 calls a second per shard.
	it := iterator(t, ctx, c, &kinesis.GetShardIteratorInput{StreamName: aws.String("recs"), ShardId: aws.String(shardID(0)), ShardIteratorType: types.ShardIteratorTypeLatest})
	time.Sleep(time.Second) // GetShardIterator and GetRecords budgets start full
	start, ok, refused := time.Now(), 0, 0
	for i := 0; i < 10; i++ {
		_, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
		switch {
		case err == nil:
			ok++
		case errorCode(err) == "ProvisionedThroughputExceededException" &&
			errorMessage(err) == "Rate exceeded for Shard - 000000000000/recs/shardId-000000000000":
			refused++
		default:
			t.Fatalf("GetRecords: %v", err)
		}
	}
	if most := 5 + int(5*time.Since(start).Seconds()) + 1; ok < 5 || ok > most {
		t.Fatalf("%d of 10 GetRecords calls served, want 5 to %d", ok, most)
	}

	// DescribeStream: 10 calls a second per account; the message names the stream.
	start, ok = time.Now(), 0
	for i := 0; i < 15; i++ {
		_, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("recs")})
		switch {
		case err == nil:
			ok++
		case errorCode(err) == "LimitExceededException" && errorMessage(err) == "Rate exceeded for stream recs under account 000000000000.":
		default:
			t.Fatalf("DescribeStream: %v", err)
		}
	}
	if most := 10 + int(10*time.Since(start).Seconds()) + 1; ok < 10 || ok > most {
		t.Fatalf("%d of 15 DescribeStream calls served, want 10 to %d", ok, most)
	}

	// The refusals are counted under CloudWatch's names.
	samples := scrapeMetrics(t, s)
	w1, _ := sumOf(samples, "riffle_kinesis_write_provisioned_throughput_exceeded_total", map[string]string{"stream": "recs"})
	w2, _ := sumOf(samples, "riffle_kinesis_write_provisioned_throughput_exceeded_total", map[string]string{"stream": "bytes"})
	if int(w1+w2) != throttled {
		t.Fatalf("WriteProvisionedThroughputExceeded %v, want %d", w1+w2, throttled)
	}
	if r, _ := sumOf(samples, "riffle_kinesis_read_provisioned_throughput_exceeded_total", map[string]string{"stream": "recs"}); int(r) != refused {
		t.Fatalf("ReadProvisionedThroughputExceeded %v, want %d", r, refused)
	}
	if p, _ := sumOf(samples, "riffle_kinesis_put_records_throttled_records_total", map[string]string{"stream": "recs"}); int(p) != 2000-written {
		t.Fatalf("PutRecords.ThrottledRecords %v, want %d", p, 2000-written)
	}
}

// admin calls an admin endpoint and decodes its JSON answer.
func admin(t *testing.T, s *server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.endpoint+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

func TestFaultInjectionAndAdmin(t *testing.T) {
	s := startServer(t, "", "--in-memory", "--fault-rate", "1", "--fault-types", "InternalFailure")
	c := s.client(1)
	ctx := testCtx(t, time.Minute)
	createStream(t, ctx, c, "f", 1) // the control plane is never faulted
	put := func() error {
		_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("f"), PartitionKey: aws.String("k"), Data: []byte("x")})
		return err
	}

	// Rate 1: every call and every entry fails.
	if err := put(); errorCode(err) != "InternalFailure" {
		t.Fatalf("PutRecord at fault rate 1: %v", err)
	}
	out, err := c.PutRecords(ctx, batch("f", 10, 1))
	if err != nil {
		t.Fatal(err)
	}
	if n := checkEntries(t, out, "f", "InternalFailure"); n != 0 {
		t.Fatalf("%d entries written at fault rate 1", n)
	}
	_, err = c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("f"), ShardId: aws.String(shardID(0)), ShardIteratorType: types.ShardIteratorTypeLatest})
	if errorCode(err) != "InternalFailure" {
		t.Fatalf("GetShardIterator at fault rate 1: %v", err)
	}

	// Changed at run time.
	status, got := admin(t, s, "GET", "/admin/faults", "")
	if status != 200 || got["fault_rate"] != 1.0 || fmt.Sprint(got["fault_types"]) != "[InternalFailure]" {
		t.Fatalf("GET /admin/faults: %d %v", status, got)
	}
	status, got = admin(t, s, "PUT", "/admin/faults", `{"fault_rate": 1, "fault_types": ["ProvisionedThroughputExceeded"]}`)
	if status != 200 || fmt.Sprint(got["fault_types"]) != "[ProvisionedThroughputExceeded]" {
		t.Fatalf("PUT /admin/faults: %d %v", status, got)
	}
	if err := put(); errorCode(err) != "ProvisionedThroughputExceededException" ||
		errorMessage(err) != "Rate exceeded for shard shardId-000000000000 in stream f under account 000000000000." {
		t.Fatalf("PutRecord with throughput faults: %v", err)
	}
	out, err = c.PutRecords(ctx, batch("f", 10, 1))
	if err != nil {
		t.Fatal(err)
	}
	if n := checkEntries(t, out, "f", "ProvisionedThroughputExceededException"); n != 0 {
		t.Fatalf("%d entries written at fault rate 1", n)
	}
	if status, got := admin(t, s, "PUT", "/admin/faults", `{"fault_rate": 2, "fault_types": ["Nope"]}`); status != 400 ||
		!strings.Contains(fmt.Sprint(got["message"]), "from 0 to 1") || !strings.Contains(fmt.Sprint(got["message"]), `"Nope"`) {
		t.Fatalf("PUT /admin/faults with a bad rate and type: %d %v", status, got)
	}

	// Rate 0: nothing fails, and nothing faulted was written.
	if status, _ := admin(t, s, "PUT", "/admin/faults", `{"fault_rate": 0}`); status != 200 {
		t.Fatalf("PUT /admin/faults rate 0: %d", status)
	}
	if err := put(); err != nil {
		t.Fatal(err)
	}
	out, err = c.PutRecords(ctx, batch("f", 10, 1))
	if err != nil {
		t.Fatal(err)
	}
	if n := checkEntries(t, out, "f", ""); n != 10 {
		t.Fatalf("%d of 10 entries written at fault rate 0", n)
	}
	if recs := readShard(t, ctx, c, "f", shardID(0)); len(recs) != 11 {
		t.Fatalf("stream holds %d records, want the 11 put without faults", len(recs))
	}

	// Limits turned on and off at run time.
	if status, got := admin(t, s, "PUT", "/admin/limits", `{"enforce_limits": true}`); status != 200 || got["enforce_limits"] != true {
		t.Fatalf("PUT /admin/limits: %d %v", status, got)
	}
	out, err = c.PutRecords(ctx, batch("f", 500, 4096))
	if err != nil {
		t.Fatal(err)
	}
	if n := checkEntries(t, out, "f", "ProvisionedThroughputExceededException"); n == 500 {
		t.Fatal("500 records of 4 KiB in one call all written with limits on")
	}
	admin(t, s, "PUT", "/admin/limits", `{"enforce_limits": false}`)
	out, err = c.PutRecords(ctx, batch("f", 500, 4096))
	if err != nil {
		t.Fatal(err)
	}
	if n := checkEntries(t, out, "f", ""); n != 500 {
		t.Fatalf("%d of 500 written with limits off again", n)
	}
	if status, got := admin(t, s, "PUT", "/admin/limits", `{"enforce": true}`); status != 400 || got["message"] == nil {
		t.Fatalf("PUT /admin/limits with an unknown field: %d %v", status, got)
	}
}
