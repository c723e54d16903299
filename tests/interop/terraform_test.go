package interop

import (
	"context"
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

// tfPlugins is where the machine image keeps the AWS provider, so that
// Terraform runs without a registry.
const tfPlugins = "/opt/tf-plugins"

// TestTerraformStream manages a stream with Terraform's AWS provider: create
// (with tags, retention, enhanced monitoring and encryption), a plan that
// must show no changes (proving that what Riffle describes matches what the
// provider set), an update of shard count and retention, and destroy.
func TestTerraformStream(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	ctx := testCtx(t, 5*time.Minute)
	run := terraform(t, ctx, "terraform")
	vars := func(shards, retention int) []string {
		return []string{"-input=false", "-no-color", "-var", "endpoint=" + s.endpoint,
			"-var", fmt.Sprintf("shards=%d", shards), "-var", fmt.Sprintf("retention=%d", retention)}
	}
	if out, err := run(append([]string{"apply", "-auto-approve"}, vars(2, 48)...)...); err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, out)
	}
	c := s.client(1)
	checkStream(t, ctx, c, 2, 48)
	// Nothing to change: every attribute reads back as it was set.
	if out, err := run(append([]string{"plan", "-detailed-exitcode"}, vars(2, 48)...)...); err != nil {
		t.Fatalf("terraform plan after apply wants changes (%v):\n%s", err, out)
	}
	if out, err := run(append([]string{"apply", "-auto-approve"}, vars(4, 72)...)...); err != nil {
		t.Fatalf("terraform apply (update): %v\n%s", err, out)
	}
	checkStream(t, ctx, c, 4, 72)
	if out, err := run(append([]string{"destroy", "-auto-approve"}, vars(4, 72)...)...); err != nil {
		t.Fatalf("terraform destroy: %v\n%s", err, out)
	}
	_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("tf-orders")})
	if errorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("after destroy: %v", err)
	}
}

func checkStream(t *testing.T, ctx context.Context, c *kinesis.Client, shards, retention int32) {
	t.Helper()
	out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("tf-orders")})
	if err != nil {
		t.Fatal(err)
	}
	d := out.StreamDescriptionSummary
	var metrics []string
	for _, m := range d.EnhancedMonitoring {
		for _, x := range m.ShardLevelMetrics {
			metrics = append(metrics, string(x))
		}
	}
	if aws.ToInt32(d.OpenShardCount) != shards || aws.ToInt32(d.RetentionPeriodHours) != retention ||
		d.EncryptionType != types.EncryptionTypeKms || aws.ToString(d.KeyId) != "alias/aws/kinesis" ||
		strings.Join(metrics, ",") != "IncomingBytes,OutgoingRecords" {
		t.Fatalf("stream: %d open shards, retention %d, encryption %s/%s, metrics %v; want %d shards, retention %d",
			aws.ToInt32(d.OpenShardCount), aws.ToInt32(d.RetentionPeriodHours), d.EncryptionType, aws.ToString(d.KeyId), metrics, shards, retention)
	}
	tags, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("tf-orders")})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Fatalf("tags: %+v %v", tags, err)
	}
}

// terraform prepares a working directory holding testdata/<config>/main.tf
// and a CLI configuration that takes the AWS provider from the machine's
// mirror (no registry), runs terraform init there, and returns a function
// that runs terraform commands in it.
func terraform(t *testing.T, ctx context.Context, config string) func(args ...string) (string, error) {
	t.Helper()
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatalf("terraform is required for this test and is not on PATH: %v", err)
	}
	if _, err := os.Stat(tfPlugins); err != nil {
		t.Fatalf("the Terraform AWS provider is expected under %s: %v", tfPlugins, err)
	}
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(moduleRoot, "tests", "interop", "testdata", config, "main.tf"))
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
	if out, err := run("init", "-input=false", "-no-color"); err != nil {
		t.Fatalf("terraform init: %v\n%s", err, out)
	}
	return run
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
