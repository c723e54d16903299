package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
)

// MkdirAllDurable creates dir and any missing parents (mode 0700) and makes
// every created entry durable by syncing the parent of each directory it
// created. An existing dir is left alone and nothing is synced.
func MkdirAllDurable(fsys FS, dir string) error {
	dir = path.Clean(dir)
	// Collect the missing directories, deepest first.
	var missing []string
	for d := dir; ; d = path.Dir(d) {
		_, err := fsys.Stat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("vfs: stat %s: %w", d, err)
		}
		missing = append(missing, d)
		if p := path.Dir(d); p == d {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := fsys.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("vfs: mkdir %s: %w", dir, err)
	}
	// Sync top-down so a crash never leaves a durable child in a
	// directory whose own entry is not durable.
	for i := len(missing) - 1; i >= 0; i-- {
		if err := fsys.SyncDir(path.Dir(missing[i])); err != nil {
			return fmt.Errorf("vfs: sync dir %s: %w", path.Dir(missing[i]), err)
		}
	}
	return nil
}
