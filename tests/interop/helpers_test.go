package interop

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"math/big"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

const (
	region    = "us-east-1"
	accountID = "000000000000"
)

func streamARN(name string) string {
	return "arn:aws:kinesis:" + region + ":" + accountID + ":stream/" + name
}

// two128 is the size of the hash key space.
var two128 = new(big.Int).Lsh(big.NewInt(1), 128)

// shardStart is the first hash key of shard i of n: floor(i*2^128/n).
func shardStart(i, n int) *big.Int {
	v := new(big.Int).Mul(big.NewInt(int64(i)), two128)
	return v.Div(v, big.NewInt(int64(n)))
}

// shardEnd is the last hash key of shard i of n.
func shardEnd(i, n int) *big.Int {
	return new(big.Int).Sub(shardStart(i+1, n), big.NewInt(1))
}

// hashKey is the key Kinesis routes a partition key by: MD5 as a big-endian
// 128-bit number.
func hashKey(partitionKey string) *big.Int {
	sum := md5.Sum([]byte(partitionKey))
	return new(big.Int).SetBytes(sum[:])
}

// shardFor is the index of the shard of an evenly split n-shard stream that
// owns key.
func shardFor(key *big.Int, n int) int {
	for i := 0; i < n; i++ {
		if key.Cmp(shardEnd(i, n)) <= 0 {
			return i
		}
	}
	panic("hash key out of range")
}

func shardID(i int) string { return fmt.Sprintf("shardId-%012d", i) }

// seqLess compares two decimal sequence numbers numerically.
func seqLess(a, b string) bool {
	x, ok1 := new(big.Int).SetString(a, 10)
	y, ok2 := new(big.Int).SetString(b, 10)
	if !ok1 || !ok2 {
		panic(fmt.Sprintf("not decimal sequence numbers: %q %q", a, b))
	}
	return x.Cmp(y) < 0
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// createStream creates a stream and waits until it is ACTIVE.
func createStream(t testing.TB, ctx context.Context, c *kinesis.Client, name string, shards int32) {
	t.Helper()
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatalf("CreateStream %s: %v", name, err)
	}
	waitActive(t, ctx, c, name)
}

func waitActive(t testing.TB, ctx context.Context, c *kinesis.Client, name string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeStreamSummary %s: %v", name, err)
		}
		if out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s still %s after 15s", name, out.StreamDescriptionSummary.StreamStatus)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// iterator returns a shard iterator of the given type.
func iterator(t testing.TB, ctx context.Context, c *kinesis.Client, in *kinesis.GetShardIteratorInput) string {
	t.Helper()
	out, err := c.GetShardIterator(ctx, in)
	if err != nil {
		t.Fatalf("GetShardIterator %s %s: %v", aws.ToString(in.ShardId), in.ShardIteratorType, err)
	}
	it := aws.ToString(out.ShardIterator)
	if it == "" {
		t.Fatalf("GetShardIterator %s %s returned no iterator", aws.ToString(in.ShardId), in.ShardIteratorType)
	}
	return it
}

// readToEnd follows an iterator until a GetRecords call returns no records
// and reports it is caught up (MillisBehindLatest 0). It returns the records
// and the iterator to continue from.
func readToEnd(t testing.TB, ctx context.Context, c *kinesis.Client, it string, limit int32) ([]types.Record, string) {
	t.Helper()
	var recs []types.Record
	for calls := 0; ; calls++ {
		if calls > 10000 {
			t.Fatalf("GetRecords never caught up after %d calls", calls)
		}
		in := &kinesis.GetRecordsInput{ShardIterator: aws.String(it)}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		out, err := c.GetRecords(ctx, in)
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		if limit > 0 && len(out.Records) > int(limit) {
			t.Fatalf("GetRecords with Limit %d returned %d records", limit, len(out.Records))
		}
		recs = append(recs, out.Records...)
		next := aws.ToString(out.NextShardIterator)
		if next == "" {
			t.Fatalf("GetRecords on an open shard returned no NextShardIterator")
		}
		it = next
		if len(out.Records) == 0 {
			if out.MillisBehindLatest == nil || *out.MillisBehindLatest != 0 {
				t.Fatalf("GetRecords returned no records but MillisBehindLatest=%v", out.MillisBehindLatest)
			}
			return recs, it
		}
	}
}

// readShard reads a whole shard from TRIM_HORIZON.
func readShard(t testing.TB, ctx context.Context, c *kinesis.Client, stream, shard string) []types.Record {
	t.Helper()
	it := iterator(t, ctx, c, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(stream), ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	recs, _ := readToEnd(t, ctx, c, it, 0)
	return recs
}

// errorCode is the AWS error type of err, or "" if err is not an API error.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func errorMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// dataStrings lists the records' payloads, long ones shortened so that a
// failure message stays readable.
func dataStrings(recs []types.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Data)
		if len(r.Data) > 64 {
			out[i] = fmt.Sprintf("%.32q...(%d bytes)", r.Data, len(r.Data))
		}
	}
	return out
}

// runPython runs python3 with args (a script of testdata/ and its arguments,
// or "-c" and code) with the developer's AWS settings hidden, fails the test
// with the script's output if it fails, and returns what it printed. The
// scripts exit 3 when boto3 is missing.
func runPython(t testing.TB, args ...string) []byte {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 with boto3 is required for this test and python3 was not found on PATH: %v", err)
	}
	if len(args) > 0 && strings.HasSuffix(args[0], ".py") && !filepath.IsAbs(args[0]) {
		args[0] = filepath.Join(moduleRoot, "tests", "interop", "testdata", args[0])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, args...)
	home := t.TempDir()
	cmd.Env = append(envWithoutAWS(), "AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 3 {
		t.Fatalf("boto3 is required for this test: %s", errb.String())
	}
	if err != nil {
		t.Fatalf("python3 %s: %v\nstdout: %s\nstderr: %s", filepath.Base(args[0]), err, out.String(), errb.String())
	}
	return out.Bytes()
}
