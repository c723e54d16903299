package interop

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/riffle-streams/riffle/internal/tlscert"
)

var servingTLSLine = regexp.MustCompile(`msg=serving-tls listen=(\S+) cert=(\S+)`)

// tlsListener is what a server with --tls-listen logged about its TLS port.
type tlsListener struct {
	addr     string // host:port bound
	certPath string // as logged: a file, or (in-memory)
}

// port is the TLS port, for URLs naming localhost or 127.0.0.1.
func (l tlsListener) port() string {
	_, port, _ := net.SplitHostPort(l.addr)
	return port
}

// startTLSServer starts riffle with a TLS listener on a free loopback port
// besides the plain one, and returns the TLS listener's address from the
// log (logged before msg=serving, so it is there once startServer returns).
func startTLSServer(t testing.TB, dataDir string, args ...string) (*server, tlsListener) {
	t.Helper()
	s := startServer(t, dataDir, append([]string{"--tls-listen", "127.0.0.1:0"}, args...)...)
	m := servingTLSLine.FindStringSubmatch(s.log.String())
	if m == nil {
		t.Fatalf("riffle did not log msg=serving-tls listen=ADDR cert=PATH\n%s", s.log.String())
	}
	return s, tlsListener{addr: m[1], certPath: m[2]}
}

// riffleCert runs `riffle cert --data-dir dir` and returns the PEM it prints.
func riffleCert(t testing.TB, dataDir string) []byte {
	t.Helper()
	cmd := exec.Command(riffleBin, "cert", "--data-dir", dataDir)
	cmd.Env = cleanEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("riffle cert: %v\n%s", err, errb.String())
	}
	return out.Bytes()
}

// trusting returns a TLS client configuration that trusts exactly caPEM.
func trusting(t testing.TB, caPEM []byte) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("not a PEM certificate:\n%s", caPEM)
	}
	return &tls.Config{RootCAs: pool}
}

// httpsTransport is an HTTPS transport trusting caPEM that speaks HTTP/1.1
// only, or offers h2 too when h2 is set.
func httpsTransport(t testing.TB, caPEM []byte, h2 bool) *http.Transport {
	tr := &http.Transport{TLSClientConfig: trusting(t, caPEM), Protocols: new(http.Protocols)}
	tr.Protocols.SetHTTP1(true)
	tr.Protocols.SetHTTP2(h2)
	return tr
}

// protoLog records the protocol of every response a transport receives, to
// prove which HTTP version carried the SDK's calls.
type protoLog struct {
	rt     http.RoundTripper
	mu     sync.Mutex
	protos map[string]int
}

func (p *protoLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.rt.RoundTrip(r)
	if err == nil {
		p.mu.Lock()
		if p.protos == nil {
			p.protos = map[string]int{}
		}
		p.protos[resp.Proto]++
		p.mu.Unlock()
	}
	return resp, err
}

func (p *protoLog) seen() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.protos)
}

// sdkOver returns an SDK client for endpoint whose requests go through rt.
func sdkOver(endpoint string, rt http.RoundTripper) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:           region,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDINTEROP", "interop-secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: ownBody{rt}, Timeout: 30 * time.Second},
	})
}

// putAndGet creates a one-shard stream, puts records with PutRecords and
// reads them back with GetRecords.
func putAndGet(t *testing.T, ctx context.Context, c *kinesis.Client, stream string) {
	t.Helper()
	createStream(t, ctx, c, stream, 1)
	var entries []types.PutRecordsRequestEntry
	for i := range 5 {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte(fmt.Sprintf("%s-%d", stream, i))})
	}
	put, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
	if err != nil {
		t.Fatalf("PutRecords: %v", err)
	}
	if aws.ToInt32(put.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords failed %d records", aws.ToInt32(put.FailedRecordCount))
	}
	it := iterator(t, ctx, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(shardID(0)), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	recs, _ := readToEnd(t, ctx, c, it, 0)
	if len(recs) != len(entries) {
		t.Fatalf("GetRecords returned %d records, want %d", len(recs), len(entries))
	}
	for i, r := range recs {
		if want := fmt.Sprintf("%s-%d", stream, i); string(r.Data) != want {
			t.Errorf("record %d: %q, want %q", i, r.Data, want)
		}
	}
}

// servedCert returns the certificate the TLS listener presents, without
// trusting it.
func servedCert(t *testing.T, addr string) *x509.Certificate {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// TestTLS serves HTTPS with the certificate generated into the data
// directory, printed by `riffle cert` and trusted by each client as a user
// would: the Go SDK over HTTP/1.1 and over h2, the AWS CLI with --ca-bundle,
// boto3 with verify=. A TLS 1.1 client is refused, and the plain port keeps
// serving HTTP/1.1 and h2c at the same time.
func TestTLS(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	// Printed before the server ever ran: generated then, used by the server.
	caPEM := riffleCert(t, dataDir)
	s, ln := startTLSServer(t, dataDir)
	if want := filepath.Join(dataDir, "tls", "cert.pem"); ln.certPath != want {
		t.Errorf("serving-tls cert=%s, want %s", ln.certPath, want)
	}
	if !bytes.Equal(riffleCert(t, dataDir), caPEM) {
		t.Errorf("riffle cert printed a different certificate once the server ran")
	}
	if served := servedCert(t, ln.addr); !bytes.Contains(caPEM, pemOf(served)) {
		t.Errorf("the server presents a certificate other than the one riffle cert prints")
	}
	// Each subtest has its own deadline, so that a slow one (the Python
	// clients on a loaded machine) cannot use up the time of the next.
	t.Run("sdk-http1", func(t *testing.T) {
		ctx := testCtx(t, time.Minute)
		rec := &protoLog{rt: httpsTransport(t, caPEM, false)}
		putAndGet(t, ctx, sdkOver("https://127.0.0.1:"+ln.port(), rec), "tls-http1")
		if p := rec.seen(); len(p) != 1 || p["HTTP/1.1"] == 0 {
			t.Errorf("protocols used: %v, want only HTTP/1.1", p)
		}
	})
	t.Run("sdk-h2", func(t *testing.T) {
		ctx := testCtx(t, time.Minute)
		rec := &protoLog{rt: httpsTransport(t, caPEM, true)}
		putAndGet(t, ctx, sdkOver("https://localhost:"+ln.port(), rec), "tls-h2")
		if p := rec.seen(); len(p) != 1 || p["HTTP/2.0"] == 0 {
			t.Errorf("protocols used: %v, want only HTTP/2.0 (h2 by ALPN)", p)
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		ctx := testCtx(t, time.Minute)
		// Without the certificate, a client must refuse the server: proof
		// that the trusted runs above really verified it.
		_, err := sdkOver("https://localhost:"+ln.port(), &http.Transport{}).ListStreams(ctx, &kinesis.ListStreamsInput{})
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("ListStreams trusting only the system roots: %v, want a certificate error", err)
		}
	})
	t.Run("tls1.1-refused", func(t *testing.T) {
		cfg := trusting(t, caPEM)
		cfg.ServerName = "localhost"
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.addr, cfg)
		if err == nil {
			conn.Close()
			t.Fatalf("a client offering only TLS 1.0 and 1.1 completed a handshake")
		}
		if !strings.Contains(err.Error(), "protocol version") {
			t.Errorf("TLS 1.1 handshake: %v, want a protocol version alert", err)
		}
	})
	t.Run("aws-cli", func(t *testing.T) {
		ctx := testCtx(t, time.Minute)
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		endpoint := "https://localhost:" + ln.port()
		cli := func(args ...string) (string, error) {
			return awsCLIOver(t, endpoint, args...)
		}
		if out, err := cli("create-stream", "--stream-name", "tls-cli", "--shard-count", "1", "--ca-bundle", caFile); err != nil {
			t.Fatalf("aws kinesis create-stream --ca-bundle: %v\n%s", err, out)
		}
		waitActive(t, ctx, s.client(1), "tls-cli")
		if out, err := cli("put-record", "--stream-name", "tls-cli", "--partition-key", "k", "--data", "aGVsbG8=", "--ca-bundle", caFile); err != nil {
			t.Fatalf("aws kinesis put-record --ca-bundle: %v\n%s", err, out)
		}
		out, err := cli("describe-stream-summary", "--stream-name", "tls-cli", "--ca-bundle", caFile)
		if err != nil || !strings.Contains(out, `"StreamStatus": "ACTIVE"`) {
			t.Errorf("aws kinesis describe-stream-summary --ca-bundle: %v\n%s", err, out)
		}
		// And without --ca-bundle the CLI refuses the self-signed certificate.
		if out, err := cli("list-streams"); err == nil || !strings.Contains(out, "SSL") {
			t.Errorf("aws kinesis list-streams without --ca-bundle: %v\n%s\nwant an SSL validation failure", err, out)
		}
	})
	t.Run("boto3", func(t *testing.T) {
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		out := runBoto3TLS(t, "https://localhost:"+ln.port(), caFile, "tls-boto")
		var got struct {
			Records    []string
			Unverified string
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("boto3 output is not JSON: %v\n%s", err, out)
		}
		if !slices.Equal(got.Records, []string{"hello-tls-0", "hello-tls-1"}) {
			t.Errorf("boto3 read %v, want [hello-tls-0 hello-tls-1]", got.Records)
		}
		if got.Unverified != "SSLError" {
			t.Errorf("boto3 without verify=: %q, want SSLError", got.Unverified)
		}
	})
	t.Run("plain-port", func(t *testing.T) {
		// HTTP/1.1 and h2c at once on the plain port while TLS is on.
		h2c := &http.Transport{Protocols: new(http.Protocols)}
		h2c.Protocols.SetUnencryptedHTTP2(true)
		for _, tc := range []struct {
			name  string
			rt    http.RoundTripper
			proto string
		}{{"h1", &http.Transport{}, "HTTP/1.1"}, {"h2c", h2c, "HTTP/2.0"}} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := testCtx(t, time.Minute)
				rec := &protoLog{rt: tc.rt}
				putAndGet(t, ctx, sdkOver(s.endpoint, rec), "plain-"+tc.name)
				if p := rec.seen(); len(p) != 1 || p[tc.proto] == 0 {
					t.Errorf("protocols used: %v, want only %s", p, tc.proto)
				}
			})
		}
	})

	// The certificate is generated once: a restart serves the same one.
	s.stop()
	_, ln2 := startTLSServer(t, dataDir)
	if served := servedCert(t, ln2.addr); !bytes.Contains(caPEM, pemOf(served)) {
		t.Errorf("after a restart the server presents a different certificate")
	}
}

// pemOf is c in PEM, as `riffle cert` prints it.
func pemOf(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// awsCLIOver runs `aws kinesis ARGS` against endpoint (unlike awsCLI, which
// targets the plain port) with throwaway credentials and no shared config,
// and returns its combined output.
func awsCLIOver(t *testing.T, endpoint string, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI (aws) is required for this test and was not found on PATH: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"kinesis"}, args...)
	full = append(full, "--endpoint-url", endpoint, "--region", region, "--output", "json")
	cmd := exec.CommandContext(ctx, bin, full...)
	home := t.TempDir()
	cmd.Env = append(envWithoutAWS(),
		"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y", "AWS_PAGER=",
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard", "HOME="+home)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// boto3TLS creates a stream, puts and gets two records through boto3 with
// verify= the certificate file, then checks that boto3 without it refuses the
// server. It prints {"Records": [...], "Unverified": "<exception class>"}.
const boto3TLS = `
import json, sys, time
try:
    import boto3, botocore.config, botocore.exceptions
except ImportError as e:
    print(e, file=sys.stderr); sys.exit(3)
endpoint, ca, stream = sys.argv[1:4]
def client(verify):
    return boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1", verify=verify,
        aws_access_key_id="x", aws_secret_access_key="y",
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}))
c = client(ca)
c.create_stream(StreamName=stream, ShardCount=1)
for _ in range(300):
    if c.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
        break
    time.sleep(0.05)
c.put_records(StreamName=stream, Records=[{"Data": b"hello-tls-%d" % i, "PartitionKey": "k"} for i in range(2)])
it = c.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
recs = c.get_records(ShardIterator=it)["Records"]
unverified = "none"
try:
    client(None).list_streams()
except Exception as e:
    unverified = type(e).__name__
print(json.dumps({"Records": [r["Data"].decode() for r in recs], "Unverified": unverified}))
`

func runBoto3TLS(t *testing.T, endpoint, caFile, stream string) []byte {
	t.Helper()
	return runPython(t, "-c", boto3TLS, endpoint, caFile, stream)
}

// TestTLSInMemoryAndGivenPair checks the certificate an in-memory server
// generates for itself, and a server using a pair given with --tls-cert and
// --tls-key.
func TestTLSInMemoryAndGivenPair(t *testing.T) {
	t.Parallel()
	_, ln := startTLSServer(t, "", "--in-memory")
	if ln.certPath != tlscert.InMemoryPath {
		t.Errorf("in-memory server logged cert=%s, want %s", ln.certPath, tlscert.InMemoryPath)
	}
	leaf := servedCert(t, ln.addr)
	for _, ip := range []string{"127.0.0.1", "::1"} {
		if !slices.ContainsFunc(leaf.IPAddresses, func(a net.IP) bool { return a.Equal(net.ParseIP(ip)) }) {
			t.Errorf("IP SANs %v lack %s", leaf.IPAddresses, ip)
		}
	}
	if !slices.Contains(leaf.DNSNames, "localhost") {
		t.Errorf("DNS SANs %v lack localhost", leaf.DNSNames)
	}

	dir := t.TempDir()
	certPEM, keyPEM, err := tlscert.Generate([]string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	os.WriteFile(certFile, certPEM, 0o644)
	os.WriteFile(keyFile, keyPEM, 0o600)
	_, given := startTLSServer(t, "", "--in-memory", "--tls-cert", certFile, "--tls-key", keyFile)
	if given.certPath != certFile {
		t.Errorf("serving-tls cert=%s, want %s", given.certPath, certFile)
	}
	rec := &protoLog{rt: httpsTransport(t, certPEM, true)}
	ctx := testCtx(t, time.Minute)
	putAndGet(t, ctx, sdkOver("https://127.0.0.1:"+given.port(), rec), "given-pair")
	if p := rec.seen(); len(p) != 1 || p["HTTP/2.0"] == 0 {
		t.Errorf("protocols used: %v, want only HTTP/2.0", p)
	}
}

// TestTLSFlagErrors checks that bad TLS settings stop `riffle serve` with a
// message naming the problem.
func TestTLSFlagErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certA, _, _ := tlscert.Generate([]string{"localhost"}, time.Now())
	_, keyB, _ := tlscert.Generate([]string{"localhost"}, time.Now())
	certFile, keyFile := filepath.Join(dir, "a.crt"), filepath.Join(dir, "b.key")
	os.WriteFile(certFile, certA, 0o644)
	os.WriteFile(keyFile, keyB, 0o600)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--tls-listen", "127.0.0.1:0", "--tls-cert", certFile}, 2, "--tls-cert and --tls-key must be given together"},
		{[]string{"--tls-cert", certFile, "--tls-key", keyFile}, 2, "need --tls-listen"},
		{[]string{"--tls-listen", "0.0.0.0:0"}, 2, `--tls-listen "0.0.0.0:0" is not a loopback address`},
		{[]string{"--tls-listen", "nonsense"}, 2, `--tls-listen "nonsense"`},
		{[]string{"--tls-listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile}, 1, "private key does not match public key"},
		{[]string{"--tls-listen", "127.0.0.1:0", "--tls-cert", filepath.Join(dir, "missing.crt"), "--tls-key", keyFile}, 1, "missing.crt"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, riffleBin, append([]string{"serve", "--in-memory", "--listen", "127.0.0.1:0"}, tc.args...)...)
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("riffle serve %s: exit %d (%v), output:\n%s\nwant exit %d and %q", strings.Join(tc.args, " "), code, err, out, tc.code, tc.want)
		}
	}
}
