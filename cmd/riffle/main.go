// Command riffle is the Riffle server and its command-line tool.
//
//	riffle serve [flags]    run the server (see riffle serve -h)
//	riffle bench [flags]    load a server and report throughput and latency
//	riffle cert [flags]     print the TLS certificate clients should trust
//	riffle stream|consumer|put|tail ...  the client CLI (see riffle --help)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/riffle-streams/riffle/internal/config"
	"github.com/riffle-streams/riffle/internal/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return client(args, stdout, stderr)
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "bench":
		return bench(args[1:], stdout, stderr)
	case "cert":
		return cert(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "riffle", version)
		return 0
	}
	// Everything else is the client CLI (stream, consumer, put, tail, help,
	// completion), which also reports unknown commands.
	return client(args, stdout, stderr)
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("riffle serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := config.Load(fs, args, os.Getenv)
	if err != nil {
		if err != flag.ErrHelp {
			fmt.Fprintf(stderr, "riffle serve: %v\n", err)
		}
		return 2
	}
	if cfg.PrintConfig != "" {
		if err := config.Print(os.Stdout, fs, cfg.PrintConfig); err != nil {
			fmt.Fprintf(stderr, "riffle serve: %v\n", err)
			return 1
		}
		return 0
	}
	log := newLogger(cfg, stderr)
	srv, err := server.New(cfg, log)
	if err != nil {
		log.Error("start", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	tuneGC()
	if err := srv.Serve(ctx); err != nil {
		log.Error("serve", "err", err)
		return 1
	}
	return 0
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
