package interop

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// ack is where the server said an acknowledged record went.
type ack struct{ shard, seq string }

// ledger is the producers' record of what they sent and what was
// acknowledged.
type ledger struct {
	mu    sync.Mutex
	sent  map[string]string // payload -> partition key, acknowledged or not
	acked map[string]ack
	// byKey lists each partition key's acknowledged payloads in send order;
	// a key belongs to one producer, which sends sequentially.
	byKey map[string][]string
	count atomic.Int64
}

func newLedger() *ledger {
	return &ledger{sent: map[string]string{}, acked: map[string]ack{}, byKey: map[string][]string{}}
}

func (l *ledger) send(payload, key string) {
	l.mu.Lock()
	l.sent[payload] = key
	l.mu.Unlock()
}

func (l *ledger) ack(payload, key, shard, seq string) {
	l.mu.Lock()
	l.acked[payload] = ack{shard, seq}
	l.byKey[key] = append(l.byKey[key], payload)
	l.mu.Unlock()
	l.count.Add(1)
}

// TestCrashDurability kills the server with SIGKILL under load, twice, and
// checks that every acknowledged record survives exactly once, where and
// under the sequence number it was acknowledged.
func TestCrashDurability(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	const stream, shards = "crash", 4
	ctx := testCtx(t, 120*time.Second)

	s := startServer(t, dataDir)
	createStream(t, ctx, s.client(1), stream, shards)
	l := newLedger()

	for phase := 1; phase <= 2; phase++ {
		before := l.count.Load()
		produceThenKill(t, ctx, s, l, stream, phase)
		t.Logf("phase %d: %d records acknowledged before SIGKILL", phase, l.count.Load()-before)
		if s.alive() {
			t.Fatalf("server still running after SIGKILL")
		}
		s = startServer(t, dataDir)
		verifyLedger(t, ctx, s.client(3), l, stream, shards)
		if t.Failed() {
			return
		}
	}
	// A clean shutdown after recovery keeps everything too.
	s.stop()
	s = startServer(t, dataDir)
	verifyLedger(t, ctx, s.client(3), l, stream, shards)
}

// produceThenKill runs 8 producers against s until at least ~2 s have passed
// and some records were acknowledged, then SIGKILLs s mid-load.
func produceThenKill(t *testing.T, ctx context.Context, s *server, l *ledger, stream string, phase int) {
	t.Helper()
	// One attempt per call: an SDK retry of a put that did land would be a
	// client-made duplicate, which this test must not blame on the server.
	c := s.client(1)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var lastErr atomic.Value
	start := l.count.Load()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				if err := producerStep(ctx, c, l, stream, phase, w, n); err != nil {
					if !stop.Load() {
						lastErr.Store(err.Error())
					}
					if s.alive() {
						time.Sleep(10 * time.Millisecond)
					}
				}
			}
		}()
	}
	began := time.Now()
	for time.Since(began) < 2*time.Second || l.count.Load()-start < 200 {
		if time.Since(began) > 30*time.Second {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("phase %d: only %d records acknowledged in 30s (last error: %v)", phase, l.count.Load()-start, lastErr.Load())
		}
		if !s.alive() {
			t.Fatalf("server exited under load")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.kill()
	stop.Store(true)
	wg.Wait()
}

// producerStep sends one PutRecords batch of 50 or, every fourth step, one
// PutRecord. Payloads are unique; producer w owns partition keys w-*.
func producerStep(ctx context.Context, c *kinesis.Client, l *ledger, stream string, phase, w, n int) error {
	key := func(i int) string { return fmt.Sprintf("w%d-k%d", w, i%6) }
	if n%4 == 3 {
		payload := fmt.Sprintf("p%d-w%d-n%d-single", phase, w, n)
		k := key(n)
		l.send(payload, k)
		callCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		out, err := c.PutRecord(callCtx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String(k), Data: []byte(payload)})
		if err != nil {
			return err
		}
		l.ack(payload, k, aws.ToString(out.ShardId), aws.ToString(out.SequenceNumber))
		return nil
	}
	entries := make([]types.PutRecordsRequestEntry, 50)
	for i := range entries {
		payload := fmt.Sprintf("p%d-w%d-n%d-e%d", phase, w, n, i)
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(key(i)), Data: []byte(payload)}
		l.send(payload, key(i))
	}
	callCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	out, err := c.PutRecords(callCtx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
	if err != nil {
		return err
	}
	if len(out.Records) != len(entries) {
		return fmt.Errorf("PutRecords: %d results for %d entries", len(out.Records), len(entries))
	}
	for i, r := range out.Records {
		if r.ErrorCode != nil {
			// A failed entry is not acknowledged, and later entries of the
			// same key must not be counted on to follow it.
			continue
		}
		l.ack(string(entries[i].Data), aws.ToString(entries[i].PartitionKey), aws.ToString(r.ShardId), aws.ToString(r.SequenceNumber))
	}
	return nil
}

// verifyLedger reads every shard from TRIM_HORIZON and checks it against
// what the producers were told.
func verifyLedger(t *testing.T, ctx context.Context, c *kinesis.Client, l *ledger, stream string, shards int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("after restart: DescribeStreamSummary: %v", err)
	}
	if d := sum.StreamDescriptionSummary; d.StreamStatus != types.StreamStatusActive || aws.ToInt32(d.OpenShardCount) != int32(shards) {
		t.Errorf("after restart: stream %s with %d open shards, want ACTIVE with %d", d.StreamStatus, aws.ToInt32(d.OpenShardCount), shards)
	}
	found := map[string]ack{}
	position := map[string]int{} // payload -> index in its shard
	dups, unknown, unacked := 0, 0, 0
	for i := 0; i < shards; i++ {
		sid := shardID(i)
		recs := readShard(t, ctx, c, stream, sid)
		checkIncreasing(t, sid, recs)
		for j, r := range recs {
			p := string(r.Data)
			if prev, ok := found[p]; ok {
				if dups < 10 {
					t.Errorf("record %q appears twice: %s/%s and %s/%s", p, prev.shard, prev.seq, sid, aws.ToString(r.SequenceNumber))
				}
				dups++
				continue
			}
			found[p] = ack{sid, aws.ToString(r.SequenceNumber)}
			position[p] = j
			key, sent := l.sent[p]
			if !sent {
				if unknown < 10 {
					t.Errorf("record %q in %s was never sent", p, sid)
				}
				unknown++
				continue
			}
			if aws.ToString(r.PartitionKey) != key {
				t.Errorf("record %q has partition key %q, sent with %q", p, aws.ToString(r.PartitionKey), key)
			}
			if _, ok := l.acked[p]; !ok {
				unacked++
			}
		}
	}
	missing, moved := 0, 0
	for p, a := range l.acked {
		got, ok := found[p]
		switch {
		case !ok:
			if missing < 10 {
				t.Errorf("acknowledged record %q (%s/%s) is missing after restart", p, a.shard, a.seq)
			}
			missing++
		case got != a:
			if moved < 10 {
				t.Errorf("acknowledged record %q as %s/%s, read back as %s/%s", p, a.shard, a.seq, got.shard, got.seq)
			}
			moved++
		}
	}
	for key, payloads := range l.byKey {
		for i := 1; i < len(payloads); i++ {
			a, b := payloads[i-1], payloads[i]
			if fa, fb := found[a], found[b]; fa.shard == fb.shard && fa.shard != "" && position[a] > position[b] {
				t.Errorf("key %s: acknowledged %q before %q, stored the other way round", key, a, b)
				break
			}
		}
	}
	t.Logf("verified %d acknowledged records; %d unacknowledged in-flight records survived; %d missing, %d moved, %d duplicates, %d unknown",
		len(l.acked), unacked, missing, moved, dups, unknown)
}
