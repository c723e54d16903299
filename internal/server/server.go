// Package server wires Riffle together: storage, engine and the HTTP API, and
// runs them until told to stop.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/riffle-streams/riffle/internal/api"
	"github.com/riffle-streams/riffle/internal/config"
	"github.com/riffle-streams/riffle/internal/engine"
	"github.com/riffle-streams/riffle/internal/journal"
	"github.com/riffle-streams/riffle/internal/metrics"
	"github.com/riffle-streams/riffle/internal/store"
	"github.com/riffle-streams/riffle/internal/vfs"
)

// Server is a running Riffle node.
type Server struct {
	cfg    config.Config
	log    *slog.Logger
	store  *store.Store
	engine *engine.Engine
	http   *http.Server
	ln     net.Listener
	tls    *tlsServer // nil without --tls-listen
	ready  atomic.Bool
}

// New recovers the data directory (or prepares an in-memory store) and binds
// the listener; it does not serve yet.
func New(cfg config.Config, log *slog.Logger) (*Server, error) {
	// Credentials first: a bad file must stop the start before anything
	// is opened or recovered.
	var auth *api.Auth
	if cfg.Auth == "sigv4" {
		var err error
		if auth, err = api.LoadCredentials(cfg.Credentials); err != nil {
			return nil, err
		}
		log.Info("authentication on", "auth", cfg.Auth, "credentials", cfg.Credentials)
		warnIfShared(log, cfg.Credentials, "credentials file")
	}
	fs, dir := vfs.FS(vfs.Default()), cfg.DataDir
	if cfg.InMemory {
		fs, dir = vfs.NewMem(), "riffle-data"
	}
	opts := store.Options{
		Fsync:           fsyncPolicy(cfg.Fsync),
		FsyncInterval:   cfg.FsyncInterval,
		SegmentMaxBytes: cfg.SegmentMaxBytes,
		Logger:          log,
	}
	start := time.Now()
	st, err := store.Open(fs, dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open data directory %s: %w", dir, err)
	}
	ecfg := engine.DefaultConfig()
	ecfg.Region, ecfg.AccountID = cfg.Region, cfg.AccountID
	ecfg.ShardLimit = cfg.ShardLimit
	ecfg.CreateStreamDelay, ecfg.DeleteStreamDelay = cfg.CreateStreamDelay, cfg.DeleteStreamDelay
	ecfg.UpdateStreamDelay = cfg.UpdateStreamDelay
	ecfg.ConsumerDelay = cfg.ConsumerDelay
	ecfg.MaxSubscriptions = cfg.MaxSubscriptions
	ecfg.Logger = log
	mets := metrics.New(st)
	ecfg.Observer = mets
	if ecfg.Keyring, err = openKeyring(cfg, log); err != nil {
		st.Close()
		return nil, err
	}
	eng, err := engine.Open(ecfg, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	logRotation(ecfg.Keyring, log)
	log.Info("recovered", "data_dir", dir, "in_memory", cfg.InMemory, "took", time.Since(start))
	if err := startOps(eng, cfg, log); err != nil { // init.go: --init, limits, faults
		eng.Close()
		st.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		eng.Close()
		st.Close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	s := &Server{cfg: cfg, log: log, store: st, engine: eng, ln: ln}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mets.WatchStreams(eng)
	mux.Handle("GET /metrics", mets.Handler())
	adminRoutes(mux, eng, log) // admin.go
	if cfg.Pprof {
		pprofRoutes(mux) // pprof.go
	}
	mux.Handle("/", api.New(eng, api.Options{MaxBodyBytes: cfg.MaxBodyBytes, Logger: log, Auth: auth}))
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	s.http = &http.Server{
		Handler:           mux,
		Protocols:         protocols,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Subscriptions stream until they end; end them at shutdown so that
	// Shutdown can finish the in-flight requests.
	s.http.RegisterOnShutdown(eng.EndSubscriptions)
	if s.tls, err = newTLSServer(cfg, s.http, log); err != nil {
		ln.Close()
		eng.Close()
		st.Close()
		return nil, err
	}
	s.applyLimits() // limits.go
	return s, nil
}

func fsyncPolicy(s string) journal.FsyncPolicy {
	switch s {
	case config.FsyncInterval:
		return journal.Interval
	case config.FsyncNever:
		return journal.Never
	}
	return journal.Always
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx is cancelled, then stops accepting, finishes
// in-flight requests, flushes storage and returns.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	s.startTLS(errc)
	s.ready.Store(true)
	s.log.Info("serving", "listen", s.Addr())
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.ready.Store(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tlsDone := s.shutdownTLS(shutdownCtx)
	if err := s.http.Shutdown(shutdownCtx); err != nil {
		s.log.Warn("shutdown", "err", err)
	}
	<-tlsDone
	s.engine.Close()
	if err := s.store.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	s.log.Info("stopped")
	return nil
}

// warnIfShared warns when a file holding secrets can be read or written by
// users other than its owner (mode bits beyond 0600).
func warnIfShared(log *slog.Logger, path, what string) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn(what+" is accessible to other users; chmod 600 it", "path", path, "mode", fi.Mode().Perm().String())
	}
}
