package vfs

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// StartWriteback implements Writebacker with sync_file_range(2) and
// SYNC_FILE_RANGE_WRITE: it queues the range's dirty pages for writing and
// returns without waiting for them.
func (f osFile) StartWriteback(off, n int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("sync_file_range %s: %w", f.Name(), err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
			if !errors.Is(serr, unix.EINTR) {
				return
			}
		}
	}); err != nil {
		return fmt.Errorf("sync_file_range %s: %w", f.Name(), err)
	}
	if serr != nil {
		return fmt.Errorf("sync_file_range %s: %w", f.Name(), serr)
	}
	return nil
}
