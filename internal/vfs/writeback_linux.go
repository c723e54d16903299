package vfs

import "golang.org/x/sys/unix"

// StartWriteback implements Writebacker with sync_file_range(2) and
// SYNC_FILE_RANGE_WRITE: it queues the range's dirty pages for writing and
// returns without waiting for them.
func (f osFile) StartWriteback(off, n int64) error {
	return f.retryEINTR("sync_file_range", func(fd int) error {
		return unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
