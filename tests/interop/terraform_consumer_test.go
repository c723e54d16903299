package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatalf("terraform is required for this test and is not on PATH: %v", err)
	}
	if _, err := os.Stat(tfPlugins); err != nil {
		t.Fatalf("the Terraform AWS provider is expected under %s: %v", tfPlugins, err)
	}
	s := startMemServer(t)
	ctx := testCtx(t, 5*time.Minute)
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(moduleRoot, "tests", "interop", "testdata", "terraform_consumer", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, "main.tf"), string(src))
	mustWrite(t, filepath.Join(dir, "cli.tfrc"), fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
`, tfPlugins))
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, tf, args...)
		cmd.Dir = dir
		cmd.Env = append(envWithoutAWS(), "TF_CLI_CONFIG_FILE="+filepath.Join(dir, "cli.tfrc"), "TF_IN_AUTOMATION=1",
			"CHECKPOINT_DISABLE=1", "TF_DATA_DIR="+filepath.Join(dir, ".terraform"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	vars := []string{"-input=false", "-no-color", "-var", "endpoint=" + s.endpoint}
	if out, err := run("init", "-input=false", "-no-color"); err != nil {
		t.Fatalf("terraform init: %v\n%s", err, out)
	}
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
