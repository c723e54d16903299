package ceiling

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestSDKAcceptsResponses: the AWS SDK for Go v2 takes the ceiling's answers
// as real ones: one result per record with distinct 56-digit sequence
// numbers, and an ACTIVE stream for its set-up calls.
func TestSDKAcceptsResponses(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	c := kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), RetryMaxAttempts: 1})
	ctx := context.Background()
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(4)}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")})
	if err != nil || d.StreamDescriptionSummary.StreamStatus != types.StreamStatusActive {
		t.Fatalf("DescribeStreamSummary = %+v, %v; want ACTIVE", d, err)
	}
	entries := make([]types.PutRecordsRequestEntry, 500)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{Data: []byte("payload"), PartitionKey: aws.String("k")}
	}
	out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries})
	if err != nil {
		t.Fatalf("PutRecords: %v", err)
	}
	if len(out.Records) != 500 || aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords answered %d records, %d failed; want 500, 0", len(out.Records), aws.ToInt32(out.FailedRecordCount))
	}
	seen := map[string]bool{}
	for _, r := range out.Records {
		s := aws.ToString(r.SequenceNumber)
		if len(s) != 56 || seen[s] {
			t.Fatalf("sequence number %q: want 56 digits, distinct", s)
		}
		seen[s] = true
	}
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), Data: []byte("x"), PartitionKey: aws.String("k")}); err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	// An operation it does not implement fails instead of answering wrongly.
	_, err = c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String("x")})
	if err == nil {
		t.Fatal("GetRecords succeeded on a server that stores nothing")
	}
}
