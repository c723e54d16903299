package tlscert

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGenerateIntoDataDirOnceAndReuse(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data") // does not exist yet
	first, err := Load(Source{DataDir: dataDir})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if first.Origin != Generated {
		t.Errorf("first Load origin %v, want %v", first.Origin, Generated)
	}
	wantPath := filepath.Join(dataDir, "tls", "cert.pem")
	if first.Path != wantPath {
		t.Errorf("Path %q, want %q", first.Path, wantPath)
	}
	for path, want := range map[string]os.FileMode{
		dataDir:                       0o700,
		filepath.Join(dataDir, "tls"): 0o700,
		filepath.Join(dataDir, "tls", "cert.pem"): 0o600,
		filepath.Join(dataDir, "tls", "key.pem"):  0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", path, got, want)
		}
	}
	onDisk, err := os.ReadFile(wantPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, first.PEM) {
		t.Errorf("Cert.PEM differs from %s", wantPath)
	}
	entries, _ := os.ReadDir(dataDir)
	if len(entries) != 1 || entries[0].Name() != "tls" {
		t.Errorf("data directory holds %v, want only tls (no temporary leftovers)", entries)
	}

	second, err := Load(Source{DataDir: dataDir})
	if err != nil {
		t.Fatalf("second Load: %v", err)
	}
	if second.Origin != FromDataDir {
		t.Errorf("second Load origin %v, want %v", second.Origin, FromDataDir)
	}
	if !bytes.Equal(second.PEM, first.PEM) {
		t.Errorf("second Load generated a new certificate instead of reusing the stored one")
	}
}

func TestGeneratedCertificate(t *testing.T) {
	c, err := Load(Source{InMemory: true})
	if err != nil {
		t.Fatalf("Load in memory: %v", err)
	}
	if c.Origin != FromEphemeral || c.Path != InMemoryPath {
		t.Errorf("origin %v path %q, want %v %q", c.Origin, c.Path, FromEphemeral, InMemoryPath)
	}
	leaf := c.Leaf
	for _, ip := range []string{"127.0.0.1", "::1"} {
		if !slices.ContainsFunc(leaf.IPAddresses, func(a net.IP) bool { return a.Equal(net.ParseIP(ip)) }) {
			t.Errorf("IP SANs %v lack %s", leaf.IPAddresses, ip)
		}
	}
	if !slices.Contains(leaf.DNSNames, "localhost") {
		t.Errorf("DNS SANs %v lack localhost", leaf.DNSNames)
	}
	if h, err := os.Hostname(); err == nil && validDNSName(strings.ToLower(h)) && !slices.Contains(leaf.DNSNames, strings.ToLower(h)) {
		t.Errorf("DNS SANs %v lack the host name %q", leaf.DNSNames, h)
	}
	if leaf.IsCA {
		t.Errorf("the certificate is a CA; trusting it would let its key vouch for any site")
	}
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		t.Errorf("ExtKeyUsage %v lacks server authentication", leaf.ExtKeyUsage)
	}
	if got := leaf.NotAfter.Sub(leaf.NotBefore); got != Validity {
		t.Errorf("validity %s, want %s", got, Validity)
	}
	if now := time.Now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		t.Errorf("not valid now: %s to %s", leaf.NotBefore, leaf.NotAfter)
	}
	// A client that trusts exactly this PEM verifies it for each name.
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.PEM) {
		t.Fatalf("PEM does not parse as certificates:\n%s", c.PEM)
	}
	for _, name := range []string{"127.0.0.1", "::1", "localhost"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "example.com"}); err == nil {
		t.Errorf("verified for example.com, a name it was not made for")
	}
	other, _ := Load(Source{InMemory: true})
	if bytes.Equal(other.PEM, c.PEM) {
		t.Errorf("two in-memory loads returned the same certificate")
	}
}

func writePair(t *testing.T, dir string, certPEM, keyPEM []byte) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestGivenPair(t *testing.T) {
	certPEM, keyPEM, err := Generate([]string{"riffle.test"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := writePair(t, t.TempDir(), certPEM, keyPEM)
	dataDir := t.TempDir()
	c, err := Load(Source{CertFile: certFile, KeyFile: keyFile, DataDir: dataDir})
	if err != nil {
		t.Fatalf("Load given pair: %v", err)
	}
	if c.Origin != FromFiles || c.Path != certFile || !bytes.Equal(c.PEM, certPEM) {
		t.Errorf("got origin %v path %q, want %v %q and the given PEM", c.Origin, c.Path, FromFiles, certFile)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "tls")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a given pair still generated %s/tls (stat: %v)", dataDir, err)
	}
}

func TestBadPairs(t *testing.T) {
	certA, _, _ := Generate([]string{"a.test"}, time.Now())
	_, keyB, _ := Generate([]string{"b.test"}, time.Now())
	dir := t.TempDir()
	certFile, keyFile := writePair(t, dir, certA, keyB)
	for _, tc := range []struct {
		name string
		src  Source
		want string
	}{
		{"mismatched key", Source{CertFile: certFile, KeyFile: keyFile}, "private key does not match public key"},
		{"missing cert", Source{CertFile: filepath.Join(dir, "nope.pem"), KeyFile: keyFile}, "nope.pem"},
		{"missing key", Source{CertFile: certFile, KeyFile: filepath.Join(dir, "nokey.pem")}, "nokey.pem"},
		{"cert without key", Source{CertFile: certFile}, "must be given together"},
		{"key in place of cert", Source{CertFile: keyFile, KeyFile: keyFile}, "failed to find"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load: %v, want an error containing %q", err, tc.want)
			}
		})
	}

	// A broken pair in the data directory is reported, not silently
	// replaced: clients trust the old certificate.
	dataDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dataDir, "tls"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dataDir, "tls", "cert.pem"), certA, 0o600)
	if _, err := Load(Source{DataDir: dataDir}); err == nil || !strings.Contains(err.Error(), "key") {
		t.Errorf("Load with cert.pem but no key.pem: %v, want an error about the key", err)
	}
	os.WriteFile(filepath.Join(dataDir, "tls", "key.pem"), keyB, 0o600)
	if _, err := Load(Source{DataDir: dataDir}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("Load with a mismatched stored pair: %v, want a mismatch error", err)
	}
}

func TestExpiredStoredCertificateIsReplaced(t *testing.T) {
	dataDir := t.TempDir()
	certPEM, keyPEM, err := Generate(Hosts(), time.Now().Add(-Validity-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(dataDir, "tls")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600)
	c, err := Load(Source{DataDir: dataDir})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Origin != Generated || !c.Expired || bytes.Equal(c.PEM, certPEM) || time.Now().After(c.Leaf.NotAfter) {
		t.Errorf("origin %v expired %v, not after %s: want a fresh certificate replacing the expired one", c.Origin, c.Expired, c.Leaf.NotAfter)
	}
}

func TestConcurrentGenerationAgrees(t *testing.T) {
	dataDir := t.TempDir()
	const n = 8
	pems := make(chan []byte, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			c, err := LoadDataDir(dataDir)
			if err != nil {
				errs <- err
				return
			}
			pems <- c.PEM
		}()
	}
	var first []byte
	for range n {
		select {
		case err := <-errs:
			t.Fatalf("LoadDataDir: %v", err)
		case p := <-pems:
			if first == nil {
				first = p
			} else if !bytes.Equal(p, first) {
				t.Fatalf("concurrent loads returned different certificates")
			}
		}
	}
	onDisk, _ := os.ReadFile(filepath.Join(dataDir, "tls", "cert.pem"))
	if !bytes.Equal(onDisk, first) {
		t.Errorf("certificate on disk differs from the one returned")
	}
}

// handshake connects a client with cfg to a server with ServerConfig over an
// in-memory connection and returns the client's view of the result.
func handshake(t *testing.T, c *Cert, cfg *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	srv := tls.Server(a, ServerConfig(c.TLS))
	go srv.Handshake()
	cl := tls.Client(b, cfg)
	cl.SetDeadline(time.Now().Add(10 * time.Second))
	err := cl.Handshake()
	return cl.ConnectionState(), err
}

func TestServerConfig(t *testing.T) {
	c, err := Load(Source{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.PEM)
	base := func() *tls.Config { return &tls.Config{RootCAs: pool, ServerName: "localhost"} }

	cfg := base()
	cfg.NextProtos = []string{"h2", "http/1.1"}
	st, err := handshake(t, c, cfg)
	if err != nil || st.NegotiatedProtocol != "h2" || st.Version != tls.VersionTLS13 {
		t.Errorf("default client: %v, protocol %q, version %x; want h2 over TLS 1.3", err, st.NegotiatedProtocol, st.Version)
	}
	cfg = base()
	cfg.NextProtos = []string{"http/1.1"}
	cfg.MaxVersion = tls.VersionTLS12
	st, err = handshake(t, c, cfg)
	if err != nil || st.NegotiatedProtocol != "http/1.1" || st.Version != tls.VersionTLS12 {
		t.Errorf("HTTP/1.1 over TLS 1.2: %v, protocol %q, version %x", err, st.NegotiatedProtocol, st.Version)
	}
	cfg = base()
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if _, err := handshake(t, c, cfg); err == nil {
		t.Errorf("a TLS 1.1 client was accepted")
	}
	cfg = base()
	cfg.MaxVersion = tls.VersionTLS12
	cfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}
	if _, err := handshake(t, c, cfg); err == nil {
		t.Errorf("a TLS 1.2 client offering only a CBC cipher suite was accepted")
	}
}
