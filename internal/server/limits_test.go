package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riffle-streams/riffle/internal/config"
)

// startTest runs an in-memory server with cfg's limits until the test ends.
func startTest(t *testing.T, edit func(*config.Config)) string {
	t.Helper()
	cfg := config.Default()
	cfg.InMemory = true
	cfg.Listen = "127.0.0.1:0"
	edit(&cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s.Addr()
}

// rawConn is one client connection speaking HTTP/1.1 by hand, so that tests
// control exactly which connection each request uses.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// A generous bound so that a broken server fails the test instead of
	// hanging it; no assertion depends on it.
	c.SetDeadline(time.Now().Add(60 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

// request sends a signed-looking Kinesis request (the development server
// accepts any credentials) and returns the status and the error type, if any.
func (rc *rawConn) request(op, body string) (status int, errType, message string, err error) {
	req := fmt.Sprintf("POST / HTTP/1.1\r\nHost: riffle\r\nX-Amz-Target: Kinesis_20131202.%s\r\n"+
		"Content-Type: application/x-amz-json-1.1\r\n"+
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00\r\n"+
		"Content-Length: %d\r\n\r\n%s", op, len(body), body)
	if _, err := io.WriteString(rc.c, req); err != nil {
		return 0, "", "", err
	}
	return rc.response()
}

func (rc *rawConn) response() (status int, errType, message string, err error) {
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", "", err
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	json.Unmarshal(b, &e)
	return resp.StatusCode, e.Type, e.Message, nil
}

// wantOK fails unless a ListStreams on rc succeeds.
func (rc *rawConn) wantOK(when string) {
	rc.t.Helper()
	status, typ, msg, err := rc.request("ListStreams", "{}")
	if err != nil || status != http.StatusOK {
		rc.t.Fatalf("%s: ListStreams = %d %s %q %v, want 200", when, status, typ, msg, err)
	}
}

// wantClosed fails unless the server closes rc (without answering) or
// answers it with a non-200 status and then closes it.
func (rc *rawConn) wantClosed(when string) {
	rc.t.Helper()
	for {
		status, typ, _, err := rc.response()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				rc.t.Fatalf("%s: the server did not close the connection", when)
			}
			return // closed
		}
		if status == http.StatusOK {
			rc.t.Fatalf("%s: got 200 %s, want the connection closed", when, typ)
		}
	}
}

func TestMaxConnections(t *testing.T) {
	addr := startTest(t, func(c *config.Config) { c.MaxConnections = 2 })
	a, b := dial(t, addr), dial(t, addr)
	a.wantOK("first connection")
	b.wantOK("second connection")

	over := dial(t, addr)
	status, typ, msg, err := over.request("ListStreams", "{}")
	if err != nil || status != http.StatusServiceUnavailable || typ != "ServiceUnavailableException" ||
		!strings.Contains(msg, "at most 2") {
		t.Fatalf("third connection: %d %s %q %v; want 503 ServiceUnavailableException", status, typ, msg, err)
	}
	over.wantClosed("third connection after its 503")

	// The admitted connections are served as before.
	a.wantOK("first connection, again")

	// Once one closes, a new connection is served (the server notices the
	// close asynchronously, so retry until it has).
	b.c.Close()
	for i := 0; ; i++ {
		c := dial(t, addr)
		status, typ, _, err := c.request("ListStreams", "{}")
		if err == nil && status == http.StatusOK {
			break
		}
		if err != nil || status != http.StatusServiceUnavailable || i > 300 {
			t.Fatalf("new connection after one closed: %d %s %v", status, typ, err)
		}
		c.c.Close()
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRateLimitPerConnection(t *testing.T) {
	// One request at once, refilled every 1000 s: the second request on a
	// connection is over the limit however slow the machine.
	addr := startTest(t, func(c *config.Config) { c.MaxRequestsPerSecondPerConnection = 0.001 })
	a := dial(t, addr)
	a.wantOK("first request")
	status, typ, msg, err := a.request("ListStreams", "{}")
	if err != nil || status != http.StatusBadRequest || typ != "LimitExceededException" || !strings.Contains(msg, "Rate exceeded") {
		t.Fatalf("second request: %d %s %q %v; want 400 LimitExceededException", status, typ, msg, err)
	}
	// Another connection has its own budget.
	dial(t, addr).wantOK("another connection")
	// Health checks are never throttled.
	if _, err := io.WriteString(a.c, "GET /healthz HTTP/1.1\r\nHost: riffle\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if status, _, _, err := a.response(); err != nil || status != http.StatusOK {
		t.Fatalf("healthz on a throttled connection: %d %v", status, err)
	}
}

func TestSlowHeaders(t *testing.T) {
	addr := startTest(t, func(c *config.Config) { c.ReadTimeout = 500 * time.Millisecond })
	slow := dial(t, addr)
	io.WriteString(slow.c, "POST / HTTP/1.1\r\nHost: riffle\r\n") // and never the rest
	dial(t, addr).wantOK("another client while one is slow")
	slow.wantClosed("headers never finished")
}

func TestSlowBody(t *testing.T) {
	addr := startTest(t, func(c *config.Config) { c.ReadTimeout = 500 * time.Millisecond })
	slow := dial(t, addr)
	io.WriteString(slow.c, "POST / HTTP/1.1\r\nHost: riffle\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n"+
		"Content-Type: application/x-amz-json-1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/kinesis/aws4_request\r\n"+
		"Content-Length: 100\r\n\r\n{") // 99 bytes short
	dial(t, addr).wantOK("another client while one is slow")
	slow.wantClosed("body never finished")
}

func TestIdleConnectionClosed(t *testing.T) {
	addr := startTest(t, func(c *config.Config) { c.IdleTimeout = 500 * time.Millisecond })
	idle := dial(t, addr)
	idle.wantOK("first request")
	idle.wantClosed("idle keep-alive connection")
}

func TestHeaderTooLarge(t *testing.T) {
	addr := startTest(t, func(*config.Config) {})
	c := dial(t, addr)
	io.WriteString(c.c, "POST / HTTP/1.1\r\nHost: riffle\r\nX-Big: "+strings.Repeat("a", 100<<10)+"\r\n\r\n")
	// net/http answers 431 and closes the connection with the rest of the
	// header unread, which makes the close a reset; the reset may discard
	// the 431 before this client reads it. Either way the request is
	// refused without reaching the API.
	status, _, _, err := c.response()
	if err == nil && status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("100 KiB header: %d, want 431", status)
	}
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("100 KiB header: %v, want 431 or a reset", err)
	}
	dial(t, addr).wantOK("another client")
}

func TestBodyTooLarge(t *testing.T) {
	addr := startTest(t, func(c *config.Config) { c.MaxBodyBytes = 1 << 20 })
	c := dial(t, addr)
	status, typ, msg, err := c.request("PutRecord", `{"StreamName":"s","PartitionKey":"k","Data":"`+strings.Repeat("A", 2<<20)+`"}`)
	if err != nil || status != http.StatusRequestEntityTooLarge || typ != "SerializationException" || !strings.Contains(msg, "maximum size") {
		t.Fatalf("2 MiB body: %d %s %q %v, want 413 SerializationException", status, typ, msg, err)
	}
	dial(t, addr).wantOK("another client")
}
