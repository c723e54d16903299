package store

import (
	"cmp"
	"errors"
	"fmt"
	"path"
	"slices"
	"syscall"
	"time"

	"github.com/riffle-streams/riffle/internal/shardlog"
	"github.com/riffle-streams/riffle/internal/vfs"
)

// Recovering from a failure without a restart.
//
// After a write or fsync error the store refuses writes (fail-stop; it never
// retries an fsync). Reopen brings it back the way a restart would, from
// what is on disk: the journal and every shard log are closed and opened
// anew (each cuts its own torn tail), the journal is replayed onto the shard
// logs, and a checkpoint fsyncs every shard log through its new file before
// the journal is released. Nothing acknowledged is lost: an acknowledged
// entry was fsynced in the journal, and the journal is released only past
// entries whose shard logs were fsynced since. Appends that failed may or
// may not be present afterwards, as after a crash.
//
// The Shard values stay the same (the engine holds them); only their logs
// are replaced. Positions continue from what is on disk.
//
// A failure for lack of space (ENOSPC, EDQUOT) is retried automatically
// (Options.ReopenInterval): disk full is transient, and writes resume once
// space returns. Any other error (EIO above all) keeps the store failed until
// an operator restarts it: after such an error the kernel may have dropped
// the unwritten pages, which reading the files back cannot detect, so no
// automatic retry can be trusted.

// IsNoSpace reports whether err is, or wraps, a lack of disk space.
func IsNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, vfs.ErrNoSpace)
}

// startReopenLocked starts the automatic reopening after the first failure,
// if cause is a lack of space. Callers hold s.mu.
func (s *Store) startReopenLocked(cause error) {
	if !s.running || s.closed || s.reopening || s.opts.ReopenInterval < 0 || !IsNoSpace(cause) {
		return
	}
	s.reopening = true
	go s.reopenLoop()
}

// reopenLoop calls Reopen, with back-off, until it succeeds, the store
// closes, or it fails for another reason than space.
func (s *Store) reopenLoop() {
	defer func() {
		s.mu.Lock()
		s.reopening = false
		s.mu.Unlock()
	}()
	wait := s.opts.ReopenInterval
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-s.ckptStop:
			return
		case <-t.C:
		}
		err := s.Reopen()
		switch {
		case err == nil:
			s.log.Info("store reopened after running out of space; writes resume")
			return
		case errors.Is(err, ErrClosed):
			return
		case !IsNoSpace(err):
			s.log.Error("store could not be reopened; it stays failed until restarted", "err", err)
			return
		}
		wait = min(2*wait, MaxReopenInterval)
		t.Reset(wait)
	}
}

// Reopen recovers a failed store from disk (see above) and makes it accept
// writes again; it does nothing if the store has not failed. On error the
// store stays failed (and its shards may be unreadable until a later Reopen
// succeeds). It returns ErrClosed after Close.
//
// Lock order: adminMu, ckptMu, then every Shard.mu (in uid order), so that
// no append, checkpoint or administrative change runs meanwhile.
func (s *Store) Reopen() error {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	s.ckptMu.Lock()
	defer s.ckptMu.Unlock()
	s.mu.Lock()
	failed, closed := s.err, s.closed
	shards := make([]*Shard, 0, len(s.shards))
	for _, sh := range s.shards {
		shards = append(shards, sh)
	}
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if failed == nil {
		return nil
	}
	slices.SortFunc(shards, func(a, b *Shard) int { return cmp.Compare(a.uid, b.uid) })
	for _, sh := range shards {
		sh.mu.Lock()
	}
	defer func() {
		for _, sh := range shards {
			sh.mu.Unlock()
			sh.notify() // the log changed under any reader waiting on it
		}
	}()

	// Close everything open; the errors are those of a failed store. The
	// journal's last callbacks reach the applier before its logs close.
	s.journal().Close()
	s.drainApplies()
	for _, sh := range shards {
		sh.log().Close()
	}
	byUID := make(map[uint64]*Shard, len(shards))
	for _, sh := range shards {
		l, err := shardlog.Open(s.fs, path.Join(s.shardsDir, shardName(sh.uid)), s.shardlogOptions())
		if err != nil {
			return fmt.Errorf("store: reopen shard %016x: %w", sh.uid, err)
		}
		if cut := l.Recovered(); cut > 0 {
			s.log.Warn("cut torn tail of shard log", "shard", shardName(sh.uid), "cut_bytes", cut)
		}
		sh.logp.Store(l)
		byUID[sh.uid] = sh
	}
	j, err := s.openJournal()
	if err != nil {
		return err
	}
	s.jp.Store(j)
	lsn, _, err := s.replay(j, byUID)
	if err != nil {
		return err
	}
	for _, sh := range shards {
		sh.nextSeq = sh.log().Next()
		sh.lastArrival = max(sh.lastArrival, sh.log().LastArrivalMillis())
	}
	s.mu.Lock()
	s.err = nil
	s.appliedLSN = lsn
	s.sinceCkpt = 0
	// Every shard log is fsynced anew: their last writes before the failure
	// may never have reached the disk.
	s.dirty = make(map[*Shard]struct{}, len(shards))
	for _, sh := range shards {
		s.dirty[sh] = struct{}{}
	}
	s.mu.Unlock()
	if err := s.checkpointLocked(); err != nil {
		return err
	}
	s.log.Info("store reopened", "shards", len(shards), "last_lsn", lsn)
	return nil
}
