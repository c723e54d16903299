package journal

import (
	"errors"
	"sync/atomic"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// hookFS wraps an FS, counts file syncs and lets a test delay, block or fail
// writes and syncs of files. Its files preallocate if the wrapped FS's do, or
// by extending the file with Truncate if truncateAllocates (MemFS cannot).
type hookFS struct {
	vfs.FS
	truncateAllocates bool
	syncs             atomic.Int64
	writes            atomic.Int64
	onSync            atomic.Pointer[func(name string) error]
	onWrite           atomic.Pointer[func(name string) error]
}

func newHookFS(inner vfs.FS) *hookFS { return &hookFS{FS: inner} }

func (h *hookFS) setOnSync(fn func(name string) error)  { h.onSync.Store(&fn) }
func (h *hookFS) setOnWrite(fn func(name string) error) { h.onWrite.Store(&fn) }

type hookFile struct {
	vfs.File
	name string
	h    *hookFS
}

func (h *hookFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return &hookFile{File: f, name: name, h: h}, nil
}

func (h *hookFS) Create(name string) (vfs.File, error) {
	f, err := h.FS.Create(name)
	return h.wrap(name, f, err)
}

func (h *hookFS) Open(name string) (vfs.File, error) {
	f, err := h.FS.Open(name)
	return h.wrap(name, f, err)
}

func (h *hookFS) OpenAppend(name string) (vfs.File, error) {
	f, err := h.FS.OpenAppend(name)
	return h.wrap(name, f, err)
}

func (h *hookFS) OpenWrite(name string) (vfs.File, error) {
	f, err := h.FS.OpenWrite(name)
	return h.wrap(name, f, err)
}

func (f *hookFile) Write(p []byte) (int, error) {
	f.h.writes.Add(1)
	if fn := f.h.onWrite.Load(); fn != nil && *fn != nil {
		if err := (*fn)(f.name); err != nil {
			return 0, err
		}
	}
	return f.File.Write(p)
}

func (f *hookFile) Sync() error {
	f.h.syncs.Add(1)
	if fn := f.h.onSync.Load(); fn != nil && *fn != nil {
		if err := (*fn)(f.name); err != nil {
			return err
		}
	}
	return f.File.Sync()
}

func (f *hookFile) Allocate(size int64) error {
	if a, ok := f.File.(vfs.Allocator); ok {
		return a.Allocate(size)
	}
	if !f.h.truncateAllocates {
		return errors.ErrUnsupported
	}
	if cur, err := f.File.Size(); err != nil || cur >= size {
		return err
	}
	return f.File.Truncate(size)
}
