package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// The control plane of tags, resource policies, account settings, limits,
// maximum record size and warm throughput, through the Go SDK v2 and boto3,
// including the documented errors, and across a server restart.

// cpPolicy lets another account read the stream named by %s.
const cpPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow",` +
	`"Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["kinesis:GetRecords","kinesis:GetShardIterator"],` +
	`"Resource":"%s"}]}`

func tagList(tags []types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func wantError(t *testing.T, what string, err error, code, msgPart string) {
	t.Helper()
	if errorCode(err) != code || !strings.Contains(errorMessage(err), msgPart) {
		t.Errorf("%s: got %v, want %s containing %q", what, err, code, msgPart)
	}
}

func TestControlPlaneSDK(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	s := startServer(t, dataDir)
	c := s.client(1)
	ctx := testCtx(t, 120*time.Second)
	const stream, od = "cp-tags", "cp-ondemand"
	arn, odARN := streamARN(stream), streamARN(od)

	// Tags given to CreateStream, then added, overwritten, paged, removed.
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(2),
		Tags: map[string]string{"team": "data"}}); err != nil {
		t.Fatalf("CreateStream with tags: %v", err)
	}
	waitActive(t, ctx, c, stream)
	if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String(stream),
		Tags: map[string]string{"env": "dev", "cost-center": "42", "team": "platform"}}); err != nil {
		t.Fatalf("AddTagsToStream: %v", err)
	}
	var keys []string
	start := ""
	for page := 0; page < 10; page++ {
		in := &kinesis.ListTagsForStreamInput{StreamName: aws.String(stream), Limit: aws.Int32(2)}
		if start != "" {
			in.ExclusiveStartTagKey = aws.String(start)
		}
		out, err := c.ListTagsForStream(ctx, in)
		if err != nil {
			t.Fatalf("ListTagsForStream: %v", err)
		}
		for _, tag := range out.Tags {
			keys = append(keys, aws.ToString(tag.Key))
		}
		if !aws.ToBool(out.HasMoreTags) {
			break
		}
		start = keys[len(keys)-1]
	}
	if strings.Join(keys, ",") != "cost-center,env,team" {
		t.Errorf("paged tag keys %v, want cost-center,env,team", keys)
	}
	if _, err := c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamARN: aws.String(arn), TagKeys: []string{"cost-center", "absent"}}); err != nil {
		t.Fatalf("RemoveTagsFromStream: %v", err)
	}
	if _, err := c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(arn), Tags: map[string]string{"owner": "ana", "tmp": "x"}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := c.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"tmp"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	wantTags := map[string]string{"env": "dev", "team": "platform", "owner": "ana"}
	checkTags := func(when string) {
		t.Helper()
		lr, err := c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
		if err != nil || !reflect.DeepEqual(tagList(lr.Tags), wantTags) {
			t.Errorf("%s: ListTagsForResource %v %v, want %v", when, lr, err, wantTags)
		}
		ls, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String(stream)})
		if err != nil || !reflect.DeepEqual(tagList(ls.Tags), wantTags) || aws.ToBool(ls.HasMoreTags) {
			t.Errorf("%s: ListTagsForStream %v %v, want %v", when, ls, err, wantTags)
		}
	}
	checkTags("before restart")

	// Documented tag errors.
	many := map[string]string{}
	for i := 0; i < 48; i++ {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	_, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String(stream), Tags: many})
	wantError(t, "51st tag", err, "InvalidArgumentException", "cannot have more than 50 tags")
	_, err = c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String(stream), Tags: map[string]string{"bad*": "v"}})
	wantError(t, "tag with '*'", err, "InvalidArgumentException", "Some tags contain invalid characters.")
	_, err = c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("cp-missing"), Tags: map[string]string{"a": "b"}})
	wantError(t, "AddTagsToStream on a missing stream", err, "ResourceNotFoundException", "Stream cp-missing under account 000000000000 not found.")
	_, err = c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(arn + "/consumer/app:1700000000"), Tags: map[string]string{"a": "b"}})
	wantError(t, "TagResource on an unregistered consumer", err, "ResourceNotFoundException", "Consumer app")
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("cp-badtags"), ShardCount: aws.Int32(1), Tags: map[string]string{"a%": ""}})
	wantError(t, "CreateStream with a '%' tag", err, "InvalidArgumentException", "illegal characters")

	// Resource policy.
	policy := fmt.Sprintf(cpPolicy, arn)
	if _, err := c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(arn), Policy: aws.String(policy)}); err != nil {
		t.Fatalf("PutResourcePolicy: %v", err)
	}
	_, err = c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(arn), Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`)})
	wantError(t, "policy with an s3 action", err, "InvalidArgumentException", "invalid action s3:GetObject")
	_, err = c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(arn), Policy: aws.String(`{"Statement":`)})
	wantError(t, "malformed policy", err, "InvalidArgumentException", "Invalid policy document")
	_, err = c.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: aws.String(streamARN("cp-missing"))})
	wantError(t, "GetResourcePolicy on a missing stream", err, "ResourceNotFoundException", "Stream cp-missing under account 000000000000 not found.")

	// Account settings and limits.
	as, err := c.DescribeAccountSettings(ctx, &kinesis.DescribeAccountSettingsInput{})
	if err != nil || as.MinimumThroughputBillingCommitment == nil || as.MinimumThroughputBillingCommitment.Status != types.MinimumThroughputBillingCommitmentOutputStatusDisabled {
		t.Fatalf("DescribeAccountSettings of a new server: %+v %v", as, err)
	}
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(od),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}); err != nil {
		t.Fatalf("CreateStream ON_DEMAND: %v", err)
	}
	waitActive(t, ctx, c, od)
	_, err = c.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamARN: aws.String(odARN), WarmThroughputMiBps: aws.Int32(100)})
	wantError(t, "warm throughput without the commitment", err, "InvalidArgumentException", "MinimumThroughputBillingCommitment")
	before := time.Now().Add(-time.Second)
	us, err := c.UpdateAccountSettings(ctx, &kinesis.UpdateAccountSettingsInput{
		MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: types.MinimumThroughputBillingCommitmentInputStatusEnabled}})
	if err != nil {
		t.Fatalf("UpdateAccountSettings: %v", err)
	}
	cm := us.MinimumThroughputBillingCommitment
	if cm.Status != types.MinimumThroughputBillingCommitmentOutputStatusEnabled || cm.StartedAt == nil || cm.StartedAt.Before(before) ||
		cm.EarliestAllowedEndAt == nil || cm.EarliestAllowedEndAt.Sub(*cm.StartedAt) != 24*time.Hour {
		t.Fatalf("UpdateAccountSettings ENABLED: %+v", cm)
	}
	startedAt := *cm.StartedAt
	_, err = c.UpdateAccountSettings(ctx, &kinesis.UpdateAccountSettingsInput{
		MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: "SOMETIMES"}})
	wantError(t, "UpdateAccountSettings with a bad status", err, "ValidationException", "")

	lim, err := c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	if err != nil || aws.ToInt32(lim.ShardLimit) != 500 || aws.ToInt32(lim.OpenShardCount) != 6 ||
		aws.ToInt32(lim.OnDemandStreamCount) != 1 || aws.ToInt32(lim.OnDemandStreamCountLimit) != 50 {
		t.Errorf("DescribeLimits: %+v %v, want 500 / 6 open / 1 on-demand / 50", lim, err)
	}

	// Warm throughput on the on-demand stream; refused on a provisioned one.
	wt, err := c.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String(od), WarmThroughputMiBps: aws.Int32(200)})
	if err != nil || aws.ToString(wt.StreamARN) != odARN || aws.ToString(wt.StreamName) != od || wt.WarmThroughput == nil ||
		aws.ToInt32(wt.WarmThroughput.TargetMiBps) != 200 {
		t.Fatalf("UpdateStreamWarmThroughput: %+v %v", wt, err)
	}
	_, err = c.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String(stream), WarmThroughputMiBps: aws.Int32(10)})
	wantError(t, "warm throughput on a provisioned stream", err, "InvalidArgumentException", "ON_DEMAND")
	_, err = c.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String(od), WarmThroughputMiBps: aws.Int32(20000)})
	wantError(t, "warm throughput over 10 GiB/s", err, "LimitExceededException", "10240")
	_, err = c.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String(od), WarmThroughputMiBps: aws.Int32(-1)})
	wantError(t, "negative warm throughput", err, "ValidationException", "")

	// Maximum record size: a 10 MiB record goes through once allowed.
	tenMiB := bytes.Repeat([]byte("r"), 10<<20)
	_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("big"), Data: tenMiB})
	wantError(t, "10 MiB record at the default maximum", err, "ValidationException", "1048576")
	if _, err := c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: aws.String(arn), MaxRecordSizeInKiB: aws.Int32(10240)}); err != nil {
		t.Fatalf("UpdateMaxRecordSize: %v", err)
	}
	_, err = c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: aws.String(arn), MaxRecordSizeInKiB: aws.Int32(1023)})
	wantError(t, "MaxRecordSizeInKiB 1023", err, "ValidationException", "")
	_, err = c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: aws.String(streamARN("cp-missing")), MaxRecordSizeInKiB: aws.Int32(2048)})
	wantError(t, "UpdateMaxRecordSize on a missing stream", err, "ResourceNotFoundException", "Stream cp-missing under account 000000000000 not found.")
	put, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("big"), Data: tenMiB})
	if err != nil {
		t.Fatalf("10 MiB PutRecord after UpdateMaxRecordSize: %v", err)
	}
	_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("big"), Data: append(tenMiB, 'x')})
	wantError(t, "record one byte over 10 MiB", err, "ValidationException", "10485760")

	s.stop()
	s = startServer(t, dataDir)
	c = s.client(1)

	// Everything survived the restart.
	checkTags("after restart")
	gp, err := c.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: aws.String(arn)})
	if err != nil || aws.ToString(gp.Policy) != policy {
		t.Errorf("GetResourcePolicy after restart: %v %v", gp, err)
	}
	as, err = c.DescribeAccountSettings(ctx, &kinesis.DescribeAccountSettingsInput{})
	if err != nil || as.MinimumThroughputBillingCommitment.Status != types.MinimumThroughputBillingCommitmentOutputStatusEnabled ||
		!as.MinimumThroughputBillingCommitment.StartedAt.Equal(startedAt) {
		t.Errorf("DescribeAccountSettings after restart: %+v %v", as, err)
	}
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(od)})
	if err != nil || sum.StreamDescriptionSummary.WarmThroughput == nil ||
		aws.ToInt32(sum.StreamDescriptionSummary.WarmThroughput.TargetMiBps) != 200 ||
		aws.ToInt32(sum.StreamDescriptionSummary.WarmThroughput.CurrentMiBps) != 200 {
		t.Errorf("on-demand summary after restart: %+v %v", sum, err)
	}
	sum, err = c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	if err != nil || aws.ToInt32(sum.StreamDescriptionSummary.MaxRecordSizeInKiB) != 10240 || sum.StreamDescriptionSummary.WarmThroughput != nil {
		t.Errorf("provisioned summary after restart: %+v %v", sum, err)
	}
	recs := readShard(t, ctx, c, stream, aws.ToString(put.ShardId))
	if len(recs) != 1 || !bytes.Equal(recs[0].Data, tenMiB) {
		t.Errorf("after restart, shard %s holds %v, want the 10 MiB record", aws.ToString(put.ShardId), dataStrings(recs))
	}
	if _, err := c.DeleteResourcePolicy(ctx, &kinesis.DeleteResourcePolicyInput{ResourceARN: aws.String(arn)}); err != nil {
		t.Fatalf("DeleteResourcePolicy: %v", err)
	}
	gp, err = c.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: aws.String(arn)})
	if err != nil || aws.ToString(gp.Policy) != "{}" {
		t.Errorf("GetResourcePolicy after delete: %v %v, want {}", gp, err)
	}
	lim, err = c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	if err != nil || aws.ToInt32(lim.OpenShardCount) != 6 || aws.ToInt32(lim.OnDemandStreamCount) != 1 {
		t.Errorf("DescribeLimits after restart: %+v %v", lim, err)
	}
}

// TestControlPlaneBoto3 runs testdata/boto3_controlplane.py in two phases
// against one data directory, restarting the server in between: "setup"
// changes everything, "verify" checks that all of it survived.
func TestControlPlaneBoto3(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	run := func(s *server, phase string) map[string]any {
		t.Helper()
		out := runPython(t, "boto3_controlplane.py", s.endpoint, phase)
		var sum map[string]any
		if err := json.Unmarshal(out, &sum); err != nil {
			t.Fatalf("%s summary is not JSON: %v\n%s", phase, err, out)
		}
		return sum
	}
	s := startServer(t, dataDir)
	setup := run(s, "setup")
	s.stop()
	s = startServer(t, dataDir)
	verify := run(s, "verify")
	if !reflect.DeepEqual(setup, verify) {
		t.Errorf("state before restart %v, after %v", setup, verify)
	}
}
