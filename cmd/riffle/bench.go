package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/riffle-streams/riffle/internal/loadgen"
)

// bench runs the load generator against --endpoint, or against a server it
// starts itself (--spawn) on a fresh data directory.
func bench(args []string, stdout, stderr io.Writer) int {
	o := loadgen.DefaultOptions()
	fs := flag.NewFlagSet("riffle bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Endpoint, "endpoint", o.Endpoint, "Kinesis endpoint to load")
	spawn := fs.Bool("spawn", false, "start a riffle server (this binary) on a temporary data directory and load it")
	producers := fs.String("producers", "1,4,16", "comma-separated producer counts for PutRecords")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "length of each throughput scenario")
	fs.IntVar(&o.LatencyN, "latency-calls", o.LatencyN, "PutRecord calls in the latency scenario")
	out := fs.String("out", "", "append the results as Markdown to this file (e.g. docs/benchmarks.md)")
	if err := fs.Parse(args); err != nil {
		return 2
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
	o.Progress = stderr
	ctx := context.Background()
	if *spawn {
		endpoint, stop, err := spawnServer(stderr)
		if err != nil {
			fmt.Fprintf(stderr, "riffle bench: %v\n", err)
			return 1
		}
		defer stop()
		o.Endpoint = endpoint
	}
	results, err := loadgen.Run(ctx, o)
	md := loadgen.Markdown(results, o)
	fmt.Fprint(stdout, md)
	if err != nil {
		fmt.Fprintf(stderr, "riffle bench: %v\n", err)
		return 1
	}
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = fmt.Fprintf(f, "\n%s", md)
			f.Close()
		}
		if err != nil {
			fmt.Fprintf(stderr, "riffle bench: write %s: %v\n", *out, err)
			return 1
		}
	}
	return 0
}

// spawnServer starts `riffle serve` from this binary on a free port and a
// temporary data directory, and waits until it serves.
func spawnServer(stderr io.Writer) (endpoint string, stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "riffle-bench-")
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(exe, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start server: %w", err)
	}
	stop = func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		os.RemoveAll(dir)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "msg=serving listen="); i >= 0 {
				addr <- strings.Fields(line[i+len("msg=serving listen="):])[0]
			}
		}
	}()
	select {
	case a := <-addr:
		return "http://" + a, stop, nil
	case <-time.After(10 * time.Second):
		stop()
		return "", nil, fmt.Errorf("server did not start within 10s")
	}
}
