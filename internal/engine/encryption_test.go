package engine

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/riffle-streams/riffle/internal/keyring"
	"github.com/riffle-streams/riffle/internal/store"
)

func openStoreForTest(v *env) (*store.Store, error) {
	return store.Open(v.fs, v.dir, store.Options{Now: v.clock.Now})
}

func testKeyring(t *testing.T, b byte) *keyring.Keyring {
	t.Helper()
	k, err := keyring.New(bytes.Repeat([]byte{b}, keyring.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func startEncryption(t *testing.T, e *Engine, name, keyID string) {
	t.Helper()
	err := e.StartStreamEncryption(ctx, &StartStreamEncryptionInput{StreamRef: StreamRef{StreamName: name}, EncryptionType: "KMS", KeyId: keyID})
	if err != nil {
		t.Fatalf("StartStreamEncryption %s: %v", name, err)
	}
}

func stopEncryption(t *testing.T, e *Engine, name, keyID string) {
	t.Helper()
	err := e.StopStreamEncryption(ctx, &StopStreamEncryptionInput{StreamRef: StreamRef{StreamName: name}, EncryptionType: "KMS", KeyId: keyID})
	if err != nil {
		t.Fatalf("StopStreamEncryption %s: %v", name, err)
	}
}

func describeEncryption(t *testing.T, e *Engine, name string) (typ, keyID, status string) {
	t.Helper()
	d := must[*DescribeStreamOutput](t)(e.DescribeStream(ctx, &DescribeStreamInput{StreamRef: StreamRef{StreamName: name}})).StreamDescription
	s := must[*DescribeStreamSummaryOutput](t)(e.DescribeStreamSummary(ctx, &DescribeStreamSummaryInput{StreamRef: StreamRef{StreamName: name}})).StreamDescriptionSummary
	if d.EncryptionType != s.EncryptionType || d.KeyId != s.KeyId {
		t.Fatalf("DescribeStream says %s/%s, DescribeStreamSummary %s/%s", d.EncryptionType, d.KeyId, s.EncryptionType, s.KeyId)
	}
	return d.EncryptionType, d.KeyId, d.StreamStatus
}

// put writes one record with PutRecord or, for odd i, PutRecords, and returns
// the EncryptionType of the response.
func putEnc(t *testing.T, e *Engine, name string, i int, data string) string {
	t.Helper()
	pk := fmt.Sprintf("pk-%d", i)
	if i%2 == 0 {
		return must[*PutRecordOutput](t)(e.PutRecord(ctx, &PutRecordInput{StreamRef: StreamRef{StreamName: name}, PartitionKey: pk, Data: []byte(data)})).EncryptionType
	}
	out := must[*PutRecordsOutput](t)(e.PutRecords(ctx, &PutRecordsInput{StreamRef: StreamRef{StreamName: name},
		Records: []PutRecordsRequestEntry{{PartitionKey: pk, Data: []byte(data)}}}))
	if out.FailedRecordCount != 0 {
		t.Fatalf("PutRecords failed: %+v", out.Records)
	}
	return out.EncryptionType
}

// TestEncryptionOnlyChangesNewData writes records before, during and after
// encryption and reads them back identically, before and after restarts,
// while the stored bytes of the encrypted ones hold no plaintext.
func TestEncryptionOnlyChangesNewData(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		v.cfg.Keyring = testKeyring(t, 1)
		v.restart()
		create(t, v.e, "s", 1)
		if typ, key, _ := describeEncryption(t, v.e, "s"); typ != "NONE" || key != "" {
			t.Fatalf("new stream: EncryptionType %q KeyId %q", typ, key)
		}

		type want struct{ data, enc string }
		var wants []want
		put := func(data, enc string) {
			t.Helper()
			i := len(wants)
			if got := putEnc(t, v.e, "s", i, data); got != enc {
				t.Fatalf("record %d: response EncryptionType %q, want %q", i, got, enc)
			}
			wants = append(wants, want{data, enc})
		}
		put("plain-before", "")
		startEncryption(t, v.e, "s", "alias/aws/kinesis")
		if typ, key, status := describeEncryption(t, v.e, "s"); typ != "KMS" || key != "alias/aws/kinesis" || status != StatusActive {
			t.Fatalf("after start: %s %s %s", typ, key, status)
		}
		put("secret-1", "KMS")
		put("secret-2", "KMS")
		// Another key for the same stream: both keys stay readable.
		uuid := "arn:aws:kms:us-east-1:000000000000:key/12345678-1234-1234-1234-123456789012"
		startEncryption(t, v.e, "s", uuid)
		put("secret-3", "KMS")
		stopEncryption(t, v.e, "s", uuid)
		if typ, key, _ := describeEncryption(t, v.e, "s"); typ != "NONE" || key != "" {
			t.Fatalf("after stop: EncryptionType %q KeyId %q", typ, key)
		}
		put("plain-after", "")

		check := func(when string) {
			t.Helper()
			it := iter(t, v.e, GetShardIteratorInput{StreamRef: StreamRef{StreamName: "s"}, ShardId: "shardId-000000000000", ShardIteratorType: IteratorTrimHorizon})
			recs := readAll(t, v.e, it, 100)
			if len(recs) != len(wants) {
				t.Fatalf("%s: read %d records, want %d", when, len(recs), len(wants))
			}
			for i, r := range recs {
				if string(r.Data) != wants[i].data || r.PartitionKey != fmt.Sprintf("pk-%d", i) || r.EncryptionType != wants[i].enc {
					t.Fatalf("%s: record %d = %q/%q/%q, want %q/pk-%d/%q", when, i, r.Data, r.PartitionKey, r.EncryptionType, wants[i].data, i, wants[i].enc)
				}
			}
			// What the store holds: plaintext only for unencrypted records.
			sh := v.e.streams[streamKey{"000000000000", "us-east-1", "s"}].shards[0]
			stored, err := sh.log.Read(0, 100, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range stored {
				leaked := bytes.Contains(r.Data, []byte(wants[i].data)) || r.PartitionKey != ""
				if (wants[i].enc == "KMS") == leaked {
					t.Fatalf("%s: stored record %d (%q, pk %q) does not match its encryption %q", when, i, r.Data, r.PartitionKey, wants[i].enc)
				}
			}
		}
		check("before restart")
		v.restart()
		check("after restart")
		// A new process with the same master key (a new Keyring value).
		v.cfg.Keyring = testKeyring(t, 1)
		v.restart()
		check("after restart with a reloaded keyring")
		startEncryption(t, v.e, "s", "alias/aws/kinesis")
		put("secret-4", "KMS")
		v.restart()
		check("after re-encrypting with a known key")
	})
}

func TestEncryptionWrongMasterKeyFailsAtOpen(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		v.cfg.Keyring = testKeyring(t, 1)
		v.restart()
		create(t, v.e, "s", 1)
		// Never encrypted: the master key does not matter.
		v.cfg.Keyring = testKeyring(t, 2)
		v.restart()
		startEncryption(t, v.e, "s", "alias/aws/kinesis")
		putEnc(t, v.e, "s", 0, "secret")
		v.e.Close()
		v.st.Close()

		v.cfg.Keyring = testKeyring(t, 3)
		st, err := openStoreForTest(v)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := Open(v.cfg, st); !errors.Is(err, keyring.ErrWrongMasterKey) {
			t.Fatalf("Open with the wrong master key = %v, want ErrWrongMasterKey", err)
		}
		st.Close()
		v.cfg.Keyring = testKeyring(t, 2)
		v.open()
		it := iter(t, v.e, GetShardIteratorInput{StreamRef: StreamRef{StreamName: "s"}, ShardId: "shardId-000000000000", ShardIteratorType: IteratorTrimHorizon})
		if recs := readAll(t, v.e, it, 10); len(recs) != 1 || string(recs[0].Data) != "secret" || recs[0].EncryptionType != "KMS" {
			t.Fatalf("records after reopening with the right key: %+v", recs)
		}
	})
}

func TestEncryptionErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 1)
		ref := StreamRef{StreamName: "s"}
		err := v.e.StartStreamEncryption(ctx, &StartStreamEncryptionInput{StreamRef: ref, EncryptionType: "NONE", KeyId: "alias/aws/kinesis"})
		wantKind(t, err, KindInvalidArgument, "The only valid value is KMS.")
		err = v.e.StopStreamEncryption(ctx, &StopStreamEncryptionInput{StreamRef: ref, EncryptionType: "NONE", KeyId: "alias/aws/kinesis"})
		wantKind(t, err, KindInvalidArgument, "The only valid value is KMS.")
		for _, bad := range []string{"my-key", "alias/", "arn:aws:kms:us-east-1:000000000000:key/not-a-uuid", "arn:aws:s3:::bucket"} {
			err = v.e.StartStreamEncryption(ctx, &StartStreamEncryptionInput{StreamRef: ref, EncryptionType: "KMS", KeyId: bad})
			wantKind(t, err, KindInvalidArgument, "Invalid KeyId "+bad)
		}
		for _, good := range []string{"alias/aws/kinesis", "alias/mine", "12345678-1234-1234-1234-123456789012",
			"mrk-0123456789abcdef0123456789abcdef", "arn:aws:kms:eu-west-1:123456789012:alias/mine"} {
			startEncryption(t, v.e, "s", good)
		}
		err = v.e.StartStreamEncryption(ctx, &StartStreamEncryptionInput{StreamRef: StreamRef{StreamName: "missing"}, EncryptionType: "KMS", KeyId: "alias/aws/kinesis"})
		wantKind(t, err, KindResourceNotFound, "Stream missing under account 000000000000 not found.")
		err = v.e.StopStreamEncryption(ctx, &StopStreamEncryptionInput{StreamRef: StreamRef{StreamName: "missing"}, EncryptionType: "KMS", KeyId: "alias/aws/kinesis"})
		wantKind(t, err, KindResourceNotFound, "Stream missing under account 000000000000 not found.")
	})
}

// TestEncryptionUpdating checks the UPDATING phase: a second change is
// refused while it lasts, writes keep working and are already encrypted, and
// a restart in the middle keeps the change.
func TestEncryptionUpdating(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		v.cfg.UpdateStreamDelay = time.Hour
		v.cfg.Keyring = testKeyring(t, 1)
		v.restart()
		create(t, v.e, "s", 1)
		startEncryption(t, v.e, "s", "alias/aws/kinesis")
		if typ, _, status := describeEncryption(t, v.e, "s"); typ != "KMS" || status != StatusUpdating {
			t.Fatalf("after start: %s %s, want KMS UPDATING", typ, status)
		}
		err := v.e.StopStreamEncryption(ctx, &StopStreamEncryptionInput{StreamRef: StreamRef{StreamName: "s"}, EncryptionType: "KMS", KeyId: "alias/aws/kinesis"})
		wantKind(t, err, KindResourceInUse, "Stream s under account 000000000000 not ACTIVE, instead in state UPDATING")
		if enc := putEnc(t, v.e, "s", 0, "secret"); enc != "KMS" {
			t.Fatalf("put while UPDATING: EncryptionType %q", enc)
		}
		v.restart()
		if typ, key, status := describeEncryption(t, v.e, "s"); typ != "KMS" || key != "alias/aws/kinesis" || status != StatusActive {
			t.Fatalf("after restart: %s %s %s", typ, key, status)
		}
	})
}

// TestEncryptionUpdatingEnds checks that the stream returns to ACTIVE after
// the update delay.
func TestEncryptionUpdatingEnds(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		v.cfg.UpdateStreamDelay = 100 * time.Millisecond
		v.restart()
		create(t, v.e, "s", 1)
		startEncryption(t, v.e, "s", "alias/aws/kinesis")
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, _, status := describeEncryption(t, v.e, "s"); status == StatusActive {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("stream still UPDATING after 10s")
			}
			time.Sleep(20 * time.Millisecond)
		}
		stopEncryption(t, v.e, "s", "alias/aws/kinesis")
	})
}

// TestEncryptionAcrossResharding checks that shards created after encryption
// started seal their records too: a sealed record describes itself, so
// resharding needs to know nothing of encryption.
func TestEncryptionAcrossResharding(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		v.cfg.Keyring = testKeyring(t, 1)
		v.restart()
		create(t, v.e, "s", 1)
		startEncryption(t, v.e, "s", "alias/aws/kinesis")
		err := v.e.SplitShard(ctx, &SplitShardInput{StreamRef: StreamRef{StreamName: "s"}, ShardToSplit: "shardId-000000000000",
			NewStartingHashKey: "170141183460469231731687303715884105728"})
		if err != nil {
			t.Fatalf("SplitShard: %v", err)
		}
		for i := 0; i < 8; i++ {
			if enc := putEnc(t, v.e, "s", i, fmt.Sprintf("child-secret-%d", i)); enc != "KMS" {
				t.Fatalf("put %d after split: EncryptionType %q", i, enc)
			}
		}
		v.restart()
		n := 0
		for _, id := range []string{"shardId-000000000001", "shardId-000000000002"} {
			it := iter(t, v.e, GetShardIteratorInput{StreamRef: StreamRef{StreamName: "s"}, ShardId: id, ShardIteratorType: IteratorTrimHorizon})
			for _, r := range readAll(t, v.e, it, 100) {
				if r.EncryptionType != "KMS" || !bytes.HasPrefix(r.Data, []byte("child-secret-")) {
					t.Fatalf("record on %s: %q %q", id, r.Data, r.EncryptionType)
				}
				n++
			}
			sh := v.e.streams[streamKey{"000000000000", "us-east-1", "s"}].byID[id]
			stored, _ := sh.log.Read(0, 100, 1<<20)
			for _, r := range stored {
				if r.PartitionKey != "" || bytes.Contains(r.Data, []byte("child-secret-")) {
					t.Fatalf("plaintext stored on %s: %q", id, r.Data)
				}
			}
		}
		if n != 8 {
			t.Fatalf("read %d records from the children, want 8", n)
		}
	})
}
