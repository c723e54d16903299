// Package vfs is the filesystem seam of Riffle's storage. Every file the
// storage layer touches goes through an FS, so that tests can substitute a
// filesystem that simulates a crash (only synced bytes survive) or injects
// write and fsync errors.
//
// Three implementations exist: OS (the real filesystem), a crashable
// in-memory filesystem (NewMem), and an error-injecting wrapper.
//
// Durability contract, which every implementation follows and the storage
// layer relies on:
//   - File.Sync makes the file's contents and size durable.
//   - A created, renamed or removed directory entry becomes durable only after
//     SyncDir on its parent directory.
//   - After a crash, an unsynced file may hold any prefix of its unsynced
//     writes; the in-memory FS keeps exactly the synced state.
package vfs

import (
	"io"
	"os"
)

// File is an open file. Methods may not be called concurrently on one File,
// except ReadAt, which may run concurrently with itself and with Write, and
// Sync, which may run concurrently with Write (and then covers at least what
// was written before it was called).
type File interface {
	io.Writer
	io.ReaderAt
	io.Closer
	// Sync makes all written data durable, and the size and blocks that hold
	// it (fdatasync on Linux, fsync elsewhere).
	Sync() error
	// Truncate changes the size of the file.
	Truncate(size int64) error
	// Size returns the current size of the file, including unsynced writes.
	Size() (int64, error)
}

// Allocator is a File that can reserve disk blocks ahead of its writes.
// Files of filesystems that cannot do not implement it (MemFS does not).
type Allocator interface {
	// Allocate makes the file at least size bytes long, the new bytes zero
	// and their blocks reserved (fallocate(2)). Like a size set by Truncate,
	// the new size is durable after Sync.
	Allocate(size int64) error
}

// Writebacker is a File that can start writing a range's dirty pages to
// disk without waiting for them (sync_file_range(2) on Linux). It makes
// nothing durable: a writer of a file it fsyncs only now and then starts
// writeback as it goes, so that the disk gets a steady stream rather than
// the whole backlog at the fsync, which would stall every other sync on the
// disk meanwhile. Files of filesystems that cannot do not implement it.
type Writebacker interface {
	StartWriteback(off, n int64) error
}

// FS is a filesystem. All paths are slash-separated and may be absolute or
// relative; implementations treat them as given. Methods are safe for
// concurrent use.
type FS interface {
	// Create creates or truncates the named file for reading and writing.
	Create(name string) (File, error)
	// Open opens the named file for reading only.
	Open(name string) (File, error)
	// OpenAppend opens an existing file for reading and appending; writes go
	// to the end of the file.
	OpenAppend(name string) (File, error)
	// OpenWrite opens an existing file for reading and writing from its
	// start, without truncating it: writes overwrite what is there.
	OpenWrite(name string) (File, error)
	// Rename atomically replaces newname with oldname.
	Rename(oldname, newname string) error
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// RemoveAll removes a directory tree. A missing path is not an error.
	RemoveAll(name string) error
	// MkdirAll creates a directory and any missing parents.
	MkdirAll(name string, perm os.FileMode) error
	// List returns the names of the entries of a directory, sorted.
	List(dir string) ([]string, error)
	// Stat reports whether name exists and its size.
	Stat(name string) (os.FileInfo, error)
	// SyncDir makes the entries of directory dir durable.
	SyncDir(dir string) error
}
