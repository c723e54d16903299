package interop

import (
	"bytes"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// TestAccountsAndRegions checks that a 12-digit access key id acts as that
// account and the signing region as the region: the same stream name exists
// independently in each, with ARNs that carry both, for the Go SDK and boto3.
func TestAccountsAndRegions(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	ctx := testCtx(t, time.Minute)
	as := func(akid, region string) *kinesis.Client {
		return kinesis.New(kinesis.Options{Region: region, BaseEndpoint: aws.String(s.endpoint),
			Credentials: credentials.NewStaticCredentialsProvider(akid, "secret", ""), RetryMaxAttempts: 1})
	}
	a, b, aEU := as("111111111111", "us-east-1"), as("222222222222", "us-east-1"), as("111111111111", "eu-west-1")
	for _, c := range []*kinesis.Client{a, b, aEU} {
		createStream(t, ctx, c, "shared-name", 1)
	}
	for _, tc := range []struct {
		c   *kinesis.Client
		arn string
	}{
		{a, "arn:aws:kinesis:us-east-1:111111111111:stream/shared-name"},
		{b, "arn:aws:kinesis:us-east-1:222222222222:stream/shared-name"},
		{aEU, "arn:aws:kinesis:eu-west-1:111111111111:stream/shared-name"},
	} {
		out, err := tc.c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("shared-name")})
		if err != nil || aws.ToString(out.StreamDescriptionSummary.StreamARN) != tc.arn {
			t.Fatalf("want %s: %+v %v", tc.arn, out, err)
		}
	}
	if _, err := a.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("shared-name"), PartitionKey: aws.String("k"), Data: []byte("only-a")}); err != nil {
		t.Fatal(err)
	}
	if recs := readShard(t, ctx, b, "shared-name", shardID(0)); len(recs) != 0 {
		t.Fatalf("account 222222222222 sees %d records of account 111111111111", len(recs))
	}
	_, err := b.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamARN: aws.String("arn:aws:kinesis:us-east-1:111111111111:stream/shared-name")})
	if errorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("deleting another account's stream by ARN: %v", err)
	}
	if n := len(readShard(t, ctx, a, "shared-name", shardID(0))); n != 1 {
		t.Fatalf("account 111111111111 reads %d records", n)
	}

	// boto3 with the same keys sees the same streams.
	script := `
import sys, boto3
c = boto3.client("kinesis", endpoint_url=sys.argv[1], region_name="eu-west-1",
                 aws_access_key_id="111111111111", aws_secret_access_key="s")
names = c.list_streams()["StreamNames"]
assert names == ["shared-name"], names
arn = c.describe_stream_summary(StreamName="shared-name")["StreamDescriptionSummary"]["StreamARN"]
assert arn == "arn:aws:kinesis:eu-west-1:111111111111:stream/shared-name", arn
c2 = boto3.client("kinesis", endpoint_url=sys.argv[1], region_name="ap-south-1",
                  aws_access_key_id="111111111111", aws_secret_access_key="s")
assert c2.list_streams()["StreamNames"] == [], "ap-south-1 is empty"
print("ok")
`
	cmd := exec.CommandContext(ctx, "python3", "-c", script, s.endpoint)
	cmd.Env = envWithoutAWS()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil || !bytes.Contains(out.Bytes(), []byte("ok")) {
		t.Fatalf("boto3: %v\n%s%s", err, out.String(), errb.String())
	}
}
