package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// jsDir holds the Node project of the JavaScript SDK checks: package.json
// and package-lock.json pin @aws-sdk/client-kinesis, node_modules is not
// committed and is installed by npm ci on first use.
func jsDir() string { return filepath.Join(moduleRoot, "tests", "interop", "js") }

var (
	jsDepsOnce sync.Once
	jsDepsErr  error
)

// ensureJSDeps runs `npm ci` once per test run unless node_modules already
// holds exactly what package-lock.json pins (npm ci deletes and reinstalls
// node_modules, so skipping it keeps repeated runs fast and offline).
func ensureJSDeps(t *testing.T) {
	t.Helper()
	jsDepsOnce.Do(func() {
		if jsDepsCurrent(jsDir()) {
			return
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			jsDepsErr = fmt.Errorf("npm is required to install the JavaScript SDK and is not on PATH: %w", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = jsDir()
		if out, err := cmd.CombinedOutput(); err != nil {
			jsDepsErr = fmt.Errorf("npm ci in %s: %v\n%s", jsDir(), err, out)
		}
	})
	if jsDepsErr != nil {
		t.Fatal(jsDepsErr)
	}
}

// jsDepsCurrent reports whether node_modules matches package-lock.json. npm
// records what it installed in node_modules/.package-lock.json, with the
// same entries as the lock file minus the root package.
func jsDepsCurrent(dir string) bool {
	type lock struct {
		Packages map[string]struct {
			Version   string `json:"version"`
			Integrity string `json:"integrity"`
		} `json:"packages"`
	}
	read := func(path string) (lock, bool) {
		var l lock
		b, err := os.ReadFile(path)
		return l, err == nil && json.Unmarshal(b, &l) == nil
	}
	want, ok1 := read(filepath.Join(dir, "package-lock.json"))
	have, ok2 := read(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if !ok1 || !ok2 {
		return false
	}
	delete(want.Packages, "")
	delete(have.Packages, "")
	return len(want.Packages) > 0 && reflect.DeepEqual(want.Packages, have.Packages)
}

var requestLine = regexp.MustCompile(`msg=request op=(\w+) proto=(\S+)`)

// TestJavaScriptSDK runs js/kinesis_check.mjs, the AWS SDK for JavaScript v3
// with its default request handler (HTTP/2; over http:// that is h2c with
// prior knowledge), against the plain port: the core operations, consumers
// and SubscribeToShard. The server's request log proves every call came over
// HTTP/2.
func TestJavaScriptSDK(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is required for this test and is not on PATH: %v", err)
	}
	ensureJSDeps(t)
	s := startServer(t, "", "--in-memory", "--log-level", "debug")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(jsDir(), "kinesis_check.mjs"), s.endpoint, "js-stream")
	cmd.Dir = jsDir()
	home := t.TempDir()
	// No AWS settings of the developer's may reach the SDK: the script
	// passes region, endpoint and credentials itself.
	cmd.Env = append(envWithoutAWS(), "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("kinesis_check.mjs: %v\nstdout: %s\nstderr: %s", err, out.String(), errb.String())
	}
	var sum struct {
		Handler, HandlerProtocol string
		GetRecords               int
		ErrorName                string
		SecondSubscription       string
		Subscribed, AtTimestamp  []string
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out.String())
	}
	if sum.Handler != "NodeHttp2Handler" || sum.HandlerProtocol != "h2" {
		t.Errorf("the SDK's default request handler is %s (%s), want NodeHttp2Handler (h2)", sum.Handler, sum.HandlerProtocol)
	}
	if sum.GetRecords != 4 || sum.ErrorName != "ResourceNotFoundException" || sum.SecondSubscription != "ResourceInUseException" ||
		len(sum.Subscribed) != 8 || len(sum.AtTimestamp) != 4 {
		t.Errorf("summary %s", out.String())
	}

	// The server logs each request after answering it; stop it so that the
	// log is complete, then check the protocol of every call.
	s.stop()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(s.log.String(), "msg=stopped") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	protos := map[string]map[string]bool{}
	for _, m := range requestLine.FindAllStringSubmatch(s.log.String(), -1) {
		if protos[m[1]] == nil {
			protos[m[1]] = map[string]bool{}
		}
		protos[m[1]][m[2]] = true
	}
	var ops []string
	for op, ps := range protos {
		ops = append(ops, op)
		if len(ps) != 1 || !ps["HTTP/2.0"] {
			t.Errorf("%s came over %v, want only HTTP/2.0", op, ps)
		}
	}
	sort.Strings(ops)
	want := []string{"CreateStream", "DeleteStream", "DeregisterStreamConsumer", "DescribeStreamConsumer", "DescribeStreamSummary",
		"GetRecords", "GetShardIterator", "ListShards", "ListStreamConsumers", "PutRecord", "PutRecords",
		"RegisterStreamConsumer", "SubscribeToShard"}
	if !reflect.DeepEqual(ops, want) {
		t.Errorf("operations in the server's request log: %v, want %v", ops, want)
	}
}
