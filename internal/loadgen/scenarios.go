package loadgen

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Target is one server under test.
type Target struct {
	Name     string
	Endpoint string
	// Proc is the server process, for the memory and start-up figures; nil
	// for an external endpoint.
	Proc *Proc
	// StartTime is Proc's time from process start to ready, on an empty
	// data directory.
	StartTime time.Duration
	Scale     Scale
	// ReadBack is false for a server that stores nothing (the ceiling):
	// its scenarios that need records read back are skipped.
	ReadBack bool
	// Subscribe is true when the server implements SubscribeToShard.
	Subscribe bool
	// RestartSpec starts a durable instance for the restart scenarios; nil
	// skips them, with RestartSkip as the reason.
	RestartSpec *ServerSpec
	RestartSkip string
	// Metrics is true when the server exposes Riffle's /metrics.
	Metrics bool
	// Profile is true when the server serves Go's CPU profile at
	// /debug/pprof/profile (Riffle with --pprof).
	Profile bool
}

// scenarioTimeout bounds each scenario, so that a peer that hangs costs a
// failed row, not the run.
const scenarioTimeout = 5 * time.Minute

type runner struct {
	o        Options
	t        *Target
	c        *kinesis.Client
	res      []Result
	profiles int // CPU profiles taken so far; numbers their files
}

func (r *runner) add(res ...Result) {
	for _, x := range res {
		switch {
		case x.Skipped != "":
			fmt.Fprintf(r.o.Progress, "  [%s] %s: skipped (%s)\n", r.t.Name, x.Scenario, x.Skipped)
		case x.Err != "":
			fmt.Fprintf(r.o.Progress, "  [%s] %s: FAILED: %s\n", r.t.Name, x.Scenario, x.Err)
		default:
			fmt.Fprintf(r.o.Progress, "  [%s] %s: %s %s  %s\n", r.t.Name, x.Scenario, fmtValue(x.Value), x.Unit, x.Note)
		}
		r.res = append(r.res, x)
	}
}

func (r *runner) stream(prefix string) string {
	return fmt.Sprintf("bench-%s-%d", prefix, time.Now().UnixNano())
}

func (r *runner) drop(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r.c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name), EnforceConsumerDeletion: aws.Bool(true)})
}

// fsyncs returns the server's journal fsync count and total seconds, or
// zeros when it has no such metrics.
func (r *runner) fsyncs() (float64, float64) {
	if !r.t.Metrics {
		return 0, 0
	}
	n, s, err := scrapeFsync(r.t.Endpoint)
	if err != nil {
		fmt.Fprintf(r.o.Progress, "  [%s] fsync metrics: %v\n", r.t.Name, err)
	}
	return n, s
}

// profile starts taking the server's CPU profile for the length of a
// throughput scenario (whole seconds, at least one), if Options.ProfileDir
// is set and the target serves one. The returned function waits for it,
// saves it as <ProfileDir>/<target>-<n>-<key>.pprof (n in the order taken)
// and returns a note for the scenario's result: where the profile is, or
// why there is none.
func (r *runner) profile(ctx context.Context, key string) (wait func() string) {
	if r.o.ProfileDir == "" || !r.t.Profile {
		return func() string { return "" }
	}
	r.profiles++
	path := filepath.Join(r.o.ProfileDir, fmt.Sprintf("%s-%02d-%s.pprof", r.t.Name, r.profiles, key))
	secs := max(1, int(math.Round(r.t.Scale.Duration.Seconds())))
	done := make(chan error, 1)
	go func() { done <- fetchProfile(ctx, r.t.Endpoint, secs, path) }()
	return func() string {
		if err := <-done; err != nil {
			return "; no CPU profile: " + err.Error()
		}
		return "; CPU profile " + path
	}
}

func fsyncNote(n0, s0, n1, s1 float64, acked int64) string {
	if n1 <= n0 {
		return ""
	}
	return fmt.Sprintf("; %d fsyncs, mean %.0f µs, %.0f records per fsync", int64(n1-n0), (s1-s0)/(n1-n0)*1e6, float64(acked)/(n1-n0))
}

// RunTarget runs every scenario against t and returns one Result per
// figure, including failed and skipped ones.
func RunTarget(ctx context.Context, o Options, t *Target) []Result {
	r := &runner{o: o, t: t, c: Client(t.Endpoint, false)}
	sc := t.Scale
	if t.Proc != nil {
		r.add(Result{Key: "ready-empty", Scenario: "start-up: process start to ready, empty", Value: ms(t.StartTime), Unit: "ms", LowerIsBetter: true,
			Note: readyHow(t.Proc.Spec)})
		if rss, err := t.Proc.RSS(); err == nil {
			r.add(Result{Key: "rss-idle", Scenario: "resident memory, idle", Value: mib(rss), Unit: "MiB", LowerIsBetter: true, Note: "VmRSS of the server process after start-up"})
		} else {
			r.add(Result{Key: "rss-idle", Scenario: "resident memory, idle", Err: err.Error()})
		}
	}

	// PutRecords throughput at each record size and producer count.
	var closedConn, calls, appliedFailed int64
	var base4 float64
	var cpu4 Result
	var callP99 []Result
	f0n, f0s := r.fsyncs()
	var totalAcked int64
	for _, size := range o.RecordSizes {
		for _, p := range o.Producers {
			res, st, rs := r.putScenario(ctx, size, p)
			r.add(res)
			closedConn += st.closedConn
			calls += st.calls
			appliedFailed += rs.appliedFailed
			totalAcked += st.acked
			if size == 100 && p == 4 {
				if !res.Failed() {
					base4 = res.Value
				}
				cpu4 = st.cpu.result("cpu-put-100-4", res.Scenario, st.acked, res)
			}
			if p == 4 {
				callP99 = append(callP99, st.callP99(res))
			}
		}
	}
	if cpu4.Key != "" {
		r.add(cpu4)
	}
	r.add(callP99...)
	f1n, f1s := r.fsyncs()
	if t.Metrics {
		if f1n > f0n {
			r.add(Result{Key: "fsync-mean", Scenario: "journal fsync latency, mean over the PutRecords scenarios", Value: (f1s - f0s) / (f1n - f0n) * 1e6,
				Unit: "µs", LowerIsBetter: true, Note: fmt.Sprintf("%d fsyncs for %d records (riffle_store_fsync_duration_seconds)", int64(f1n-f0n), totalAcked)})
		} else {
			r.add(Result{Key: "fsync-mean", Scenario: "journal fsync latency, mean over the PutRecords scenarios", Err: "no fsync counted by /metrics"})
		}
	}
	r.add(Result{Key: "closed-conn", Scenario: "PutRecords calls failed with \"use of closed network connection\" (SDK retries off)",
		Value: float64(closedConn), Unit: "calls", LowerIsBetter: true,
		Note: fmt.Sprintf("of %d calls in the PutRecords scenarios; %d records applied although their call failed", calls, appliedFailed)})
	r.add(r.retriesScenario(ctx))

	r.add(r.putRecordLatency(ctx)...)
	r.add(r.drainScenario(ctx)...)
	r.add(r.pollLatency(ctx)...)
	if t.Subscribe {
		r.add(r.subscribeScenario(ctx)...)
	} else {
		why := "not implemented by this server"
		if !t.ReadBack {
			why = "the ceiling server stores nothing"
		}
		r.add(Result{Key: "sub-p50", Scenario: "SubscribeToShard put→event latency p50", Skipped: why},
			Result{Key: "sub-p99", Scenario: "SubscribeToShard put→event latency p99", Skipped: why})
	}
	r.add(r.manyShards(ctx, sc.ManyShards, base4))
	r.add(r.memoryScenario(ctx)...)
	r.add(r.restartScenario(ctx)...)
	return r.res
}

func readyHow(spec ServerSpec) string {
	if spec.ReadyPath != "" {
		return "until GET " + spec.ReadyPath + " answers 200"
	}
	return "until a ListStreams call succeeds (the server has no readiness endpoint)"
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func (r *runner) putScenario(ctx context.Context, size, p int) (Result, putStats, readStats) {
	ctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
	defer cancel()
	res := Result{Key: fmt.Sprintf("put-%d-%d", size, p), Unit: "records/s",
		Scenario: fmt.Sprintf("PutRecords %d x %d B, %d producers, %d shards", r.o.BatchSize, size, p, r.o.Shards)}
	name := r.stream("put")
	if err := createStream(ctx, r.c, name, r.o.Shards); err != nil {
		res.Err = err.Error()
		return res, putStats{}, readStats{}
	}
	defer r.drop(name)
	led := newLedger(p)
	n0, s0 := r.fsyncs()
	profiled := r.profile(ctx, res.Key)
	cpu := r.cpuMeter()
	st := putLoad(ctx, r.c, name, p, r.o.BatchSize, size, r.t.Scale.Duration, 0, led)
	st.cpu = cpu()
	n1, s1 := r.fsyncs()
	res.Value = float64(st.acked) / st.elapsed.Seconds()
	res.Note = st.note() + fsyncNote(n0, s0, n1, s1, st.acked) + st.cpu.note(st.acked) + profiled()
	if st.acked == 0 {
		res.Err = "no record acknowledged: " + st.note()
		return res, st, readStats{}
	}
	if !r.t.ReadBack {
		res.Note += "; not read back (the server stores nothing)"
		return res, st, readStats{}
	}
	rs, err := readBack(ctx, r.c, name, led, r.o.Shards)
	if err == nil {
		err = rs.check(false)
	}
	res.Note += "; " + rs.note()
	if err != nil {
		res.Err = err.Error()
	}
	return res, st, rs
}

// retriesScenario repeats PutRecords 100 B at 4 producers with the SDK's
// retries on and counts the duplicates that retried calls leave behind.
func (r *runner) retriesScenario(ctx context.Context) Result {
	ctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
	defer cancel()
	res := Result{Key: "retry-dups", Scenario: "duplicates read back, PutRecords 100 B, 4 producers, SDK retries on", Unit: "records", LowerIsBetter: true}
	if !r.t.ReadBack {
		res.Skipped = "the ceiling server stores nothing"
		return res
	}
	c := Client(r.t.Endpoint, true)
	name := r.stream("retry")
	if err := createStream(ctx, c, name, r.o.Shards); err != nil {
		res.Err = err.Error()
		return res
	}
	defer r.drop(name)
	led := newLedger(4)
	st := putLoad(ctx, c, name, 4, r.o.BatchSize, 100, r.t.Scale.Duration, 0, led)
	rs, err := readBack(ctx, c, name, led, r.o.Shards)
	if err == nil {
		err = rs.check(true)
	}
	res.Value = float64(rs.duplicates)
	res.Note = st.note() + "; " + rs.note()
	if err != nil {
		res.Err = err.Error()
	}
	return res
}

// pct is the q-th percentile of the sorted lat.
func pct(lat []time.Duration, q int) time.Duration { return pctMille(lat, q*10) }

// pctMille is the q-th per-mille of the sorted lat (999 for p99.9).
func pctMille(lat []time.Duration, q int) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	return lat[min(len(lat)-1, len(lat)*q/1000)]
}

// putRecordLatency times PutRecord calls, one at a time, and reads them back.
func (r *runner) putRecordLatency(ctx context.Context) []Result {
	ctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
	defer cancel()
	n := r.t.Scale.LatencyN
	p50 := Result{Key: "putrecord-p50", Scenario: "PutRecord latency p50, 1 producer", Unit: "ms", LowerIsBetter: true}
	p99 := Result{Key: "putrecord-p99", Scenario: "PutRecord latency p99, 1 producer", Unit: "ms", LowerIsBetter: true}
	fail := func(err error) []Result { p50.Err, p99.Err = err.Error(), err.Error(); return []Result{p50, p99} }
	name := r.stream("latency")
	if err := createStream(ctx, r.c, name, r.o.Shards); err != nil {
		return fail(err)
	}
	defer r.drop(name)
	led := newLedger(1)
	data := make([]byte, 100)
	lat := make([]time.Duration, 0, n)
	var failed, closed int64
	n0, s0 := r.fsyncs()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		putHeader(data, 0, i)
		t0 := time.Now()
		_, err := r.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), Data: data, PartitionKey: aws.String(fmt.Sprint(i))})
		d := time.Since(t0)
		if err != nil {
			failed++
			if isClosedConn(err) {
				closed++
			} else if failed == 1 {
				p50.Note = "first error: " + truncate(err.Error(), 160) + "; "
			}
			led.status[0] = append(led.status[0], stCallFailed)
			continue
		}
		led.status[0] = append(led.status[0], stAcked)
		lat = append(lat, d)
	}
	if len(lat) == 0 {
		return fail(fmt.Errorf("no PutRecord call succeeded; %s", p50.Note))
	}
	n1, s1 := r.fsyncs()
	slices.Sort(lat)
	p50.Value, p99.Value = ms(pct(lat, 50)), ms(pct(lat, 99))
	p50.Note += fmt.Sprintf("%d calls, %d failed (%d closed connection)", n, failed, closed) + fsyncNote(n0, s0, n1, s1, int64(len(lat)))
	if r.t.ReadBack {
		rs, err := readBack(ctx, r.c, name, led, 1)
		if err == nil {
			err = rs.check(false)
		}
		p50.Note += "; " + rs.note()
		if err != nil {
			p50.Err, p99.Err = err.Error(), err.Error()
		}
	}
	return []Result{p50, p99}
}

// drainScenario writes DrainN records of 100 B and times reading them all
// from TRIM_HORIZON, one reader per shard.
func (r *runner) drainScenario(ctx context.Context) []Result {
	ctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
	defer cancel()
	n := r.t.Scale.DrainN
	res := Result{Key: "drain", Scenario: "GetRecords drain from TRIM_HORIZON (100 B records)", Unit: "records/s"}
	var cpu cpuUse
	var read int64
	results := func() []Result {
		return []Result{res, cpu.result("cpu-drain", "GetRecords drain", read, res)}
	}
	if !r.t.ReadBack {
		res.Skipped = "the ceiling server stores nothing"
		return results()
	}
	name := r.stream("drain")
	if err := createStream(ctx, r.c, name, r.o.Shards); err != nil {
		res.Err = err.Error()
		return results()
	}
	defer r.drop(name)
	led := newLedger(4)
	st := putLoad(ctx, r.c, name, 4, r.o.BatchSize, 100, 0, n, led)
	meter := r.cpuMeter()
	rs, err := readBack(ctx, r.c, name, led, r.o.Shards)
	cpu, read = meter(), rs.read
	if err == nil {
		err = rs.check(false)
	}
	res.Value = float64(rs.read) / rs.elapsed.Seconds()
	res.Note = fmt.Sprintf("N=%d written (%s), %d readers (one per shard), GetRecords Limit 10000; %s", n, st.note(), r.o.Shards, rs.note()) + cpu.note(rs.read)
	if err != nil {
		res.Err = err.Error()
	}
	return results()
}

// pollLatency measures, LatencyN/2 times, the time from the start of a
// PutRecord to the record's arrival at a consumer that polls GetRecords
// without pause, checking that every record arrives once and in order.
func (r *runner) pollLatency(ctx context.Context) []Result {
	ctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
	defer cancel()
	p50 := Result{Key: "poll-p50", Scenario: "put→consume latency p50, GetRecords polling", Unit: "ms", LowerIsBetter: true}
	p99 := Result{Key: "poll-p99", Scenario: "put→consume latency p99, GetRecords polling", Unit: "ms", LowerIsBetter: true}
	if !r.t.ReadBack {
		p50.Skipped, p99.Skipped = "the ceiling server stores nothing", "the ceiling server stores nothing"
		return []Result{p50, p99}
	}
	fail := func(err error) []Result { p50.Err, p99.Err = err.Error(), err.Error(); return []Result{p50, p99} }
	name := r.stream("poll")
	if err := createStream(ctx, r.c, name, 1); err != nil {
		return fail(err)
	}
	defer r.drop(name)
	it, err := r.c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
	if err != nil {
		return fail(fmt.Errorf("GetShardIterator: %w", err))
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	arrived := make(chan []byte, 16)
	var pollErr error
	go func() {
		defer close(arrived)
		iter := it.ShardIterator
		for iter != nil && pctx.Err() == nil {
			out, err := r.c.GetRecords(pctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				if pctx.Err() == nil {
					pollErr = err
				}
				return
			}
			for _, rec := range out.Records {
				arrived <- rec.Data
			}
			iter = out.NextShardIterator
		}
	}()
	n := max(1, r.t.Scale.LatencyN/2)
	lat := make([]time.Duration, 0, n)
	data := make([]byte, 100)
	for i := 0; i < n; i++ {
		putHeader(data, 0, i)
		start := time.Now()
		if _, err := r.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: data}); err != nil {
			return fail(fmt.Errorf("PutRecord %d: %w", i, err))
		}
		select {
		case got, ok := <-arrived:
			if !ok {
				return fail(fmt.Errorf("polling ended after %d records: %v", i, pollErr))
			}
			if _, m, ok := parseHeader(got); !ok || m != i {
				return fail(fmt.Errorf("consumer received %q, want record %d", truncate(string(got[:min(len(got), headerLen)]), 40), i))
			}
		case <-time.After(10 * time.Second):
			return fail(fmt.Errorf("record %d not read within 10s", i))
		}
		lat = append(lat, time.Since(start))
		time.Sleep(2 * time.Millisecond) // as in the subscribe scenario
	}
	slices.Sort(lat)
	p50.Value, p99.Value = ms(pct(lat, 50)), ms(pct(lat, 99))
	p50.Note = fmt.Sprintf("%d records, each read once and in order; the consumer polls with no pause", n)
	return []Result{p50, p99}
}

func (r *runner) subscribeScenario(ctx context.Context) []Result {
	ctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
	defer cancel()
	p50 := Result{Key: "sub-p50", Scenario: "SubscribeToShard put→event latency p50", Unit: "ms", LowerIsBetter: true}
	p99 := Result{Key: "sub-p99", Scenario: "SubscribeToShard put→event latency p99", Unit: "ms", LowerIsBetter: true}
	n := max(1, r.t.Scale.LatencyN/2)
	sl, err := subscribeLatency(ctx, r.c, n)
	if err != nil {
		p50.Err, p99.Err = err.Error(), err.Error()
		return []Result{p50, p99}
	}
	p50.Value, p99.Value = ms(pct(sl, 50)), ms(pct(sl, 99))
	p50.Note = fmt.Sprintf("%d records, each received once and in order (PutRecord start to event)", n)
	return []Result{p50, p99}
}

// manyShards spreads PutRecords over a stream of many shards (unique
// partition keys hash over all of them) and reads everything back. The
// target compares it with the 4-shard throughput, so a 4-shard run of the
// same length is repeated just before it: on a shared virtual machine the
// figure of the 4-shard scenario, minutes earlier, drifted by a third
// against itself between runs.
func (r *runner) manyShards(ctx context.Context, shards int, base4 float64) Result {
	ctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
	defer cancel()
	res := Result{Key: "many-shards", Unit: "records/s",
		Scenario: fmt.Sprintf("PutRecords %d x 100 B, 4 producers, %d shards (writes spread over all)", r.o.BatchSize, shards)}
	name := r.stream("shards")
	t0 := time.Now()
	if err := createStream(ctx, r.c, name, shards); err != nil {
		res.Err = err.Error()
		return res
	}
	created := time.Since(t0)
	defer r.drop(name)
	adjacent, _, _ := r.putScenario(ctx, 100, 4)
	led := newLedger(4)
	profiled := r.profile(ctx, res.Key)
	st := putLoad(ctx, r.c, name, 4, r.o.BatchSize, 100, r.t.Scale.Duration, 0, led)
	res.Value = float64(st.acked) / st.elapsed.Seconds()
	res.Note = fmt.Sprintf("%d shards; CreateStream to ACTIVE %.1f s; %s%s", shards, created.Seconds(), st.note(), profiled())
	if adjacent.Failed() || adjacent.Value == 0 {
		res.Note += "; 4-shard run before it failed: " + adjacent.Err
	} else {
		res.Note += fmt.Sprintf("; %.0f%% of a 4-shard run just before it (%.0f records/s)", 100*res.Value/adjacent.Value, adjacent.Value)
	}
	if base4 > 0 {
		res.Note += fmt.Sprintf("; %.0f%% of the 4-shard figure above", 100*res.Value/base4)
	}
	if st.acked == 0 {
		res.Err = "no record acknowledged: " + st.note()
		return res
	}
	if !r.t.ReadBack {
		res.Note += "; not read back (the server stores nothing)"
		return res
	}
	rs, err := readBack(ctx, r.c, name, led, 8)
	if err == nil {
		err = rs.check(false)
	}
	res.Note += "; " + rs.note()
	if err != nil {
		res.Err = err.Error()
	}
	return res
}

// memoryScenario writes MemN records of 100 B and reports the server's
// resident memory, then reads them all back and reports it again.
func (r *runner) memoryScenario(ctx context.Context) []Result {
	after := Result{Key: "rss-after", Unit: "MiB", LowerIsBetter: true,
		Scenario: "resident memory after N records of 100 B written"}
	read := Result{Key: "rss-after-read", Unit: "MiB", LowerIsBetter: true,
		Scenario: "resident memory after those N records were read back"}
	if r.t.Proc == nil {
		after.Skipped, read.Skipped = "an external endpoint: no process to measure", "an external endpoint: no process to measure"
		return []Result{after, read}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*scenarioTimeout)
	defer cancel()
	n := r.t.Scale.MemN
	name := r.stream("memory")
	if err := createStream(ctx, r.c, name, r.o.Shards); err != nil {
		after.Err, read.Err = err.Error(), err.Error()
		return []Result{after, read}
	}
	defer r.drop(name)
	led := newLedger(4)
	st := putLoad(ctx, r.c, name, 4, r.o.BatchSize, 100, 0, n, led)
	time.Sleep(time.Second) // let in-flight work settle
	rss, err := r.t.Proc.RSS()
	if err != nil {
		after.Err = err.Error()
	}
	after.Value = mib(rss)
	after.Note = fmt.Sprintf("N=%d (%s)", n, st.note())
	if !r.t.ReadBack {
		read.Skipped = "the ceiling server stores nothing"
		return []Result{after, read}
	}
	rs, err := readBack(ctx, r.c, name, led, r.o.Shards)
	if err == nil {
		err = rs.check(false)
	}
	read.Note = rs.note()
	if err != nil {
		after.Err, read.Err = err.Error(), err.Error()
		return []Result{after, read}
	}
	if rss, err = r.t.Proc.RSS(); err != nil {
		read.Err = err.Error()
	}
	read.Value = mib(rss)
	return []Result{after, read}
}

// restartScenario starts a fresh durable instance, writes DataBytes of 1 KiB
// records, then times its recovery after SIGKILL and its start-up after a
// clean stop, and reads everything back.
func (r *runner) restartScenario(ctx context.Context) []Result {
	sc := r.t.Scale
	mb := float64(sc.DataBytes) / (1 << 20)
	crash := Result{Key: "ready-crash", Unit: "ms", LowerIsBetter: true,
		Scenario: "recovery: process start to ready after SIGKILL, with data"}
	clean := Result{Key: "ready-data", Unit: "ms", LowerIsBetter: true,
		Scenario: "start-up: process start to ready after a clean stop, with data"}
	rss := Result{Key: "rss-restarted", Unit: "MiB", LowerIsBetter: true,
		Scenario: "resident memory after restarting on that data"}
	all := func() []Result { return []Result{crash, clean, rss} }
	if r.t.RestartSpec == nil || sc.DataBytes <= 0 {
		why := r.t.RestartSkip
		if why == "" {
			why = "no durable mode configured"
		}
		crash.Skipped, clean.Skipped, rss.Skipped = why, why, why
		return all()
	}
	ctx, cancel := context.WithTimeout(ctx, 2*scenarioTimeout)
	defer cancel()
	fail := func(err error) []Result {
		crash.Err, clean.Err, rss.Err = err.Error(), err.Error(), err.Error()
		return all()
	}
	p, _, err := StartProc(ctx, *r.t.RestartSpec, "")
	if err != nil {
		return fail(err)
	}
	defer p.Close()
	c := Client(p.Endpoint, false)
	name := r.stream("restart")
	if err := createStream(ctx, c, name, r.o.Shards); err != nil {
		return fail(err)
	}
	led := newLedger(4)
	st := putLoad(ctx, c, name, 4, r.o.BatchSize, 1024, 0, sc.DataBytes/1024, led)
	onDisk := float64(p.DataBytes()) / (1 << 20)
	note := fmt.Sprintf("%.0f MiB written as 1 KiB records (%s); %.0f MiB on disk", mb, st.note(), onDisk)
	d, err := p.Restart(ctx, true)
	if err != nil {
		return fail(fmt.Errorf("restart after SIGKILL: %w", err))
	}
	crash.Value, crash.Note = ms(d), note
	if d, err = p.Restart(ctx, false); err != nil {
		return fail(fmt.Errorf("restart after a clean stop: %w", err))
	}
	clean.Value, clean.Note = ms(d), fmt.Sprintf("%.0f MiB of data; %s", mb, readyHow(p.Spec))
	if m, err := p.RSS(); err == nil {
		rss.Value, rss.Note = mib(m), fmt.Sprintf("%.0f MiB of data, nothing read yet", mb)
	} else {
		rss.Err = err.Error()
	}
	rs, err := readBack(ctx, c, name, led, r.o.Shards)
	if err == nil {
		err = rs.check(false)
	}
	if err != nil {
		return fail(fmt.Errorf("after the restarts: %w", err))
	}
	crash.Note += "; after both restarts " + rs.note()
	return all()
}
