// Package tlscert provides the certificate of Riffle's TLS listener: a pair
// the user gives, or a self-signed one generated once into the data
// directory (or per run for an in-memory server), and the server's TLS
// settings (TLS 1.2 and later, AEAD cipher suites, h2 and HTTP/1.1 by ALPN).
package tlscert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Where the generated certificate lives, relative to the data directory.
const (
	DirName      = "tls"
	CertFileName = "cert.pem"
	KeyFileName  = "key.pem"
)

// Validity is how long a generated certificate is valid. 825 days is the
// longest validity macOS and iOS accept for a TLS server certificate, even
// one the user trusts explicitly.
const Validity = 825 * 24 * time.Hour

// clockSkew backdates a generated certificate so that a client whose clock
// runs a little behind the server's still accepts it.
const clockSkew = time.Hour

// Source says where the certificate comes from: CertFile and KeyFile if set
// (both or neither), else an ephemeral one if InMemory, else the one in
// <DataDir>/tls, generated there the first time.
type Source struct {
	CertFile string
	KeyFile  string
	DataDir  string
	InMemory bool
}

// Origin tells where a loaded certificate came from.
type Origin int

// The origins of a certificate.
const (
	FromFiles     Origin = iota // --tls-cert and --tls-key
	FromDataDir                 // generated earlier into the data directory
	Generated                   // generated into the data directory just now
	FromEphemeral               // generated in memory for this run
)

func (o Origin) String() string {
	switch o {
	case FromFiles:
		return "given files"
	case FromDataDir:
		return "data directory"
	case Generated:
		return "generated into the data directory"
	case FromEphemeral:
		return "generated in memory"
	}
	return fmt.Sprintf("Origin(%d)", int(o))
}

// Cert is a loaded certificate.
type Cert struct {
	TLS     tls.Certificate
	PEM     []byte // the certificate chain, PEM-encoded: what clients trust
	Path    string // file holding PEM; "(in-memory)" for an ephemeral one
	Origin  Origin
	Leaf    *x509.Certificate
	Expired bool // FromDataDir: the stored one had expired and was replaced
}

// InMemoryPath is Cert.Path of a certificate that exists only in memory.
const InMemoryPath = "(in-memory)"

// Load returns the certificate src names, generating it if need be.
func Load(src Source) (*Cert, error) {
	switch {
	case src.CertFile != "" || src.KeyFile != "":
		if src.CertFile == "" || src.KeyFile == "" {
			return nil, errors.New("tls: a certificate file and a key file must be given together")
		}
		return LoadFiles(src.CertFile, src.KeyFile)
	case src.InMemory:
		certPEM, keyPEM, err := Generate(Hosts(), time.Now())
		if err != nil {
			return nil, err
		}
		c, err := parsePair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("tls: generated certificate: %w", err)
		}
		c.Path, c.Origin = InMemoryPath, FromEphemeral
		return c, nil
	}
	return LoadDataDir(src.DataDir)
}

// LoadFiles loads a PEM certificate chain and its private key.
func LoadFiles(certFile, keyFile string) (*Cert, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("tls: read certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: read key: %w", err)
	}
	c, err := parsePair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("tls: certificate %s with key %s: %w", certFile, keyFile, err)
	}
	c.Path, c.Origin = certFile, FromFiles
	return c, nil
}

// LoadDataDir returns the certificate in <dataDir>/tls, generating it (and
// the directories, mode 0700) if it is not there. A stored certificate that
// has expired is replaced, since no client would accept it any more.
// Concurrent callers (a server starting while `riffle cert` runs) end up with
// the same pair: the pair is written into a fresh directory that is renamed
// into place, and the loser of the rename reads the winner's.
func LoadDataDir(dataDir string) (*Cert, error) {
	if dataDir == "" {
		return nil, errors.New("tls: no data directory to keep the generated certificate in")
	}
	dir := filepath.Join(dataDir, DirName)
	c, err := loadDir(dir)
	expired := false
	switch {
	case err == nil && time.Now().After(c.Leaf.NotAfter):
		expired = true
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("tls: remove expired certificate: %w", err)
		}
	case err == nil:
		return c, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if err := generateDir(dataDir, dir); err != nil {
		return nil, err
	}
	if c, err = loadDir(dir); err != nil {
		return nil, err
	}
	c.Origin, c.Expired = Generated, expired
	return c, nil
}

// loadDir reads the pair in dir; the error wraps fs.ErrNotExist when the
// directory or both files are missing.
func loadDir(dir string) (*Cert, error) {
	certPath, keyPath := filepath.Join(dir, CertFileName), filepath.Join(dir, KeyFileName)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		return nil, fmt.Errorf("tls: no certificate in %s: %w", dir, fs.ErrNotExist)
	case certErr != nil:
		return nil, fmt.Errorf("tls: read certificate (remove %s to have a new one generated): %w", dir, certErr)
	case keyErr != nil:
		return nil, fmt.Errorf("tls: read key (remove %s to have a new one generated): %w", dir, keyErr)
	}
	c, err := parsePair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("tls: %s (remove it to have a new one generated): %w", dir, err)
	}
	c.Path, c.Origin = certPath, FromDataDir
	return c, nil
}

// generateDir generates a pair into dir crash-safely: both files are written
// and synced in a temporary directory beside it, which is then renamed to
// dir, so dir holds a complete, matching pair or does not exist.
func generateDir(dataDir, dir string) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("tls: create data directory: %w", err)
	}
	certPEM, keyPEM, err := Generate(Hosts(), time.Now())
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dataDir, "."+DirName+"-tmp-") // mode 0700
	if err != nil {
		return fmt.Errorf("tls: create temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp) // gone after a successful rename; cleans up a failed attempt
	if err := writeSynced(filepath.Join(tmp, KeyFileName), keyPEM); err != nil {
		return fmt.Errorf("tls: write key: %w", err)
	}
	if err := writeSynced(filepath.Join(tmp, CertFileName), certPEM); err != nil {
		return fmt.Errorf("tls: write certificate: %w", err)
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("tls: sync %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, CertFileName)); statErr == nil {
			return nil // another process generated one first; use that
		}
		return fmt.Errorf("tls: move the generated certificate into place: %w", err)
	}
	if err := syncDir(dataDir); err != nil {
		return fmt.Errorf("tls: sync %s: %w", dataDir, err)
	}
	return nil
}

// writeSynced creates path with mode 0600 and makes its content durable.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// parsePair checks that the key matches the certificate and parses the leaf.
func parsePair(certPEM, keyPEM []byte) (*Cert, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, err
		}
	}
	// Keep only the certificates, not anything else the file holds.
	var chain bytes.Buffer
	for _, der := range pair.Certificate {
		pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	return &Cert{TLS: pair, PEM: chain.Bytes(), Leaf: leaf}, nil
}

// Hosts are the names a generated certificate is valid for: the loopback
// addresses, localhost, and the machine's host name (so that clients in
// containers or on the LAN can reach a server started with --insecure).
func Hosts() []string {
	hosts := []string{"127.0.0.1", "::1", "localhost"}
	if h, err := os.Hostname(); err == nil {
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		if h != "" && h != "localhost" && validDNSName(h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// validDNSName reports whether name can go into a DNS SAN; a host name with
// odd characters would make Go refuse to create the certificate.
func validDNSName(name string) bool {
	if len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// Generate returns a new self-signed ECDSA P-256 certificate for hosts (IP
// addresses become IP SANs, the rest DNS SANs), valid from an hour before
// now for Validity, and its PKCS #8 private key, both PEM-encoded.
//
// The certificate is not a CA: a client that trusts it trusts this one
// certificate for these names, and the key (which sits in the data
// directory) cannot be used to mint certificates for other sites.
func Generate(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("tls: generate serial number: %w", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: marshal public key: %w", err)
	}
	// A key identifier in both the subject and authority extensions, as
	// `openssl req -x509` writes them: strict verifiers (Python 3.13's
	// default) want them.
	keyID := sha256.Sum256(spki)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Riffle"}, CommonName: "Riffle self-signed certificate"},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(-clockSkew + Validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		SubjectKeyId:          keyID[:20],
		AuthorityKeyId:        keyID[:20],
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: create certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: marshal key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	return certPEM, keyPEM, nil
}

// ServerConfig is the TLS configuration of the listener: TLS 1.2 or later;
// for TLS 1.2 only ECDHE key exchange with AEAD ciphers (TLS 1.3's suites
// are all AEAD and not configurable); h2 preferred over HTTP/1.1 by ALPN.
func ServerConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, // the one HTTP/2 requires
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		NextProtos: []string{"h2", "http/1.1"},
	}
}
