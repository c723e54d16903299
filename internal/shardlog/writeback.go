package shardlog

import "github.com/riffle-streams/riffle/internal/vfs"

// A log's segments are fsynced only at checkpoints and rolls, tens of MiB
// apart. Left to the kernel, those bytes stay dirty in the page cache until
// then, and the fsync sends them to the disk in one burst; every journal
// fsync issued meanwhile waits behind the burst. So the active segment's
// file starts writeback of each writebackBytes written (as RocksDB's and
// Pebble's bytes_per_sync do): the disk gets a steady stream, and the
// fsync little to write.

// writebackBytes is how much is written to a segment between two starts of
// writeback. A variable for tests.
var writebackBytes int64 = 1 << 20

// writebackFile is a segment file that starts writeback as it is written.
// Its Write and Truncate are called under the log's wmu (or the
// write-behind buffer's lock); Sync, ReadAt and the rest pass through.
type writebackFile struct {
	vfs.File
	wb      vfs.Writebacker
	written int64 // the file's size
	started int64 // writeback has been started for bytes before this offset
}

// withWriteback wraps f, of size bytes, if its filesystem can start
// writeback.
func withWriteback(f vfs.File, size int64) vfs.File {
	wb, ok := f.(vfs.Writebacker)
	if !ok {
		return f
	}
	return &writebackFile{File: f, wb: wb, written: size, started: size}
}

func (f *writebackFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	f.written += int64(n)
	if f.wb != nil && f.written-f.started >= writebackBytes {
		// A failure to start writeback loses nothing: the fsync that
		// follows writes the bytes anyway and reports any write error.
		// Stop trying on this file (ErrUnsupported, for one).
		if f.wb.StartWriteback(f.started, f.written-f.started) != nil {
			f.wb = nil
		}
		f.started = f.written
	}
	return n, err
}

func (f *writebackFile) Truncate(size int64) error {
	err := f.File.Truncate(size)
	if err == nil {
		f.written = size
		f.started = min(f.started, size)
	}
	return err
}
