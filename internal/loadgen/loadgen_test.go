package loadgen

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/riffle-streams/riffle/internal/config"
	"github.com/riffle-streams/riffle/internal/server"
)

// startRiffle runs an in-memory Riffle in this process and returns its
// endpoint.
func startRiffle(t *testing.T) string {
	return startRiffleWith(t, func(*config.Config) {})
}

// startRiffleWith is startRiffle with edit applied to the configuration.
func startRiffleWith(t *testing.T, edit func(*config.Config)) string {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.InMemory = true
	cfg.ShardLimit = 1000
	edit(&cfg)
	srv, err := server.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + srv.Addr()
}

func smallOptions() Options {
	o := DefaultOptions()
	o.Producers = []int{1, 3}
	o.RecordSizes = []int{100}
	o.BatchSize = 50
	o.Scale = Scale{Duration: 200 * time.Millisecond, LatencyN: 20, DrainN: 3000, ManyShards: 40}
	o.Progress = io.Discard
	return o
}

// TestScenariosVerifyReadBack runs every scenario that needs no process of
// its own against a real (in-process) Riffle, small: each must produce a
// figure and find everything it wrote, once and in order.
func TestScenariosVerifyReadBack(t *testing.T) {
	o := smallOptions()
	o.Endpoint = startRiffle(t)
	results := Run(context.Background(), o)
	byKey := map[string]Result{}
	for _, r := range results {
		byKey[r.Key] = r
		if r.Failed() {
			t.Errorf("%s failed: %s (%s)", r.Scenario, r.Err, r.Note)
		}
	}
	for _, k := range []string{"put-100-1", "put-100-3", "drain", "many-shards", "putrecord-p50", "poll-p50", "sub-p50"} {
		r, ok := byKey[k]
		if !ok {
			t.Errorf("no %s result", k)
			continue
		}
		if r.Skipped != "" || r.Value <= 0 {
			t.Errorf("%s: value %v, skipped %q", r.Scenario, r.Value, r.Skipped)
		}
	}
	for _, k := range []string{"put-100-3", "drain", "many-shards"} {
		if n := byKey[k].Note; !strings.Contains(n, ": 0 lost, 0 duplicates") {
			t.Errorf("%s note %q does not report a clean read-back", k, n)
		}
	}
	if n := byKey["put-100-3"].Note; !strings.Contains(n, "; call latency p50 ") {
		t.Errorf("put-100-3 note %q lacks the call latency", n)
	}
	if n := byKey["drain"].Note; !strings.Contains(n, "read back 3000:") {
		t.Errorf("drain note %q: want all 3000 records read back", n)
	}
	md := Markdown([]TargetResults{{Target: "riffle", Results: results}}, "")
	if !strings.Contains(md, "| PutRecords 50 x 100 B, 3 producers, 4 shards |") {
		t.Errorf("markdown lacks the PutRecords row:\n%s", md)
	}
}

// TestProfilesThroughputScenarios: with a ProfileDir, a throughput
// scenario against a server with --pprof saves the server's CPU profile
// over it and says where in its note.
func TestProfilesThroughputScenarios(t *testing.T) {
	o := smallOptions()
	o.ProfileDir = t.TempDir()
	endpoint := startRiffleWith(t, func(c *config.Config) { c.Pprof = true })
	r := &runner{o: o, c: Client(endpoint, false),
		t: &Target{Name: "riffle", Endpoint: endpoint, Scale: o.Scale, ReadBack: true, Profile: true}}
	res, _, _ := r.putScenario(context.Background(), 100, 1)
	if res.Failed() {
		t.Fatalf("%s failed: %s", res.Scenario, res.Err)
	}
	path := filepath.Join(o.ProfileDir, "riffle-01-put-100-1.pprof")
	if !strings.Contains(res.Note, "; CPU profile "+path) {
		t.Errorf("note %q does not name %s", res.Note, path)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A CPU profile is a gzipped protocol buffer.
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s is not a profile: %v", path, err)
	}
	if n, err := io.Copy(io.Discard, zr); err != nil || n == 0 {
		t.Fatalf("%s: %d bytes, %v", path, n, err)
	}
}

// TestReadBackCatchesWrongAnswers: a record acknowledged but missing, and a
// record stored twice, are both reported, and fail the check when the
// client did not retry.
func TestReadBackCatchesWrongAnswers(t *testing.T) {
	ctx := context.Background()
	c := Client(startRiffle(t), false)
	if err := createStream(ctx, c, "s", 2); err != nil {
		t.Fatal(err)
	}
	led := newLedger(1)
	data := make([]byte, 40)
	for i := 0; i < 3; i++ {
		putHeader(data, 0, i)
		if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), Data: data, PartitionKey: aws.String("k")}); err != nil {
			t.Fatal(err)
		}
		led.status[0] = append(led.status[0], stAcked)
	}
	// Record 1 again (a duplicate), and a record 3 the ledger says was
	// acknowledged but that was never written (lost).
	putHeader(data, 0, 1)
	c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: []types.PutRecordsRequestEntry{{Data: data, PartitionKey: aws.String("k")}}})
	led.status[0] = append(led.status[0], stAcked)

	rs, err := readBack(ctx, c, "s", led, 2)
	if err != nil {
		t.Fatalf("readBack: %v", err)
	}
	if rs.read != 4 || rs.lost != 1 || rs.duplicates != 1 {
		t.Fatalf("read back %+v, want 4 read, 1 lost, 1 duplicate", rs)
	}
	if err := rs.check(false); err == nil || !strings.Contains(err.Error(), "1 acknowledged records never read back") ||
		!strings.Contains(err.Error(), "1 duplicates with client retries off") {
		t.Fatalf("check = %v, want both the loss and the duplicate reported", err)
	}
	if err := rs.check(true); err == nil || strings.Contains(err.Error(), "duplicates") {
		t.Fatalf("check with retries = %v, want only the loss reported", err)
	}
}

// TestProbeFsync: the disk probe times writes that reach the disk, of every
// kind (allocated blocks where the filesystem can preallocate), and leaves no
// file behind.
func TestProbeFsync(t *testing.T) {
	dir := t.TempDir()
	p, err := ProbeFsync(dir, 20)
	if err != nil {
		t.Fatal(err)
	}
	if p.AppendP50 <= 0 || p.AppendP99 < p.AppendP50 {
		t.Errorf("appending: p50 %v, p99 %v", p.AppendP50, p.AppendP99)
	}
	if runtime.GOOS == "linux" && (p.AllocatedP50 <= 0 || p.AllocatedP99 < p.AllocatedP50) {
		t.Errorf("into allocated blocks: p50 %v, p99 %v", p.AllocatedP50, p.AllocatedP99)
	}
	if p.PacedP50 <= 0 || p.PacedP99 < p.PacedP50 {
		t.Errorf("paced: p50 %v, p99 %v", p.PacedP50, p.PacedP99)
	}
	if s := p.String(); !strings.Contains(s, "appending") || !strings.Contains(s, "paced") {
		t.Errorf("String() = %q", p.String())
	}
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Errorf("left %v behind", names)
	}
}

// TestProcCPUCountsChildren: a server's CPU time includes what its direct
// children spend (a launcher that forks the real server).
func TestProcCPUCountsChildren(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	cmd := exec.Command("sh", "-c", `sh -c 'while :; do :; done' & wait`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Proc{cmd: cmd}
	t.Cleanup(func() {
		for _, pid := range p.family()[1:] {
			if child, err := os.FindProcess(pid); err == nil {
				child.Kill()
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
	})
	// The parent only waits: all the time counted is its child's.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		d, err := p.CPU()
		if err != nil {
			t.Fatal(err)
		}
		if d >= 100*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU() = %v after the child spun for 20 s", d)
		}
	}
}

func TestCPUUseRow(t *testing.T) {
	u := cpuUse{server: 2 * time.Millisecond, client: 3 * time.Millisecond, elapsed: 5 * time.Millisecond, ok: true}
	if got, want := u.note(1000), "; CPU per record: server 2.00 µs, load generator 3.00 µs (1.0 cores busy)"; got != want {
		t.Errorf("note = %q, want %q", got, want)
	}
	ok := Result{Key: "put-100-4", Value: 1}
	if r := u.result("cpu", "x", 1000, ok); r.Value != 2 || r.Unit != "µs" || !r.LowerIsBetter || r.Skipped != "" {
		t.Errorf("result = %+v", r)
	}
	if r := (cpuUse{}).result("cpu", "x", 1000, ok); r.Skipped == "" {
		t.Errorf("unmeasured: %+v, want skipped", r)
	}
	if r := u.result("cpu", "x", 1000, Result{Key: "drain", Skipped: "stores nothing"}); r.Skipped != "stores nothing" {
		t.Errorf("skipped scenario: %+v", r)
	}
	if r := u.result("cpu", "x", 1000, Result{Key: "drain", Err: "lost records"}); !r.Failed() {
		t.Errorf("failed scenario: %+v", r)
	}
	if d, ok := selfCPU(); runtime.GOOS == "linux" && (!ok || d <= 0) {
		t.Errorf("selfCPU() = %v, %v", d, ok)
	}
}

// TestCallP99Row: the call-latency row of a put scenario takes the 99th
// percentile of its successful calls and shares the scenario's failure.
func TestCallP99Row(t *testing.T) {
	var st putStats
	for i := 1; i <= 200; i++ {
		st.lat = append(st.lat, time.Duration(i)*time.Millisecond)
	}
	from := Result{Key: "put-100-4", Scenario: "PutRecords 500 x 100 B, 4 producers, 4 shards", Value: 1}
	r := st.callP99(from)
	if r.Key != "call-p99-100-4" || r.Scenario != "PutRecords call latency p99, 500 x 100 B, 4 producers, 4 shards" ||
		r.Value != 199 || r.Unit != "ms" || !r.LowerIsBetter || r.Failed() {
		t.Errorf("row = %+v", r)
	}
	if n := st.note(); !strings.Contains(n, "call latency p50 101.00 ms, p99 199.00 ms, p99.9 200.00 ms, max 200.00 ms") {
		t.Errorf("note = %q", n)
	}
	if r := st.callP99(Result{Key: "put-100-4", Err: "lost records"}); !r.Failed() {
		t.Errorf("failed scenario: %+v", r)
	}
	if r := (putStats{}).callP99(from); !r.Failed() {
		t.Errorf("no successful call: %+v", r)
	}
}

// TestRepeatRead: the read-back repeats an idempotent read whose connection
// was lost (closed by the SDK or reset by the server) and counts it, but
// gives up on any other error at once.
func TestRepeatRead(t *testing.T) {
	var retried atomic.Int64
	fails := []error{
		errors.New(`read tcp 127.0.0.1:48670->127.0.0.1:39695: read: connection reset by peer`),
		errors.New(`write tcp 127.0.0.1:1->127.0.0.1:2: use of closed network connection`),
	}
	calls := 0
	err := repeatRead(&retried, func() error {
		calls++
		if calls <= len(fails) {
			return fails[calls-1]
		}
		return nil
	})
	if err != nil || calls != 3 || retried.Load() != 2 {
		t.Fatalf("err %v after %d calls, %d counted; want success on the third call, 2 counted", err, calls, retried.Load())
	}
	other := errors.New("ResourceNotFoundException: no such stream")
	calls = 0
	if err := repeatRead(&retried, func() error { calls++; return other }); err != other || calls != 1 {
		t.Fatalf("err %v after %d calls; want the error after one call", err, calls)
	}
}

// The header is how a read-back tells records apart: it must round-trip at
// the widths' edges and reject anything that is not one.
func TestRecordHeader(t *testing.T) {
	b := make([]byte, 100)
	for _, c := range [][2]int{{0, 0}, {7, 42}, {99999, 99999999999}} {
		putHeader(b, c[0], c[1])
		if p, n, ok := parseHeader(b); !ok || p != c[0] || n != c[1] {
			t.Errorf("parseHeader(putHeader(%d, %d)) = %d, %d, %v (%q)", c[0], c[1], p, n, ok, b[:headerLen])
		}
	}
	if got := string(b[:headerLen]); got != "99999.99999999999." {
		t.Errorf("header = %q", got)
	}
	for _, bad := range []string{"", "00001.0000000000", "0000a.00000000001.", "00001-00000000001.", "00001.0000000000x."} {
		if _, _, ok := parseHeader([]byte(bad)); ok {
			t.Errorf("parseHeader(%q) accepted", bad)
		}
	}
}
