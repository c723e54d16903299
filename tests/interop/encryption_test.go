package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// marker returns a string found nowhere else, to grep the data directory for.
func marker(what string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return "riffle-" + what + "-" + hex.EncodeToString(b)
}

// filesContaining lists the files under dir that hold s.
func filesContaining(t *testing.T, dir, s string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return found
}

// checkAtRest greps every file of a stopped server's data directory: the
// plaintext markers must be there (which proves the grep sees records) and
// the secret ones must not.
func checkAtRest(t *testing.T, dataDir string, plain, secret []string) {
	t.Helper()
	for _, m := range plain {
		if len(filesContaining(t, dataDir, m)) == 0 {
			t.Errorf("record %s written before encryption is not in the data directory in plaintext; the grep proves nothing", m)
		}
	}
	for _, m := range secret {
		if files := filesContaining(t, dataDir, m); len(files) > 0 {
			t.Errorf("record %s written while the stream was encrypted is in plaintext in %v", m, files)
		}
	}
}

func startEncryption(ctx context.Context, c *kinesis.Client, stream, keyID string) error {
	_, err := c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{
		StreamName: aws.String(stream), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(keyID),
	})
	return err
}

func wantEncryption(t *testing.T, ctx context.Context, c *kinesis.Client, stream string, typ types.EncryptionType, keyID string) {
	t.Helper()
	d, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("DescribeStream: %v", err)
	}
	s, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("DescribeStreamSummary: %v", err)
	}
	for name, got := range map[string][2]string{
		"DescribeStream":        {string(d.StreamDescription.EncryptionType), aws.ToString(d.StreamDescription.KeyId)},
		"DescribeStreamSummary": {string(s.StreamDescriptionSummary.EncryptionType), aws.ToString(s.StreamDescriptionSummary.KeyId)},
	} {
		if got[0] != string(typ) || got[1] != keyID {
			t.Errorf("%s: EncryptionType %q KeyId %q, want %q %q", name, got[0], got[1], typ, keyID)
		}
	}
}

// TestEncryptionAtRestSDK drives StartStreamEncryption and
// StopStreamEncryption with the Go SDK on a server with a data directory,
// then checks the bytes on disk, a restart, and a wrong master key.
func TestEncryptionAtRestSDK(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	// The master key lives outside the data directory.
	keyFile := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dataDir, "--update-stream-delay", "300ms", "--master-key-file", keyFile)
	c := s.client(1)
	ctx := testCtx(t, 60*time.Second)
	const stream = "enc"
	createStream(t, ctx, c, stream, 1)
	wantEncryption(t, ctx, c, stream, types.EncryptionTypeNone, "")

	control := marker("control")
	out, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("pk-control"), Data: []byte(control)})
	if err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	if out.EncryptionType != "" {
		t.Errorf("PutRecord to an unencrypted stream: EncryptionType %q, want none", out.EncryptionType)
	}

	// Documented errors first, while the stream is ACTIVE.
	_, err = c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String(stream), EncryptionType: types.EncryptionTypeNone, KeyId: aws.String("alias/aws/kinesis")})
	if errorCode(err) != "InvalidArgumentException" {
		t.Errorf("StartStreamEncryption with EncryptionType NONE: %v, want InvalidArgumentException", err)
	}
	if err := startEncryption(ctx, c, stream, "not a key"); errorCode(err) != "InvalidArgumentException" {
		t.Errorf("StartStreamEncryption with KeyId 'not a key': %v, want InvalidArgumentException", err)
	}
	if err := startEncryption(ctx, c, "missing", "alias/aws/kinesis"); errorCode(err) != "ResourceNotFoundException" ||
		errorMessage(err) != "Stream missing under account 000000000000 not found." {
		t.Errorf("StartStreamEncryption on a missing stream: %v, want ResourceNotFoundException", err)
	}

	if err := startEncryption(ctx, c, stream, "alias/aws/kinesis"); err != nil {
		t.Fatalf("StartStreamEncryption: %v", err)
	}
	// The change is asynchronous: UPDATING, then ACTIVE; a second change
	// meanwhile is refused.
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	if err != nil || sum.StreamDescriptionSummary.StreamStatus != types.StreamStatusUpdating {
		t.Errorf("right after StartStreamEncryption: %v %v, want UPDATING", sum, err)
	}
	_, err = c.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{StreamName: aws.String(stream), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")})
	if errorCode(err) != "ResourceInUseException" || !strings.Contains(errorMessage(err), "not ACTIVE") {
		t.Errorf("StopStreamEncryption while UPDATING: %v, want ResourceInUseException", err)
	}
	waitActive(t, ctx, c, stream)
	wantEncryption(t, ctx, c, stream, types.EncryptionTypeKms, "alias/aws/kinesis")

	secret1, secret2 := marker("secret"), marker("secret")
	out, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("pk-secret"), Data: []byte(secret1)})
	if err != nil || out.EncryptionType != types.EncryptionTypeKms {
		t.Fatalf("PutRecord to an encrypted stream: %+v %v, want EncryptionType KMS", out, err)
	}
	outs, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: []types.PutRecordsRequestEntry{
		{PartitionKey: aws.String("pk-secret-2"), Data: []byte(secret2)},
	}})
	if err != nil || outs.EncryptionType != types.EncryptionTypeKms || aws.ToInt32(outs.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords to an encrypted stream: %+v %v, want EncryptionType KMS", outs, err)
	}

	check := func(when string) {
		t.Helper()
		recs := readShard(t, ctx, c, stream, shardID(0))
		want := []struct{ data, pk, enc string }{{control, "pk-control", ""}, {secret1, "pk-secret", "KMS"}, {secret2, "pk-secret-2", "KMS"}}
		if len(recs) != len(want) {
			t.Fatalf("%s: %d records %v, want %d", when, len(recs), dataStrings(recs), len(want))
		}
		for i, r := range recs {
			if string(r.Data) != want[i].data || aws.ToString(r.PartitionKey) != want[i].pk || string(r.EncryptionType) != want[i].enc {
				t.Errorf("%s: record %d = %q %q %q, want %q %q %q", when, i, r.Data, aws.ToString(r.PartitionKey), r.EncryptionType, want[i].data, want[i].pk, want[i].enc)
			}
		}
	}
	check("before restart")

	s.stop()
	checkAtRest(t, dataDir, []string{control}, []string{secret1, secret2})
	if _, err := os.Stat(filepath.Join(dataDir, "master.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a master key was stored beside the data: %v", err)
	}

	// A wrong master key fails loudly at start, from the environment or a file.
	wrong := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	wrongFile := filepath.Join(t.TempDir(), "wrong.key")
	if err := os.WriteFile(wrongFile, []byte(wrong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantStartFailure(t, dataDir, []string{"RIFFLE_MASTER_KEY=" + wrong})
	wantStartFailure(t, dataDir, nil, "--master-key-file", wrongFile)

	// Without the key: a loud failure too, not unreadable records.
	wantStartFailure(t, dataDir, nil)

	// The right key: everything survives.
	s = startServer(t, dataDir, "--master-key-file", keyFile)
	c = s.client(1)
	wantEncryption(t, ctx, c, stream, types.EncryptionTypeKms, "alias/aws/kinesis")
	check("after restart")
	_, err = c.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{StreamName: aws.String(stream), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")})
	if err != nil {
		t.Fatalf("StopStreamEncryption: %v", err)
	}
	wantEncryption(t, ctx, c, stream, types.EncryptionTypeNone, "")
	after := marker("after")
	out, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("pk-after"), Data: []byte(after)})
	if err != nil || out.EncryptionType != "" {
		t.Fatalf("PutRecord after StopStreamEncryption: %+v %v, want no EncryptionType", out, err)
	}
	if recs := readShard(t, ctx, c, stream, shardID(0)); len(recs) != 4 || string(recs[1].Data) != secret1 ||
		recs[1].EncryptionType != types.EncryptionTypeKms || string(recs[3].Data) != after || recs[3].EncryptionType != "" {
		t.Errorf("after StopStreamEncryption: %v", dataStrings(recs))
	}
	s.stop()
	checkAtRest(t, dataDir, []string{control, after}, []string{secret1, secret2})
}

// wantStartFailure runs `riffle serve` on dataDir and wants it to exit with
// an error naming the master key, before it serves.
func wantStartFailure(t *testing.T, dataDir string, env []string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	full := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir}, args...)
	cmd := exec.CommandContext(ctx, riffleBin, full...)
	cmd.Env = append(cleanEnv(), env...)
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Errorf("riffle %v with a wrong master key: %v (want a failed start)\n%s", args, err, out)
		return
	}
	if !strings.Contains(string(out), "master key is not the one this data was encrypted with") &&
		!strings.Contains(string(out), "no master key configured") {
		t.Errorf("riffle %v with a wrong master key: the error does not say so:\n%s", args, out)
	}
}

// TestEncryptionAtRestBoto3 runs testdata/encryption_check.py against a
// server with a master key file, then greps its data directory and reads the
// records back with the Go SDK after a restart.
func TestEncryptionAtRestBoto3(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "master.key")
	key := make([]byte, 32)
	rand.Read(key)
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(key)), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dataDir, "--master-key-file", keyFile)
	ctx := testCtx(t, 90*time.Second)
	control, secret := marker("boto-control"), marker("boto-secret")
	out := runPython(t, "encryption_check.py", s.endpoint, "boto-enc", control, secret)
	var sum struct{ Records, Encrypted []string }
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	if strings.Join(sum.Records, ",") != control+","+secret+","+secret+"-2" || strings.Join(sum.Encrypted, ",") != ",KMS,KMS" {
		t.Errorf("boto3 summary %+v", sum)
	}
	s.stop()
	checkAtRest(t, dataDir, []string{control}, []string{secret})
	if _, err := os.Stat(filepath.Join(dataDir, "master.key")); err == nil {
		t.Errorf("a master key was written to the data directory although --master-key-file was given")
	}

	s = startServer(t, dataDir, "--master-key-file", keyFile)
	c := s.client(1)
	wantEncryption(t, ctx, c, "boto-enc", types.EncryptionTypeNone, "") // the script stopped encryption
	recs := readShard(t, ctx, c, "boto-enc", shardID(0))
	if len(recs) != 3 || string(recs[1].Data) != secret || recs[1].EncryptionType != types.EncryptionTypeKms || recs[0].EncryptionType != "" {
		t.Errorf("after restart: %v", dataStrings(recs))
	}
}
