package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// ServerSpec says how to start one kind of server process on loopback.
type ServerSpec struct {
	// Name labels the target in reports: "riffle", "ceiling", ...
	Name string
	// Command returns a fresh, unstarted command serving plain HTTP on
	// 127.0.0.1:port, keeping its data (if any) in dataDir.
	Command func(port int, dataDir string) *exec.Cmd
	// ReadyPath is an HTTP path that answers 200 once the server serves
	// ("/readyz"); empty means the first successful ListStreams call.
	ReadyPath string
	// Durable is true when a restart on the same dataDir keeps the records.
	Durable bool
	// Metrics is true when GET /metrics has Riffle's Prometheus metrics.
	Metrics bool
}

// Proc is a running server process started from a ServerSpec.
type Proc struct {
	Spec     ServerSpec
	Endpoint string
	port     int
	dir      string
	ownDir   bool
	cmd      *exec.Cmd
	exited   chan struct{}
	logTail  *tailBuffer
}

// StartProc starts spec on a free loopback port with data in dir (a new
// temporary directory when dir is empty) and waits until it is ready. It
// returns the time from process start to the first ready answer.
func StartProc(ctx context.Context, spec ServerSpec, dir string) (*Proc, time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	p := &Proc{Spec: spec, port: port, dir: dir, Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port)}
	if p.dir == "" {
		p.dir, err = os.MkdirTemp("", "riffle-bench-"+spec.Name+"-")
		if err != nil {
			return nil, 0, err
		}
		p.ownDir = true
	}
	d, err := p.start(ctx)
	if err != nil {
		p.Close()
		return nil, 0, err
	}
	return p, d, nil
}

func (p *Proc) start(ctx context.Context) (time.Duration, error) {
	p.cmd = p.Spec.Command(p.port, p.dir)
	p.logTail = &tailBuffer{max: 4096}
	p.cmd.Stdout = p.logTail
	p.cmd.Stderr = p.logTail
	p.exited = make(chan struct{})
	t0 := time.Now()
	if err := p.cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", p.Spec.Name, err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	if err := p.waitReady(ctx, 2*time.Minute); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// waitReady polls every millisecond, so that start-up times are measured to
// about a millisecond.
func (p *Proc) waitReady(ctx context.Context, limit time.Duration) error {
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	c := Client(p.Endpoint, false)
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before it was ready: %s", p.Spec.Name, p.logTail.String())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if p.Spec.ReadyPath != "" {
			if resp, err := hc.Get(p.Endpoint + p.Spec.ReadyPath); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		} else {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := c.ListStreams(cctx, &kinesis.ListStreamsInput{})
			cancel()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %s: %s", p.Spec.Name, limit, p.logTail.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// Stop ends the process: SIGINT and a wait for a clean exit, or SIGKILL
// (a crash) when kill is set.
func (p *Proc) Stop(kill bool) error {
	if p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	sig := os.Interrupt
	if kill {
		sig = syscall.SIGKILL
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s did not exit within 30s of SIGINT", p.Spec.Name)
	}
	return nil
}

// Restart stops the process (cleanly, or by SIGKILL when crash is set) and
// starts it again on the same port and data, returning the time to ready.
func (p *Proc) Restart(ctx context.Context, crash bool) (time.Duration, error) {
	if err := p.Stop(crash); err != nil {
		return 0, err
	}
	return p.start(ctx)
}

// Close stops the process and removes a data directory StartProc made.
func (p *Proc) Close() {
	p.Stop(false)
	if p.ownDir {
		os.RemoveAll(p.dir)
	}
}

// PID is the server's process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// RSS returns the resident memory of the server process and its direct
// children (a launcher may fork), from /proc/PID/status.
func (p *Proc) RSS() (int64, error) {
	var total int64
	for i, pid := range p.family() {
		r, err := vmRSS(pid)
		if err != nil && i == 0 {
			return 0, err
		}
		total += r // a child may have exited since it was listed
	}
	return total, nil
}

// CPU returns the CPU time (user and system) the server process and its
// direct children have used so far, from /proc/PID/stat.
func (p *Proc) CPU() (time.Duration, error) {
	var total time.Duration
	for i, pid := range p.family() {
		f, err := procStat(pid)
		if err != nil || len(f) < 13 {
			if i == 0 {
				return 0, fmt.Errorf("pid %d: no CPU times in /proc/%d/stat: %v", pid, pid, err)
			}
			continue
		}
		// utime and stime, the 14th and 15th fields, in clock ticks.
		utime, err1 := strconv.ParseInt(f[11], 10, 64)
		stime, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, fmt.Errorf("pid %d: CPU times %q %q in /proc/%d/stat", pid, f[11], f[12], pid)
		}
		total += time.Duration(utime+stime) * time.Second / userHZ
	}
	return total, nil
}

// userHZ is the unit of /proc's CPU times: USER_HZ, 100 on every Linux
// architecture Go supports.
const userHZ = 100

// family returns the server's pid and those of its direct children.
func (p *Proc) family() []int {
	pid := p.PID()
	pids := []int{pid}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		// The parent pid is the second field after the parenthesized name.
		if f, err := procStat(child); err == nil && len(f) > 1 && f[1] == strconv.Itoa(pid) {
			pids = append(pids, child)
		}
	}
	return pids
}

// procStat returns the fields of /proc/PID/stat after the parenthesized
// command name (which may hold spaces): the process state first.
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	return strings.Fields(s[i+1:]), nil
}

// DataBytes is the size of the files under the data directory.
func (p *Proc) DataBytes() int64 {
	var n int64
	filepath.Walk(p.dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func vmRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			f := strings.Fields(rest) // "1234 kB"
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("pid %d: VmRSS %q: %w", pid, rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("pid %d: no VmRSS in /proc/%d/status", pid, pid)
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the server binds it; on this single-user machine that does
// not happen in practice, and the server then fails loudly.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return "(no output)"
	}
	return s
}

// RiffleSpec starts `exe serve` (exe is a riffle binary) with fsync on every
// put and a shard limit that fits the 10,000-shard scenario, and with the
// given further flags (--pprof).
func RiffleSpec(exe string, flags ...string) ServerSpec {
	return ServerSpec{Name: "riffle", ReadyPath: "/readyz", Durable: true, Metrics: true,
		Command: func(port int, dir string) *exec.Cmd {
			args := []string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--data-dir", dir,
				"--fsync", "always", "--shard-limit", "30000", "--log-level", "warn"}
			return exec.Command(exe, append(args, flags...)...)
		}}
}

// CeilingSpec starts `exe bench --serve-ceiling` (see package ceiling).
func CeilingSpec(exe string) ServerSpec {
	return ServerSpec{Name: "ceiling", ReadyPath: "/readyz",
		Command: func(port int, _ string) *exec.Cmd {
			return exec.Command(exe, "bench", "--serve-ceiling", fmt.Sprintf("127.0.0.1:%d", port))
		}}
}

// KinesaliteSpec starts kinesalite from an npm install in nodeDir (its
// node_modules), bound to loopback, with no CREATING/DELETING delay and a
// shard limit that fits the scenarios. With durable set it keeps its data in
// LevelDB under the data directory (its --path); else in memory, its usual
// mode for tests.
func KinesaliteSpec(nodeDir string, durable bool) ServerSpec {
	name := "kinesalite"
	if durable {
		name = "kinesalite-leveldb"
	}
	return ServerSpec{Name: name, Durable: durable,
		Command: func(port int, dir string) *exec.Cmd {
			opts := `{"createStreamMs":0,"deleteStreamMs":0,"updateStreamMs":0,"shardLimit":30000}`
			if durable {
				opts = fmt.Sprintf(`{"createStreamMs":0,"deleteStreamMs":0,"updateStreamMs":0,"shardLimit":30000,"path":%q}`, filepath.Join(dir, "leveldb"))
			}
			// kinesalite's cli.js listens on every interface; its module
			// lets us bind loopback only.
			return exec.Command("node", "-e",
				`require(process.argv[1])(JSON.parse(process.argv[2])).listen(+process.argv[3], "127.0.0.1")`,
				filepath.Join(nodeDir, "node_modules", "kinesalite"), opts, strconv.Itoa(port))
		}}
}

// KinesisLocalSpec starts kinesis-local (the npm build of kinesis-mock) from
// an npm install in nodeDir, configured by its environment variables: plain
// HTTP on port (it also opens a TLS port, on every interface: it has no
// setting for the address), no state-transition delays, a shard limit that
// fits the scenarios, in memory.
func KinesisLocalSpec(nodeDir string) ServerSpec {
	return ServerSpec{Name: "kinesis-local",
		Command: func(port int, _ string) *exec.Cmd {
			pkg := filepath.Join(nodeDir, "node_modules", "kinesis-local")
			tlsPort, err := freePort()
			if err != nil {
				tlsPort = port + 1
			}
			cmd := exec.Command("node", filepath.Join(pkg, "main.js"))
			cmd.Dir = pkg // its self-signed certificate, server.json, is found relative to the working directory
			cmd.Env = append(os.Environ(),
				"KINESIS_MOCK_PLAIN_PORT="+strconv.Itoa(port), "KINESIS_MOCK_TLS_PORT="+strconv.Itoa(tlsPort),
				"SHARD_LIMIT=30000", "ON_DEMAND_STREAM_COUNT_LIMIT=100", "LOG_LEVEL=WARN", "ROOT_LOG_LEVEL=ERROR",
				"SHOULD_PERSIST_DATA=false")
			for _, v := range []string{"CREATE_STREAM_DURATION", "DELETE_STREAM_DURATION", "REGISTER_STREAM_CONSUMER_DURATION",
				"DEREGISTER_STREAM_CONSUMER_DURATION", "UPDATE_SHARD_COUNT_DURATION"} {
				cmd.Env = append(cmd.Env, v+"=0ms")
			}
			return cmd
		}}
}

// scrapeFsync reads riffle_store_fsync_duration_seconds (a summary: count
// and total seconds) from a Riffle /metrics endpoint.
func scrapeFsync(endpoint string) (count float64, sum float64, err error) {
	resp, err := http.Get(endpoint + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	found := false
	for _, line := range strings.Split(string(b), "\n") {
		for suffix, dst := range map[string]*float64{"_count": &count, "_sum": &sum} {
			if rest, ok := strings.CutPrefix(line, "riffle_store_fsync_duration_seconds"+suffix); ok {
				f := strings.Fields(rest)
				if len(f) == 0 {
					continue
				}
				v, err := strconv.ParseFloat(f[len(f)-1], 64)
				if err != nil {
					return 0, 0, fmt.Errorf("metrics: %q: %w", line, err)
				}
				*dst += v
				found = true
			}
		}
	}
	if !found {
		return 0, 0, errors.New("metrics: no riffle_store_fsync_duration_seconds")
	}
	return count, sum, nil
}

// fetchProfile saves the CPU profile of the server at endpoint over the
// next secs seconds to path.
func fetchProfile(ctx context.Context, endpoint string, secs int, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", endpoint, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fmt.Errorf("GET /debug/pprof/profile: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("save %s: %w", path, err)
	}
	return f.Close()
}
