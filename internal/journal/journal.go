package journal

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// Errors returned by the journal.
var (
	// ErrCorrupt is wrapped by the error of Open or Replay when a segment
	// other than the torn tail of the last one is invalid.
	ErrCorrupt = errors.New("journal: corrupt")
	// ErrFailed is wrapped, together with the cause, by the error every
	// pending and later Append receives after a write or fsync error.
	ErrFailed = errors.New("journal: failed after a write or fsync error")
	// ErrClosed is passed to the done callback of an Append made after Close.
	ErrClosed = errors.New("journal: closed")
	// ErrEntryTooLarge is passed synchronously to the done callback of an
	// Append whose entry exceeds MaxEntryBytes; no LSN is assigned and the
	// journal stays usable.
	ErrEntryTooLarge = errors.New("journal: entry too large")
	// ErrReplayAfterAppend is returned by Replay once Append has been called.
	ErrReplayAfterAppend = errors.New("journal: replay after append")
)

// FsyncPolicy says when an appended entry counts as durable.
type FsyncPolicy int

const (
	// Always fsyncs every group before running its done callbacks. It is the
	// zero value and the default.
	Always FsyncPolicy = iota
	// Interval runs done callbacks after the write and fsyncs at most every
	// Options.FsyncInterval; a crash may lose the last interval.
	Interval
	// Never fsyncs only when a segment is rolled and on Close.
	Never
)

// String returns "always", "interval" or "never".
func (p FsyncPolicy) String() string {
	switch p {
	case Always:
		return "always"
	case Interval:
		return "interval"
	case Never:
		return "never"
	}
	return fmt.Sprintf("FsyncPolicy(%d)", int(p))
}

// ParseFsyncPolicy parses the String form of a policy.
func ParseFsyncPolicy(s string) (FsyncPolicy, error) {
	switch strings.ToLower(s) {
	case "always":
		return Always, nil
	case "interval":
		return Interval, nil
	case "never":
		return Never, nil
	}
	return 0, fmt.Errorf("journal: unknown fsync policy %q (want always, interval or never)", s)
}

// Defaults used for zero Options fields.
const (
	DefaultSegmentMaxBytes = 64 << 20
	DefaultFsyncInterval   = 100 * time.Millisecond
	// maxQueuedBytes bounds the entries waiting for the commit goroutine;
	// Append blocks beyond it (back-pressure).
	maxQueuedBytes = 64 << 20
)

// Options configure a Journal. The zero value is usable.
type Options struct {
	// Fsync is the durability policy; the default is Always.
	Fsync FsyncPolicy
	// FsyncInterval is the fsync period under the Interval policy; default
	// DefaultFsyncInterval.
	FsyncInterval time.Duration
	// SegmentMaxBytes is the size at which a segment is rolled; default
	// DefaultSegmentMaxBytes. A single entry larger than this gets a segment
	// of its own.
	SegmentMaxBytes int64
	// Logger receives recovery and failure events; default discards.
	Logger *slog.Logger
}

// withDefaults returns o with zero fields replaced by defaults.
func (o Options) withDefaults() Options {
	if o.FsyncInterval == 0 {
		o.FsyncInterval = DefaultFsyncInterval
	}
	if o.SegmentMaxBytes == 0 {
		o.SegmentMaxBytes = DefaultSegmentMaxBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate reports every invalid field at once.
func (o Options) Validate() error {
	var errs []error
	if o.Fsync < Always || o.Fsync > Never {
		errs = append(errs, fmt.Errorf("journal: invalid fsync policy %d", int(o.Fsync)))
	}
	if o.FsyncInterval < 0 {
		errs = append(errs, fmt.Errorf("journal: negative FsyncInterval %v", o.FsyncInterval))
	}
	if o.SegmentMaxBytes < 0 {
		errs = append(errs, fmt.Errorf("journal: negative SegmentMaxBytes %d", o.SegmentMaxBytes))
	}
	return errors.Join(errs...)
}

// Stats are cumulative counters of a Journal.
type Stats struct {
	Bytes     int64         // bytes in retained segment files
	Segments  int           // retained segment files
	Fsyncs    uint64        // file fsyncs (segment data only)
	FsyncTime time.Duration // total time spent in those fsyncs
}

// pending is an appended entry waiting for the commit goroutine.
type pending struct {
	lsn   uint64
	entry []byte
	done  func(lsn uint64, err error) // nil for all but the last entry of an AppendMany
}

// Journal is a node write-ahead log with group commit. Append, Release and
// Stats are safe for concurrent use; Replay must precede the first Append.
//
// Lock order: mu before segMu; releaseMu before spareMu and segMu. No lock
// is held while done callbacks run.
type Journal struct {
	fs   vfs.FS
	dir  string
	opts Options
	log  *slog.Logger

	mu          sync.Mutex
	spaceCond   *sync.Cond // signalled when the queue drains or the journal stops
	queue       []pending  // guarded by mu; in LSN order
	queuedBytes int        // guarded by mu
	nextLSN     uint64     // guarded by mu; LSN of the next Append
	appended    bool       // guarded by mu; Append was called (Replay refused)
	closing     bool       // guarded by mu
	err         error      // guarded by mu; sticky write or fsync error

	wake    chan struct{} // capacity 1: the queue became non-empty, or Close
	stopped chan struct{} // closed when the commit goroutine exits

	releaseMu sync.Mutex // serializes Release
	spareMu   sync.Mutex // guards spares, spareSeq and the spare files (see recycle.go)
	spares    []string   // released segment files kept for reuse
	spareSeq  uint64     // numbers spare file names
	segMu     sync.Mutex
	segs      []segment // guarded by segMu; oldest first; the last is active
	totalSize int64     // guarded by segMu; sum of segs[i].size

	// replayEnd is the size of each segment as recovered by Open; Replay reads
	// no further. Set by Open, read-only afterwards.
	replayEnd map[string]int64

	// Owned by the commit goroutine.
	active   vfs.File
	padded   bool // stale frames or zeros follow what is written to active (recycle.go)
	dirty    bool // active has writes not yet fsynced
	lastSync time.Time
	buf      []byte

	fsyncs    atomic.Uint64
	fsyncNano atomic.Int64
}

// Open opens or creates the journal in dir, recovers it (cutting only a torn
// tail of the last segment) and starts its commit goroutine.
func Open(fs vfs.FS, dir string, opts Options) (*Journal, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	j := &Journal{
		fs:        fs,
		dir:       dir,
		opts:      opts,
		log:       opts.Logger.With("component", "journal", "dir", dir),
		wake:      make(chan struct{}, 1),
		stopped:   make(chan struct{}),
		replayEnd: make(map[string]int64),
	}
	j.spaceCond = sync.NewCond(&j.mu)
	if err := j.recover(); err != nil {
		if j.active != nil {
			j.active.Close()
		}
		return nil, err
	}
	go j.run()
	return j, nil
}

// recover lists the segments, cuts the torn tail of the last one and opens it
// for appending, creating the first segment if there is none.
func (j *Journal) recover() error {
	// The directory entry itself must survive a crash before anything in it
	// is relied upon.
	if err := vfs.MkdirAllDurable(j.fs, j.dir); err != nil {
		return fmt.Errorf("journal: create dir: %w", err)
	}
	names, err := j.fs.List(j.dir)
	if err != nil {
		return fmt.Errorf("journal: list dir: %w", err)
	}
	removedTemp := false
	for _, name := range names {
		if strings.HasSuffix(name, tempSuffix) {
			if j.keepSpare(name) {
				continue
			}
			if err := j.fs.Remove(path.Join(j.dir, name)); err != nil {
				return fmt.Errorf("journal: remove leftover %s: %w", name, err)
			}
			removedTemp = true
			continue
		}
		first, ok := parseSegmentName(name)
		if !ok {
			continue
		}
		fi, err := j.fs.Stat(path.Join(j.dir, name))
		if err != nil {
			return fmt.Errorf("journal: stat %s: %w", name, err)
		}
		j.segs = append(j.segs, segment{firstLSN: first, name: name, size: fi.Size()})
	}
	if removedTemp {
		if err := j.fs.SyncDir(j.dir); err != nil {
			return fmt.Errorf("journal: sync dir: %w", err)
		}
	}
	if len(j.segs) == 0 {
		j.nextLSN = 1
		return j.createSegment(1)
	}
	last := &j.segs[len(j.segs)-1]
	f, err := j.fs.OpenAppend(path.Join(j.dir, last.name))
	if err != nil {
		return fmt.Errorf("journal: open %s: %w", last.name, err)
	}
	j.active = f
	sc, first, err := newSegmentScanner(f, last.size)
	if err != nil {
		return fmt.Errorf("journal: segment %s: %w", last.name, err)
	}
	if first != last.firstLSN {
		return fmt.Errorf("%w: segment %s has first lsn %d in its header", ErrCorrupt, last.name, first)
	}
	var scanErr error
	for {
		if _, _, scanErr = sc.next(); scanErr != nil {
			break
		}
	}
	if scanErr != io.EOF {
		if scanErr != errTruncated && !errors.Is(scanErr, ErrCorrupt) {
			return fmt.Errorf("journal: scan %s: %w", last.name, scanErr)
		}
		// Everything after the last valid frame of the last segment is a torn
		// write, or the padding of a recycled or preallocated file
		// (recycle.go), which every crash leaves; keep the valid prefix. Only
		// a torn write is worth a warning.
		attrs := []any{"segment", last.name, "offset", sc.off, "cut_bytes", last.size - sc.off}
		switch {
		case errors.Is(scanErr, errStale):
			j.log.Info("cutting the old frames after the last segment's end", attrs...)
		case zerosAt(f, sc.off):
			j.log.Info("cutting the unwritten space after the last segment's end", attrs...)
		default:
			j.log.Warn("cutting torn tail", append(attrs, "reason", scanErr.Error())...)
		}
		if err := f.Truncate(sc.off); err != nil {
			return fmt.Errorf("journal: truncate torn tail of %s: %w", last.name, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("journal: sync %s after truncation: %w", last.name, err)
		}
		last.size = sc.off
	}
	j.nextLSN = sc.nextLSN
	for i := range j.segs {
		j.totalSize += j.segs[i].size
		j.replayEnd[j.segs[i].name] = j.segs[i].size
		if i > 0 && j.segs[i].firstLSN <= j.segs[i-1].firstLSN {
			return fmt.Errorf("%w: segment %s does not follow %s", ErrCorrupt, j.segs[i].name, j.segs[i-1].name)
		}
	}
	// Appending to the recovered segment would make every fsync commit the
	// filesystem's journal too (recycle.go). With a spare at hand, continue
	// in a new segment written over it: that takes no new space, so a full
	// disk does not keep the journal from opening. Not if the recovered
	// segment is empty, as the new one would take its name.
	if len(j.spares) > 0 && last.size > headerSize {
		return j.roll(j.nextLSN)
	}
	return nil
}

// zerosAt reports whether f holds a zero frame header at off: space never
// written, since every frame header has a nonzero version.
func zerosAt(f vfs.File, off int64) bool {
	b := make([]byte, frameHeaderSize)
	if n, _ := f.ReadAt(b, off); n < len(b) {
		return false
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// createSegment crash-safely creates a segment starting at firstLSN, makes it
// the active one and appends it to segs. The caller must have fsynced and
// closed the previous active segment.
func (j *Journal) createSegment(firstLSN uint64) error {
	name := segmentName(firstLSN)
	final := path.Join(j.dir, name)
	tmp := final + tempSuffix
	f, padded, err := j.newSegmentFile(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(encodeHeader(firstLSN)); err != nil {
		f.Close()
		return fmt.Errorf("journal: write header of %s: %w", tmp, err)
	}
	if err := j.syncFile(f); err != nil {
		f.Close()
		return fmt.Errorf("journal: sync %s: %w", tmp, err)
	}
	if err := j.fs.Rename(tmp, final); err != nil {
		f.Close()
		return fmt.Errorf("journal: rename %s: %w", tmp, err)
	}
	if err := j.fs.SyncDir(j.dir); err != nil {
		f.Close()
		return fmt.Errorf("journal: sync dir: %w", err)
	}
	// The file stays open under its new name; writes continue after the
	// header.
	j.active = f
	j.padded = padded
	j.dirty = false
	j.segMu.Lock()
	j.segs = append(j.segs, segment{firstLSN: firstLSN, name: name, size: headerSize})
	j.totalSize += headerSize
	j.segMu.Unlock()
	return nil
}

// syncFile fsyncs f and accounts for it in the stats.
func (j *Journal) syncFile(f vfs.File) error {
	start := time.Now()
	err := f.Sync()
	j.fsyncs.Add(1)
	j.fsyncNano.Add(int64(time.Since(start)))
	return err
}

// Replay calls fn for every retained entry in LSN order, as recovered by
// Open. It must be called before the first Append; afterwards it returns
// ErrReplayAfterAppend. The entry slice is only valid during the call. An
// error from fn stops the replay and is returned.
func (j *Journal) Replay(fn func(lsn uint64, entry []byte) error) error {
	j.mu.Lock()
	appended := j.appended
	j.mu.Unlock()
	if appended {
		return ErrReplayAfterAppend
	}
	j.segMu.Lock()
	segs := append([]segment(nil), j.segs...)
	j.segMu.Unlock()
	var expect uint64
	for i, seg := range segs {
		if i > 0 && seg.firstLSN != expect {
			return fmt.Errorf("%w: segment %s starts at lsn %d, want %d", ErrCorrupt, seg.name, seg.firstLSN, expect)
		}
		next, err := j.replaySegment(seg, fn)
		if err != nil {
			return err
		}
		expect = next
	}
	return nil
}

// replaySegment replays one segment and returns the LSN following its last
// entry.
func (j *Journal) replaySegment(seg segment, fn func(lsn uint64, entry []byte) error) (uint64, error) {
	f, err := j.fs.Open(path.Join(j.dir, seg.name))
	if err != nil {
		return 0, fmt.Errorf("journal: open %s: %w", seg.name, err)
	}
	defer f.Close()
	size, ok := j.replayEnd[seg.name]
	if !ok {
		size = seg.size
	}
	sc, first, err := newSegmentScanner(f, size)
	if err != nil {
		return 0, fmt.Errorf("journal: segment %s: %w", seg.name, err)
	}
	if first != seg.firstLSN {
		return 0, fmt.Errorf("%w: segment %s has first lsn %d in its header", ErrCorrupt, seg.name, first)
	}
	for {
		lsn, entry, err := sc.next()
		if err == io.EOF {
			return sc.nextLSN, nil
		}
		if err == errTruncated {
			// Open cut the last segment's torn tail, so this is an earlier one.
			return 0, fmt.Errorf("%w: segment %s: truncated frame at offset %d", ErrCorrupt, seg.name, sc.off)
		}
		if err != nil {
			return 0, fmt.Errorf("journal: segment %s: %w", seg.name, err)
		}
		if err := fn(lsn, entry); err != nil {
			return 0, err
		}
	}
}

// Append enqueues entry and returns at once, unless more than a bounded
// amount of data is already queued, in which case it blocks until the commit
// goroutine catches up (back-pressure).
//
// done is called exactly once with the entry's LSN: on the commit goroutine,
// strictly in LSN order, after the entry is durable per the policy (for
// Always, after the fsync that covers it), or with a non-nil error if it is
// not. After a write or fsync error, every pending and later entry fails
// with the kept error (wrapping ErrFailed). After Close, or if entry exceeds
// MaxEntryBytes, done is called synchronously with lsn 0 and ErrClosed or
// ErrEntryTooLarge, and no LSN is consumed. The journal does not modify entry
// but keeps it until done is called; the caller must not modify it before.
func (j *Journal) Append(entry []byte, done func(lsn uint64, err error)) {
	j.AppendMany([][]byte{entry}, done)
}

// AppendMany is Append for several entries at once: they get consecutive
// LSNs and are queued together, so one group commit takes them all, and done
// is called once, with the last entry's LSN (lsn 0 if none was consumed).
// Either every entry is accepted or none: if one exceeds MaxEntryBytes, done
// gets ErrEntryTooLarge synchronously. The journal keeps the entries until
// done is called. Callers with one entry per shard use it to cost one wake-up
// and one callback per request rather than per shard.
func (j *Journal) AppendMany(entries [][]byte, done func(lsn uint64, err error)) {
	size := 0
	for _, e := range entries {
		if len(e) > MaxEntryBytes {
			done(0, fmt.Errorf("%w: %d bytes, max %d", ErrEntryTooLarge, len(e), MaxEntryBytes))
			return
		}
		size += len(e)
	}
	if len(entries) == 0 {
		done(0, nil)
		return
	}
	j.mu.Lock()
	for j.queuedBytes >= maxQueuedBytes && !j.closing {
		j.spaceCond.Wait()
	}
	if j.closing {
		j.mu.Unlock()
		done(0, ErrClosed)
		return
	}
	j.appended = true
	wasEmpty := len(j.queue) == 0
	for i, e := range entries {
		p := pending{lsn: j.nextLSN, entry: e}
		if i == len(entries)-1 {
			p.done = done
		}
		j.nextLSN++
		j.queue = append(j.queue, p)
	}
	j.queuedBytes += size
	j.mu.Unlock()
	if wasEmpty {
		j.signal()
	}
}

// signal wakes the commit goroutine without blocking.
func (j *Journal) signal() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// run is the commit goroutine: it takes everything queued, writes and
// fsyncs it as one group, runs the callbacks, and repeats.
func (j *Journal) run() {
	defer close(j.stopped)
	var tick <-chan time.Time
	if j.opts.Fsync == Interval {
		t := time.NewTicker(j.opts.FsyncInterval)
		defer t.Stop()
		tick = t.C
	}
	var spare []pending
	for {
		select {
		case <-j.wake:
		case <-tick:
			j.intervalSync()
			continue
		}
		for {
			j.mu.Lock()
			group := j.queue
			if len(group) > 0 {
				// Double-buffer: appenders fill spare while this group commits.
				j.queue = spare[:0]
				j.queuedBytes = 0
			}
			closing, failed := j.closing, j.err
			j.spaceCond.Broadcast()
			j.mu.Unlock()
			if len(group) == 0 {
				if closing {
					j.shutdown()
					return
				}
				break
			}
			j.commit(group, failed)
			clear(group) // drop references to entries and callbacks
			spare = group
		}
	}
}

// commit writes one group, fsyncs it per the policy and runs its callbacks.
func (j *Journal) commit(group []pending, failed error) {
	if failed == nil {
		failed = j.writeGroup(group)
	}
	for _, p := range group {
		if p.done != nil { // nil for all but the last entry of an AppendMany
			p.done(p.lsn, failed)
		}
	}
}

// writeGroup writes the group's frames, rolling segments as needed, and
// fsyncs per the policy. An error is made sticky before it is returned.
func (j *Journal) writeGroup(group []pending) error {
	j.buf = j.buf[:0]
	j.segMu.Lock()
	size := j.segs[len(j.segs)-1].size
	j.segMu.Unlock()
	for _, p := range group {
		fs := frameSize(len(p.entry))
		if size+int64(len(j.buf)) > headerSize && size+int64(len(j.buf))+fs > j.opts.SegmentMaxBytes {
			if err := j.flush(); err != nil {
				return j.fail(err)
			}
			if err := j.roll(p.lsn); err != nil {
				return j.fail(err)
			}
			size = headerSize
		}
		j.buf = appendFrame(j.buf, p.lsn, p.entry)
	}
	if err := j.flush(); err != nil {
		return j.fail(err)
	}
	if j.opts.Fsync == Always || (j.opts.Fsync == Interval && time.Since(j.lastSync) >= j.opts.FsyncInterval) {
		if err := j.syncActive(); err != nil {
			return j.fail(err)
		}
	}
	if cap(j.buf) > 4<<20 {
		j.buf = nil // don't pin a huge buffer after a burst
	}
	return nil
}

// flush writes j.buf to the active segment with one write.
func (j *Journal) flush() error {
	if len(j.buf) == 0 {
		return nil
	}
	n, err := j.active.Write(j.buf)
	j.segMu.Lock()
	j.segs[len(j.segs)-1].size += int64(n)
	j.totalSize += int64(n)
	j.segMu.Unlock()
	j.buf = j.buf[:0]
	if n > 0 {
		j.dirty = true
	}
	if err != nil {
		return fmt.Errorf("journal: write: %w", err)
	}
	return nil
}

// syncActive fsyncs the active segment if it has unsynced writes.
func (j *Journal) syncActive() error {
	if !j.dirty {
		return nil
	}
	if err := j.syncFile(j.active); err != nil {
		return fmt.Errorf("journal: fsync: %w", err)
	}
	j.dirty = false
	j.lastSync = time.Now()
	return nil
}

// roll fsyncs and closes the active segment and creates the next one, whose
// first entry will be firstLSN.
func (j *Journal) roll(firstLSN uint64) error {
	if err := j.sealActive(); err != nil {
		return err
	}
	if err := j.active.Close(); err != nil {
		return fmt.Errorf("journal: close segment: %w", err)
	}
	j.active = nil
	return j.createSegment(firstLSN)
}

// intervalSync is the Interval policy's periodic fsync.
func (j *Journal) intervalSync() {
	j.mu.Lock()
	failed := j.err
	j.mu.Unlock()
	if failed != nil || j.active == nil {
		return
	}
	if err := j.syncActive(); err != nil {
		j.fail(err)
	}
}

// fail makes err sticky (the first error wins) and returns the sticky error.
func (j *Journal) fail(err error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err == nil {
		j.err = fmt.Errorf("%w: %w", ErrFailed, err)
		j.log.Error("journal failed; refusing further writes", "err", err)
	}
	return j.err
}

// shutdown runs on the commit goroutine once Close has drained the queue.
func (j *Journal) shutdown() {
	j.mu.Lock()
	failed := j.err
	j.mu.Unlock()
	if j.active == nil {
		return
	}
	if failed == nil {
		if err := j.sealActive(); err != nil {
			j.fail(err)
		}
	}
	if err := j.active.Close(); err != nil {
		j.fail(fmt.Errorf("journal: close segment: %w", err))
	}
	j.active = nil
}

// Close writes and fsyncs every queued entry (running their callbacks), then
// stops the journal. It returns the kept error if the journal failed. Later
// Appends fail with ErrClosed. Close is idempotent.
func (j *Journal) Close() error {
	j.mu.Lock()
	j.closing = true
	j.spaceCond.Broadcast()
	j.mu.Unlock()
	j.signal()
	<-j.stopped
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// Err returns the kept write or fsync error, or nil.
func (j *Journal) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// Release declares the entries up to and including lsn no longer needed and
// deletes every whole segment that holds only such entries, oldest first.
// The active (last) segment is never deleted, so Replay may still return
// released entries. Release is safe to call concurrently with Append.
func (j *Journal) Release(lsn uint64) error {
	if err := j.Err(); err != nil {
		return err
	}
	j.releaseMu.Lock()
	defer j.releaseMu.Unlock()
	for {
		j.segMu.Lock()
		if len(j.segs) < 2 || j.segs[1].firstLSN > lsn+1 {
			j.segMu.Unlock()
			return nil
		}
		victim := j.segs[0]
		j.segMu.Unlock()
		if err := j.retire(victim.name); err != nil {
			return fmt.Errorf("journal: release %s: %w", victim.name, err)
		}
		// Make each removal durable before the next, so that a crash never
		// leaves a hole in the middle of the segment sequence.
		if err := j.fs.SyncDir(j.dir); err != nil {
			return j.fail(fmt.Errorf("journal: sync dir after release: %w", err))
		}
		j.segMu.Lock()
		j.segs = j.segs[1:]
		j.totalSize -= victim.size
		j.segMu.Unlock()
	}
}

// Stats returns the journal's counters.
func (j *Journal) Stats() Stats {
	j.segMu.Lock()
	st := Stats{Bytes: j.totalSize, Segments: len(j.segs)}
	j.segMu.Unlock()
	st.Fsyncs = j.fsyncs.Load()
	st.FsyncTime = time.Duration(j.fsyncNano.Load())
	return st
}
