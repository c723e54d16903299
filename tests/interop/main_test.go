// Package interop drives a real `riffle serve` process from the outside, the
// way users do: through the AWS SDK for Go v2, raw HTTP, the AWS CLI and
// boto3, and by killing the process to check what survives a crash.
package interop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// riffleBin is the server binary built once for the whole run.
var riffleBin string

// moduleRoot is the directory holding go.mod, found from the test's working
// directory so the package runs from any checkout.
var moduleRoot string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	root, err := findModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	moduleRoot = root
	dir, err := os.MkdirTemp("", "riffle-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	riffleBin = filepath.Join(dir, "riffle")
	build := exec.Command("go", "build", "-o", riffleBin, "./cmd/riffle")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "interop: go build ./cmd/riffle failed: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

func findModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// server is one running `riffle serve` process.
type server struct {
	t        testing.TB
	dataDir  string // empty for --in-memory
	addr     string
	endpoint string
	cmd      *exec.Cmd
	log      *syncBuffer
	exited   chan struct{}
	stopOnce sync.Once
}

// syncBuffer collects the server's stderr while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var servingLine = regexp.MustCompile(`msg=serving listen=(\S+)`)

// startMemServer starts a throwaway server that keeps nothing on disk.
func startMemServer(t testing.TB) *server {
	return startServer(t, "", "--in-memory")
}

// startServer starts riffle on a free loopback port (the kernel picks it; the
// server logs the address it bound) and waits until /readyz answers 200. The
// process is stopped when the test ends.
func startServer(t testing.TB, dataDir string, args ...string) *server {
	t.Helper()
	full := []string{"serve", "--listen", "127.0.0.1:0", "--log-level", "info"}
	if dataDir != "" {
		full = append(full, "--data-dir", dataDir)
	}
	full = append(full, args...)
	cmd := exec.Command(riffleBin, full...)
	cmd.Env = cleanEnv()
	pr, pw := io.Pipe()
	logBuf := &syncBuffer{}
	cmd.Stderr = pw
	cmd.Stdout = logBuf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start riffle: %v", err)
	}
	s := &server{t: t, dataDir: dataDir, cmd: cmd, log: logBuf, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		pw.Close()
		close(s.exited)
	}()
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			line := sc.Text()
			logBuf.Write([]byte(line + "\n"))
			if m := servingLine.FindStringSubmatch(line); m != nil && !found {
				found = true
				addrc <- m[1]
			}
		}
		io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("riffle log (%s):\n%s", strings.Join(full, " "), s.log.String())
		}
	})
	select {
	case s.addr = <-addrc:
	case <-s.exited:
		t.Fatalf("riffle exited before serving: %v\n%s", cmd.ProcessState, s.log.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("riffle did not log msg=serving within 20s\n%s", s.log.String())
	}
	s.endpoint = "http://" + s.addr
	s.waitReady()
	return s
}

// cleanEnv drops RIFFLE_* variables so the developer's shell cannot change
// the server the tests start.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RIFFLE_") {
			env = append(env, kv)
		}
	}
	return env
}

func (s *server) waitReady() {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.endpoint + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("GET /readyz never answered 200 (last: %v)\n%s", err, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop asks the server to shut down cleanly and kills it if it does not.
func (s *server) stop() {
	s.stopOnce.Do(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
			// SIGTERM is the orderly stop: finish, flush, exit 0.
			if code := s.cmd.ProcessState.ExitCode(); code != 0 {
				s.t.Errorf("riffle exited with status %d after SIGTERM, want 0", code)
			}
		case <-time.After(10 * time.Second):
			s.t.Errorf("riffle did not exit within 10s of SIGTERM; killing it")
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
}

// kill ends the server with SIGKILL, as a crash or power cut would.
func (s *server) kill() {
	s.stopOnce.Do(func() {
		s.cmd.Process.Kill()
		<-s.exited
	})
}

// alive reports whether the process is still running.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// client returns an SDK client for the server. maxAttempts 1 disables
// retries, so error tests see the first answer.
func (s *server) client(maxAttempts int) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(s.endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDINTEROP", "interop-secret", ""),
		RetryMaxAttempts: maxAttempts,
		HTTPClient:       &http.Client{Transport: ownBody{http.DefaultTransport}},
	})
}

// ownBody sends a copy of each request body that the SDK cannot close. The
// SDK closes its body when the response headers arrive, and net/http's
// HTTP/1.1 transport reads the body once more after sending it: when the
// response wins, the transport closes the connection under it and the call
// fails with "use of closed network connection" although the server applied
// it (README). Tests with retries off must not fail on that client race.
type ownBody struct{ rt http.RoundTripper }

func (o ownBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return o.rt.RoundTrip(req)
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	r := req.Clone(req.Context())
	r.ContentLength = int64(len(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	r.Body, _ = r.GetBody()
	return o.rt.RoundTrip(r)
}

// testCtx bounds every call a test makes.
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
