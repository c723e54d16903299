package vfs

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Allocate implements Allocator with fallocate(2), which keeps the file's
// size at least size and reserves the blocks as zeros.
func (f osFile) Allocate(size int64) error {
	for {
		err := unix.Fallocate(int(f.Fd()), 0, 0, size)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EOPNOTSUPP):
			return fmt.Errorf("fallocate %s: %w", f.Name(), errors.ErrUnsupported)
		default:
			return fmt.Errorf("fallocate %s: %w", f.Name(), err)
		}
	}
}
