package store

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/riffle-streams/riffle/internal/journal"
	"github.com/riffle-streams/riffle/internal/shardlog"
)

// Shard is one durable shard. All methods are safe for concurrent use.
type Shard struct {
	s   *Store
	uid uint64
	// logp is the shard's log; Store.Reopen replaces it (under mu) after a
	// failure, so readers load it once per call.
	logp atomic.Pointer[shardlog.Log]

	// mu orders appends: positions are assigned and the journal entry is
	// enqueued under it, so that journal order equals position order.
	mu sync.Mutex
	// Invariant: log.Next() <= nextSeq; they are equal when no append is in
	// flight.
	nextSeq     uint64 // guarded by mu
	lastArrival int64  // guarded by mu; ArrivalMillis of the last assigned record

	deleted atomic.Bool // set by DeleteShard (under mu) before the log is closed
	// appendedBytes counts the encoded bytes of every batch appended since
	// the shard was opened, for write-rate measurement.
	appendedBytes atomic.Int64

	changedMu sync.Mutex
	changed   chan struct{} // guarded by changedMu; closed and replaced on new records
	// watched is set (under changedMu) when changed is handed out, and
	// cleared when it is closed: notify reads it without the lock, which
	// a write spread over thousands of unwatched shards took for each.
	watched atomic.Bool
}

func newShard(s *Store, uid uint64, l *shardlog.Log) *Shard {
	sh := &Shard{s: s, uid: uid, changed: make(chan struct{})}
	sh.logp.Store(l)
	return sh
}

// log returns the shard's current log.
func (sh *Shard) log() *shardlog.Log { return sh.logp.Load() }

// UID returns the shard's uid.
func (sh *Shard) UID() uint64 { return sh.uid }

// Ack is the outcome of an Append.
type Ack struct {
	done chan struct{}
	err  error // written before done is closed
}

func newAck() *Ack { return &Ack{done: make(chan struct{})} }

func (a *Ack) complete(err error) {
	a.err = err
	close(a.done)
}

// Wait blocks until the records are durable (per the fsync policy) and
// readable, and returns nil; or returns the error that prevented it. After an
// error, the records may or may not be in the shard after a restart.
func (a *Ack) Wait() error {
	<-a.done
	return a.err
}

// Done returns a channel closed when the outcome is known (see Wait).
func (a *Ack) Done() <-chan struct{} { return a.done }

// Append assigns the records consecutive positions from the shard's next one
// and non-decreasing arrival times (max of the previous and Now), writing
// them into recs, and enqueues them to the journal. It returns at once; the
// caller must not modify recs until the Ack completes. An empty batch
// completes at once. It is AppendMany of one batch.
func (sh *Shard) Append(recs []Record) *Ack {
	return sh.s.AppendMany([]Batch{{Shard: sh, Recs: recs}})
}

// write writes the records of the durable entry lsn (or one the journal
// failed with jerr) to the shard log. It returns the batch's outcome, and whether
// the entry counts as applied: written, or skipped because the shard was
// deleted.
func (sh *Shard) write(lsn uint64, recs []Record, jerr error) (applied bool, err error) {
	s := sh.s
	if jerr != nil {
		if errors.Is(jerr, journal.ErrClosed) {
			return false, ErrClosed
		}
		return false, s.fail(jerr)
	}
	if sh.deleted.Load() {
		return true, fmt.Errorf("%w: %016x", ErrShardNotFound, sh.uid)
	}
	if err := s.failure(); err != nil && err != ErrClosed {
		// An earlier shard-log error: the log may be behind this entry.
		return false, err
	}
	if err := sh.log().Append(recs); err != nil {
		if sh.deleted.Load() && errors.Is(err, shardlog.ErrClosed) {
			return true, fmt.Errorf("%w: %016x", ErrShardNotFound, sh.uid)
		}
		return false, s.fail(fmt.Errorf("apply lsn %d to shard %016x: %w", lsn, sh.uid, err))
	}
	return true, nil
}

// notify wakes the waiters on Changed. A channel nobody asked for is kept:
// most shards of a busy node have no reader waiting, and a new channel per
// applied batch was a measurable share of a many-shard write load.
func (sh *Shard) notify() {
	if !sh.watched.Load() {
		// Records applied before this load are visible to a reader that
		// calls Changed after it, so that reader misses nothing.
		return
	}
	sh.changedMu.Lock()
	if sh.watched.Load() {
		close(sh.changed)
		sh.changed = make(chan struct{})
		sh.watched.Store(false)
	}
	sh.changedMu.Unlock()
}

// Changed returns a channel that is closed when new records become visible
// (or the shard is deleted). Call it again after each wake-up.
func (sh *Shard) Changed() <-chan struct{} {
	sh.changedMu.Lock()
	defer sh.changedMu.Unlock()
	sh.watched.Store(true)
	return sh.changed
}

// Read returns records with Seq >= max(from, First()), in order, at most
// maxRecords and about maxBytes of key and data (at least one record if any
// is readable). Only durable, applied records are returned. The caller owns
// the returned slices.
func (sh *Shard) Read(from uint64, maxRecords, maxBytes int) ([]Record, error) {
	recs, err := sh.log().Read(from, maxRecords, maxBytes)
	if err != nil && sh.deleted.Load() {
		return nil, fmt.Errorf("%w: %016x", ErrShardNotFound, sh.uid)
	}
	if err != nil {
		return nil, fmt.Errorf("store: read shard %016x: %w", sh.uid, err)
	}
	return recs, nil
}

// First returns the oldest readable position.
func (sh *Shard) First() uint64 { return sh.log().First() }

// AppendedBytes returns the encoded size of all batches appended since the
// shard was opened: a counter for measuring write rates.
func (sh *Shard) AppendedBytes() int64 { return sh.appendedBytes.Load() }

// Assigned returns the position the next appended record will get: one past
// every record appended so far, including those not yet durable. A caller that
// stops appending to the shard (to close it) learns its final end from this.
func (sh *Shard) Assigned() uint64 {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.nextSeq
}

// Next returns one past the last visible record's position.
func (sh *Shard) Next() uint64 { return sh.log().Next() }

// SeekTime returns the first readable position with ArrivalMillis >= ms, or
// Next() if none.
func (sh *Shard) SeekTime(ms int64) uint64 { return sh.log().SeekTime(ms) }

// LastArrivalMillis returns the arrival time of the newest visible record, 0
// if none.
func (sh *Shard) LastArrivalMillis() int64 { return sh.log().LastArrivalMillis() }

// TrimBefore makes records that arrived before ms unreadable and deletes the
// shard-log segments holding only such records.
func (sh *Shard) TrimBefore(ms int64) error {
	if err := sh.log().TrimBefore(ms); err != nil {
		if sh.deleted.Load() {
			return fmt.Errorf("%w: %016x", ErrShardNotFound, sh.uid)
		}
		return fmt.Errorf("store: trim shard %016x: %w", sh.uid, err)
	}
	return nil
}
