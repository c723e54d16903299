// Package config holds the server's settings: their defaults, validation, and
// loading from command-line flags, RIFFLE_* environment variables and a YAML
// or JSON configuration file, in that order of precedence (file.go).
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"regexp"
	"time"
)

// Fsync policies: when an acknowledged write is durable.
const (
	FsyncAlways   = "always"   // acknowledge after fsync (default)
	FsyncInterval = "interval" // fsync every FsyncInterval; a crash may lose that much
	FsyncNever    = "never"    // leave it to the operating system
)

// Config holds every setting of `riffle serve`.
type Config struct {
	Listen            string
	DataDir           string
	InMemory          bool
	Insecure          bool
	Region            string
	AccountID         string
	ShardLimit        int
	CreateStreamDelay time.Duration
	DeleteStreamDelay time.Duration
	UpdateStreamDelay time.Duration
	ConsumerDelay     time.Duration
	Fsync             string
	FsyncInterval     time.Duration
	SegmentMaxBytes   int64
	MaxBodyBytes      int64
	LogLevel          string
	LogFormat         string

	// Limits that keep one client from exhausting the server
	// (internal/server/limits.go); zero means no limit. A read or write
	// timeout bounds one request (SubscribeToShard streams are exempt);
	// IdleTimeout closes an idle keep-alive connection.
	MaxConnections                    int
	MaxSubscriptions                  int
	MaxRequestsPerSecondPerConnection float64
	ReadTimeout                       time.Duration
	WriteTimeout                      time.Duration
	IdleTimeout                       time.Duration

	// MasterKeyFile holds the master key of encryption at rest (base64);
	// empty means RIFFLE_MASTER_KEY, else encryption at rest is refused.
	MasterKeyFile string
	// PreviousMasterKeyFile holds the master key being rotated away from:
	// data keys wrapped under it are re-wrapped under the current one at
	// start.
	PreviousMasterKeyFile string

	// TLSListen is the address of the HTTPS listener (h2 and HTTP/1.1 by
	// ALPN); empty for none. TLSCert and TLSKey name a PEM pair; both empty
	// means a self-signed certificate generated into the data directory.
	TLSListen string
	TLSCert   string
	TLSKey    string

	// Auth is "" (development: any signature accepted, loopback only
	// unless Insecure) or "sigv4": signatures verified against the keys of
	// Credentials (a JSON file) and IAM policies enforced.
	Auth        string
	Credentials string

	// Ops: throughput limits, fault injection, --config, --print-config
	// and --init (file.go).
	Ops
}

// Default returns the settings of a development server on loopback.
func Default() Config {
	return Config{
		Listen:          "127.0.0.1:4567",
		DataDir:         "./riffle-data",
		Region:          "us-east-1",
		AccountID:       "000000000000",
		ShardLimit:      500,
		Fsync:           FsyncAlways,
		FsyncInterval:   100 * time.Millisecond,
		SegmentMaxBytes: 64 << 20,
		MaxBodyBytes:    16 << 20, // a 10 MiB record in base64, with framing
		LogLevel:        "info",
		LogFormat:       "text",

		MaxConnections:   4096,
		MaxSubscriptions: 4096,
		ReadTimeout:      30 * time.Second,
		WriteTimeout:     60 * time.Second,
		IdleTimeout:      2 * time.Minute,
	}
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		bad("--listen %q: %v", c.Listen, err)
	} else if !c.Insecure && c.Auth == "" && !isLoopback(host) {
		bad("--listen %q is not a loopback address and authentication is not configured; pass --insecure to serve anyway", c.Listen)
	}
	if c.TLSListen != "" {
		host, _, err := net.SplitHostPort(c.TLSListen)
		if err != nil {
			bad("--tls-listen %q: %v", c.TLSListen, err)
		} else if !c.Insecure && c.Auth == "" && !isLoopback(host) {
			bad("--tls-listen %q is not a loopback address and authentication is not configured; pass --insecure to serve anyway", c.TLSListen)
		}
	}
	switch {
	case c.Auth != "" && c.Auth != "sigv4":
		bad("--auth %q: must be sigv4 (or empty for development mode)", c.Auth)
	case c.Auth == "sigv4" && c.Credentials == "":
		bad("--auth sigv4 needs --credentials FILE")
	case c.Auth == "" && c.Credentials != "":
		bad("--credentials needs --auth sigv4")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("--tls-cert and --tls-key must be given together")
	} else if c.TLSCert != "" && c.TLSListen == "" {
		bad("--tls-cert and --tls-key need --tls-listen")
	}
	if !c.InMemory && c.DataDir == "" {
		bad("--data-dir must be set (or --in-memory)")
	}
	if !accountRE.MatchString(c.AccountID) {
		bad("--account-id %q: must be 12 digits", c.AccountID)
	}
	if !regionRE.MatchString(c.Region) {
		bad("--region %q: not a region name such as us-east-1", c.Region)
	}
	if c.ShardLimit < 1 {
		bad("--shard-limit %d: must be at least 1", c.ShardLimit)
	}
	if c.CreateStreamDelay < 0 || c.DeleteStreamDelay < 0 || c.UpdateStreamDelay < 0 || c.ConsumerDelay < 0 {
		bad("stream delays must not be negative")
	}
	switch c.Fsync {
	case FsyncAlways, FsyncNever:
	case FsyncInterval:
		if c.FsyncInterval <= 0 {
			bad("--fsync-interval %s: must be positive", c.FsyncInterval)
		}
	default:
		bad("--fsync %q: must be always, interval or never", c.Fsync)
	}
	if c.SegmentMaxBytes < 1<<20 {
		bad("--segment-max-bytes %d: must be at least 1 MiB", c.SegmentMaxBytes)
	}
	if c.MaxBodyBytes < 1<<20 {
		bad("--max-body-bytes %d: must be at least 1 MiB", c.MaxBodyBytes)
	}
	if c.MaxConnections < 0 || c.MaxSubscriptions < 0 || c.MaxRequestsPerSecondPerConnection < 0 {
		bad("--max-connections, --max-subscriptions and --max-requests-per-second-per-connection must not be negative")
	}
	if c.ReadTimeout < 0 || c.WriteTimeout < 0 || c.IdleTimeout < 0 {
		bad("--read-timeout, --write-timeout and --idle-timeout must not be negative")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("--log-level %q: must be debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("--log-format %q: must be text or json", c.LogFormat)
	}
	errs = append(errs, c.validateOps()...) // file.go
	return errors.Join(errs...)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Bind registers every setting as a flag on fs, with c's values as defaults.
func (c *Config) Bind(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "listen", c.Listen, "address of the plain HTTP listener (HTTP/1.1 and h2c)")
	fs.StringVar(&c.TLSListen, "tls-listen", c.TLSListen, "address of the HTTPS listener (h2 and HTTP/1.1 by ALPN); off when empty")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "PEM certificate (chain) of the HTTPS listener; else one generated into <data-dir>/tls (riffle cert prints it)")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "PEM private key of --tls-cert")
	fs.StringVar(&c.Auth, "auth", c.Auth, "sigv4: verify every request's signature against --credentials and enforce IAM policies; empty: development mode (any credentials, loopback only)")
	fs.StringVar(&c.Credentials, "credentials", c.Credentials, "JSON file of access keys for --auth sigv4: {\"credentials\": [{\"access_key_id\", \"secret_access_key\", \"account_id\", \"policy\"}]}")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory holding all data")
	fs.BoolVar(&c.InMemory, "in-memory", c.InMemory, "keep nothing on disk (throwaway test servers)")
	fs.BoolVar(&c.Insecure, "insecure", c.Insecure, "allow a non-loopback listener without authentication")
	fs.StringVar(&c.Region, "region", c.Region, "region in ARNs")
	fs.StringVar(&c.AccountID, "account-id", c.AccountID, "account id in ARNs and messages")
	fs.IntVar(&c.ShardLimit, "shard-limit", c.ShardLimit, "most open shards in the account")
	fs.DurationVar(&c.CreateStreamDelay, "create-stream-delay", c.CreateStreamDelay, "how long a new stream stays CREATING")
	fs.DurationVar(&c.DeleteStreamDelay, "delete-stream-delay", c.DeleteStreamDelay, "how long a deleted stream stays DELETING")
	fs.DurationVar(&c.UpdateStreamDelay, "update-stream-delay", c.UpdateStreamDelay, "how long a stream stays UPDATING after resharding and similar changes")
	fs.DurationVar(&c.ConsumerDelay, "consumer-delay", c.ConsumerDelay, "how long a consumer stays CREATING / DELETING")
	fs.StringVar(&c.Fsync, "fsync", c.Fsync, "when writes are made durable: always (before ack), interval, never")
	fs.DurationVar(&c.FsyncInterval, "fsync-interval", c.FsyncInterval, "fsync period with --fsync interval")
	fs.Int64Var(&c.SegmentMaxBytes, "segment-max-bytes", c.SegmentMaxBytes, "size at which a shard's log segment is rolled")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", c.MasterKeyFile, "file holding the master key that wraps encryption keys (base64 of 32 bytes); else RIFFLE_MASTER_KEY; without either, StartStreamEncryption is refused")
	fs.StringVar(&c.PreviousMasterKeyFile, "previous-master-key-file", c.PreviousMasterKeyFile, "master key to rotate away from: data keys wrapped under it are re-wrapped under the current key at start")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest request body accepted")
	fs.IntVar(&c.MaxConnections, "max-connections", c.MaxConnections, "most client connections open at once; more are answered 503 and closed (0: no limit)")
	fs.IntVar(&c.MaxSubscriptions, "max-subscriptions", c.MaxSubscriptions, "most SubscribeToShard streams at once; more get LimitExceededException (0: no limit)")
	fs.Float64Var(&c.MaxRequestsPerSecondPerConnection, "max-requests-per-second-per-connection", c.MaxRequestsPerSecondPerConnection, "requests a connection may make per second; more get LimitExceededException, which the SDKs retry (0: no limit)")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", c.ReadTimeout, "longest time to read a request's headers and body (0: none)")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", c.WriteTimeout, "longest time to write a response; SubscribeToShard streams are exempt (0: none)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", c.IdleTimeout, "close keep-alive connections idle this long (0: none)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json")
	c.bindOps(fs) // file.go
}

// Load is in file.go: flags, environment and the configuration file.
