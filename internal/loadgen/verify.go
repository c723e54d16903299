package loadgen

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Every record a scenario writes carries its producer and its number within
// that producer in its first bytes ("PPPPP.NNNNNNNNNNN."), so that a
// read-back can tell lost, duplicated and misordered records apart.
const headerLen = 18

// putHeader writes the digits in place: it runs once per record sent, and
// fmt.Sprintf there cost 8% of the load generator's CPU.
func putHeader(dst []byte, producer, n int) {
	putDigits(dst[:5], producer)
	dst[5] = '.'
	putDigits(dst[6:17], n)
	dst[17] = '.'
}

// putDigits writes v zero-padded to fill dst.
func putDigits(dst []byte, v int) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}

func parseHeader(b []byte) (producer, n int, ok bool) {
	if len(b) < headerLen || b[5] != '.' || b[17] != '.' {
		return 0, 0, false
	}
	p, ok1 := parseDigits(b[:5])
	m, ok2 := parseDigits(b[6:17])
	return p, m, ok1 && ok2
}

func parseDigits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// What a ledger knows of each record sent.
const (
	stAcked        = 1 // acknowledged
	stCallFailed   = 2 // its PutRecords/PutRecord call returned an error
	stRecordFailed = 3 // the call succeeded but this entry had an ErrorCode
)

// ledger records what each producer sent and, after a read-back, how often
// each record was seen. A producer writes only its own slice.
type ledger struct {
	status [][]byte
	seen   [][]uint8
}

func newLedger(producers int) *ledger {
	return &ledger{status: make([][]byte, producers), seen: make([][]uint8, producers)}
}

// putStats is what producers observed.
type putStats struct {
	calls, acked, failedCalls, closedConn, recordsRejected int64
	elapsed                                                time.Duration
	firstErr                                               string
	cpu                                                    cpuUse          // set by the scenario around the load
	lat                                                    []time.Duration // of each successful call, sorted
}

func isClosedConn(err error) bool {
	return err != nil && strings.Contains(err.Error(), "use of closed network connection")
}

// isConnLost reports a call that failed because its connection went away:
// the Go SDK's "use of closed network connection" (see the README), or a
// server closing an idle keep-alive connection as the request went out
// ("connection reset by peer", seen with kinesalite).
func isConnLost(err error) bool {
	return isClosedConn(err) || (err != nil && strings.Contains(err.Error(), "connection reset by peer"))
}

// repeatRead runs read, an idempotent call of the read-back, and repeats it
// up to five times while it fails with a lost connection, counting the
// repeats in retried.
func repeatRead(retried *atomic.Int64, read func() error) error {
	err := read()
	for attempt := 0; isConnLost(err) && attempt < 5; attempt++ {
		retried.Add(1)
		err = read()
	}
	return err
}

// putLoad runs producers PutRecords loops of batch records of size bytes into
// stream, until duration has passed (when total is 0) or total records have
// been sent. Partition keys are unique per record, so that records spread
// over every shard.
func putLoad(ctx context.Context, c *kinesis.Client, stream string, producers, batch, size int, duration time.Duration, total int64, led *ledger) putStats {
	var st putStats
	var mu sync.Mutex
	var remaining atomic.Int64
	remaining.Store(total)
	deadline := time.Now().Add(duration)
	start := time.Now()
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Go(func() {
			var local putStats
			buf := make([]byte, batch*size)
			for i := range buf {
				buf[i] = byte('a' + i%26)
			}
			entries := make([]types.PutRecordsRequestEntry, batch)
			n := 0
			for ctx.Err() == nil {
				k := batch
				if total > 0 {
					left := remaining.Add(-int64(batch))
					if left <= -int64(batch) {
						break
					}
					if left < 0 {
						k = batch + int(left)
					}
				} else if !time.Now().Before(deadline) {
					break
				}
				for i := 0; i < k; i++ {
					d := buf[i*size : (i+1)*size]
					putHeader(d, p, n+i)
					entries[i] = types.PutRecordsRequestEntry{Data: d, PartitionKey: aws.String(strconv.Itoa(p) + "-" + strconv.Itoa(n+i))}
				}
				t0 := time.Now()
				out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries[:k]})
				d := time.Since(t0)
				local.calls++
				if err != nil {
					local.failedCalls++
					if isClosedConn(err) {
						local.closedConn++
					} else if local.firstErr == "" {
						local.firstErr = err.Error()
					}
					for i := 0; i < k; i++ {
						led.status[p] = append(led.status[p], stCallFailed)
					}
				} else {
					local.lat = append(local.lat, d)
					for i := 0; i < k; i++ {
						s := byte(stAcked)
						if i < len(out.Records) && out.Records[i].ErrorCode != nil {
							s = stRecordFailed
							local.recordsRejected++
						} else {
							local.acked++
						}
						led.status[p] = append(led.status[p], s)
					}
				}
				n += k
			}
			mu.Lock()
			st.calls += local.calls
			st.acked += local.acked
			st.failedCalls += local.failedCalls
			st.closedConn += local.closedConn
			st.recordsRejected += local.recordsRejected
			st.lat = append(st.lat, local.lat...)
			if st.firstErr == "" {
				st.firstErr = local.firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	st.elapsed = time.Since(start)
	slices.Sort(st.lat)
	return st
}

// readStats is what a read-back found.
type readStats struct {
	read          int64 // records read
	lost          int64 // acknowledged, never read
	duplicates    int64 // reads beyond the first of one record
	appliedFailed int64 // read although their call failed
	rejectedRead  int64 // read although the server rejected the entry
	foreign       int64 // records not written by this scenario
	retriedReads  int64 // read calls repeated after a lost connection (isConnLost)
	elapsed       time.Duration
}

// readBack reads every shard of stream from TRIM_HORIZON to its end with up
// to workers concurrent readers (one per shard at a time), checks that
// sequence numbers strictly increase in each shard and that each producer's
// records keep their order within a shard, and counts every record against
// the ledger. A nil ledger counts records only.
func readBack(ctx context.Context, c *kinesis.Client, stream string, led *ledger, workers int) (readStats, error) {
	var read, foreign, retried atomic.Int64
	var shards []string
	var next *string
	for {
		in := &kinesis.ListShardsInput{MaxResults: aws.Int32(1000)}
		if next != nil {
			in.NextToken = next
		} else {
			in.StreamName = aws.String(stream)
		}
		var out *kinesis.ListShardsOutput
		err := repeatRead(&retried, func() (err error) {
			out, err = c.ListShards(ctx, in)
			return err
		})
		if err != nil {
			return readStats{}, fmt.Errorf("ListShards: %w", err)
		}
		for _, s := range out.Shards {
			shards = append(shards, aws.ToString(s.ShardId))
		}
		if out.NextToken == nil {
			break
		}
		next = out.NextToken
	}
	if led != nil {
		for p, st := range led.status {
			led.seen[p] = make([]uint8, len(st))
		}
	}
	start := time.Now()
	var firstErr error
	var errMu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, len(shards)); w++ {
		wg.Go(func() {
			for sh := range work {
				r, f, err := readShard(ctx, c, stream, sh, led, &retried)
				read.Add(r)
				foreign.Add(f)
				if err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
				}
			}
		})
	}
	for _, sh := range shards {
		work <- sh
	}
	close(work)
	wg.Wait()
	rs := readStats{read: read.Load(), foreign: foreign.Load(), retriedReads: retried.Load(), elapsed: time.Since(start)}
	if firstErr != nil {
		return rs, firstErr
	}
	if led == nil {
		return rs, nil
	}
	for p, st := range led.status {
		for n, s := range st {
			seen := int64(led.seen[p][n])
			if seen > 1 {
				rs.duplicates += seen - 1
			}
			switch {
			case s == stAcked && seen == 0:
				rs.lost++
			case s == stCallFailed && seen > 0:
				rs.appliedFailed++
			case s == stRecordFailed && seen > 0:
				rs.rejectedRead++
			}
		}
	}
	return rs, nil
}

func readShard(ctx context.Context, c *kinesis.Client, stream, shard string, led *ledger, retried *atomic.Int64) (read, foreign int64, err error) {
	var it *kinesis.GetShardIteratorOutput
	err = repeatRead(retried, func() (err error) {
		it, err = c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream),
			ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("GetShardIterator %s: %w", shard, err)
	}
	iter, prev := it.ShardIterator, ""
	last := map[int]int{} // producer -> last record number read in this shard
	for iter != nil {
		// A GetRecords with the same iterator is safe to repeat.
		var out *kinesis.GetRecordsOutput
		err := repeatRead(retried, func() (err error) {
			out, err = c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			return err
		})
		if err != nil {
			return read, foreign, fmt.Errorf("GetRecords %s: %w", shard, err)
		}
		for _, r := range out.Records {
			s := aws.ToString(r.SequenceNumber)
			if prev != "" && seqCompare(prev, s) >= 0 {
				return read, foreign, fmt.Errorf("shard %s: sequence numbers out of order: %s then %s", shard, prev, s)
			}
			prev = s
			read++
			if led == nil {
				continue
			}
			p, n, ok := parseHeader(r.Data)
			if !ok || p >= len(led.seen) || n >= len(led.seen[p]) {
				foreign++
				continue
			}
			if led.seen[p][n] > 0 {
				// A second copy (a retried call) follows its original; it
				// is counted as a duplicate, not as a reordering.
				if led.seen[p][n] < 255 {
					led.seen[p][n]++
				}
				continue
			}
			if l, ok := last[p]; ok && n < l {
				return read, foreign, fmt.Errorf("shard %s: producer %d's record %d read after its record %d", shard, p, n, l)
			}
			last[p] = n
			led.seen[p][n] = 1
		}
		if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
			break
		}
		iter = out.NextShardIterator
	}
	return read, foreign, nil
}

// check turns a read-back into an error when it shows a wrong answer:
// anything acknowledged missing, rejected entries stored, foreign records,
// or duplicates when the client did not retry (then the server made them).
func (rs readStats) check(retries bool) error {
	var errs []error
	if rs.lost > 0 {
		errs = append(errs, fmt.Errorf("%d acknowledged records never read back", rs.lost))
	}
	if rs.rejectedRead > 0 {
		errs = append(errs, fmt.Errorf("%d records read back although the server rejected them", rs.rejectedRead))
	}
	if rs.foreign > 0 {
		errs = append(errs, fmt.Errorf("%d records read back that were never written", rs.foreign))
	}
	if rs.duplicates > 0 && !retries {
		errs = append(errs, fmt.Errorf("%d duplicates with client retries off", rs.duplicates))
	}
	return errors.Join(errs...)
}

func (rs readStats) note() string {
	s := fmt.Sprintf("read back %d: %d lost, %d duplicates, %d applied although the call failed", rs.read, rs.lost, rs.duplicates, rs.appliedFailed)
	if rs.retriedReads > 0 {
		s += fmt.Sprintf(" (%d reads repeated after \"use of closed network connection\" or \"connection reset by peer\")", rs.retriedReads)
	}
	return s
}

func (st putStats) note() string {
	s := fmt.Sprintf("%d acknowledged, %d failed calls of %d (%d closed connection)", st.acked, st.failedCalls, st.calls, st.closedConn)
	if st.recordsRejected > 0 {
		s += fmt.Sprintf(", %d entries rejected", st.recordsRejected)
	}
	if st.firstErr != "" {
		s += "; first other error: " + truncate(st.firstErr, 160)
	}
	if len(st.lat) > 0 {
		s += fmt.Sprintf("; call latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms",
			ms(pct(st.lat, 50)), ms(pct(st.lat, 99)), ms(pctMille(st.lat, 999)), ms(st.lat[len(st.lat)-1]))
	}
	return s
}

// callP99 is the row "PutRecords call latency p99" of the put scenario
// whose result is from: the tail a steady writer sees, which fsyncs and
// checkpoints under load set, where the throughput figure hides them.
func (st putStats) callP99(from Result) Result {
	res := Result{Key: "call-p99-" + strings.TrimPrefix(from.Key, "put-"), Unit: "ms", LowerIsBetter: true,
		Scenario: "PutRecords call latency p99, " + strings.TrimPrefix(from.Scenario, "PutRecords ")}
	switch {
	case from.Failed():
		res.Err = "the scenario failed"
	case len(st.lat) == 0:
		res.Err = "no call succeeded"
	default:
		res.Value = ms(pct(st.lat, 99))
		res.Note = fmt.Sprintf("over the %d successful calls of the throughput scenario (its note gives p50, p99.9 and max)", len(st.lat))
	}
	return res
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "|", "/")
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
