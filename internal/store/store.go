package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riffle-streams/riffle/internal/journal"
	"github.com/riffle-streams/riffle/internal/shardlog"
	"github.com/riffle-streams/riffle/internal/vfs"
)

// Record is one record of a shard.
type Record = shardlog.Record

// Errors returned by the store.
var (
	// ErrClosed is returned (or completes an Ack) after Close.
	ErrClosed = errors.New("store: closed")
	// ErrFailed is wrapped, with the cause, by every error after a journal or
	// shard-log write or fsync error; the store refuses writes until reopened.
	ErrFailed = errors.New("store: failed after a write or fsync error")
	// ErrShardNotFound is returned for a uid with no shard, including one
	// deleted while an Append to it was in flight.
	ErrShardNotFound = errors.New("store: shard not found")
	// ErrShardExists is returned by CreateShard for a uid already present.
	ErrShardExists = errors.New("store: shard already exists")
	// ErrGap is returned by Open when a journal entry begins beyond the
	// shard's next position: acknowledged data was lost.
	ErrGap = errors.New("store: gap between shard log and journal")
	// ErrCorrupt is returned when a journal entry or the meta file cannot be
	// decoded.
	ErrCorrupt = errors.New("store: corrupt data")
	// ErrBatchTooLarge completes the Ack of an Append whose batch would exceed
	// journal.MaxEntryBytes; nothing is written and the store stays usable.
	ErrBatchTooLarge = errors.New("store: batch too large")
)

// Defaults used for zero Options fields.
const (
	DefaultJournalSegmentMaxBytes = 16 << 20
	DefaultCheckpointBytes        = 64 << 20
	DefaultReopenInterval         = time.Second
	MaxReopenInterval             = 30 * time.Second
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// Fsync is the journal's durability policy; default journal.Always.
	Fsync journal.FsyncPolicy
	// FsyncInterval is the fsync period under journal.Interval.
	FsyncInterval time.Duration
	// SegmentMaxBytes is the shard-log segment size; 0 means the shardlog
	// default.
	SegmentMaxBytes int64
	// JournalSegmentMaxBytes is the journal segment size; default
	// DefaultJournalSegmentMaxBytes.
	JournalSegmentMaxBytes int64
	// CheckpointBytes is the amount of journal entries applied since the last
	// checkpoint that triggers the next one; default DefaultCheckpointBytes.
	CheckpointBytes int64
	// Now is the clock for ArrivalMillis; default time.Now.
	Now func() time.Time
	// Logger receives recovery and failure events; default discards.
	Logger *slog.Logger
	// ReopenInterval is how long after a failure for lack of space
	// (ENOSPC, EDQUOT) the store first tries Reopen, doubling up to
	// MaxReopenInterval while space is still short; default
	// DefaultReopenInterval. Negative disables the automatic reopening.
	ReopenInterval time.Duration
}

// Validate reports every invalid field at once.
func (o Options) Validate() error {
	var errs []error
	if err := (journal.Options{Fsync: o.Fsync, FsyncInterval: o.FsyncInterval, SegmentMaxBytes: o.JournalSegmentMaxBytes}).Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := (shardlog.Options{SegmentMaxBytes: o.SegmentMaxBytes}).Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.CheckpointBytes < 0 {
		errs = append(errs, fmt.Errorf("store: negative CheckpointBytes %d", o.CheckpointBytes))
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if o.JournalSegmentMaxBytes == 0 {
		o.JournalSegmentMaxBytes = DefaultJournalSegmentMaxBytes
	}
	if o.CheckpointBytes == 0 {
		o.CheckpointBytes = DefaultCheckpointBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ReopenInterval == 0 {
		o.ReopenInterval = DefaultReopenInterval
	}
	return o
}

// Stats are counters for metrics.
type Stats struct {
	JournalBytes    int64         // bytes in retained journal segments
	JournalSegments int           // retained journal segments
	Fsyncs          uint64        // journal fsyncs
	FsyncTime       time.Duration // total time of journal fsyncs
	Checkpoints     uint64        // completed checkpoints
	Shards          int           // shards present
}

// Store is a node's durable shard storage. All methods are safe for
// concurrent use.
type Store struct {
	fs        vfs.FS
	dir       string
	shardsDir string
	opts      Options
	log       *slog.Logger
	// jp is the node journal; Reopen replaces it (holding adminMu, ckptMu
	// and every Shard.mu) after a failure.
	jp atomic.Pointer[journal.Journal]

	adminMu sync.Mutex // serializes CreateShard, DeleteShard, SaveMeta and Close

	mu         sync.Mutex
	shards     map[uint64]*Shard   // guarded by mu
	dirty      map[*Shard]struct{} // guarded by mu; written since the last checkpoint
	appliedLSN uint64              // guarded by mu; last LSN applied (or skipped)
	sinceCkpt  int64               // guarded by mu; entry bytes applied since the last checkpoint
	err        error               // guarded by mu; sticky failure
	closed     bool                // guarded by mu
	running    bool                // guarded by mu; Open has succeeded
	reopening  bool                // guarded by mu; reopenLoop is running

	ckptMu      sync.Mutex     // serializes checkpoints
	bulk        vfs.BulkSyncer // nil if the filesystem has none; see syncShards
	applyQ      chan applyItem // see applier.go
	applierDone chan struct{}
	ckptReq     chan struct{} // capacity 1
	ckptStop    chan struct{}
	ckptStopped chan struct{}
	checkpoints atomic.Uint64
}

// Open opens or creates the store in dir and recovers it: every shard log,
// then the journal replayed onto them, then a checkpoint.
func Open(fsys vfs.FS, dir string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	s := &Store{
		fs:          fsys,
		dir:         dir,
		shardsDir:   path.Join(dir, "shards"),
		opts:        opts,
		log:         opts.Logger.With("component", "store"),
		shards:      make(map[uint64]*Shard),
		dirty:       make(map[*Shard]struct{}),
		ckptReq:     make(chan struct{}, 1),
		ckptStop:    make(chan struct{}),
		ckptStopped: make(chan struct{}),
	}
	if err := s.recover(); err != nil {
		for _, sh := range s.shards {
			sh.log().Close()
		}
		if j := s.journal(); j != nil {
			j.Close()
		}
		if s.bulk != nil {
			s.bulk.Close()
		}
		return nil, err
	}
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	s.startApplier()
	go s.checkpointLoop()
	return s, nil
}

func (s *Store) recover() error {
	if err := vfs.MkdirAllDurable(s.fs, s.shardsDir); err != nil {
		return fmt.Errorf("store: create %s: %w", s.shardsDir, err)
	}
	if b, ok := s.fs.(vfs.BulkSyncFS); ok && s.bulk == nil {
		// Opened before any shard-log write, so that it reports their errors.
		bs, err := b.OpenBulkSyncer(s.shardsDir)
		switch {
		case err == nil:
			s.bulk = bs
		case !errors.Is(err, errors.ErrUnsupported):
			return fmt.Errorf("store: open %s for bulk sync: %w", s.shardsDir, err)
		}
	}
	if err := s.fs.Remove(s.metaPath() + ".tmp"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: remove leftover meta.tmp: %w", err)
	}
	names, err := s.fs.List(s.shardsDir)
	if err != nil {
		return fmt.Errorf("store: list shards: %w", err)
	}
	removedNew := false
	for _, name := range names {
		if strings.HasSuffix(name, newShardSuffix) {
			// Never made durable by CreateShards, so never named by the
			// engine's metadata.
			if err := s.fs.RemoveAll(path.Join(s.shardsDir, name)); err != nil {
				return fmt.Errorf("store: remove unfinished shard %s: %w", name, err)
			}
			removedNew = true
			continue
		}
		uid, ok := parseShardName(name)
		if !ok {
			continue
		}
		l, err := shardlog.Open(s.fs, path.Join(s.shardsDir, name), s.shardlogOptions())
		if err != nil {
			return fmt.Errorf("store: open shard %s: %w", name, err)
		}
		if cut := l.Recovered(); cut > 0 {
			s.log.Warn("cut torn tail of shard log", "shard", name, "cut_bytes", cut)
		}
		s.shards[uid] = newShard(s, uid, l)
	}
	if removedNew {
		if err := s.fs.SyncDir(s.shardsDir); err != nil {
			return fmt.Errorf("store: sync %s: %w", s.shardsDir, err)
		}
	}
	j, err := s.openJournal()
	if err != nil {
		return err
	}
	s.jp.Store(j)
	lsn, dirty, err := s.replay(j, s.shards)
	if err != nil {
		return err
	}
	s.appliedLSN = lsn
	for sh := range dirty {
		s.dirty[sh] = struct{}{}
	}
	for _, sh := range s.shards {
		sh.nextSeq = sh.log().Next()
		sh.lastArrival = sh.log().LastArrivalMillis()
	}
	// Make the replayed data durable in the shard logs so that the journal
	// can be released.
	return s.checkpoint()
}

func (s *Store) openJournal() (*journal.Journal, error) {
	j, err := journal.Open(s.fs, path.Join(s.dir, "journal"), journal.Options{
		Fsync:           s.opts.Fsync,
		FsyncInterval:   s.opts.FsyncInterval,
		SegmentMaxBytes: s.opts.JournalSegmentMaxBytes,
		Logger:          s.opts.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open journal: %w", err)
	}
	return j, nil
}

// replay applies the journal's entries to the shards' logs and returns the
// last LSN seen and the shards written.
func (s *Store) replay(j *journal.Journal, shards map[uint64]*Shard) (uint64, map[*Shard]struct{}, error) {
	var lastLSN uint64
	dirty := make(map[*Shard]struct{})
	var applied, skipped int
	err := j.Replay(func(lsn uint64, entry []byte) error {
		lastLSN = lsn
		uid, first, recs, err := decodeEntry(entry)
		if err != nil {
			return fmt.Errorf("journal lsn %d: %w", lsn, err)
		}
		sh, ok := shards[uid]
		if !ok {
			skipped++ // the shard was deleted
			return nil
		}
		next := sh.log().Next()
		end := first + uint64(len(recs))
		if end <= next {
			skipped++
			return nil
		}
		if first > next {
			return fmt.Errorf("%w: shard %016x: journal lsn %d begins at position %d, shard log ends at %d",
				ErrGap, uid, lsn, first, next)
		}
		if err := sh.log().Append(recs[next-first:]); err != nil {
			return fmt.Errorf("store: replay lsn %d into shard %016x: %w", lsn, uid, err)
		}
		dirty[sh] = struct{}{}
		applied++
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("store: replay journal: %w", err)
	}
	s.log.Info("recovered", "shards", len(shards), "entries_applied", applied,
		"entries_skipped", skipped, "last_lsn", lastLSN)
	return lastLSN, dirty, nil
}

// journal returns the current journal.
func (s *Store) journal() *journal.Journal { return s.jp.Load() }

// shardLogWriteBehindBytes is each shard log's write-behind buffer (see
// shardlog's writebehind.go): the journal keeps the bytes durable until a
// checkpoint syncs the log.
const shardLogWriteBehindBytes = 4 << 10

func (s *Store) shardlogOptions() shardlog.Options {
	return shardlog.Options{SegmentMaxBytes: s.opts.SegmentMaxBytes, WriteBehindBytes: shardLogWriteBehindBytes}
}

func shardName(uid uint64) string { return fmt.Sprintf("%016x", uid) }

func parseShardName(name string) (uint64, bool) {
	if len(name) != 16 {
		return 0, false
	}
	uid, err := strconv.ParseUint(name, 16, 64)
	return uid, err == nil
}

func (s *Store) metaPath() string { return path.Join(s.dir, "meta") }

// failure returns the error that forbids writing, if any.
func (s *Store) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return ErrClosed
	}
	return nil
}

// fail makes err sticky (the first error wins) and returns the sticky error.
func (s *Store) fail(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = fmt.Errorf("%w: %w", ErrFailed, err)
		s.log.Error("store failed; refusing further writes", "err", err)
		s.startReopenLocked(err)
	}
	return s.err
}

// noteApplied records that the entries up to lsn were applied (size bytes of
// them), writing the shards written, and requests a checkpoint when enough
// has accumulated.
func (s *Store) noteApplied(lsn uint64, size int, written ...*Shard) {
	s.mu.Lock()
	s.appliedLSN = lsn
	for _, sh := range written {
		s.dirty[sh] = struct{}{}
	}
	s.sinceCkpt += int64(size)
	due := s.sinceCkpt >= s.opts.CheckpointBytes
	s.mu.Unlock()
	if due {
		select {
		case s.ckptReq <- struct{}{}:
		default:
		}
	}
}

func (s *Store) checkpointLoop() {
	defer close(s.ckptStopped)
	for {
		select {
		case <-s.ckptStop:
			return
		case <-s.ckptReq:
			if err := s.checkpoint(); err != nil {
				s.log.Error("checkpoint failed", "err", err)
			}
		}
	}
}

// checkpoint fsyncs every shard log written since the last checkpoint and
// then releases the journal up to the last applied LSN. Every entry up to
// that LSN was written to its shard log before the snapshot below, so the
// fsyncs cover it.
func (s *Store) checkpoint() error {
	s.ckptMu.Lock()
	defer s.ckptMu.Unlock()
	return s.checkpointLocked()
}

// checkpointLocked is checkpoint with ckptMu held.
func (s *Store) checkpointLocked() error {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return s.err
	}
	lsn := s.appliedLSN
	dirty := s.dirty
	s.dirty = make(map[*Shard]struct{})
	s.sinceCkpt = 0
	s.mu.Unlock()
	if err := s.syncShards(dirty); err != nil {
		return err
	}
	if lsn > 0 {
		if err := s.journal().Release(lsn); err != nil {
			if errors.Is(err, journal.ErrFailed) {
				return s.fail(err)
			}
			return fmt.Errorf("store: checkpoint: %w", err)
		}
	}
	s.checkpoints.Add(1)
	return nil
}

// bulkSyncMinDirty is the number of dirty shard logs from which a checkpoint
// flushes them all and syncs the filesystem once (syncfs) rather than fsync
// each. Below it the per-file fsyncs are as cheap, and spare other users of
// the filesystem a sync of their data. A variable for tests.
var bulkSyncMinDirty = 64

// syncShards makes the dirty shard logs durable.
func (s *Store) syncShards(dirty map[*Shard]struct{}) error {
	bulk := s.bulk != nil && len(dirty) >= bulkSyncMinDirty
	for sh := range dirty {
		sync := sh.log().Sync
		if bulk {
			sync = sh.log().Flush
		}
		if err := sync(); err != nil {
			if sh.deleted.Load() {
				continue // closed by DeleteShard; its data no longer matters
			}
			return s.fail(fmt.Errorf("checkpoint: sync shard %016x: %w", sh.uid, err))
		}
	}
	if bulk {
		if err := s.bulk.Sync(); err != nil {
			return s.fail(fmt.Errorf("checkpoint: sync shard logs: %w", err))
		}
	}
	return nil
}

// LoadMeta returns the last metadata snapshot saved, or nil if none was.
func (s *Store) LoadMeta() ([]byte, error) {
	f, err := s.fs.Open(s.metaPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: open meta: %w", err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, fmt.Errorf("store: meta size: %w", err)
	}
	if size < metaHeaderBytes {
		return nil, fmt.Errorf("%w: meta file of %d bytes", ErrCorrupt, size)
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("store: read meta: %w", err)
	}
	if string(b[:4]) != metaMagic || b[4] != metaVersion {
		return nil, fmt.Errorf("%w: bad meta header", ErrCorrupt)
	}
	n := binary.LittleEndian.Uint32(b[8:12])
	if int64(n) != size-metaHeaderBytes {
		return nil, fmt.Errorf("%w: meta length %d in a file of %d bytes", ErrCorrupt, n, size)
	}
	data := b[metaHeaderBytes:]
	if binary.LittleEndian.Uint32(b[12:16]) != crc32.Checksum(data, castagnoli) {
		return nil, fmt.Errorf("%w: meta checksum mismatch", ErrCorrupt)
	}
	return data, nil
}

const (
	metaMagic       = "RFMT"
	metaVersion     = 1
	metaHeaderBytes = 16
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SaveMeta atomically and durably replaces the metadata snapshot.
func (s *Store) SaveMeta(b []byte) error {
	if len(b) > 1<<31 {
		return fmt.Errorf("store: meta of %d bytes is too large", len(b))
	}
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	if err := s.failure(); err != nil {
		return err
	}
	buf := make([]byte, metaHeaderBytes, metaHeaderBytes+len(b))
	copy(buf, metaMagic)
	buf[4] = metaVersion
	binary.LittleEndian.PutUint32(buf[8:12], uint32(len(b)))
	binary.LittleEndian.PutUint32(buf[12:16], crc32.Checksum(b, castagnoli))
	buf = append(buf, b...)
	tmp := s.metaPath() + ".tmp"
	f, err := s.fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("store: create %s: %w", tmp, err)
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return fmt.Errorf("store: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return s.fail(fmt.Errorf("sync %s: %w", tmp, err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", tmp, err)
	}
	if err := s.fs.Rename(tmp, s.metaPath()); err != nil {
		return fmt.Errorf("store: rename %s: %w", tmp, err)
	}
	if err := s.fs.SyncDir(s.dir); err != nil {
		return s.fail(fmt.Errorf("sync dir %s: %w", s.dir, err))
	}
	return nil
}

// CreateShard durably creates the directory of a new shard, empty, and
// returns it. It returns ErrShardExists if uid is present.
func (s *Store) CreateShard(uid uint64) (*Shard, error) {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	if err := s.failure(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	_, exists := s.shards[uid]
	s.mu.Unlock()
	if exists {
		return nil, fmt.Errorf("%w: %016x", ErrShardExists, uid)
	}
	dir := path.Join(s.shardsDir, shardName(uid))
	l, err := shardlog.Open(s.fs, dir, s.shardlogOptions())
	if err != nil {
		return nil, fmt.Errorf("store: create shard %016x: %w", uid, err)
	}
	// shardlog.Open made the directory durable.
	return s.addShards([]uint64{uid}, []*shardlog.Log{l})[0], nil
}

// addShards makes new shard logs the store's shards.
func (s *Store) addShards(uids []uint64, logs []*shardlog.Log) []*Shard {
	out := make([]*Shard, len(uids))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, uid := range uids {
		sh := newShard(s, uid, logs[i])
		sh.nextSeq = logs[i].Next()
		sh.lastArrival = logs[i].LastArrivalMillis()
		s.shards[uid] = sh
		out[i] = sh
	}
	return out
}

// bulkCreateMin is the number of shards from which CreateShards makes them
// durable with one filesystem sync rather than three fsyncs each (creating
// a stream of 10,000 shards took 10 s, with the engine's lock held). A
// variable for tests.
var bulkCreateMin = 64

// newShardSuffix marks a shard directory that CreateShards has not yet made
// durable; Open removes such directories.
const newShardSuffix = ".new"

// CreateShards creates new, empty shards, as CreateShard does each: all are
// durable when it returns, or none is created. Many are made durable
// together: each is written, unsynced, under a temporary name, one bulk sync
// makes them all durable, and they are renamed into place with one fsync of
// the shards directory.
func (s *Store) CreateShards(uids []uint64) ([]*Shard, error) {
	if s.bulk == nil || len(uids) < bulkCreateMin {
		out := make([]*Shard, 0, len(uids))
		for _, uid := range uids {
			sh, err := s.CreateShard(uid)
			if err != nil {
				s.DeleteShards(uids[:len(out)])
				return nil, err
			}
			out = append(out, sh)
		}
		return out, nil
	}
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	if err := s.failure(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	for _, uid := range uids {
		if _, exists := s.shards[uid]; exists {
			s.mu.Unlock()
			return nil, fmt.Errorf("%w: %016x", ErrShardExists, uid)
		}
	}
	s.mu.Unlock()
	dir := func(uid uint64) string { return path.Join(s.shardsDir, shardName(uid)) }
	var logs []*shardlog.Log
	fail := func(err error) ([]*Shard, error) {
		for _, l := range logs {
			l.Discard()
		}
		for _, uid := range uids {
			s.fs.RemoveAll(dir(uid) + newShardSuffix)
			s.fs.RemoveAll(dir(uid))
		}
		return nil, err
	}
	for _, uid := range uids {
		if err := shardlog.CreateEmpty(s.fs, dir(uid)+newShardSuffix); err != nil {
			return fail(fmt.Errorf("store: create shard %016x: %w", uid, err))
		}
	}
	if err := s.bulk.Sync(); err != nil {
		return fail(s.fail(fmt.Errorf("create shards: sync: %w", err)))
	}
	for _, uid := range uids {
		if err := s.fs.Rename(dir(uid)+newShardSuffix, dir(uid)); err != nil {
			return fail(fmt.Errorf("store: create shard %016x: %w", uid, err))
		}
	}
	if err := s.fs.SyncDir(s.shardsDir); err != nil {
		return fail(s.fail(fmt.Errorf("create shards: sync dir: %w", err)))
	}
	for _, uid := range uids {
		l, err := shardlog.Open(s.fs, dir(uid), s.shardlogOptions())
		if err != nil {
			return fail(fmt.Errorf("store: open new shard %016x: %w", uid, err))
		}
		logs = append(logs, l)
	}
	return s.addShards(uids, logs), nil
}

// Shard returns the shard with the given uid, if present.
func (s *Store) Shard(uid uint64) (*Shard, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, ok := s.shards[uid]
	return sh, ok
}

// ShardIDs returns the uids of all shards present, in increasing order.
func (s *Store) ShardIDs() []uint64 {
	s.mu.Lock()
	ids := make([]uint64, 0, len(s.shards))
	for uid := range s.shards {
		ids = append(ids, uid)
	}
	s.mu.Unlock()
	slices.Sort(ids)
	return ids
}

// DeleteShard closes the shard and removes its directory. Appends in flight
// to it complete with ErrShardNotFound; journal entries for it are ignored
// from now on, including on recovery.
func (s *Store) DeleteShard(uid uint64) error { return s.DeleteShards([]uint64{uid}) }

// DeleteShards deletes shards as DeleteShard does each, with one fsync of
// the shards directory for all. It deletes every shard it can and returns
// the errors of the others.
func (s *Store) DeleteShards(uids []uint64) error {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	if err := s.failure(); err != nil {
		return err
	}
	var errs []error
	removed := false
	for _, uid := range uids {
		s.mu.Lock()
		sh, ok := s.shards[uid]
		if ok {
			delete(s.shards, uid)
			delete(s.dirty, sh)
		}
		s.mu.Unlock()
		if !ok {
			errs = append(errs, fmt.Errorf("%w: %016x", ErrShardNotFound, uid))
			continue
		}
		sh.mu.Lock()
		sh.deleted.Store(true)
		sh.mu.Unlock()
		sh.log().Discard() // its data is being deleted
		sh.notify()
		if err := s.fs.RemoveAll(path.Join(s.shardsDir, shardName(uid))); err != nil {
			errs = append(errs, fmt.Errorf("store: delete shard %016x: %w", uid, err))
			continue
		}
		removed = true
	}
	if removed {
		if err := s.fs.SyncDir(s.shardsDir); err != nil {
			return s.fail(fmt.Errorf("delete shards: sync dir: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Close stops accepting appends, flushes the journal (completing every Ack
// in flight), checkpoints, and closes every shard. It returns the store's
// failure, if any.
func (s *Store) Close() error {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	var errs []error
	if err := s.journal().Close(); err != nil {
		errs = append(errs, fmt.Errorf("store: close journal: %w", err))
	}
	s.stopApplier()
	close(s.ckptStop)
	<-s.ckptStopped
	// checkpoint returns the sticky failure instead of checkpointing a
	// failed store.
	if err := s.checkpoint(); err != nil {
		errs = append(errs, err)
	}
	s.mu.Lock()
	shards := make([]*Shard, 0, len(s.shards))
	for _, sh := range s.shards {
		shards = append(shards, sh)
	}
	s.mu.Unlock()
	for _, sh := range shards {
		if err := sh.log().Close(); err != nil {
			errs = append(errs, fmt.Errorf("store: close shard %016x: %w", sh.uid, err))
		}
	}
	if s.bulk != nil {
		s.bulk.Close()
	}
	return errors.Join(errs...)
}

// Stats returns counters for metrics.
func (s *Store) Stats() Stats {
	js := s.journal().Stats()
	s.mu.Lock()
	n := len(s.shards)
	s.mu.Unlock()
	return Stats{
		JournalBytes:    js.Bytes,
		JournalSegments: js.Segments,
		Fsyncs:          js.Fsyncs,
		FsyncTime:       js.FsyncTime,
		Checkpoints:     s.checkpoints.Load(),
		Shards:          n,
	}
}
