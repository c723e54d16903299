package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// The riffle CLI (riffle stream|consumer|put|tail) driven as a user would:
// the built binary, its exit codes, standard output and standard error.

// cliResult is what one riffle CLI invocation produced.
type cliResult struct {
	stdout, stderr string
	code           int
}

// riffleEnv is the environment of a CLI run: no AWS_* or RIFFLE_* from the
// developer's shell, a HOME without credentials, and the server's endpoint.
func riffleEnv(t *testing.T, s *server) []string {
	return append(envWithoutAWS(), "HOME="+t.TempDir(), "RIFFLE_ENDPOINT="+s.endpoint)
}

// riffleCmd runs `riffle ARGS` to completion with stdin, bounded by a
// generous timeout (the machine is shared; the bound only stops a hang).
func riffleCmd(t *testing.T, s *server, stdin io.Reader, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, riffleBin, args...)
	cmd.Env = riffleEnv(t, s)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("riffle %s did not finish within 3 minutes\nstderr: %s", strings.Join(args, " "), errb.String())
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("riffle %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return cliResult{stdout: out.String(), stderr: errb.String(), code: code}
}

// riffleOK runs the CLI and fails the test unless it exits 0.
func riffleOK(t *testing.T, s *server, stdin io.Reader, args ...string) string {
	t.Helper()
	r := riffleCmd(t, s, stdin, args...)
	if r.code != 0 {
		t.Fatalf("riffle %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// backgroundTail is a `riffle tail` running while the test writes.
type backgroundTail struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr syncBuffer
	done   chan error
}

// startTail starts `riffle tail ARGS`; it must end by itself (--limit).
func startTail(t *testing.T, s *server, args ...string) *backgroundTail {
	t.Helper()
	bt := &backgroundTail{t: t, done: make(chan error, 1)}
	bt.cmd = exec.Command(riffleBin, append([]string{"tail"}, args...)...)
	bt.cmd.Env = riffleEnv(t, s)
	bt.cmd.Stdout = &bt.stdout
	bt.cmd.Stderr = &bt.stderr
	if err := bt.cmd.Start(); err != nil {
		t.Fatalf("start riffle tail: %v", err)
	}
	go func() { bt.done <- bt.cmd.Wait() }()
	t.Cleanup(func() {
		if bt.cmd.ProcessState == nil {
			bt.cmd.Process.Kill()
			<-bt.done
		}
	})
	return bt
}

// wait returns tail's output once it exits, failing the test if it exits
// non-zero or is still running after a generous bound.
func (bt *backgroundTail) wait() string {
	bt.t.Helper()
	select {
	case err := <-bt.done:
		if err != nil {
			bt.t.Fatalf("riffle tail: %v\nstderr: %s\nstdout so far:\n%s", err, bt.stderr.String(), bt.stdout.String())
		}
	case <-time.After(3 * time.Minute):
		bt.cmd.Process.Kill()
		<-bt.done
		bt.t.Fatalf("riffle tail did not reach its --limit within 3 minutes\nstderr: %s\nstdout:\n%s", bt.stderr.String(), bt.stdout.String())
	}
	return bt.stdout.String()
}

// tailJSON is one line of `riffle tail --format json`.
type tailJSON struct {
	ShardID           string  `json:"shardId"`
	SequenceNumber    string  `json:"sequenceNumber"`
	SubSequenceNumber *int    `json:"subSequenceNumber"`
	PartitionKey      string  `json:"partitionKey"`
	ExplicitHashKey   string  `json:"explicitHashKey"`
	Data              string  `json:"data"`
	Text              *string `json:"text"`
}

func parseTailJSON(t *testing.T, out string) []tailJSON {
	t.Helper()
	var recs []tailJSON
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	for sc.Scan() {
		var r tailJSON
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("tail --format json printed a line that is not JSON: %v\n%.200s", err, sc.Text())
		}
		recs = append(recs, r)
	}
	return recs
}

func (r tailJSON) bytes(t *testing.T) []byte {
	b, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		t.Fatalf("data of %s is not base64: %v", r.SequenceNumber, err)
	}
	return b
}

// TestRiffleCLIPutTailFile puts a file of mixed text through `riffle put`
// and reads it back byte for byte with `riffle tail --format raw`.
func TestRiffleCLIPutTailFile(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	riffleOK(t, s, nil, "stream", "create", "file-stream", "--shards", "2")

	var in bytes.Buffer
	for i := 0; i < 1200; i++ { // more than two PutRecords batches
		switch i % 6 {
		case 0:
			fmt.Fprintf(&in, "line %d plain ascii\n", i)
		case 1:
			fmt.Fprintf(&in, "ligne %d: déjà vu, 日本語, emoji 🚀, tab\there\n", i)
		case 2:
			in.WriteString("\n") // an empty record
		case 3:
			fmt.Fprintf(&in, "windows line %d\r\n", i)
		case 4:
			fmt.Fprintf(&in, "{\"n\":%d,\"quote\":\"\\\"\"}\n", i)
		case 5:
			fmt.Fprintf(&in, "%s\n", strings.Repeat(fmt.Sprintf("long%d-", i), 4000)) // ~30 KiB
		}
	}
	in.WriteString(strings.Repeat("x", 900<<10) + "\n") // one near the 1 MiB record limit
	path := filepath.Join(t.TempDir(), "input.txt")
	if err := os.WriteFile(path, in.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// A fixed key keeps the records on one shard, so their order is the
	// file's order.
	summary := riffleOK(t, s, nil, "put", "file-stream", "--file", path, "--partition-key", "same-key")
	if !strings.Contains(summary, "put 1201 records") || !strings.Contains(summary, "0 failed") {
		t.Errorf("put summary = %q, want 1201 records put and 0 failed", summary)
	}
	got := riffleOK(t, s, nil, "tail", "file-stream", "--from", "trim-horizon", "--format", "raw", "--no-follow")
	if got != in.String() {
		t.Fatalf("tail --format raw gave %d bytes back for %d put; first difference at byte %d",
			len(got), in.Len(), firstDiff(got, in.String()))
	}

	// Piped from stdin with a key template: every line arrives once, on the
	// shard its key hashes to.
	var lines []string
	for i := 0; i < 50; i++ {
		lines = append(lines, fmt.Sprintf("stdin-%d", i))
	}
	riffleOK(t, s, strings.NewReader(strings.Join(lines, "\n")), "put", "file-stream", "--partition-key", "k-{{mod .Line 7}}", "--quiet")
	recs := parseTailJSON(t, riffleOK(t, s, nil, "tail", "file-stream", "--from", "trim-horizon", "--format", "json", "--no-follow"))
	seen := map[string]bool{}
	for _, r := range recs {
		if !strings.HasPrefix(string(r.bytes(t)), "stdin-") {
			continue
		}
		var n int
		fmt.Sscanf(string(r.bytes(t)), "stdin-%d", &n)
		if want := fmt.Sprintf("k-%d", (n+1)%7); r.PartitionKey != want {
			t.Errorf("record %q has key %q, want %q", r.bytes(t), r.PartitionKey, want)
		}
		if want := shardID(shardFor(hashKey(r.PartitionKey), 2)); r.ShardID != want {
			t.Errorf("record %q on %s, want %s", r.bytes(t), r.ShardID, want)
		}
		if seen[string(r.bytes(t))] {
			t.Errorf("record %q printed twice", r.bytes(t))
		}
		seen[string(r.bytes(t))] = true
	}
	if len(seen) != len(lines) {
		t.Errorf("tail printed %d of the %d piped lines", len(seen), len(lines))
	}
}

func firstDiff(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestRiffleCLIPutJSONKeyField puts JSON documents keyed by a nested field
// and reads them back with tail --format json.
func TestRiffleCLIPutJSONKeyField(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	riffleOK(t, s, nil, "stream", "create", "json-stream", "--shards", "4")
	var docs []string
	for i := 0; i < 40; i++ {
		docs = append(docs, fmt.Sprintf(`{"user":{"id":"u%d"},"n":%d,"note":"ünï"}`, i%9, i))
	}
	input := strings.Join(docs, "\n") + "\n\n" // a trailing blank line is skipped
	riffleOK(t, s, strings.NewReader(input), "put", "json-stream", "--json", "--key-field", "user.id")
	recs := parseTailJSON(t, riffleOK(t, s, nil, "tail", "json-stream", "--from", "trim-horizon", "--format", "json", "--no-follow"))
	if len(recs) != len(docs) {
		t.Fatalf("tail printed %d records, want %d", len(recs), len(docs))
	}
	lastN := map[string]int{}
	for _, r := range recs {
		var doc struct {
			User struct{ ID string } `json:"user"`
			N    int                 `json:"n"`
		}
		if r.Text == nil {
			t.Fatalf("record %s has no text", r.SequenceNumber)
		}
		if err := json.Unmarshal([]byte(*r.Text), &doc); err != nil {
			t.Fatalf("text %q is not the JSON document put: %v", *r.Text, err)
		}
		if *r.Text != docs[doc.N] || string(r.bytes(t)) != docs[doc.N] {
			t.Errorf("record %d: text %q, want %q", doc.N, *r.Text, docs[doc.N])
		}
		if r.PartitionKey != doc.User.ID {
			t.Errorf("record %d: partition key %q, want the user.id %q", doc.N, r.PartitionKey, doc.User.ID)
		}
		if want := shardID(shardFor(hashKey(r.PartitionKey), 4)); r.ShardID != want {
			t.Errorf("record %d on %s, want %s", doc.N, r.ShardID, want)
		}
		if prev, ok := lastN[r.PartitionKey]; ok && prev >= doc.N {
			t.Errorf("key %s: record %d printed after %d", r.PartitionKey, doc.N, prev)
		}
		lastN[r.PartitionKey] = doc.N
	}

	// --from a sequence number: that record and the rest of its shard (the
	// other shards are followed from now on, so --no-follow prints none).
	var shard0 []tailJSON
	for _, r := range recs {
		if r.ShardID == recs[0].ShardID {
			shard0 = append(shard0, r)
		}
	}
	mid := len(shard0) / 2
	fromSeq := parseTailJSON(t, riffleOK(t, s, nil, "tail", "json-stream", "--from", shard0[mid].SequenceNumber, "--format", "json", "--no-follow"))
	if len(fromSeq) != len(shard0)-mid || fromSeq[0].SequenceNumber != shard0[mid].SequenceNumber {
		t.Errorf("tail --from %s printed %d records, want the %d from that one on", shard0[mid].SequenceNumber, len(fromSeq), len(shard0)-mid)
	}
	// --from a time before the first put: everything.
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	if got := parseTailJSON(t, riffleOK(t, s, nil, "tail", "json-stream", "--from", since, "--format", "json", "--no-follow")); len(got) != len(docs) {
		t.Errorf("tail --from %s printed %d records, want %d", since, len(got), len(docs))
	}

	// A document without the field is an error naming the line.
	r := riffleCmd(t, s, strings.NewReader(`{"user":{"id":"a"}}`+"\n"+`{"other":1}`+"\n"), "put", "json-stream", "--json", "--key-field", "user.id")
	if r.code != 1 || !regexp.MustCompile(`^riffle: line 2: no field "user.id" in the document\n$`).MatchString(r.stderr) {
		t.Errorf("missing key field: exit %d, stderr %q; want 1 and a one-line error naming line 2", r.code, r.stderr)
	}
	r = riffleCmd(t, s, strings.NewReader("not json\n"), "put", "json-stream", "--json")
	if r.code != 1 || r.stderr != "riffle: line 1: not a JSON document\n" {
		t.Errorf("invalid JSON: exit %d, stderr %q", r.code, r.stderr)
	}
}

// checkOnceInOrder checks that tail printed each record of want once and
// each key's records in the order they were written. Records are "key/i".
func checkOnceInOrder(t *testing.T, recs []tailJSON, want int) {
	t.Helper()
	seen := map[string]bool{}
	last := map[string]int{}
	for _, r := range recs {
		d := string(r.bytes(t))
		if seen[d] {
			t.Errorf("record %q printed twice", d)
		}
		seen[d] = true
		var i int
		if _, err := fmt.Sscanf(d[strings.Index(d, "/")+1:], "%d", &i); err != nil {
			t.Fatalf("unexpected record %q", d)
		}
		if p, ok := last[r.PartitionKey]; ok && p > i {
			t.Errorf("key %s: record %d printed after %d", r.PartitionKey, i, p)
		}
		last[r.PartitionKey] = i
	}
	if len(seen) != want {
		t.Errorf("tail printed %d distinct records, want %d", len(seen), want)
	}
}

// putKeyed writes records "key/i" for i in [from, to) with PutRecords, with
// keys k0..k7.
func putKeyed(t *testing.T, ctx context.Context, c *kinesis.Client, stream string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		key := fmt.Sprintf("k%d", i%8)
		if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String(key),
			Data: []byte(fmt.Sprintf("%s/%d", key, i))}); err != nil {
			t.Fatalf("PutRecord: %v", err)
		}
	}
}

// TestRiffleCLITailReshard follows a stream with riffle tail while riffle
// stream scale reshards it: every record is printed once, in key order.
func TestRiffleCLITailReshard(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	ctx := testCtx(t, 3*time.Minute)
	c := s.client(3)
	riffleOK(t, s, nil, "stream", "create", "reshard-stream", "--shards", "2")
	const total = 300
	tail := startTail(t, s, "reshard-stream", "--from", "trim-horizon", "--format", "json", "--limit", fmt.Sprint(total), "--poll-interval", "50ms")
	putKeyed(t, ctx, c, "reshard-stream", 0, 100)
	riffleOK(t, s, nil, "stream", "scale", "reshard-stream", "3")
	putKeyed(t, ctx, c, "reshard-stream", 100, 200)
	riffleOK(t, s, nil, "stream", "scale", "reshard-stream", "2")
	putKeyed(t, ctx, c, "reshard-stream", 200, total)
	recs := parseTailJSON(t, tail.wait())
	checkOnceInOrder(t, recs, total)
	shards := map[string]bool{}
	for _, r := range recs {
		shards[r.ShardID] = true
	}
	if len(shards) < 4 {
		t.Errorf("records came from %d shards, want parents and children (>= 4)", len(shards))
	}
}

// TestRiffleCLITailConsumer reads through enhanced fan-out: tail --consumer
// registers the consumer, follows every shard with SubscribeToShard, and
// crosses a split.
func TestRiffleCLITailConsumer(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	ctx := testCtx(t, 3*time.Minute)
	c := s.client(3)
	riffleOK(t, s, nil, "stream", "create", "efo-stream", "--shards", "2")
	putKeyed(t, ctx, c, "efo-stream", 0, 60)
	const total = 120
	tail := startTail(t, s, "efo-stream", "--consumer", "cli-reader", "--from", "trim-horizon", "--format", "json", "--limit", fmt.Sprint(total))
	// The consumer exists once tail has registered it.
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(riffleOK(t, s, nil, "consumer", "list", "efo-stream"), "cli-reader\tACTIVE\t") {
		if time.Now().After(deadline) {
			t.Fatalf("tail --consumer never registered cli-reader; stderr: %s", tail.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	riffleOK(t, s, nil, "stream", "split", "efo-stream", "shardId-000000000000")
	putKeyed(t, ctx, c, "efo-stream", 60, total)
	recs := parseTailJSON(t, tail.wait())
	checkOnceInOrder(t, recs, total)
	// The records came through enhanced fan-out, which the server counts.
	resp, err := http.Get(s.endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	if !regexp.MustCompile(`riffle_kinesis_subscribe_to_shard_event_bytes_total\{[^}]*stream="efo-stream"\} [1-9]`).Match(metrics) {
		t.Errorf("/metrics shows no SubscribeToShard event bytes for efo-stream")
	}
}

// kplAggVersion pins the npm package that makes the aggregated records.
const kplAggVersion = "4.2.8"

// aggregateWithNode packs records with the aws-kinesis-agg npm package
// (installed, pinned, into the test's temporary directory) and returns the
// encoded Kinesis records.
func aggregateWithNode(t *testing.T, records []map[string]string) []struct {
	PartitionKey    string `json:"partitionKey"`
	ExplicitHashKey string `json:"explicitHashKey"`
	Data            string `json:"data"`
} {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("npm is required to install aws-kinesis-agg and is not on PATH: %v", err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--no-save", "--ignore-scripts", "aws-kinesis-agg@"+kplAggVersion)
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm install aws-kinesis-agg@%s: %v\n%s", kplAggVersion, err, out)
	}
	const script = `const agg = require('aws-kinesis-agg');
const records = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = [];
agg.aggregate(records,
  (enc, cb) => { out.push({partitionKey: enc.partitionKey, explicitHashKey: enc.explicitHashKey, data: enc.data.toString('base64')}); cb(); },
  () => process.stdout.write(JSON.stringify(out)),
  (err) => { console.error(err); process.exit(1); });
`
	in, _ := json.Marshal(records)
	cmd := exec.Command("node", "-e", script)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node aggregate: %v\n%s", err, stderr.String())
	}
	var enc []struct {
		PartitionKey    string `json:"partitionKey"`
		ExplicitHashKey string `json:"explicitHashKey"`
		Data            string `json:"data"`
	}
	if err := json.Unmarshal(out, &enc); err != nil {
		t.Fatalf("node aggregate output: %v\n%s", err, out)
	}
	return enc
}

// TestRiffleCLITailKPL reads records aggregated by aws-kinesis-agg: tail
// prints the user records; a corrupted copy fails the MD5 check and is
// printed as it is.
func TestRiffleCLITailKPL(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	ctx := testCtx(t, 3*time.Minute)
	c := s.client(3)
	riffleOK(t, s, nil, "stream", "create", "kpl-stream", "--shards", "1")
	var user []map[string]string
	for i := 0; i < 25; i++ {
		r := map[string]string{"partitionKey": fmt.Sprintf("user-%d", i%4), "data": fmt.Sprintf("event %d: ✓ ok", i)}
		if i%5 == 0 {
			r["explicitHashKey"] = fmt.Sprint(1000 + i)
		}
		user = append(user, r)
	}
	enc := aggregateWithNode(t, user)
	if len(enc) != 1 {
		t.Fatalf("aws-kinesis-agg made %d aggregated records, want 1", len(enc))
	}
	agg, err := base64.StdEncoding.DecodeString(enc[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(agg)
	corrupt[len(corrupt)/2] ^= 0x20
	for _, data := range [][]byte{agg, corrupt, []byte("plain record")} {
		if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("kpl-stream"), PartitionKey: aws.String(enc[0].PartitionKey), Data: data}); err != nil {
			t.Fatalf("PutRecord: %v", err)
		}
	}
	r := riffleCmd(t, s, nil, "tail", "kpl-stream", "--from", "trim-horizon", "--format", "json", "--no-follow")
	if r.code != 0 {
		t.Fatalf("tail: exit %d: %s", r.code, r.stderr)
	}
	recs := parseTailJSON(t, r.stdout)
	if len(recs) != len(user)+2 {
		t.Fatalf("tail printed %d records, want %d user records, the corrupted one and the plain one", len(recs), len(user)+2)
	}
	for i, u := range user {
		got := recs[i]
		if got.SubSequenceNumber == nil || *got.SubSequenceNumber != i {
			t.Errorf("user record %d: subSequenceNumber %v", i, got.SubSequenceNumber)
		}
		if string(got.bytes(t)) != u["data"] || got.PartitionKey != u["partitionKey"] || got.ExplicitHashKey != u["explicitHashKey"] {
			t.Errorf("user record %d: got key %q hash key %q data %q, want %q %q %q", i, got.PartitionKey, got.ExplicitHashKey, got.bytes(t),
				u["partitionKey"], u["explicitHashKey"], u["data"])
		}
		if got.SequenceNumber != recs[0].SequenceNumber {
			t.Errorf("user record %d has sequence number %s, want the aggregate's %s", i, got.SequenceNumber, recs[0].SequenceNumber)
		}
	}
	bad := recs[len(user)]
	if bad.SubSequenceNumber != nil || !bytes.Equal(bad.bytes(t), corrupt) {
		t.Errorf("corrupted aggregate: printed subSequenceNumber %v, %d bytes; want it printed as is (%d bytes)", bad.SubSequenceNumber, len(bad.bytes(t)), len(corrupt))
	}
	if !strings.Contains(r.stderr, "MD5 checksum mismatch") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want one warning line about the MD5 checksum", r.stderr)
	}
	if plain := recs[len(user)+1]; string(plain.bytes(t)) != "plain record" || plain.SubSequenceNumber != nil {
		t.Errorf("plain record printed as %q (sub %v)", plain.bytes(t), plain.SubSequenceNumber)
	}
}

// TestRiffleCLIControlPlaneAndErrors covers the stream and consumer
// commands, exit codes and one-line errors.
func TestRiffleCLIControlPlaneAndErrors(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	riffleOK(t, s, nil, "stream", "create", "cp-stream", "--shards", "2")
	riffleOK(t, s, nil, "stream", "create", "cp-other", "--on-demand")
	if got := riffleOK(t, s, nil, "stream", "list"); got != "cp-other\ncp-stream\n" && got != "cp-stream\ncp-other\n" {
		t.Errorf("stream list = %q", got)
	}
	riffleOK(t, s, nil, "stream", "split", "cp-stream", "shardId-000000000000")
	riffleOK(t, s, nil, "stream", "merge", "cp-stream", "shardId-000000000002", "shardId-000000000003")
	riffleOK(t, s, nil, "stream", "retention", "cp-stream", "48")
	var desc struct {
		StreamDescriptionSummary struct {
			RetentionPeriodHours int
			OpenShardCount       int
		}
		Shards []struct{ ShardId string }
	}
	if err := json.Unmarshal([]byte(riffleOK(t, s, nil, "stream", "describe", "cp-stream", "--json")), &desc); err != nil {
		t.Fatalf("describe --json: %v", err)
	}
	if desc.StreamDescriptionSummary.RetentionPeriodHours != 48 || desc.StreamDescriptionSummary.OpenShardCount != 2 || len(desc.Shards) != 5 {
		t.Errorf("after split, merge and retention 48: %+v", desc)
	}
	text := riffleOK(t, s, nil, "stream", "describe", "arn:aws:kinesis:us-east-1:000000000000:stream/cp-stream")
	if !strings.Contains(text, "Retention:    48 hours") || !strings.Contains(text, "shardId-000000000004  open") {
		t.Errorf("describe by ARN:\n%s", text)
	}
	arn := strings.TrimSpace(riffleOK(t, s, nil, "consumer", "register", "cp-stream", "c1"))
	if !strings.HasPrefix(arn, streamARN("cp-stream")+"/consumer/c1:") {
		t.Errorf("consumer register printed %q, want the consumer ARN", arn)
	}
	if got := riffleOK(t, s, nil, "consumer", "list", "cp-stream"); got != "c1\tACTIVE\t"+arn+"\n" {
		t.Errorf("consumer list = %q", got)
	}
	riffleOK(t, s, nil, "consumer", "deregister", "cp-stream", "c1")
	riffleOK(t, s, nil, "stream", "delete", "cp-other")

	for _, tc := range []struct {
		args   []string
		code   int
		stderr string // a regexp of the whole of stderr
	}{
		{[]string{"stream", "describe", "nope"}, 1,
			`^riffle: DescribeStreamSummary: ResourceNotFoundException: Stream nope under account 000000000000 not found\.\n$`},
		{[]string{"tail", "nope"}, 1, `^riffle: ListShards: ResourceNotFoundException: .*nope.*\n$`},
		{[]string{"stream", "create", "cp-stream"}, 1, `^riffle: CreateStream: ResourceInUseException: .*cp-stream.*\n$`},
		{[]string{"stream", "scale", "cp-stream", "0"}, 2, `^riffle: SHARDS "0": want a positive number \(see 'riffle stream scale --help'\)\n$`},
		{[]string{"stream", "bogus"}, 2, `^riffle: unknown command "bogus" for "riffle stream" .*\n$`},
		{[]string{"bogus"}, 2, `^riffle: unknown command "bogus" for "riffle" .*\n$`},
		{[]string{"put"}, 2, `^riffle: riffle put takes 1 argument\(s\) \(STREAM\), got 0 .*\n$`},
		{[]string{"tail", "cp-stream", "--from", "yesterday"}, 2, `^riffle: --from "yesterday": want .*\n$`},
		{[]string{"tail", "cp-stream", "--bogus"}, 2, `^riffle: unknown flag: --bogus \(see 'riffle tail --help'\)\n$`},
		{[]string{"put", "cp-stream", "--key-field", "id"}, 2, `^riffle: --key-field needs --json .*\n$`},
		{[]string{"stream", "list", "--endpoint", "http://127.0.0.1:1"}, 1, `^riffle: ListStreams: dial tcp 127\.0\.0\.1:1: connect: connection refused\n$`},
	} {
		r := riffleCmd(t, s, strings.NewReader(""), tc.args...)
		if r.code != tc.code || !regexp.MustCompile(tc.stderr).MatchString(r.stderr) {
			t.Errorf("riffle %s: exit %d, stderr %q; want exit %d, stderr matching %s", strings.Join(tc.args, " "), r.code, r.stderr, tc.code, tc.stderr)
		}
	}
	// put to a missing stream fails before reading its input.
	r := riffleCmd(t, s, strings.NewReader("a\n"), "put", "nope")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "riffle: DescribeStreamSummary: ResourceNotFoundException: ") {
		t.Errorf("put to a missing stream: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if out := riffleOK(t, s, nil, "completion", shell); !strings.Contains(out, "riffle") {
			t.Errorf("completion %s printed no script", shell)
		}
	}
	if out := riffleOK(t, s, nil, "tail", "--help"); !strings.Contains(out, "--consumer") || !strings.Contains(out, "trim-horizon") {
		t.Errorf("tail --help does not document --consumer and --from")
	}
	if out := riffleOK(t, s, nil, "version"); !strings.HasPrefix(out, "riffle ") {
		t.Errorf("version printed %q", out)
	}
}
