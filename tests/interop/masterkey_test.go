package interop

import (
	"bytes"
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// writeKeyFile writes a master key file of 32 copies of b.
func writeKeyFile(t *testing.T, b byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMasterKeyRequired: a server with a data directory and no master key
// refuses StartStreamEncryption with a clear error (and writes no key beside
// the data), while serving everything else.
func TestMasterKeyRequired(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	s := startServer(t, dataDir)
	c := s.client(1)
	ctx := testCtx(t, 60*time.Second)
	createStream(t, ctx, c, "plain", 1)
	err := startEncryption(ctx, c, "plain", "alias/aws/kinesis")
	if errorCode(err) != "InvalidArgumentException" || !strings.Contains(errorMessage(err), "--master-key-file") {
		t.Errorf("StartStreamEncryption without a master key: %v, want InvalidArgumentException naming --master-key-file", err)
	}
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("plain"), PartitionKey: aws.String("k"), Data: []byte("x")}); err != nil {
		t.Errorf("PutRecord: %v", err)
	}
	wantEncryption(t, ctx, c, "plain", types.EncryptionTypeNone, "")
	s.stop()
	if _, err := os.Stat(filepath.Join(dataDir, "master.key")); err == nil {
		t.Error("a master key was generated beside the data")
	}
}

// TestMasterKeyRotation rotates the master key with
// --previous-master-key-file: records encrypted under the old key stay
// readable under the new one, which alone suffices afterwards, while the old
// one no longer opens the data.
func TestMasterKeyRotation(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	oldKey, newKey := writeKeyFile(t, 1), writeKeyFile(t, 2)
	ctx := testCtx(t, 90*time.Second)

	s := startServer(t, dataDir, "--master-key-file", oldKey)
	c := s.client(1)
	createStream(t, ctx, c, "rot", 1)
	if err := startEncryption(ctx, c, "rot", "alias/aws/kinesis"); err != nil {
		t.Fatalf("StartStreamEncryption: %v", err)
	}
	waitActive(t, ctx, c, "rot")
	secret := marker("rotated")
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("rot"), PartitionKey: aws.String("k"), Data: []byte(secret)}); err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	s.stop()

	read := func(when string) {
		t.Helper()
		recs := readShard(t, ctx, c, "rot", shardID(0))
		if len(recs) != 1 || string(recs[0].Data) != secret {
			t.Errorf("%s: records %v, want [%s]", when, dataStrings(recs), secret)
		}
	}
	s = startServer(t, dataDir, "--master-key-file", newKey, "--previous-master-key-file", oldKey)
	if !strings.Contains(s.log.String(), "master key rotated") {
		t.Errorf("no log line about the rotation:\n%s", s.log.String())
	}
	c = s.client(1)
	read("during rotation")
	s.stop()

	s = startServer(t, dataDir, "--master-key-file", newKey)
	c = s.client(1)
	read("with the new key alone")
	s.stop()
	wantStartFailure(t, dataDir, nil, "--master-key-file", oldKey)
	checkAtRest(t, dataDir, nil, []string{secret})
}

// TestDataDirPermissions: everything the server creates in a fresh data
// directory (including the generated TLS key) is private to its user.
func TestDataDirPermissions(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dataDir, "--master-key-file", writeKeyFile(t, 5), "--tls-listen", "127.0.0.1:0")
	c := s.client(1)
	ctx := testCtx(t, 60*time.Second)
	createStream(t, ctx, c, "perm", 1)
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("perm"), PartitionKey: aws.String("k"), Data: []byte("x")}); err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	s.stop()
	n := 0
	err := filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm()&^want != 0 {
			t.Errorf("%s: mode %o, want at most %o", path, fi.Mode().Perm(), want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Errorf("only %d entries in the data directory", n)
	}
}
