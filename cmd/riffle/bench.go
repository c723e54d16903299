package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/riffle-streams/riffle/internal/ceiling"
	"github.com/riffle-streams/riffle/internal/loadgen"
)

// bench runs the load generator against --endpoint, against a Riffle server
// it starts itself (--spawn), or against Riffle and its peers one after the
// other (--compare). --serve-ceiling runs the ceiling server instead.
func bench(args []string, stdout, stderr io.Writer) int {
	o := loadgen.DefaultOptions()
	fs := flag.NewFlagSet("riffle bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Endpoint, "endpoint", o.Endpoint, "Kinesis endpoint to load (without --spawn or --compare)")
	spawn := fs.Bool("spawn", false, "start a riffle server (this binary) on a temporary data directory and load it")
	compare := fs.Bool("compare", false, "run the scenarios against riffle, the ceiling server, kinesalite and kinesis-local, one at a time")
	peers := fs.String("peers", "", "with --compare: directory with node_modules/kinesalite and node_modules/kinesis-local (npm install)")
	targets := fs.String("targets", "riffle,ceiling,kinesalite,kinesis-local", "with --compare: the targets to run, Riffle first")
	quick := fs.Bool("quick", false, "smaller N for the drain, memory and restart scenarios, shorter throughput runs")
	producers := fs.String("producers", "1,4,16", "comma-separated producer counts for PutRecords")
	duration := fs.Duration("duration", 0, "length of each throughput scenario (default 5s, 2s with --quick)")
	latencyN := fs.Int("latency-calls", 0, "PutRecord calls in the latency scenario (default 2000, 1000 with --quick)")
	out := fs.String("out", "", "append the results as Markdown to this file (e.g. docs/benchmarks.md)")
	fs.StringVar(&o.ProfileDir, "profile", "", "with --spawn or --compare: save a CPU profile of the Riffle server over each throughput scenario in this directory (go tool pprof)")
	serveCeiling := fs.String("serve-ceiling", "", "run the ceiling server (decode-only PutRecords, no storage) on this address and nothing else")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *serveCeiling != "" {
		return runCeiling(*serveCeiling, stderr)
	}
	o.Producers = nil
	for _, p := range strings.Split(*producers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			fmt.Fprintf(stderr, "riffle bench: --producers %q: want positive integers\n", *producers)
			return 2
		}
		o.Producers = append(o.Producers, n)
	}
	if *quick {
		o.Quick = true
		o.Scale = loadgen.QuickScale()
	}
	if *duration > 0 {
		o.Scale.Duration = *duration
	}
	if *latencyN > 0 {
		o.Scale.LatencyN = *latencyN
	}
	if *compare && *peers == "" && strings.Contains(*targets, "kine") {
		fmt.Fprintln(stderr, "riffle bench: --compare needs --peers DIR (scripts/bench-compare.sh installs them)")
		return 2
	}
	if o.ProfileDir != "" {
		if !*spawn && !*compare {
			fmt.Fprintln(stderr, "riffle bench: --profile needs --spawn or --compare (a server this run starts)")
			return 2
		}
		if err := os.MkdirAll(o.ProfileDir, 0o755); err != nil {
			fmt.Fprintf(stderr, "riffle bench: --profile: %v\n", err)
			return 1
		}
	}
	o.Progress = stderr
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	var runs []loadgen.TargetResults
	header := "Client: AWS SDK for Go v2 on the same machine (client and server share the cores). Riffle with `--fsync always` (every acknowledged put fsynced)."
	// Servers started here keep their data in the temporary directory.
	probe := func() string {
		p, err := loadgen.ProbeFsync(os.TempDir(), probeWrites)
		if err != nil {
			return err.Error()
		}
		return p.String()
	}
	disk := ""
	if *spawn || *compare {
		disk = probe()
	}
	switch {
	case *compare:
		var err error
		runs, err = compareRun(ctx, o, *peers, strings.Split(*targets, ","))
		if err != nil {
			fmt.Fprintf(stderr, "riffle bench: %v\n", err)
			return 1
		}
		header = "`make bench-compare`: the same scenarios against each target, one target at a time. " + header + " " + peerHeader(o, *peers, runs)
	case *spawn:
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "riffle bench: %v\n", err)
			return 1
		}
		spec := riffleSpec(exe, o)
		t, err := startTarget(ctx, spec, o.Scale, o.Progress)
		if err != nil {
			fmt.Fprintf(stderr, "riffle bench: %v\n", err)
			return 1
		}
		t.RestartSpec, t.Subscribe, t.Metrics, t.Profile = &spec, true, true, o.ProfileDir != ""
		runs = append(runs, loadgen.TargetResults{Target: "riffle", Results: loadgen.RunTarget(ctx, o, t)})
		t.Proc.Close()
	default:
		runs = append(runs, loadgen.TargetResults{Target: "endpoint", Results: loadgen.Run(ctx, o)})
	}
	if disk != "" {
		header += fmt.Sprintf(" Disk: %d writes of 200 B of each kind, each followed by the sync the journal uses (fdatasync on Linux), in the temporary directory, which holds the servers' data: before the run %s; after it %s.", probeWrites, disk, probe())
	}
	md := loadgen.Markdown(runs, header)
	fmt.Fprint(stdout, md)
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = fmt.Fprintf(f, "\n%s", md)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "riffle bench: write %s: %v\n", *out, err)
			return 1
		}
	}
	// A failed scenario on Riffle (an error or a wrong answer read back)
	// fails the run; peers' failures are reported in the table only.
	failed := 0
	for _, r := range runs[0].Results {
		if r.Failed() {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "riffle bench: %d scenario(s) failed on %s (see the table)\n", failed, runs[0].Target)
		return 1
	}
	return 0
}

// startTarget starts spec on a fresh data directory and makes a Target of it.
func startTarget(ctx context.Context, spec loadgen.ServerSpec, sc loadgen.Scale, progress io.Writer) (*loadgen.Target, error) {
	fmt.Fprintf(progress, "starting %s\n", spec.Name)
	p, d, err := loadgen.StartProc(ctx, spec, "")
	if err != nil {
		return nil, err
	}
	return &loadgen.Target{Name: spec.Name, Endpoint: p.Endpoint, Proc: p, StartTime: d, Scale: sc, ReadBack: true}, nil
}

// peerScale returns each target's scale: Riffle's own, and less work for
// the slow peers so that the whole comparison stays within minutes (the N
// used is in every note). Throughput scenarios run as long for every target:
// they are timed, so a peer's shorter run would save little, and a JIT-warmed
// peer would be measured on its slower first seconds.
func peerScale(name string, riffle loadgen.Scale) loadgen.Scale {
	sc := riffle
	switch name {
	case "ceiling":
		sc.MemN = min(sc.MemN, 1_000_000)
	case "kinesalite":
		sc.LatencyN = min(sc.LatencyN, 500)
		sc.DrainN = min(sc.DrainN, 100_000)
		sc.MemN = min(sc.MemN, 200_000)
		sc.DataBytes = min(sc.DataBytes, 32<<20)
		sc.ManyShards = min(sc.ManyShards, 1000) // 10,000 shards take it minutes to create
	case "kinesis-local":
		sc.LatencyN = min(sc.LatencyN, 200)
		sc.DrainN = min(sc.DrainN, 10_000)
		sc.MemN = min(sc.MemN, 20_000)
		sc.DataBytes = 0
		sc.ManyShards = min(sc.ManyShards, 1000)
	}
	return sc
}

// compareRun runs every target in turn, each alone on the machine.
func compareRun(ctx context.Context, o loadgen.Options, peers string, names []string) ([]loadgen.TargetResults, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var runs []loadgen.TargetResults
	for _, name := range names {
		name = strings.TrimSpace(name)
		var spec loadgen.ServerSpec
		var restart *loadgen.ServerSpec
		restartSkip := ""
		subscribe, metrics, readBack, profile := false, false, true, false
		switch name {
		case "riffle":
			spec = riffleSpec(exe, o)
			restart, subscribe, metrics, profile = &spec, true, true, o.ProfileDir != ""
		case "ceiling":
			spec = loadgen.CeilingSpec(exe)
			readBack, restartSkip = false, "the ceiling server stores nothing"
		case "kinesalite":
			spec = loadgen.KinesaliteSpec(peers, false)
			durable := loadgen.KinesaliteSpec(peers, true)
			restart = &durable
		case "kinesis-local":
			spec = loadgen.KinesisLocalSpec(peers)
			subscribe = true
			restartSkip = "kinesis-local persists only by a periodic JSON snapshot (PERSIST_INTERVAL); not comparable"
		default:
			return nil, fmt.Errorf("--targets: unknown target %q (riffle, ceiling, kinesalite, kinesis-local)", name)
		}
		t, err := startTarget(ctx, spec, peerScale(name, o.Scale), o.Progress)
		if err != nil {
			if name == "riffle" {
				return nil, err
			}
			runs = append(runs, loadgen.TargetResults{Target: name, Results: []loadgen.Result{{Key: "ready-empty", Scenario: "start-up: process start to ready, empty", Err: err.Error()}}})
			continue
		}
		t.RestartSpec, t.RestartSkip, t.Subscribe, t.Metrics, t.ReadBack, t.Profile = restart, restartSkip, subscribe, metrics, readBack, profile
		runs = append(runs, loadgen.TargetResults{Target: name, Results: loadgen.RunTarget(ctx, o, t)})
		t.Proc.Close()
		if ctx.Err() != nil {
			return runs, ctx.Err()
		}
	}
	if len(runs) == 0 || runs[0].Target != "riffle" {
		return nil, errors.New("--targets must start with riffle: ratios are Riffle's to each peer")
	}
	return runs, nil
}

// riffleSpec is the Riffle server of a run: with --profile, one that serves
// its CPU profile.
func riffleSpec(exe string, o loadgen.Options) loadgen.ServerSpec {
	if o.ProfileDir != "" {
		return loadgen.RiffleSpec(exe, "--pprof")
	}
	return loadgen.RiffleSpec(exe)
}

// peerHeader describes the other targets of the run (their versions and
// settings) and how to read the ratios.
func peerHeader(o loadgen.Options, peers string, runs []loadgen.TargetResults) string {
	ver := func(pkg string) string {
		b, err := os.ReadFile(filepath.Join(peers, "node_modules", pkg, "package.json"))
		if err != nil {
			return "?"
		}
		var p struct{ Version string }
		if json.Unmarshal(b, &p) != nil || p.Version == "" {
			return "?"
		}
		return p.Version
	}
	var parts []string
	for _, r := range runs {
		switch r.Target {
		case "kinesalite":
			parts = append(parts, "kinesalite "+ver("kinesalite")+" (in memory; its LevelDB mode, `--path`, for the restart rows), with no CREATING/DELETING delay and a shard limit of 30000")
		case "kinesis-local":
			parts = append(parts, "kinesis-local "+ver("kinesis-local")+" (kinesis-mock's npm build, in memory), with no CREATING/DELETING delay and a shard limit of 30000")
		case "ceiling":
			parts = append(parts, "ceiling: a Go server that decodes PutRecords with encoding/json and answers, storing nothing")
		}
	}
	mode := "full"
	if o.Quick {
		mode = "--quick"
	}
	others := ""
	if len(parts) > 0 {
		others = "Other targets: " + strings.Join(parts, "; ") + ". "
	}
	return others + fmt.Sprintf("Timed scenarios run as long for every target; slow peers get smaller N in the others (see the notes). Run mode: %s; the ratios are Riffle's figure over the peer's (for rows marked lower is better, under 1 is better for Riffle).",
		mode)
}

// runCeiling serves the ceiling handler on addr until SIGINT or SIGTERM.
func runCeiling(addr string, stderr io.Writer) int {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "riffle bench: ceiling: %v\n", err)
		return 1
	}
	tuneGC() // as riffle serve, so that the comparison is of the servers' work
	srv := &http.Server{Handler: ceiling.Handler()}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "riffle bench: ceiling: %v\n", err)
		return 1
	}
	return 0
}

// probeWrites is the number of writes of each kind in a disk probe
// (loadgen.ProbeFsync): about a second on these disks.
const probeWrites = 2000
