package interop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// runRiffle runs the binary to completion with extra environment variables
// and returns its stdout, stderr and exit code.
func runRiffle(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(riffleBin, args...)
	cmd.Env = append(cleanEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run riffle: %v", err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// printConfig runs riffle serve --print-config=json and decodes the result.
func printConfig(t *testing.T, env []string, args ...string) map[string]any {
	t.Helper()
	out, errOut, code := runRiffle(t, env, append([]string{"serve", "--print-config=json"}, args...)...)
	if code != 0 {
		t.Fatalf("--print-config exited %d: %s", code, errOut)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("--print-config=json printed %q: %v", out, err)
	}
	return cfg
}

func TestConfigPrecedence(t *testing.T) {
	file := writeFile(t, "riffle.yaml", `# settings, keyed by flag name
region: eu-west-1
account-id: 000011112222   # plain digits stay an account id
shard-limit: 7
log-level: debug
fsync-interval: 250ms
fault-types: [InternalFailure]
enforce-limits: true
`)
	env := []string{"RIFFLE_SHARD_LIMIT=9", "RIFFLE_LOG_LEVEL=error"}
	cfg := printConfig(t, env, "--config", file, "--log-level", "warn")
	want := map[string]any{
		"region":         "eu-west-1",    // file over default
		"account-id":     "000011112222", // file
		"shard-limit":    9.0,            // environment over file
		"log-level":      "warn",         // flag over environment and file
		"fsync-interval": "250ms",
		"fault-types":    "InternalFailure",
		"enforce-limits": true,
		"listen":         "127.0.0.1:4567", // default
	}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("%s = %#v, want %#v", k, cfg[k], v)
		}
	}
	// RIFFLE_CONFIG names the file as well; JSON works like YAML.
	jsonFile := writeFile(t, "riffle.json", `{"region": "ap-south-1", "shard-limit": 12, "in-memory": true}`)
	cfg = printConfig(t, []string{"RIFFLE_CONFIG=" + jsonFile})
	if cfg["region"] != "ap-south-1" || cfg["shard-limit"] != 12.0 || cfg["in-memory"] != true {
		t.Errorf("from RIFFLE_CONFIG: %v", cfg)
	}

	// What --print-config prints (YAML by default) reads back as the same
	// configuration.
	yamlOut, errOut, code := runRiffle(t, env, "serve", "--config", file, "--print-config")
	if code != 0 || !strings.Contains(yamlOut, "region: eu-west-1") {
		t.Fatalf("--print-config: %d %q %s", code, yamlOut, errOut)
	}
	again := printConfig(t, nil, "--config", writeFile(t, "printed.yaml", yamlOut))
	first := printConfig(t, env, "--config", file, "--log-level", "warn")
	first["log-level"] = "error" // the printed file was made without the flag
	if fmt.Sprint(again) != fmt.Sprint(first) {
		t.Fatalf("printed configuration reads back as\n%v\nnot\n%v", again, first)
	}
}

func TestConfigValidationReportsEverything(t *testing.T) {
	file := writeFile(t, "riffle.yaml", "listn: 127.0.0.1:1\nfsync: sometimes\nshard-limit: many\n")
	initFile := writeFile(t, "init.yaml", "streams:\n  - name: ok\n  - name: 'bad name'\n    shards: -1\n    mode: SOMETIMES\n")
	_, errOut, code := runRiffle(t, []string{"RIFFLE_REGION=Mars"}, "serve", "--config", file, "--fault-rate", "2",
		"--fault-types", "Oops", "--init", initFile, "--print-config")
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		`unknown setting "listn"`,
		`--fsync "sometimes"`,
		`shard-limit: "many"`,
		`--region "Mars"`,
		`--fault-rate 2: must be from 0 to 1`,
		`--fault-types: "Oops"`,
		`streams[1]: name "bad name"`,
		`streams[1]: mode "SOMETIMES"`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// A key of a YAML file that is not a mapping, or a bad JSON file, is one
	// clear line too.
	if _, errOut, code := runRiffle(t, nil, "serve", "--config", writeFile(t, "c.json", `{"region": `)); code != 2 || !strings.Contains(errOut, "c.json") {
		t.Fatalf("broken JSON: %d %s", code, errOut)
	}
}

func TestInitFile(t *testing.T) {
	dir := t.TempDir()
	initFile := filepath.Join(dir, "init.yaml")
	write := func(consumers string) {
		content := `streams:
  - name: orders
    shards: 3
    retention_hours: 48
    tags: {team: payments}
    consumers: [` + consumers + `]
  - name: clicks
    mode: ON_DEMAND
`
		if err := os.WriteFile(initFile, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("billing, audit")
	data := filepath.Join(dir, "data")
	check := func(s *server, consumers ...string) time.Time {
		t.Helper()
		c := s.client(3)
		ctx := testCtx(t, 30*time.Second)
		sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("orders")})
		if err != nil {
			t.Fatal(err)
		}
		d := sum.StreamDescriptionSummary
		if aws.ToInt32(d.OpenShardCount) != 3 || aws.ToInt32(d.RetentionPeriodHours) != 48 || d.StreamStatus != types.StreamStatusActive {
			t.Fatalf("orders: %d shards, %d h, %s", aws.ToInt32(d.OpenShardCount), aws.ToInt32(d.RetentionPeriodHours), d.StreamStatus)
		}
		tags, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("orders")})
		if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" || aws.ToString(tags.Tags[0].Value) != "payments" {
			t.Fatalf("orders tags: %v %v", tags, err)
		}
		list, err := c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: d.StreamARN})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, cs := range list.Consumers {
			names = append(names, aws.ToString(cs.ConsumerName))
		}
		sort.Strings(names)
		sort.Strings(consumers)
		if fmt.Sprint(names) != fmt.Sprint(consumers) {
			t.Fatalf("consumers %v, want %v", names, consumers)
		}
		clicks, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("clicks")})
		if err != nil || clicks.StreamDescriptionSummary.StreamModeDetails.StreamMode != types.StreamModeOnDemand {
			t.Fatalf("clicks: %v %v", clicks, err)
		}
		return aws.ToTime(d.StreamCreationTimestamp)
	}
	s := startServer(t, data, "--init", initFile)
	created := check(s, "billing", "audit")
	c := s.client(3)
	ctx := testCtx(t, 30*time.Second)
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("orders"), PartitionKey: aws.String("k"), Data: []byte("kept")}); err != nil {
		t.Fatal(err)
	}
	s.stop()

	// A restart with the same file changes nothing; one with a new consumer
	// adds it and keeps the stream and its data.
	s = startServer(t, data, "--init", initFile)
	if again := check(s, "billing", "audit"); !again.Equal(created) {
		t.Fatalf("orders was created again at %v (first %v)", again, created)
	}
	s.stop()
	write("billing, audit, search")
	s = startServer(t, data, "--init", initFile)
	check(s, "billing", "audit", "search")
	if recs := readShard(t, ctx, s.client(3), "orders", shardID(shardFor(hashKey("k"), 3))); len(recs) != 1 || string(recs[0].Data) != "kept" {
		t.Fatalf("orders holds %v after restarts", dataStrings(recs))
	}
}

// TestSIGTERMDrains stops a server under load: every acknowledged put is
// there after a restart, no call gets a server error, subscriptions end
// cleanly and the process exits 0.
func TestSIGTERMDrains(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	c := s.client(1)
	ctx := testCtx(t, time.Minute)
	createStream(t, ctx, c, "d", 1)
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARN("d")), ConsumerName: aws.String("sub")})
	if err != nil {
		t.Fatal(err)
	}
	for {
		d, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: reg.Consumer.ConsumerARN})
		if err != nil {
			t.Fatal(err)
		}
		if d.ConsumerDescription.ConsumerStatus == types.ConsumerStatusActive {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	sub, err := c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String(shardID(0)),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}})
	if err != nil {
		t.Fatal(err)
	}
	es := sub.GetStream()
	defer es.Close()
	subDone := make(chan error, 1)
	go func() {
		for range es.Events() {
		}
		subDone <- es.Err()
	}()

	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
		n     atomic.Int64
	)
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				data := fmt.Sprintf("r%d", n.Add(1))
				_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("d"), PartitionKey: aws.String("k"), Data: []byte(data)})
				if err != nil {
					// Once the server stops accepting, calls fail to
					// connect; none may fail with an answer from it.
					if code := errorCode(err); code != "" {
						t.Errorf("PutRecord during shutdown answered %s: %v", code, err)
					}
					return
				}
				mu.Lock()
				acked = append(acked, data)
				mu.Unlock()
			}
		}()
	}
	for n.Load() < 200 {
		time.Sleep(10 * time.Millisecond)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-subDone:
		if err != nil {
			t.Errorf("subscription ended with %v, want a clean end", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("subscription still open 20 s after SIGTERM")
	}
	wg.Wait()
	s.stop() // checks exit status 0

	s = startServer(t, data)
	got := make(map[string]bool)
	for _, r := range readShard(t, ctx, s.client(3), "d", shardID(0)) {
		got[string(r.Data)] = true
	}
	for _, a := range acked {
		if !got[a] {
			t.Fatalf("acknowledged record %s lost over SIGTERM (%d acknowledged, %d read back)", a, len(acked), len(got))
		}
	}
	t.Logf("%d puts acknowledged before SIGTERM, all read back", len(acked))
}
