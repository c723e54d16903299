package shardlog

import (
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// Sentinel errors. Errors returned by the log wrap them, so test with
// errors.Is.
var (
	// ErrCorrupt is returned by Open when a segment header is invalid, a
	// frame before the tail of the last segment is invalid, or segments
	// do not continue each other; and by Read when a frame fails its
	// checksum.
	ErrCorrupt = errors.New("shardlog: corrupt log")
	// ErrOutOfSequence is returned by Append when the first record's Seq is
	// not Next() or the batch's positions are not consecutive.
	ErrOutOfSequence = errors.New("shardlog: record out of sequence")
	// ErrArrivalOrder is returned by Append when arrival times would
	// decrease.
	ErrArrivalOrder = errors.New("shardlog: arrival time decreases")
	// ErrBatchTooLarge is returned by Append when a batch would encode to
	// more than 256 MiB.
	ErrBatchTooLarge = errors.New("shardlog: batch too large")
	// ErrClosed is returned by every method of a closed log that returns
	// an error.
	ErrClosed = errors.New("shardlog: log closed")
)

// Record is one record of a shard.
type Record struct {
	Seq           uint64 // position in the shard, assigned by the caller; consecutive
	ArrivalMillis int64  // approximate arrival time, ms since epoch; non-decreasing within a log
	PartitionKey  string
	Data          []byte
}

// Options configure a Log. The zero value is usable: zero fields take their
// defaults.
type Options struct {
	// SegmentMaxBytes is the size past which the log starts a new segment
	// (a single larger batch still fits in a segment of its own). Default
	// 64 MiB.
	SegmentMaxBytes int64
	// IndexIntervalBytes is the step of the sparse in-memory index: the
	// most bytes a seek scans beyond one batch. Default 4 KiB.
	IndexIntervalBytes int
	// WriteBehindBytes, if positive, keeps up to that many appended bytes in
	// memory before writing them to the segment file (see writebehind.go).
	// Only for callers whose data is durable elsewhere until they Sync.
	WriteBehindBytes int
}

// Default option values.
const (
	DefaultSegmentMaxBytes    = 64 << 20
	DefaultIndexIntervalBytes = 4 << 10
)

// Validate reports every invalid option at once.
func (o Options) Validate() error {
	var errs []error
	if o.SegmentMaxBytes < 0 {
		errs = append(errs, fmt.Errorf("shardlog: SegmentMaxBytes %d is negative", o.SegmentMaxBytes))
	}
	if o.IndexIntervalBytes < 0 {
		errs = append(errs, fmt.Errorf("shardlog: IndexIntervalBytes %d is negative", o.IndexIntervalBytes))
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if o.SegmentMaxBytes == 0 {
		o.SegmentMaxBytes = DefaultSegmentMaxBytes
	}
	if o.IndexIntervalBytes == 0 {
		o.IndexIntervalBytes = DefaultIndexIntervalBytes
	}
	return o
}

// Log is one shard's segmented log. See the package documentation for the
// concurrency rules.
type Log struct {
	// The fields an Append touches come first, so that they share as few
	// cache lines as they can: spread over thousands of shards, every
	// append starts with a cold log.

	// wmu serializes writers: Append, TrimBefore, Close, and Sync while it
	// picks the file to fsync (the fsync runs under syncMu). A writer
	// may read the fields guarded by mu without mu, since only writers
	// change them; it changes them only while holding mu too.
	// Lock order: wmu, syncMu, mu.
	wmu sync.Mutex
	// syncMu keeps the active segment's file open while Sync fsyncs it
	// without wmu, so that appends go on meanwhile: a checkpoint's fsync of
	// tens of MiB under wmu stalled every acknowledgement queued behind
	// this log's next append. roll and close take it, after wmu and before
	// mu, to sync or close that file.
	syncMu sync.Mutex
	// werr is the first write, truncate, fsync or file lifecycle error;
	// once set, every write returns it (fail-stop). Guarded by wmu.
	werr error
	// tail is segs' last segment, the one appended to. It is stored (under
	// wmu and mu) whenever segs gains a last segment, and read atomically
	// so that Warm may read it without locks.
	tail atomic.Pointer[segment]
	opts Options

	mu          sync.RWMutex
	next        uint64
	lastArrival int64
	sizeBytes   int64
	closed      bool
	// Invariant: segs[0].base <= first <= next.
	first uint64
	// segs is ordered by base; only the last may be empty.
	segs []*segment

	buf []byte // encoding buffer; guarded by wmu
	fs  vfs.FS
	dir string

	recovered int64 // bytes cut from a torn tail by Open
}

// Open opens the log in dir, creating the directory and an empty log if
// needed, and recovers it: a torn tail of the last segment is cut (see
// Recovered); other invalid data is ErrCorrupt.
func Open(fsys vfs.FS, dir string, opts Options) (*Log, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	l := &Log{fs: fsys, dir: dir, opts: opts.withDefaults()}
	if err := vfs.MkdirAllDurable(fsys, dir); err != nil {
		return nil, fmt.Errorf("shardlog: create %s: %w", dir, err)
	}
	names, err := fsys.List(dir)
	if err != nil {
		return nil, fmt.Errorf("shardlog: list %s: %w", dir, err)
	}
	var bases []uint64
	removedTmp := false
	for _, name := range names {
		if strings.HasSuffix(name, segmentSuffix+".tmp") {
			// Left by a crash while creating a segment: never renamed,
			// so never used.
			if err := fsys.Remove(path.Join(dir, name)); err != nil {
				return nil, fmt.Errorf("shardlog: remove %s: %w", name, err)
			}
			removedTmp = true
			continue
		}
		if base, ok := parseSegmentName(name); ok {
			bases = append(bases, base)
		}
	}
	if removedTmp {
		if err := fsys.SyncDir(dir); err != nil {
			return nil, fmt.Errorf("shardlog: sync dir %s: %w", dir, err)
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	if len(bases) == 0 {
		seg, err := l.createSegment(0, 0)
		if err != nil {
			return nil, err
		}
		l.segs = []*segment{seg}
	} else {
		for i, base := range bases {
			seg, err := l.openSegment(base, i == len(bases)-1)
			if err != nil {
				l.closeFiles()
				return nil, err
			}
			l.segs = append(l.segs, seg)
			if i > 0 {
				prev := l.segs[i-1]
				if seg.base != prev.next {
					l.closeFiles()
					return nil, fmt.Errorf("%w: %s starts at %d, previous segment ends at %d",
						ErrCorrupt, seg.path, seg.base, prev.next)
				}
				if !seg.empty() && seg.firstArrival < prev.lastArrival {
					l.closeFiles()
					return nil, fmt.Errorf("%w: %s: arrival times decrease across segments", ErrCorrupt, seg.path)
				}
			}
		}
	}
	last := l.segs[len(l.segs)-1]
	l.first, l.next = l.segs[0].base, last.next
	l.tail.Store(last)
	l.lastArrival = last.prevArrival
	if !last.empty() {
		l.lastArrival = last.lastArrival
	}
	for _, s := range l.segs {
		l.sizeBytes += s.size
	}
	return l, nil
}

// CreateEmpty writes an empty log into the new directory dir, syncing
// nothing, for Open to open. It is for creating many logs at once and making
// them durable together (vfs.BulkSyncer), where Open's crash-safe creation
// costs three fsyncs per log. Until that sync a crash may leave dir with a
// torn segment header, which Open reports as corrupt: the caller writes dir
// under a name that it removes, rather than opens, after a crash.
func CreateEmpty(fsys vfs.FS, dir string) error {
	if err := fsys.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("shardlog: create %s: %w", dir, err)
	}
	name := path.Join(dir, segmentName(0))
	f, err := fsys.Create(name)
	if err != nil {
		return fmt.Errorf("shardlog: create %s: %w", name, err)
	}
	_, err = f.Write(appendSegmentHeader(nil, 0, 0))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("shardlog: write %s: %w", name, err)
	}
	return nil
}

const segmentSuffix = ".seg"

// keepBufBytes bounds the encoding buffer kept between appends.
const keepBufBytes = 16 << 20

func segmentName(base uint64) string { return fmt.Sprintf("%020d%s", base, segmentSuffix) }

func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	base, err := strconv.ParseUint(digits, 10, 64)
	return base, err == nil
}

// createSegment creates an empty segment crash-safely: temp name, header,
// fsync, rename, fsync of the directory. The returned segment's file is
// open for appending.
func (l *Log) createSegment(base uint64, prevArrival int64) (*segment, error) {
	final := path.Join(l.dir, segmentName(base))
	tmp := final + ".tmp"
	f, err := l.fs.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("shardlog: create %s: %w", tmp, err)
	}
	fail := func(op string, err error) (*segment, error) {
		f.Close()
		return nil, fmt.Errorf("shardlog: %s %s: %w", op, tmp, err)
	}
	if _, err := f.Write(appendSegmentHeader(nil, base, prevArrival)); err != nil {
		return fail("write header of", err)
	}
	if err := f.Sync(); err != nil {
		return fail("sync", err)
	}
	if err := l.fs.Rename(tmp, final); err != nil {
		return fail("rename", err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		f.Close()
		return nil, fmt.Errorf("shardlog: sync dir %s: %w", l.dir, err)
	}
	af, err := l.activeFile(f)
	if err != nil {
		return fail("size of", err)
	}
	seg := &segment{path: final, base: base, prevArrival: prevArrival, next: base, size: segmentHeaderSize}
	seg.setFile(af)
	return seg, nil
}

// openSegment reads and checks a segment, building its index. The last
// segment's torn tail is cut and it is left open for appending.
func (l *Log) openSegment(base uint64, last bool) (*segment, error) {
	p := path.Join(l.dir, segmentName(base))
	var f vfs.File
	var err error
	if last {
		f, err = l.fs.OpenAppend(p)
	} else {
		f, err = l.fs.Open(p)
	}
	if err != nil {
		return nil, fmt.Errorf("shardlog: open %s: %w", p, err)
	}
	seg, err := l.scanSegment(f, p, base, last)
	if err != nil || !last {
		f.Close()
		return seg, err
	}
	af, err := l.activeFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("shardlog: size of %s: %w", p, err)
	}
	seg.setFile(af)
	return seg, nil
}

func (l *Log) scanSegment(f vfs.File, p string, base uint64, last bool) (*segment, error) {
	fileSize, err := f.Size()
	if err != nil {
		return nil, fmt.Errorf("shardlog: size of %s: %w", p, err)
	}
	hdr := make([]byte, segmentHeaderSize)
	if n, err := f.ReadAt(hdr, 0); n < len(hdr) {
		if err == nil || err == io.EOF {
			return nil, fmt.Errorf("%w: %s: short segment header (%d bytes)", ErrCorrupt, p, n)
		}
		return nil, fmt.Errorf("shardlog: read %s: %w", p, err)
	}
	hbase, prevArrival, err := parseSegmentHeader(hdr)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, p, err)
	}
	if hbase != base {
		return nil, fmt.Errorf("%w: %s: header says base %d", ErrCorrupt, p, hbase)
	}
	seg := &segment{path: p, base: base, prevArrival: prevArrival, next: base, size: segmentHeaderSize}
	r := &frameReader{f: f, off: segmentHeaderSize, end: fileSize, chunk: 1 << 20}
	for {
		off := r.off
		frame, h, err := r.next()
		if err == io.EOF {
			return seg, nil
		}
		if err == nil {
			err = seg.checkContinues(h)
		}
		if err == nil {
			err = forEachRecord(frame, h, func(uint32, int64, []byte, []byte) bool { return true })
		}
		if err != nil {
			if !errors.Is(err, errBadFrame) && !errors.Is(err, errShortFrame) {
				return nil, fmt.Errorf("shardlog: read %s: %w", p, err)
			}
			if !last || validFrameFollows(f, off, fileSize) {
				return nil, fmt.Errorf("%w: %s at offset %d: %v", ErrCorrupt, p, off, err)
			}
			// A torn tail: batches written but not all synced before a
			// crash. Cut it so appends continue from valid data.
			if err := f.Truncate(off); err != nil {
				return nil, fmt.Errorf("shardlog: truncate %s: %w", p, err)
			}
			if err := f.Sync(); err != nil {
				return nil, fmt.Errorf("shardlog: sync %s: %w", p, err)
			}
			l.recovered = fileSize - off
			return seg, nil
		}
		seg.noteBatch(h, off, l.opts.IndexIntervalBytes)
	}
}

// checkContinues reports whether a batch continues the segment's positions
// and arrival times.
func (s *segment) checkContinues(h batchHeader) error {
	if h.firstSeq != s.next {
		return fmt.Errorf("%w: batch starts at %d, want %d", errBadFrame, h.firstSeq, s.next)
	}
	prev := s.prevArrival
	if !s.empty() {
		prev = s.lastArrival
	}
	if h.firstArrival < prev {
		return fmt.Errorf("%w: arrival %d before %d", errBadFrame, h.firstArrival, prev)
	}
	return nil
}

// validFrameFollows reports whether, after the invalid frame at off, the
// frame its length field points to is valid: then the damage is in the
// middle of the file, not a torn tail.
func validFrameFollows(f vfs.File, off, fileSize int64) bool {
	lenb := make([]byte, 8)
	if n, _ := f.ReadAt(lenb, off); n < 8 {
		return false
	}
	n, err := frameLength(lenb)
	if err != nil || off+n >= fileSize {
		return false
	}
	r := &frameReader{f: f, off: off + n, end: fileSize, chunk: readChunk}
	_, _, err = r.next()
	return err == nil
}

func (l *Log) closeFiles() {
	for _, s := range l.segs {
		if s.f != nil {
			s.f.Close()
			s.f = nil
		}
	}
}

// Recovered returns the number of bytes Open cut from a torn tail of the
// last segment, 0 if none.
func (l *Log) Recovered() (cutBytes int64) { return l.recovered }

// Append writes one batch, without fsync. recs[0].Seq must equal Next() and
// positions must be consecutive (else ErrOutOfSequence), arrival times must
// not decrease (else ErrArrivalOrder); on those errors nothing is written.
// When Append returns nil the records are readable. An empty batch is a
// no-op. After a write error the log is failed (see the package doc).
func (l *Log) Append(recs []Record) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	prevArrival := l.lastArrival
	for i := range recs {
		if want := l.next + uint64(i); recs[i].Seq != want {
			return fmt.Errorf("%w: record %d has Seq %d, want %d", ErrOutOfSequence, i, recs[i].Seq, want)
		}
		if recs[i].ArrivalMillis < prevArrival {
			return fmt.Errorf("%w: record %d arrived at %d, before %d", ErrArrivalOrder, i, recs[i].ArrivalMillis, prevArrival)
		}
		prevArrival = recs[i].ArrivalMillis
	}
	frameLen := int64(batchSize(recs))
	if frameLen-8 > maxFrameBody {
		return fmt.Errorf("%w: %d bytes", ErrBatchTooLarge, frameLen)
	}
	active := l.tail.Load()
	if !active.empty() && active.size+frameLen > l.opts.SegmentMaxBytes {
		if err := l.roll(); err != nil {
			return err
		}
		active = l.tail.Load()
	}
	off := active.size
	if err := l.writeFrame(active, recs, int(frameLen)); err != nil {
		l.werr = fmt.Errorf("shardlog: append to %s: %w", active.path, err)
		return l.werr
	}
	h := batchHeader{
		frameLen:     frameLen,
		firstSeq:     recs[0].Seq,
		count:        uint32(len(recs)),
		firstArrival: recs[0].ArrivalMillis,
		lastArrival:  recs[len(recs)-1].ArrivalMillis,
	}
	l.mu.Lock()
	active.noteBatch(h, off, l.opts.IndexIntervalBytes)
	l.next = h.nextSeq()
	l.lastArrival = h.lastArrival
	l.sizeBytes += frameLen
	l.mu.Unlock()
	return nil
}

// writeFrame writes the frame of recs, size bytes, to the active segment
// seg. A frame that fits a write-behind buffer is encoded straight into it:
// with thousands of shards, each append's records are copied once, into one
// buffer, rather than twice through two. Callers hold wmu.
func (l *Log) writeFrame(seg *segment, recs []Record, size int) error {
	if wb := seg.wb; wb != nil && size < wb.limit {
		return wb.appendFrame(recs, size)
	}
	l.buf = appendBatch(l.buf[:0], recs)
	if cap(l.buf) > keepBufBytes {
		defer func() { l.buf = nil }() // do not pin a huge buffer
	}
	_, err := seg.f.Write(l.buf)
	return err
}

// writable returns the error that forbids writing, if any. Callers hold wmu,
// which is why closed may be read without mu: Close sets it holding both.
func (l *Log) writable() error {
	if l.werr != nil {
		return l.werr
	}
	if l.closed {
		return ErrClosed
	}
	return nil
}

// Warm reads, without locks and without changing anything, what the next
// Append will read first: the log, its active segment and that segment's
// write-behind buffer. A caller about to append to hundreds of logs warms
// them all first, so that their cache misses overlap rather than come one
// after another (a tenth of a 10,000-shard PutRecords load's server time
// here). The result means nothing; it only keeps the reads from being
// optimized away.
func (l *Log) Warm() int {
	seg := l.tail.Load()
	if seg == nil {
		return 0
	}
	n := int(seg.base)
	if wb := seg.wb; wb != nil {
		n += wb.limit
	}
	return n
}

// roll fsyncs the active segment and starts a new, empty one at Next().
// Callers hold wmu; on error the log is failed.
func (l *Log) roll() error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	old := l.segs[len(l.segs)-1]
	if err := old.f.Sync(); err != nil {
		l.werr = fmt.Errorf("shardlog: sync %s: %w", old.path, err)
		return l.werr
	}
	seg, err := l.createSegment(l.next, l.lastArrival)
	if err != nil {
		l.werr = err
		return err
	}
	l.mu.Lock()
	l.segs = append(l.segs, seg)
	l.tail.Store(seg)
	l.sizeBytes += seg.size
	// No reader holds old.f now: readers use it only under mu.RLock.
	oldf := old.f
	old.f = nil
	l.mu.Unlock()
	if err := oldf.Close(); err != nil {
		l.werr = fmt.Errorf("shardlog: close %s: %w", old.path, err)
		return l.werr
	}
	return nil
}

// Sync makes everything appended before it was called durable; appends may
// go on while it runs. After an fsync error the log is failed; the fsync is
// never retried.
func (l *Log) Sync() error {
	l.wmu.Lock()
	if err := l.writable(); err != nil {
		l.wmu.Unlock()
		return err
	}
	active := l.segs[len(l.segs)-1]
	l.syncMu.Lock()
	l.wmu.Unlock()
	err := active.f.Sync()
	l.syncMu.Unlock()
	if err == nil {
		return nil
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.werr == nil {
		l.werr = fmt.Errorf("shardlog: sync %s: %w", active.path, err)
	}
	return l.werr
}

// Flush writes the active segment's buffered bytes (see writebehind.go) to
// its file, without an fsync: for a caller that then makes the files durable
// by other means, such as a bulk sync of the filesystem.
func (l *Log) Flush() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	if active := l.tail.Load(); active.wb != nil {
		wb := active.wb
		if err := wb.flush(); err != nil {
			l.werr = fmt.Errorf("shardlog: flush %s: %w", active.path, err)
			return l.werr
		}
	}
	return nil
}

// TrimBefore applies retention: records that arrived before ms become
// unreadable at once (First advances), and segments holding only such
// records are deleted. If every record expired, an empty segment at Next()
// is started first, so that Next() survives a reopen. Trimming is not
// persisted beyond deleting whole segments (see the package doc).
func (l *Log) TrimBefore(ms int64) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	newFirst := l.seekTime(ms)
	if newFirst > l.first {
		l.mu.Lock()
		l.first = newFirst
		l.mu.Unlock()
	}
	if l.first == l.next && !l.segs[len(l.segs)-1].empty() {
		if err := l.roll(); err != nil {
			return err
		}
	}
	n := 0
	for n < len(l.segs)-1 && l.segs[n].next <= l.first {
		n++
	}
	if n == 0 {
		return nil
	}
	dead := l.segs[:n]
	l.mu.Lock()
	l.segs = append([]*segment(nil), l.segs[n:]...)
	for _, s := range dead {
		l.sizeBytes -= s.size
	}
	l.mu.Unlock()
	// Oldest first, each removal made durable before the next, so a crash
	// can only leave a suffix of the log, never a gap.
	for _, s := range dead {
		if err := l.fs.Remove(s.path); err != nil {
			l.werr = fmt.Errorf("shardlog: remove %s: %w", s.path, err)
			return l.werr
		}
		if err := l.fs.SyncDir(l.dir); err != nil {
			l.werr = fmt.Errorf("shardlog: sync dir %s: %w", l.dir, err)
			return l.werr
		}
	}
	return nil
}

// Close fsyncs the log (unless it has failed) and closes its files. Later
// calls return ErrClosed; Close itself may be called again.
func (l *Log) Close() error { return l.close(true) }

// Discard closes the log as Close does, without the fsync: for a log whose
// files are about to be removed.
func (l *Log) Discard() { l.close(false) }

func (l *Log) close(sync bool) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var err error
	if active := l.segs[len(l.segs)-1]; sync && l.werr == nil && active.f != nil {
		if serr := active.f.Sync(); serr != nil {
			err = fmt.Errorf("shardlog: sync %s: %w", active.path, serr)
		}
	}
	l.closeFiles()
	return err
}

// First returns the oldest readable position.
func (l *Log) First() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.first
}

// Next returns the position the next appended record must have.
func (l *Log) Next() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.next
}

// LastArrivalMillis returns the arrival time of the newest record ever
// appended, even if trimmed since, or 0 if the log never held one.
func (l *Log) LastArrivalMillis() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.lastArrival
}

// SizeBytes returns the total size of the segment files.
func (l *Log) SizeBytes() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.sizeBytes
}

// SegmentCount returns the number of segment files.
func (l *Log) SegmentCount() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.segs)
}
