package engine

import (
	"testing"
	"time"

	"github.com/riffle-streams/riffle/internal/store"
	"github.com/riffle-streams/riffle/internal/vfs"
)

// TestDiskFull: while the disk is full, puts fail with an internal error
// (InternalFailure, HTTP 500, at the API) and reads keep working; once space
// returns, puts resume, and every acknowledged record is there.
func TestDiskFull(t *testing.T) {
	sw := &vfs.Switch{Inner: vfs.DiskFull(0)}
	st, err := store.Open(vfs.NewErrorFS(vfs.NewMem(), sw), "data", store.Options{ReopenInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(DefaultConfig(), st)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	defer e.Close()
	create(t, e, "s", 1)
	ref := StreamRef{StreamName: "s"}
	put := func(data string) error {
		_, err := e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: []byte(data)})
		return err
	}
	if err := put("a"); err != nil {
		t.Fatal(err)
	}

	sw.Enable()
	if err := put("lost"); err == nil || KindOf(err) != KindInternal {
		t.Fatalf("PutRecord on a full disk: %v (kind %s), want an internal error", err, kindName(err))
	}
	out, err := e.PutRecords(ctx, &PutRecordsInput{StreamRef: ref, Records: []PutRecordsRequestEntry{{Data: []byte("lost"), PartitionKey: "p"}}})
	if err == nil && (out.FailedRecordCount != 1 || out.Records[0].ErrorCode != "InternalFailure") {
		t.Fatalf("PutRecords on a full disk: %+v, want the record failed with InternalFailure", out)
	}
	if err != nil && KindOf(err) != KindInternal {
		t.Fatalf("PutRecords on a full disk: %v, want an internal error", err)
	}
	it := iter(t, e, GetShardIteratorInput{StreamRef: ref, ShardId: "shardId-000000000000", ShardIteratorType: IteratorTrimHorizon})
	if recs := readAll(t, e, it, 100); len(recs) != 1 || string(recs[0].Data) != "a" {
		t.Fatalf("read on a full disk: %d records", len(recs))
	}

	sw.Disable()
	for i := 0; ; i++ {
		err := put("b")
		if err == nil {
			break
		}
		if KindOf(err) != KindInternal || i > 10000 {
			t.Fatalf("PutRecord after space returned: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	it = iter(t, e, GetShardIteratorInput{StreamRef: ref, ShardId: "shardId-000000000000", ShardIteratorType: IteratorTrimHorizon})
	recs := readAll(t, e, it, 100)
	if len(recs) != 2 || string(recs[0].Data) != "a" || string(recs[1].Data) != "b" {
		var got []string
		for _, r := range recs {
			got = append(got, string(r.Data))
		}
		t.Fatalf("after space returned: %q, want [a b]", got)
	}
}
