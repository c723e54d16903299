package store

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/riffle-streams/riffle/internal/bufpool"
	"github.com/riffle-streams/riffle/internal/journal"
)

// A PutRecords call spread over thousands of shards appends to hundreds of
// them at once. Appended one by one, each shard's batch cost its own Ack,
// journal callback, applier hand-off and checkpoint bookkeeping, several
// times the cost of its records. AppendMany keeps one journal entry per
// shard (the journal format of a single shard's append, and its recovery)
// but pays the rest once per call. Shard.Append is AppendMany of one batch.

// Batch is one shard's records in an AppendMany.
type Batch struct {
	Shard *Shard
	Recs  []Record
	// Err is the batch's outcome, set before the Ack completes: nil if its
	// records are durable and readable.
	Err error
}

// manyItem is an AppendMany on its way through the journal and applier.
type manyItem struct {
	batches []Batch
	queued  []int // indices of the batches whose entries were enqueued, in LSN order
	sizes   []int // their entry sizes
	ack     *Ack
}

// AppendMany appends each batch to its shard as Append would, positions and
// arrival times included, and enqueues the entries to the journal together:
// one group commit takes them all and the applier writes them in one go. The
// Ack completes once every batch has its outcome in Err; Wait returns the
// first error, if any. The batches must name distinct shards, and the caller
// must not modify them until the Ack completes.
func (s *Store) AppendMany(batches []Batch) *Ack {
	it := &manyItem{batches: batches, ack: newAck()}
	// Shard locks in uid order, as Reopen takes them. The uids are read in
	// this loop, one independent load per shard, rather than by the sort's
	// comparisons: with hundreds of cold shards, those loads were a chain of
	// cache misses.
	order := make([]int, 0, len(batches))
	uids := make([]uint64, len(batches))
	total := 0
	for i := range batches {
		b := &batches[i]
		b.Err = nil
		uids[i] = b.Shard.uid
		if len(b.Recs) == 0 {
			continue
		}
		size := entrySize(b.Recs)
		if size > journal.MaxEntryBytes {
			b.Err = fmt.Errorf("%w: %d bytes, max %d", ErrBatchTooLarge, size, journal.MaxEntryBytes)
			continue
		}
		total += size
		order = append(order, i)
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(uids[a], uids[b]) })
	for _, i := range order {
		batches[i].Shard.mu.Lock()
	}
	defer func() {
		for _, i := range order {
			batches[i].Shard.mu.Unlock()
		}
	}()
	if err := s.failure(); err != nil {
		for _, i := range order {
			batches[i].Err = err
		}
		it.complete()
		return it.ack
	}
	bp := bufpool.Get(total) // every entry in one buffer, free once the journal is done with them
	buf := (*bp)[:0]
	entries := make([][]byte, 0, len(order))
	now := s.opts.Now().UnixMilli()
	for _, i := range order {
		b := &batches[i]
		sh := b.Shard
		if sh.deleted.Load() {
			b.Err = fmt.Errorf("%w: %016x", ErrShardNotFound, sh.uid)
			continue
		}
		arrival := max(sh.lastArrival, now)
		first := sh.nextSeq
		for k := range b.Recs {
			b.Recs[k].Seq = first + uint64(k)
			b.Recs[k].ArrivalMillis = arrival
		}
		start := len(buf)
		buf = encodeEntry(buf, sh.uid, first, b.Recs)
		entries = append(entries, buf[start:len(buf):len(buf)])
		sh.nextSeq += uint64(len(b.Recs))
		sh.lastArrival = arrival
		sh.appendedBytes.Add(int64(len(buf) - start))
		it.queued = append(it.queued, i)
		it.sizes = append(it.sizes, len(buf)-start)
	}
	if len(entries) == 0 {
		bufpool.Put(bp)
		it.complete()
		return it.ack
	}
	s.journal().AppendMany(entries, func(lsn uint64, err error) {
		bufpool.Put(bp) // the journal keeps entries only until this call
		if err != nil {
			s.applyMany(it, lsn, err) // nothing to write; as in Append
			return
		}
		s.applyQ <- applyItem{many: it, lsn: lsn}
	})
	return it.ack
}

// parallelApplyMin is the number of batches from which applyMany writes
// them on two goroutines: spread over thousands of shards, a call's writes
// were the applier's whole time and added to every caller's latency. A
// variable for tests.
var parallelApplyMin = 64

// warmMin is the number of batches from which applyMany warms their shard
// logs (shardlog.Log.Warm) before writing any: with a few shards their state
// stays in the cache anyway. warmSink keeps the warming reads.
const warmMin = 16

var warmSink atomic.Int64

// applyMany writes the batches of a durable AppendMany whose last entry is
// lsn, then completes its Ack.
func (s *Store) applyMany(it *manyItem, lsn uint64, jerr error) {
	first := lsn + 1 - uint64(len(it.queued)) // meaningless if jerr != nil: nothing is applied then
	ok := make([]bool, len(it.queued))
	write := func(from, to int) {
		if to-from >= warmMin {
			warm := 0
			for k := from; k < to; k++ {
				warm += it.batches[it.queued[k]].Shard.log().Warm()
			}
			warmSink.Add(int64(warm))
		}
		for k := from; k < to; k++ {
			b := &it.batches[it.queued[k]]
			ok[k], b.Err = b.Shard.write(first+uint64(k), b.Recs, jerr)
		}
	}
	// The batches are of distinct shards, so their writes are independent;
	// the next item waits for both halves, which keeps each shard's order.
	if n := len(it.queued); n >= parallelApplyMin && jerr == nil {
		var wg sync.WaitGroup
		wg.Go(func() { write(n/2, n) })
		write(0, n/2)
		wg.Wait()
	} else {
		write(0, n)
	}
	var written []*Shard
	applied, size := 0, 0
	for k, i := range it.queued {
		if !ok[k] {
			continue
		}
		// Entries count as applied in LSN order, up to the first that is
		// neither written nor skipped (the store has failed then).
		if applied == k {
			applied++
			size += it.sizes[k]
		}
		if b := &it.batches[i]; b.Err == nil {
			written = append(written, b.Shard)
		}
	}
	if applied > 0 {
		s.noteApplied(first+uint64(applied)-1, size, written...)
	}
	for _, sh := range written {
		sh.notify()
	}
	it.complete()
}

// complete completes the Ack with the first batch error, if any.
func (it *manyItem) complete() {
	for _, b := range it.batches {
		if b.Err != nil {
			it.ack.complete(b.Err)
			return
		}
	}
	it.ack.complete(nil)
}
