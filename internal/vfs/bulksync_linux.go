package vfs

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// OpenBulkSyncer implements BulkSyncFS with syncfs(2) on a directory held
// open, so that write errors since the open are reported (Linux 5.8 and
// later; older kernels may not report them, and get ErrUnsupported).
func (osFS) OpenBulkSyncer(dir string) (BulkSyncer, error) {
	if !kernelAtLeast(5, 8) {
		return nil, errUnsupportedBulkSync
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	return osBulkSyncer{f}, nil
}

type osBulkSyncer struct{ f *os.File }

func (s osBulkSyncer) Sync() error {
	if err := unix.Syncfs(int(s.f.Fd())); err != nil {
		return fmt.Errorf("syncfs %s: %w", s.f.Name(), err)
	}
	return nil
}

func (s osBulkSyncer) Close() error { return s.f.Close() }

// kernelAtLeast reports whether the running kernel's release is at least
// major.minor.
func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	var ma, mi int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
