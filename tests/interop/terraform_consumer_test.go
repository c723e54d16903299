package interop

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestTerraformConsumer manages a stream and an enhanced fan-out consumer
// (aws_kinesis_stream_consumer) with Terraform's AWS provider: apply, a plan
// that must show no changes (what Riffle describes matches what the provider
// set), destroy. The Go SDK checks that the consumer existed and is gone.
// The provider waits for a stream in 10 s polls, so this takes about a
// minute; it runs in parallel with the rest.
func TestTerraformConsumer(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	ctx := testCtx(t, 5*time.Minute)
	run := terraform(t, ctx, "terraform_consumer")
	vars := []string{"-input=false", "-no-color", "-var", "endpoint=" + s.endpoint}
	if out, err := run(append([]string{"apply", "-auto-approve"}, vars...)...); err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, out)
	}
	out, err := run("output", "-raw", "consumer_arn")
	if err != nil {
		t.Fatalf("terraform output consumer_arn: %v\n%s", err, out)
	}
	tfARN := strings.TrimSpace(out)

	c := s.client(1)
	list, err := c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(streamARN("tf-events"))})
	if err != nil {
		t.Fatalf("ListStreamConsumers after apply: %v", err)
	}
	if len(list.Consumers) != 1 || aws.ToString(list.Consumers[0].ConsumerName) != "tf-app" ||
		aws.ToString(list.Consumers[0].ConsumerARN) != tfARN || list.Consumers[0].ConsumerStatus != types.ConsumerStatusActive {
		t.Fatalf("consumers after apply: %+v, want tf-app ACTIVE with Terraform's ARN %s", list.Consumers, tfARN)
	}
	if !strings.HasPrefix(tfARN, streamARN("tf-events")+"/consumer/tf-app:") {
		t.Errorf("consumer ARN %s", tfARN)
	}

	// Nothing to change: the consumer and stream read back as they were set.
	if out, err := run(append([]string{"plan", "-detailed-exitcode"}, vars...)...); err != nil {
		t.Fatalf("terraform plan after apply wants changes (%v):\n%s", err, out)
	}
	if out, err := run(append([]string{"destroy", "-auto-approve"}, vars...)...); err != nil {
		t.Fatalf("terraform destroy: %v\n%s", err, out)
	}
	if _, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(tfARN)}); errorCode(err) != "ResourceNotFoundException" {
		t.Errorf("DescribeStreamConsumer after destroy: %v, want ResourceNotFoundException", err)
	}
	if _, err := c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(streamARN("tf-events"))}); errorCode(err) != "ResourceNotFoundException" {
		t.Errorf("ListStreamConsumers after destroy: %v, want ResourceNotFoundException (the stream is gone)", err)
	}
}
