package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBoto3Subscribe runs testdata/boto3_subscribe.py: boto3 subscribes to a
// shard over HTTP/1.1 (botocore's urllib3 speaks nothing else), reads the
// event stream, is refused a second subscription within 5 s, takes over after
// 5 s and deregisters its consumer. The server's request log proves the
// protocol.
func TestBoto3Subscribe(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 with boto3 is required for this test and python3 was not found on PATH: %v", err)
	}
	s := startServer(t, "", "--in-memory", "--log-level", "debug")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	script := filepath.Join(moduleRoot, "tests", "interop", "testdata", "boto3_subscribe.py")
	cmd := exec.CommandContext(ctx, py, script, s.endpoint, "boto-sub")
	home := t.TempDir()
	cmd.Env = append(envWithoutAWS(), "AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 3 {
		t.Fatalf("boto3 is required for this test: %s", errb.String())
	}
	if err != nil {
		t.Fatalf("boto3_subscribe.py: %v\nstdout: %s\nstderr: %s", err, out.String(), errb.String())
	}
	var sum struct {
		SecondWithin5s string   `json:"second_within_5s"`
		Records        []string `json:"records"`
		Takeover       []string `json:"takeover"`
		Deregistered   bool     `json:"deregistered"`
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out.String())
	}
	if sum.SecondWithin5s != "ResourceInUseException" || len(sum.Records) != 10 || len(sum.Takeover) != 1 || !sum.Deregistered {
		t.Errorf("boto3 summary %s", out.String())
	}

	s.stop()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(s.log.String(), "msg=stopped") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	subs := 0
	for _, m := range requestLine.FindAllStringSubmatch(s.log.String(), -1) {
		if m[2] != "HTTP/1.1" {
			t.Errorf("%s came over %s, want HTTP/1.1", m[1], m[2])
		}
		if m[1] == "SubscribeToShard" {
			subs++
		}
	}
	if subs != 3 {
		t.Errorf("%d SubscribeToShard calls in the server's request log, want 3", subs)
	}
}
