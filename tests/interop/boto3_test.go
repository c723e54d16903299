package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestBoto3 runs testdata/boto3_check.py, which asserts in Python and prints
// a summary on success.
func TestBoto3(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 with boto3 is required for this test and python3 was not found on PATH: %v", err)
	}
	s := startMemServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	script := filepath.Join(moduleRoot, "tests", "interop", "testdata", "boto3_check.py")
	cmd := exec.CommandContext(ctx, py, script, s.endpoint, "boto-stream")
	home := t.TempDir()
	cmd.Env = append(envWithoutAWS(), "AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 3 {
		t.Fatalf("boto3 is required for this test: %s", errb.String())
	}
	if err != nil {
		t.Fatalf("boto3_check.py: %v\nstdout: %s\nstderr: %s", err, out.String(), errb.String())
	}
	var sum struct {
		Shards  []string
		Records int
		Binary  []string
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out.String())
	}
	if len(sum.Shards) != 3 || sum.Records != 41 || len(sum.Binary) != 2 || sum.Binary[0] != shardID(2) {
		t.Errorf("boto3 summary %+v, want 3 shards, 41 records, binary record on %s", sum, shardID(2))
	}
}
