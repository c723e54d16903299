package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riffle-streams/riffle/internal/api"
	"github.com/riffle-streams/riffle/internal/config"
)

// Resource limits, so that one client cannot exhaust the server: each limit
// refuses only the client over it, with an error its SDK understands, and
// the server keeps serving everyone else.
//
//   - Connections (--max-connections), counted across the plain and TLS
//     listeners. A connection over the limit is still accepted, so that its
//     first request can be answered 503 ServiceUnavailableException (which
//     every SDK retries, on a new connection) instead of hanging in the
//     kernel's backlog; it is admitted later if others have closed by then.
//     At most overLimitConns such connections are held; beyond that a new
//     one is closed at once.
//   - Request rate per connection (--max-requests-per-second-per-connection),
//     a token bucket per connection. Over it: LimitExceededException, HTTP
//     400, the error Kinesis itself returns for "Rate exceeded" on its
//     control plane. The AWS SDK for Go v2 and botocore (standard and
//     legacy modes) treat it as throttling and retry with back-off;
//     ProvisionedThroughputExceededException would mislead (it speaks of a
//     shard's throughput) and a bare 429 is not a Kinesis error.
//   - Slow clients: headers within --read-timeout (ReadHeaderTimeout), then
//     per-request deadlines set through http.ResponseController: the body
//     within --read-timeout, the response within --write-timeout. A
//     SubscribeToShard stream lives up to five minutes, so it gets neither
//     (it ends on its own; the engine bounds how many run at once with
//     --max-subscriptions). --idle-timeout closes idle keep-alive
//     connections.
//
// GET requests (health, readiness, metrics) skip the per-connection limits:
// a probe must not be refused because clients are busy.

// overLimitConns bounds the connections held open past --max-connections to
// be answered 503.
const overLimitConns = 64

// connLimiter counts connections across listeners.
type connLimiter struct {
	max      int64 // 0: no limit
	rate     float64
	admitted atomic.Int64
	waiting  atomic.Int64 // accepted over the limit, not yet admitted
}

// admit takes a connection slot if one is free.
func (l *connLimiter) admit() bool {
	for {
		n := l.admitted.Load()
		if l.max > 0 && n >= l.max {
			return false
		}
		if l.admitted.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// limitListener wraps a listener so that its connections are counted.
type limitListener struct {
	net.Listener
	l *connLimiter
}

func (ln *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &limitedConn{Conn: c, l: ln.l}
		if ln.l.admit() {
			lc.state = connAdmitted
			return lc, nil
		}
		if ln.l.waiting.Add(1) > overLimitConns {
			ln.l.waiting.Add(-1)
			c.Close()
			continue
		}
		lc.state = connWaiting
		return lc, nil
	}
}

const (
	connWaiting = iota
	connAdmitted
	connClosed
)

// limitedConn is a counted connection with its request-rate bucket.
type limitedConn struct {
	net.Conn
	l *connLimiter

	mu     sync.Mutex
	state  int       // guarded by mu
	tokens float64   // guarded by mu; requests allowed now
	last   time.Time // guarded by mu; when tokens was computed
}

// Close releases the connection's slot once, then closes it.
func (c *limitedConn) Close() error {
	c.mu.Lock()
	switch c.state {
	case connAdmitted:
		c.l.admitted.Add(-1)
	case connWaiting:
		c.l.waiting.Add(-1)
	}
	c.state = connClosed
	c.mu.Unlock()
	return c.Conn.Close()
}

// tryAdmit reports whether the connection may be served, admitting a
// waiting one if a slot has freed up.
func (c *limitedConn) tryAdmit() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.state {
	case connAdmitted:
		return true
	case connWaiting:
		if c.l.admit() {
			c.l.waiting.Add(-1)
			c.state = connAdmitted
			return true
		}
	}
	return false
}

// allow takes a token from the connection's bucket, which holds at most one
// second's worth (at least one request) and refills continuously.
func (c *limitedConn) allow(now time.Time) bool {
	rate := c.l.rate
	if rate <= 0 {
		return true
	}
	burst := max(rate, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last.IsZero() {
		c.tokens = burst
	} else if d := now.Sub(c.last); d > 0 {
		c.tokens = min(burst, c.tokens+d.Seconds()*rate)
	}
	c.last = now
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

type connKey struct{}

// connOf returns the counted connection under a TLS connection or itself.
func connOf(c net.Conn) *limitedConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	lc, _ := c.(*limitedConn)
	return lc
}

// requestLimits applies the per-connection limits and per-request deadlines
// before next.
type requestLimits struct {
	cfg  config.Config
	next http.Handler
}

func (h requestLimits) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		h.next.ServeHTTP(w, r)
		return
	}
	if lc, _ := r.Context().Value(connKey{}).(*limitedConn); lc != nil {
		if !lc.tryAdmit() {
			if r.ProtoMajor == 1 {
				w.Header().Set("Connection", "close")
			}
			api.WriteLimitError(w, r, "ServiceUnavailableException", http.StatusServiceUnavailable,
				fmt.Sprintf("Too many connections: the server serves at most %d at once. Retry later.", h.cfg.MaxConnections))
			return
		}
		if !lc.allow(time.Now()) {
			api.WriteLimitError(w, r, "LimitExceededException", http.StatusBadRequest,
				fmt.Sprintf("Rate exceeded for this connection: at most %g requests per second.", h.cfg.MaxRequestsPerSecondPerConnection))
			return
		}
	}
	if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".SubscribeToShard") {
		// Errors are ignored: a connection type without deadlines simply
		// goes unbounded, as before.
		rc := http.NewResponseController(w)
		now := time.Now()
		if d := h.cfg.ReadTimeout; d > 0 {
			rc.SetReadDeadline(now.Add(d))
		}
		if d := h.cfg.WriteTimeout; d > 0 {
			rc.SetWriteDeadline(now.Add(d))
		}
	}
	h.next.ServeHTTP(w, r)
}

// applyLimits wraps the listeners and handlers of s with the resource limits
// of its config. Called by New once both HTTP servers exist.
func (s *Server) applyLimits() {
	lim := &connLimiter{max: int64(s.cfg.MaxConnections), rate: s.cfg.MaxRequestsPerSecondPerConnection}
	s.ln = &limitListener{Listener: s.ln, l: lim}
	servers := []*http.Server{s.http}
	if s.tls != nil {
		s.tls.ln = &limitListener{Listener: s.tls.ln, l: lim}
		servers = append(servers, s.tls.http)
	}
	for _, hs := range servers {
		hs.Handler = requestLimits{cfg: s.cfg, next: hs.Handler}
		hs.IdleTimeout = s.cfg.IdleTimeout
		if d := s.cfg.ReadTimeout; d > 0 && (hs.ReadHeaderTimeout == 0 || d < hs.ReadHeaderTimeout) {
			hs.ReadHeaderTimeout = d
		}
		prev := hs.ConnContext
		hs.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			if prev != nil {
				ctx = prev(ctx, c)
			}
			if lc := connOf(c); lc != nil {
				ctx = context.WithValue(ctx, connKey{}, lc)
			}
			return ctx
		}
	}
}
