package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
)

// InitFile is the --init file: streams, and their consumers, that the server
// creates at start when they do not exist, so that a test environment comes
// up ready to use. Streams that exist are left as they are (a restart with
// the same file changes nothing), apart from the consumers the file names
// that they lack, which are registered. In YAML:
//
//	streams:
//	  - name: orders
//	    shards: 4                  # provisioned; default 1
//	    retention_hours: 48        # default 24
//	    tags: {team: payments}
//	    encryption_key_id: alias/aws/kinesis   # server-side encryption
//	    consumers: [billing, audit]
//	  - name: clicks
//	    mode: ON_DEMAND
//	    account_id: "111122223333" # default --account-id
//	    region: eu-west-1          # default --region
type InitFile struct {
	Streams []InitStream `json:"streams" yaml:"streams"`
}

// InitStream is one stream of an InitFile.
type InitStream struct {
	Name string `json:"name" yaml:"name"`
	// Shards is the shard count of a PROVISIONED stream; 0 means 1.
	Shards int `json:"shards" yaml:"shards"`
	// Mode is PROVISIONED (the default) or ON_DEMAND.
	Mode           string            `json:"mode" yaml:"mode"`
	RetentionHours int               `json:"retention_hours" yaml:"retention_hours"`
	Tags           map[string]string `json:"tags" yaml:"tags"`
	// EncryptionKeyID, when set, turns on server-side encryption (KMS) with
	// this key id or alias (alias/aws/kinesis for the AWS managed key).
	EncryptionKeyID string   `json:"encryption_key_id" yaml:"encryption_key_id"`
	Consumers       []string `json:"consumers" yaml:"consumers"`
	// AccountID and Region place the stream; empty means the server's.
	AccountID string `json:"account_id" yaml:"account_id"`
	Region    string `json:"region" yaml:"region"`
}

var (
	streamNameRE   = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)
	consumerNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)
)

// ReadInitFile reads and checks an --init file, reporting every problem.
func ReadInitFile(path string) (*InitFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--init: %w", err)
	}
	var f InitFile
	if err := decodeFile(path, b, &f, true); err != nil {
		return nil, fmt.Errorf("--init %w", err)
	}
	return &f, f.Validate(path)
}

// Validate reports every problem of f; path names the file in messages.
func (f *InitFile) Validate(path string) error {
	var errs []error
	bad := func(i int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--init %s: streams[%d]: %s", path, i, fmt.Sprintf(format, args...)))
	}
	seen := make(map[[3]string]bool)
	for i, s := range f.Streams {
		if !streamNameRE.MatchString(s.Name) {
			bad(i, "name %q: 1 to 128 letters, digits, '_', '.' or '-'", s.Name)
		}
		key := [3]string{s.AccountID, s.Region, s.Name}
		if seen[key] {
			bad(i, "stream %q is listed twice", s.Name)
		}
		seen[key] = true
		switch s.Mode {
		case "", "PROVISIONED":
			if s.Shards < 0 {
				bad(i, "shards %d: must be positive", s.Shards)
			}
		case "ON_DEMAND":
			if s.Shards != 0 {
				bad(i, "shards: an ON_DEMAND stream has no shard count")
			}
		default:
			bad(i, "mode %q: must be PROVISIONED or ON_DEMAND", s.Mode)
		}
		if s.RetentionHours != 0 && (s.RetentionHours < 24 || s.RetentionHours > 8760) {
			bad(i, "retention_hours %d: must be from 24 to 8760", s.RetentionHours)
		}
		if s.AccountID != "" && !accountRE.MatchString(s.AccountID) {
			bad(i, "account_id %q: must be 12 digits (quote it in YAML)", s.AccountID)
		}
		if s.Region != "" && !regionRE.MatchString(s.Region) {
			bad(i, "region %q: not a region name such as us-east-1", s.Region)
		}
		names := make(map[string]bool)
		for _, c := range s.Consumers {
			if !consumerNameRE.MatchString(c) {
				bad(i, "consumer %q: 1 to 128 letters, digits, '_', '.' or '-'", c)
			}
			if names[c] {
				bad(i, "consumer %q is listed twice", c)
			}
			names[c] = true
		}
	}
	return errors.Join(errs...)
}
