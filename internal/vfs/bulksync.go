package vfs

import (
	"errors"
	"fmt"
	"maps"
)

// A checkpoint over thousands of shard logs fsynced each of them: thousands
// of system calls and journal commits where Linux's syncfs(2) makes the whole
// filesystem's written data durable in one. Filesystems that can do that
// implement BulkSyncFS; callers fall back to File.Sync on those that don't.

// BulkSyncFS is an FS that can make every file's written data durable at
// once.
type BulkSyncFS interface {
	// OpenBulkSyncer returns a BulkSyncer for the filesystem holding dir,
	// or an error wrapping errors.ErrUnsupported if it cannot provide one
	// that reports write errors reliably.
	OpenBulkSyncer(dir string) (BulkSyncer, error)
}

// BulkSyncer makes the written contents of every file of one filesystem,
// and every directory's entries, durable, as File.Sync on each file and
// SyncDir on each directory would: syncfs(2), like sync(2), writes back the
// filesystem's metadata along with the data. Sync reports a write error on
// any file of the filesystem that happened after the syncer was opened, so
// open it before the writes it must cover.
type BulkSyncer interface {
	Sync() error
	Close() error
}

// OpenBulkSyncer implements BulkSyncFS: Sync makes the contents of every file
// and the entries of every directory durable.
func (m *MemFS) OpenBulkSyncer(string) (BulkSyncer, error) { return memBulkSyncer{m}, nil }

type memBulkSyncer struct{ m *MemFS }

func (s memBulkSyncer) Sync() error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	var walk func(n *memNode)
	walk = func(n *memNode) {
		if !n.isDir {
			n.mu.Lock()
			n.synced = n.data[:len(n.data):len(n.data)]
			n.shared = true
			n.mu.Unlock()
			return
		}
		n.syncedChildren = maps.Clone(n.children)
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(s.m.root)
	return nil
}

func (memBulkSyncer) Close() error { return nil }

// OpenBulkSyncer implements BulkSyncFS if the wrapped FS does; the syncer's
// Sync is an OpSync on dir for the Injector.
func (e *ErrorFS) OpenBulkSyncer(dir string) (BulkSyncer, error) {
	b, ok := e.inner.(BulkSyncFS)
	if !ok {
		return nil, errUnsupportedBulkSync
	}
	s, err := b.OpenBulkSyncer(dir)
	if err != nil {
		return nil, err
	}
	return errorBulkSyncer{s, e, dir}, nil
}

type errorBulkSyncer struct {
	BulkSyncer
	e   *ErrorFS
	dir string
}

func (s errorBulkSyncer) Sync() error {
	if err := s.e.check(OpSync, s.dir, 0); err != nil {
		return err
	}
	return s.BulkSyncer.Sync()
}

var errUnsupportedBulkSync = fmt.Errorf("vfs: bulk sync: %w", errors.ErrUnsupported)
