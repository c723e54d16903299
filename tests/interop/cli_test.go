package interop

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// awsCLI runs `aws kinesis ARGS` against s with throwaway credentials and no
// shared config, so the developer's profile cannot change the outcome.
func awsCLI(t *testing.T, s *server, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	bin, lookErr := exec.LookPath("aws")
	if lookErr != nil {
		t.Fatalf("the AWS CLI (aws) is required for this test and was not found on PATH: %v", lookErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"kinesis"}, args...)
	full = append(full, "--endpoint-url", s.endpoint, "--region", region, "--output", "json")
	cmd := exec.CommandContext(ctx, bin, full...)
	home := t.TempDir()
	cmd.Env = append(envWithoutAWS(),
		"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y", "AWS_PAGER=",
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard", "HOME="+home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

func awsCLIJSON(t *testing.T, s *server, v any, args ...string) {
	t.Helper()
	out, errOut, err := awsCLI(t, s, args...)
	if err != nil {
		t.Fatalf("aws kinesis %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	if v == nil {
		return
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("aws kinesis %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestAWSCLI drives the server with the AWS CLI (v1) as a user would.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	const stream = "cli-stream"
	awsCLIJSON(t, s, nil, "create-stream", "--stream-name", stream, "--shard-count", "2")

	var sum struct {
		StreamDescriptionSummary struct {
			StreamName, StreamARN, StreamStatus string
			OpenShardCount                      int
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		awsCLIJSON(t, s, &sum, "describe-stream-summary", "--stream-name", stream)
		if sum.StreamDescriptionSummary.StreamStatus == "ACTIVE" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream status %q after 30s", sum.StreamDescriptionSummary.StreamStatus)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d := sum.StreamDescriptionSummary; d.StreamName != stream || d.StreamARN != streamARN(stream) || d.OpenShardCount != 2 {
		t.Errorf("describe-stream-summary: %+v", d)
	}

	// CLI v1 takes --data as text and sends its bytes, so the record holds
	// the 8 bytes "aGVsbG8=", and get-records prints them base64-encoded.
	var put struct{ ShardId, SequenceNumber string }
	awsCLIJSON(t, s, &put, "put-record", "--stream-name", stream, "--partition-key", "pk", "--data", "aGVsbG8=")
	if want := shardID(shardFor(hashKey("pk"), 2)); put.ShardId != want {
		t.Errorf("put-record landed on %q, want %q", put.ShardId, want)
	}
	if !isDecimal(put.SequenceNumber) {
		t.Errorf("put-record sequence number %q", put.SequenceNumber)
	}

	var it struct{ ShardIterator string }
	awsCLIJSON(t, s, &it, "get-shard-iterator", "--stream-name", stream, "--shard-id", put.ShardId, "--shard-iterator-type", "TRIM_HORIZON")
	if it.ShardIterator == "" {
		t.Fatalf("get-shard-iterator returned no iterator")
	}
	var recs struct {
		Records []struct {
			Data, PartitionKey, SequenceNumber string
			ApproximateArrivalTimestamp        float64
		}
		NextShardIterator  string
		MillisBehindLatest *int64
	}
	awsCLIJSON(t, s, &recs, "get-records", "--shard-iterator", it.ShardIterator)
	if len(recs.Records) != 1 {
		t.Fatalf("get-records returned %d records, want 1: %+v", len(recs.Records), recs)
	}
	r := recs.Records[0]
	stored, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil || string(stored) != "aGVsbG8=" || r.PartitionKey != "pk" || r.SequenceNumber != put.SequenceNumber {
		t.Errorf("get-records record %+v (data decodes to %q), want data %q, key pk, sequence number %s",
			r, stored, "aGVsbG8=", put.SequenceNumber)
	}
	if r.ApproximateArrivalTimestamp <= 0 || recs.NextShardIterator == "" || recs.MillisBehindLatest == nil {
		t.Errorf("get-records: timestamp %v, next iterator %q, MillisBehindLatest %v", r.ApproximateArrivalTimestamp, recs.NextShardIterator, recs.MillisBehindLatest)
	}
	// The Go SDK agrees on the stored bytes.
	ctx := testCtx(t, 30*time.Second)
	got := readShard(t, ctx, s.client(1), stream, put.ShardId)
	if len(got) != 1 || string(got[0].Data) != "aGVsbG8=" {
		t.Errorf("SDK reads %q, want [aGVsbG8=]", dataStrings(got))
	}

	var ls struct {
		StreamNames     []string
		StreamSummaries []struct{ StreamName, StreamARN, StreamStatus string }
		HasMoreStreams  bool
	}
	awsCLIJSON(t, s, &ls, "list-streams")
	if !slices.Equal(ls.StreamNames, []string{stream}) || ls.HasMoreStreams {
		t.Errorf("list-streams: %+v", ls)
	}

	var shards struct {
		Shards []struct {
			ShardId      string
			HashKeyRange struct{ StartingHashKey, EndingHashKey string }
		}
	}
	awsCLIJSON(t, s, &shards, "list-shards", "--stream-name", stream)
	if len(shards.Shards) != 2 {
		t.Fatalf("list-shards: %+v", shards)
	}
	for i, sh := range shards.Shards {
		if sh.ShardId != shardID(i) || sh.HashKeyRange.StartingHashKey != shardStart(i, 2).String() || sh.HashKeyRange.EndingHashKey != shardEnd(i, 2).String() {
			t.Errorf("list-shards shard %d: %+v", i, sh)
		}
	}

	out, errOut, err := awsCLI(t, s, "describe-stream-summary", "--stream-name", "nope")
	if err == nil {
		t.Errorf("describe-stream-summary of a missing stream succeeded: %s", out)
	} else if !strings.Contains(errOut, "ResourceNotFoundException") || !strings.Contains(errOut, "Stream nope under account 000000000000 not found.") {
		t.Errorf("describe-stream-summary of a missing stream: stderr %q, want ResourceNotFoundException and AWS's message", errOut)
	}
	out, errOut, err = awsCLI(t, s, "create-stream", "--stream-name", "bad name", "--shard-count", "1")
	if err == nil || !strings.Contains(errOut, "ValidationException") {
		t.Errorf("create-stream with an invalid name: err %v, stdout %q, stderr %q; want a failure naming ValidationException", err, out, errOut)
	}
}

// envWithoutAWS is the environment minus AWS_* and RIFFLE_* variables, so a
// developer's profile or region cannot change what the clients do.
func envWithoutAWS() []string {
	var env []string
	for _, kv := range cleanEnv() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}
