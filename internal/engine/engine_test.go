package engine

import (
	"context"
	"crypto/md5"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riffle-streams/riffle/internal/store"
	"github.com/riffle-streams/riffle/internal/vfs"
)

// The behavioural suite: every test runs against the in-memory store and the
// disk store, which must be indistinguishable to a client.

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is one engine on one store, with the means to restart it.
type env struct {
	t     *testing.T
	fs    vfs.FS
	dir   string
	clock *clock
	st    *store.Store
	e     *Engine
	cfg   Config
}

func (v *env) open() {
	v.t.Helper()
	// Small segments and frequent checkpoints, so that tests see rolls and
	// retention reclaim space.
	st, err := store.Open(v.fs, v.dir, store.Options{Now: v.clock.Now,
		SegmentMaxBytes: 16 << 10, JournalSegmentMaxBytes: 32 << 10, CheckpointBytes: 64 << 10})
	if err != nil {
		v.t.Fatalf("open store: %v", err)
	}
	e, err := Open(v.cfg, st)
	if err != nil {
		v.t.Fatalf("open engine: %v", err)
	}
	v.st, v.e = st, e
}

func (v *env) restart() {
	v.t.Helper()
	v.e.Close()
	if err := v.st.Close(); err != nil {
		v.t.Fatalf("close store: %v", err)
	}
	v.open()
}

func forEachStore(t *testing.T, fn func(t *testing.T, v *env)) {
	for _, kind := range []string{"memory", "disk"} {
		t.Run(kind, func(t *testing.T) {
			v := &env{t: t, clock: &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
			if kind == "memory" {
				v.fs, v.dir = vfs.NewMem(), "data"
			} else {
				v.fs, v.dir = vfs.Default(), t.TempDir()
			}
			v.cfg = DefaultConfig()
			v.cfg.Now = v.clock.Now
			v.open()
			t.Cleanup(func() { v.e.Close(); v.st.Close() })
			fn(t, v)
		})
	}
}

var ctx = context.Background()

func ptr[T any](x T) *T { return &x }

func must[T any](t *testing.T) func(T, error) T {
	return func(x T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return x
	}
}

func wantKind(t *testing.T, err error, k Kind, msgPart string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error of kind %d, got nil", k)
	}
	if KindOf(err) != k {
		t.Fatalf("want kind %d, got %d: %v", k, KindOf(err), err)
	}
	if !strings.Contains(err.Error(), msgPart) {
		t.Fatalf("message %q does not contain %q", err.Error(), msgPart)
	}
}

func create(t *testing.T, e *Engine, name string, shards int) {
	t.Helper()
	if err := e.CreateStream(ctx, &CreateStreamInput{StreamName: name, ShardCount: &shards}); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

func TestCreateDescribe(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "orders", 3)
		d := must[*DescribeStreamOutput](t)(v.e.DescribeStream(ctx, &DescribeStreamInput{StreamRef: StreamRef{StreamName: "orders"}})).StreamDescription
		if d.StreamStatus != StatusActive || d.StreamARN != "arn:aws:kinesis:us-east-1:000000000000:stream/orders" || d.RetentionPeriodHours != 24 {
			t.Fatalf("description: %+v", d)
		}
		// AWS's layout of three shards.
		want := [][2]string{
			{"0", "113427455640312821154458202477256070484"},
			{"113427455640312821154458202477256070485", "226854911280625642308916404954512140969"},
			{"226854911280625642308916404954512140970", "340282366920938463463374607431768211455"},
		}
		for i, sh := range d.Shards {
			if sh.ShardId != fmt.Sprintf("shardId-%012d", i) || sh.HashKeyRange.StartingHashKey != want[i][0] || sh.HashKeyRange.EndingHashKey != want[i][1] {
				t.Errorf("shard %d: %+v", i, sh)
			}
			if sh.SequenceNumberRange.StartingSequenceNumber == "" || sh.SequenceNumberRange.EndingSequenceNumber != "" {
				t.Errorf("shard %d sequence range: %+v", i, sh.SequenceNumberRange)
			}
		}
		err := v.e.CreateStream(ctx, &CreateStreamInput{StreamName: "orders", ShardCount: ptr(1)})
		wantKind(t, err, KindResourceInUse, "Stream orders under account 000000000000 already exists.")
		err = v.e.CreateStream(ctx, &CreateStreamInput{StreamName: "big", ShardCount: ptr(498)})
		wantKind(t, err, KindLimitExceeded, "Current shard count for the account: 3. Limit: 500.")
		_, err = v.e.DescribeStream(ctx, &DescribeStreamInput{StreamRef: StreamRef{StreamName: "nope"}})
		wantKind(t, err, KindResourceNotFound, "Stream nope under account 000000000000 not found.")

		// Paging and lookup by ARN.
		p1 := must[*DescribeStreamOutput](t)(v.e.DescribeStream(ctx, &DescribeStreamInput{
			StreamRef: StreamRef{StreamARN: d.StreamARN}, Limit: ptr(2)})).StreamDescription
		if len(p1.Shards) != 2 || !p1.HasMoreShards {
			t.Fatalf("page 1: %d shards, more=%v", len(p1.Shards), p1.HasMoreShards)
		}
		p2 := must[*DescribeStreamOutput](t)(v.e.DescribeStream(ctx, &DescribeStreamInput{
			StreamRef: StreamRef{StreamName: "orders"}, Limit: ptr(2), ExclusiveStartShardId: p1.Shards[1].ShardId})).StreamDescription
		if len(p2.Shards) != 1 || p2.HasMoreShards || p2.Shards[0].ShardId != "shardId-000000000002" {
			t.Fatalf("page 2: %+v", p2.Shards)
		}
	})
}

// TestStreamOfManyShards: a stream of enough shards for the store to create
// them in bulk (one filesystem sync for all) works as any other, across a
// restart, and deleting it removes every shard's data.
func TestStreamOfManyShards(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		const n = 200
		create(t, v.e, "many", n)
		ref := StreamRef{StreamName: "many"}
		last := fmt.Sprintf("shardId-%012d", n-1)
		out := must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "k",
			ExplicitHashKey: "340282366920938463463374607431768211455", Data: []byte("x")}))
		if out.ShardId != last {
			t.Fatalf("the highest hash key went to %s, want %s", out.ShardId, last)
		}
		v.restart()
		sum := must[*DescribeStreamSummaryOutput](t)(v.e.DescribeStreamSummary(ctx, &DescribeStreamSummaryInput{StreamRef: ref})).StreamDescriptionSummary
		if sum.OpenShardCount != n || sum.StreamStatus != StatusActive {
			t.Fatalf("after a restart: %d open shards, %s", sum.OpenShardCount, sum.StreamStatus)
		}
		it := iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: last, ShardIteratorType: IteratorTrimHorizon})
		if recs := readAll(t, v.e, it, 10); len(recs) != 1 || string(recs[0].Data) != "x" {
			t.Fatalf("after a restart, %s holds %v", last, recs)
		}
		if err := v.e.DeleteStream(ctx, &DeleteStreamInput{StreamRef: ref}); err != nil {
			t.Fatal(err)
		}
		if ids := v.st.ShardIDs(); len(ids) != 0 {
			t.Fatalf("%d shards left after DeleteStream", len(ids))
		}
	})
}

// openEngine opens an engine with the default configuration on a new store
// in fs; both are closed when the test ends.
func openEngine(t *testing.T, fs vfs.FS) (*store.Store, *Engine) {
	t.Helper()
	st, err := store.Open(fs, "data", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(DefaultConfig(), st)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(); st.Close() })
	return st, e
}

// blockingFS returns an in-memory filesystem whose first operation for
// which block is true waits until release is closed; reached is closed when
// it starts waiting.
func blockingFS(block func(vfs.Op) bool) (fs vfs.FS, reached, release chan struct{}) {
	reached, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	fs = vfs.NewErrorFS(vfs.NewMem(), vfs.InjectorFunc(func(op vfs.Op) error {
		if block(op) {
			first := false
			once.Do(func() { close(reached); first = true })
			if first {
				<-release
			}
		}
		return nil
	}))
	return fs, reached, release
}

// checkPutCompletes checks that a put to the stream "live" completes while
// the filesystem blocks what. On failure it closes release, so that the
// blocked call can end.
func checkPutCompletes(t *testing.T, e *Engine, release chan struct{}, what string) {
	t.Helper()
	put := make(chan error, 1)
	go func() {
		_, err := e.PutRecord(ctx, &PutRecordInput{StreamRef: StreamRef{StreamName: "live"}, PartitionKey: "p", Data: []byte("x")})
		put <- err
	}()
	select {
	case err := <-put:
		if err != nil {
			t.Fatalf("put to another stream during %s: %v", what, err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatalf("a put to another stream waited for %s", what)
	}
}

// TestDeletingAStreamDoesNotStallPuts: while a deleted stream's data is
// being removed (seconds, for thousands of shards), the node serves the
// other streams, and the deleted one is already gone.
func TestDeletingAStreamDoesNotStallPuts(t *testing.T) {
	fs, removing, release := blockingFS(func(op vfs.Op) bool { return op.Kind == vfs.OpRemoveAll })
	st, e := openEngine(t, fs)
	create(t, e, "doomed", 2)
	create(t, e, "live", 1)
	deleted := make(chan error, 1)
	go func() { deleted <- e.DeleteStream(ctx, &DeleteStreamInput{StreamRef: StreamRef{StreamName: "doomed"}}) }()
	<-removing
	checkPutCompletes(t, e, release, "the deletion of a stream's data")
	_, err := e.DescribeStream(ctx, &DescribeStreamInput{StreamRef: StreamRef{StreamName: "doomed"}})
	wantKind(t, err, KindResourceNotFound, "Stream doomed under account 000000000000 not found.")
	close(release)
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	if ids := st.ShardIDs(); len(ids) != 1 {
		t.Fatalf("shards after DeleteStream: %v, want the live stream's one", ids)
	}
}

// TestCreatingAStreamDoesNotStallPuts: while a stream's shards are being
// created (a second, for thousands), the node serves the other streams; if
// the stream cannot be added once they are (here, the engine closed), they
// are deleted.
func TestCreatingAStreamDoesNotStallPuts(t *testing.T) {
	var armed atomic.Bool
	fs, creating, release := blockingFS(func(op vfs.Op) bool {
		return armed.Load() && op.Kind == vfs.OpMkdirAll && strings.Contains(op.Path, "/shards/")
	})
	st, e := openEngine(t, fs)
	create(t, e, "live", 1)
	armed.Store(true)
	created := make(chan error, 1)
	go func() { created <- e.CreateStream(ctx, &CreateStreamInput{StreamName: "new", ShardCount: ptr(3)}) }()
	<-creating
	checkPutCompletes(t, e, release, "the creation of a stream's shards")
	_, err := e.DescribeStream(ctx, &DescribeStreamInput{StreamRef: StreamRef{StreamName: "new"}})
	wantKind(t, err, KindResourceNotFound, "Stream new under account 000000000000 not found.")
	e.Close()
	close(release)
	if err := <-created; err == nil {
		t.Fatal("CreateStream succeeded on a closed engine")
	}
	if ids := st.ShardIDs(); len(ids) != 1 {
		t.Fatalf("shards in the store: %v, want the live stream's one", ids)
	}
}

func TestPutRoutesByHashKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 4)
		quarter := new(big.Int).Lsh(big.NewInt(1), 126)
		for i := 0; i < 50; i++ {
			pk := fmt.Sprintf("key-%d", i)
			out := must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: StreamRef{StreamName: "s"}, PartitionKey: pk, Data: []byte("x")}))
			sum := md5.Sum([]byte(pk))
			idx := new(big.Int).Div(new(big.Int).SetBytes(sum[:]), quarter).Int64()
			if want := fmt.Sprintf("shardId-%012d", idx); out.ShardId != want {
				t.Fatalf("%s went to %s, want %s", pk, out.ShardId, want)
			}
		}
		out := must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: StreamRef{StreamName: "s"},
			PartitionKey: "any", ExplicitHashKey: "255211775190703847597530955573826158592", Data: []byte("x")}))
		if out.ShardId != "shardId-000000000003" {
			t.Fatalf("explicit hash key went to %s", out.ShardId)
		}
		_, err := v.e.PutRecord(ctx, &PutRecordInput{StreamRef: StreamRef{StreamName: "s"}, PartitionKey: "a",
			ExplicitHashKey: "340282366920938463463374607431768211456", Data: []byte("x")})
		wantKind(t, err, KindInvalidArgument, "Invalid ExplicitHashKey.")
		_, err = v.e.PutRecord(ctx, &PutRecordInput{StreamRef: StreamRef{StreamName: "missing"}, PartitionKey: "a", Data: []byte("x")})
		wantKind(t, err, KindResourceNotFound, "Stream missing under account 000000000000 not found.")
	})
}

func iter(t *testing.T, e *Engine, in GetShardIteratorInput) string {
	t.Helper()
	return must[*GetShardIteratorOutput](t)(e.GetShardIterator(ctx, &in)).ShardIterator
}

func readAll(t *testing.T, e *Engine, it string, limit int) []Record {
	t.Helper()
	var out []Record
	for i := 0; i < 1000; i++ {
		r := must[*GetRecordsOutput](t)(e.GetRecords(ctx, &GetRecordsInput{ShardIterator: it, Limit: &limit}))
		out = append(out, r.Records...)
		if r.NextShardIterator == "" {
			return out // the end of a closed shard
		}
		if len(r.Records) == 0 {
			if r.MillisBehindLatest != 0 {
				t.Fatalf("caught up but MillisBehindLatest=%d", r.MillisBehindLatest)
			}
			return out
		}
		it = r.NextShardIterator
	}
	t.Fatal("GetRecords never caught up")
	return nil
}

func TestPutRecordsAndIterators(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 2)
		ref := StreamRef{StreamName: "s"}
		var entries []PutRecordsRequestEntry
		for i := 0; i < 300; i++ {
			entries = append(entries, PutRecordsRequestEntry{PartitionKey: fmt.Sprintf("k%d", i%7), Data: []byte(fmt.Sprintf("r%03d", i))})
		}
		out := must[*PutRecordsOutput](t)(v.e.PutRecords(ctx, &PutRecordsInput{StreamRef: ref, Records: entries}))
		if out.FailedRecordCount != 0 || len(out.Records) != 300 {
			t.Fatalf("PutRecords: failed=%d n=%d", out.FailedRecordCount, len(out.Records))
		}
		seqOf := map[string]string{}
		for i, r := range out.Records {
			seqOf[string(entries[i].Data)] = r.SequenceNumber
		}
		for _, shard := range []string{"shardId-000000000000", "shardId-000000000001"} {
			it := iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: shard, ShardIteratorType: IteratorTrimHorizon})
			recs := readAll(t, v.e, it, 7)
			lastByKey := map[string]string{}
			prev := ""
			for _, r := range recs {
				if seqOf[string(r.Data)] != r.SequenceNumber {
					t.Fatalf("record %s has seq %s, PutRecords said %s", r.Data, r.SequenceNumber, seqOf[string(r.Data)])
				}
				if prev != "" && !seqLess(prev, r.SequenceNumber) {
					t.Fatalf("sequence numbers not increasing: %s then %s", prev, r.SequenceNumber)
				}
				if l := lastByKey[r.PartitionKey]; l != "" && l >= string(r.Data) {
					t.Fatalf("per-key order broken for %s: %s after %s", r.PartitionKey, r.Data, l)
				}
				lastByKey[r.PartitionKey], prev = string(r.Data), r.SequenceNumber
				delete(seqOf, string(r.Data))
			}
		}
		if len(seqOf) != 0 {
			t.Fatalf("%d records not read back", len(seqOf))
		}

		// AT/AFTER_SEQUENCE_NUMBER, LATEST and AT_TIMESTAMP on shard 0.
		shard := out.Records[0].ShardId
		it := iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: shard, ShardIteratorType: IteratorTrimHorizon})
		all := readAll(t, v.e, it, 10000)
		mid := all[len(all)/2]
		at := readAll(t, v.e, iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: shard, ShardIteratorType: IteratorAtSequenceNumber, StartingSequenceNumber: mid.SequenceNumber}), 10000)
		after := readAll(t, v.e, iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: shard, ShardIteratorType: IteratorAfterSequenceNumber, StartingSequenceNumber: mid.SequenceNumber}), 10000)
		if at[0].SequenceNumber != mid.SequenceNumber || len(at) != len(all)-len(all)/2 || len(after) != len(at)-1 {
			t.Fatalf("AT gave %d from %s, AFTER gave %d", len(at), at[0].SequenceNumber, len(after))
		}
		latest := iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: shard, ShardIteratorType: IteratorLatest})
		v.clock.Advance(time.Minute)
		tsIter := iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: shard, ShardIteratorType: IteratorAtTimestamp, Timestamp: ptr(v.clock.Now())})
		p := must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: mid.PartitionKey, Data: []byte("late")}))
		for name, it := range map[string]string{"LATEST": latest, "AT_TIMESTAMP": tsIter} {
			got := readAll(t, v.e, it, 100)
			if len(got) != 1 || string(got[0].Data) != "late" || got[0].SequenceNumber != p.SequenceNumber {
				t.Fatalf("%s iterator read %d records", name, len(got))
			}
		}

		// Errors.
		_, err := v.e.GetShardIterator(ctx, &GetShardIteratorInput{StreamRef: ref, ShardId: "shardId-000000000001",
			ShardIteratorType: IteratorAtSequenceNumber, StartingSequenceNumber: mid.SequenceNumber})
		wantKind(t, err, KindInvalidArgument, "Invalid StartingSequenceNumber. It encodes "+shard)
		_, err = v.e.GetShardIterator(ctx, &GetShardIteratorInput{StreamRef: ref, ShardId: "shardId-000000000009", ShardIteratorType: IteratorLatest})
		wantKind(t, err, KindResourceNotFound, "Shard shardId-000000000009 in stream s under account 000000000000 does not exist")
		_, err = v.e.GetShardIterator(ctx, &GetShardIteratorInput{StreamRef: ref, ShardId: shard, ShardIteratorType: IteratorAtSequenceNumber})
		wantKind(t, err, KindInvalidArgument, "Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.")
		_, err = v.e.GetShardIterator(ctx, &GetShardIteratorInput{StreamRef: ref, ShardId: shard, ShardIteratorType: IteratorAtTimestamp})
		wantKind(t, err, KindInvalidArgument, "Must specify timestampInMillis")
		_, err = v.e.GetShardIterator(ctx, &GetShardIteratorInput{StreamRef: ref, ShardId: shard, ShardIteratorType: IteratorAtSequenceNumber, StartingSequenceNumber: "12345"})
		wantKind(t, err, KindInvalidArgument, "StartingSequenceNumber 12345 used in GetShardIterator on shard "+shard+" in stream s under account 000000000000 is invalid.")
		_, err = v.e.GetRecords(ctx, &GetRecordsInput{ShardIterator: "AAAAbogus" + latest[9:]})
		wantKind(t, err, KindInvalidArgument, "Invalid ShardIterator.")
		v.clock.Advance(IteratorTTL + time.Second)
		_, err = v.e.GetRecords(ctx, &GetRecordsInput{ShardIterator: latest})
		wantKind(t, err, KindExpiredIterator, "Iterator expired. The iterator was created at time ")
	})
}

// seqLess compares two sequence numbers numerically.
func seqLess(a, b string) bool {
	x, _ := new(big.Int).SetString(a, 10)
	y, _ := new(big.Int).SetString(b, 10)
	return x.Cmp(y) < 0
}

func TestRestartKeepsEverything(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "a", 2)
		create(t, v.e, "b", 1)
		ref := StreamRef{StreamName: "a"}
		var seqs []string
		for i := 0; i < 20; i++ {
			out := must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: []byte{byte(i)}}))
			seqs = append(seqs, out.SequenceNumber)
		}
		shard := must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: []byte{20}})).ShardId
		it := iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: shard, ShardIteratorType: IteratorTrimHorizon})
		if err := v.e.DeleteStream(ctx, &DeleteStreamInput{StreamRef: StreamRef{StreamName: "b"}}); err != nil {
			t.Fatal(err)
		}
		v.restart()
		names := must[*ListStreamsOutput](t)(v.e.ListStreams(ctx, &ListStreamsInput{})).StreamNames
		if strings.Join(names, ",") != "a" {
			t.Fatalf("streams after restart: %v", names)
		}
		// An iterator issued before the restart still works.
		recs := readAll(t, v.e, it, 5)
		if len(recs) != 21 {
			t.Fatalf("read %d records after restart, want 21", len(recs))
		}
		for i, s := range seqs {
			if recs[i].SequenceNumber != s || recs[i].Data[0] != byte(i) {
				t.Fatalf("record %d: seq %s data %v, want %s", i, recs[i].SequenceNumber, recs[i].Data, s)
			}
		}
		next := must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: []byte{21}}))
		if !seqLess(recs[20].SequenceNumber, next.SequenceNumber) {
			t.Fatalf("sequence number went back after restart: %s then %s", recs[20].SequenceNumber, next.SequenceNumber)
		}
		// A recreated stream does not accept the old incarnation's numbers.
		if err := v.e.DeleteStream(ctx, &DeleteStreamInput{StreamRef: ref}); err != nil {
			t.Fatal(err)
		}
		create(t, v.e, "a", 2)
		_, err := v.e.GetShardIterator(ctx, &GetShardIteratorInput{StreamRef: ref, ShardId: shard,
			ShardIteratorType: IteratorAtSequenceNumber, StartingSequenceNumber: seqs[0]})
		wantKind(t, err, KindInvalidArgument, "did not come from this stream")
		_, err = v.e.GetRecords(ctx, &GetRecordsInput{ShardIterator: it})
		wantKind(t, err, KindResourceNotFound, "")
		if n := len(v.st.ShardIDs()); n != 2 {
			t.Fatalf("%d shard directories remain, want 2", n)
		}
	})
}

func TestListStreamsAndShardsPaging(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		for _, n := range []string{"e", "a", "d", "c", "b"} {
			create(t, v.e, n, 1)
		}
		var got []string
		in := &ListStreamsInput{Limit: ptr(2)}
		for i := 0; i < 10; i++ {
			out := must[*ListStreamsOutput](t)(v.e.ListStreams(ctx, in))
			got = append(got, out.StreamNames...)
			if len(out.StreamSummaries) != len(out.StreamNames) {
				t.Fatalf("summaries %d != names %d", len(out.StreamSummaries), len(out.StreamNames))
			}
			if !out.HasMoreStreams {
				break
			}
			in = &ListStreamsInput{Limit: ptr(2), NextToken: out.NextToken}
		}
		if strings.Join(got, "") != "abcde" {
			t.Fatalf("ListStreams pages gave %v", got)
		}

		create(t, v.e, "wide", 7)
		var ids []string
		lin := &ListShardsInput{StreamRef: StreamRef{StreamName: "wide"}, MaxResults: ptr(3)}
		for i := 0; i < 10; i++ {
			out := must[*ListShardsOutput](t)(v.e.ListShards(ctx, lin))
			for _, s := range out.Shards {
				ids = append(ids, s.ShardId[len(s.ShardId)-1:])
			}
			if out.NextToken == "" {
				break
			}
			lin = &ListShardsInput{NextToken: out.NextToken, MaxResults: ptr(3)}
		}
		if strings.Join(ids, "") != "0123456" {
			t.Fatalf("ListShards pages gave %v", ids)
		}
		_, err := v.e.ListShards(ctx, &ListShardsInput{StreamRef: StreamRef{StreamName: "wide"}, NextToken: "x"})
		wantKind(t, err, KindInvalidArgument, "NextToken and StreamName cannot be provided together.")
		out := must[*ListShardsOutput](t)(v.e.ListShards(ctx, &ListShardsInput{StreamRef: StreamRef{StreamName: "wide"},
			ShardFilter: &ShardFilter{Type: FilterAfterShardID, ShardId: "shardId-000000000004"}}))
		if len(out.Shards) != 2 || out.Shards[0].ShardId != "shardId-000000000005" {
			t.Fatalf("AFTER_SHARD_ID: %+v", out.Shards)
		}
		tok := must[*ListShardsOutput](t)(v.e.ListShards(ctx, &ListShardsInput{StreamRef: StreamRef{StreamName: "wide"}, MaxResults: ptr(1)})).NextToken
		v.clock.Advance(NextTokenTTL + time.Second)
		_, err = v.e.ListShards(ctx, &ListShardsInput{NextToken: tok})
		wantKind(t, err, KindExpiredNextToken, "")
	})
}

func TestRetentionHidesExpiredRecords(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "s", 1)
		ref := StreamRef{StreamName: "s"}
		old := must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: []byte("old")}))
		v.clock.Advance(DefaultRetentionHours*time.Hour - time.Minute)
		it := iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: old.ShardId, ShardIteratorType: IteratorTrimHorizon})
		must[*PutRecordOutput](t)(v.e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: []byte("new")}))
		v.clock.Advance(2 * time.Minute)
		// Both an iterator made before expiry and a fresh TRIM_HORIZON skip
		// the expired record, before any background trim has run.
		fresh := iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: old.ShardId, ShardIteratorType: IteratorTrimHorizon})
		for _, it := range []string{it, fresh} {
			got := must[*GetRecordsOutput](t)(v.e.GetRecords(ctx, &GetRecordsInput{ShardIterator: it}))
			if len(got.Records) != 1 || string(got.Records[0].Data) != "new" {
				t.Fatalf("read %d records, first %q; want only the unexpired one", len(got.Records), got.Records[0].Data)
			}
		}
		v.e.EnforceRetention()
		v.restart()
		got := readAll(t, v.e, iter(t, v.e, GetShardIteratorInput{StreamRef: ref, ShardId: old.ShardId, ShardIteratorType: IteratorTrimHorizon}), 10)
		if len(got) != 1 || string(got[0].Data) != "new" {
			t.Fatalf("after restart read %d records", len(got))
		}
	})
}

// TestStatusDelays checks the CREATING and DELETING phases that
// --create-stream-delay and --delete-stream-delay add, on a fake clock.
func TestStatusDelays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, err := store.Open(vfs.NewMem(), "data", store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.CreateStreamDelay, cfg.DeleteStreamDelay = 500*time.Millisecond, time.Second
		e, err := Open(cfg, st)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		defer e.Close()
		create(t, e, "s", 1)
		ref := StreamRef{StreamName: "s"}
		status := func() string {
			d, err := e.DescribeStreamSummary(ctx, &DescribeStreamSummaryInput{StreamRef: ref})
			if err != nil {
				return kindName(err)
			}
			return d.StreamDescriptionSummary.StreamStatus
		}
		if s := status(); s != StatusCreating {
			t.Fatalf("status right after create: %s", s)
		}
		_, err = e.PutRecord(ctx, &PutRecordInput{StreamRef: ref, PartitionKey: "p", Data: []byte("x")})
		wantKind(t, err, KindResourceNotFound, "Stream s under account 000000000000 not found.")
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		if s := status(); s != StatusActive {
			t.Fatalf("status after the delay: %s", s)
		}
		if err := e.DeleteStream(ctx, &DeleteStreamInput{StreamRef: ref}); err != nil {
			t.Fatal(err)
		}
		if s := status(); s != StatusDeleting {
			t.Fatalf("status right after delete: %s", s)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if s := status(); s != "ResourceNotFound" {
			t.Fatalf("status after the delete delay: %s", s)
		}
	})
}

// kindName names an error's kind for test messages.
func kindName(err error) string {
	if KindOf(err) == KindResourceNotFound {
		return "ResourceNotFound"
	}
	return err.Error()
}
