package vfs

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
)

// ErrInjected is the error an Injector returns by default: it marks a failure
// that a test asked for, so the test can tell it from a real one.
var ErrInjected = errors.New("vfs: injected error")

// ErrNoSpace is returned by the DiskFull injector once its byte budget is
// spent; it stands in for ENOSPC.
var ErrNoSpace = errors.New("vfs: no space left on device (injected)")

// OpKind names a filesystem operation seen by an Injector.
type OpKind int

// The operations an ErrorFS reports to its Injector.
const (
	OpCreate OpKind = iota + 1
	OpOpen
	OpOpenAppend
	OpRename
	OpRemove
	OpRemoveAll
	OpMkdirAll
	OpList
	OpStat
	OpSyncDir
	OpWrite
	OpReadAt
	OpSync
	OpTruncate
	OpClose
	OpOpenWrite
	OpAllocate
)

var opNames = [...]string{"", "create", "open", "open-append", "rename", "remove", "remove-all",
	"mkdir-all", "list", "stat", "sync-dir", "write", "read-at", "sync", "truncate", "close", "open-write", "allocate"}

func (k OpKind) String() string {
	if k > 0 && int(k) < len(opNames) {
		return opNames[k]
	}
	return "unknown"
}

// Op describes one operation about to run.
type Op struct {
	Kind OpKind
	// Path is the file or directory operated on; for a rename, the old name.
	Path string
	// Len is the number of bytes of a Write or ReadAt, the bytes a Truncate
	// or Allocate adds to the file (0 if it adds none), 0 otherwise.
	Len int
}

// An Injector decides whether an operation fails. MaybeError is called
// before the operation runs; a non-nil result is returned to the caller and
// the operation does not happen. It may be called concurrently.
type Injector interface {
	MaybeError(op Op) error
}

// InjectorFunc adapts a function to an Injector.
type InjectorFunc func(op Op) error

// MaybeError implements Injector.
func (f InjectorFunc) MaybeError(op Op) error { return f(op) }

// ErrorFS wraps an FS and fails operations its Injector chooses.
type ErrorFS struct {
	inner FS
	inj   Injector
}

// NewErrorFS returns inner with errors injected by inj.
func NewErrorFS(inner FS, inj Injector) *ErrorFS { return &ErrorFS{inner: inner, inj: inj} }

func (e *ErrorFS) check(kind OpKind, path string, n int) error {
	return e.inj.MaybeError(Op{Kind: kind, Path: path, Len: n})
}

// Create implements FS.
func (e *ErrorFS) Create(name string) (File, error) {
	if err := e.check(OpCreate, name, 0); err != nil {
		return nil, err
	}
	f, err := e.inner.Create(name)
	if err != nil {
		return nil, err
	}
	return &errorFile{f: f, fs: e, name: name}, nil
}

// Open implements FS.
func (e *ErrorFS) Open(name string) (File, error) {
	if err := e.check(OpOpen, name, 0); err != nil {
		return nil, err
	}
	f, err := e.inner.Open(name)
	if err != nil {
		return nil, err
	}
	return &errorFile{f: f, fs: e, name: name}, nil
}

// OpenAppend implements FS.
func (e *ErrorFS) OpenAppend(name string) (File, error) {
	if err := e.check(OpOpenAppend, name, 0); err != nil {
		return nil, err
	}
	f, err := e.inner.OpenAppend(name)
	if err != nil {
		return nil, err
	}
	return &errorFile{f: f, fs: e, name: name}, nil
}

// OpenWrite implements FS.
func (e *ErrorFS) OpenWrite(name string) (File, error) {
	if err := e.check(OpOpenWrite, name, 0); err != nil {
		return nil, err
	}
	f, err := e.inner.OpenWrite(name)
	if err != nil {
		return nil, err
	}
	return &errorFile{f: f, fs: e, name: name}, nil
}

// Rename implements FS.
func (e *ErrorFS) Rename(oldname, newname string) error {
	if err := e.check(OpRename, oldname, 0); err != nil {
		return err
	}
	return e.inner.Rename(oldname, newname)
}

// Remove implements FS.
func (e *ErrorFS) Remove(name string) error {
	if err := e.check(OpRemove, name, 0); err != nil {
		return err
	}
	return e.inner.Remove(name)
}

// RemoveAll implements FS.
func (e *ErrorFS) RemoveAll(name string) error {
	if err := e.check(OpRemoveAll, name, 0); err != nil {
		return err
	}
	return e.inner.RemoveAll(name)
}

// MkdirAll implements FS.
func (e *ErrorFS) MkdirAll(name string, perm os.FileMode) error {
	if err := e.check(OpMkdirAll, name, 0); err != nil {
		return err
	}
	return e.inner.MkdirAll(name, perm)
}

// List implements FS.
func (e *ErrorFS) List(dir string) ([]string, error) {
	if err := e.check(OpList, dir, 0); err != nil {
		return nil, err
	}
	return e.inner.List(dir)
}

// Stat implements FS.
func (e *ErrorFS) Stat(name string) (os.FileInfo, error) {
	if err := e.check(OpStat, name, 0); err != nil {
		return nil, err
	}
	return e.inner.Stat(name)
}

// SyncDir implements FS.
func (e *ErrorFS) SyncDir(dir string) error {
	if err := e.check(OpSyncDir, dir, 0); err != nil {
		return err
	}
	return e.inner.SyncDir(dir)
}

type errorFile struct {
	f    File
	fs   *ErrorFS
	name string
}

func (f *errorFile) Write(p []byte) (int, error) {
	if err := f.fs.check(OpWrite, f.name, len(p)); err != nil {
		return 0, err
	}
	return f.f.Write(p)
}

func (f *errorFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpReadAt, f.name, len(p)); err != nil {
		return 0, err
	}
	return f.f.ReadAt(p, off)
}

func (f *errorFile) Close() error {
	if err := f.fs.check(OpClose, f.name, 0); err != nil {
		f.f.Close()
		return err
	}
	return f.f.Close()
}

func (f *errorFile) Sync() error {
	if err := f.fs.check(OpSync, f.name, 0); err != nil {
		return err
	}
	return f.f.Sync()
}

func (f *errorFile) Truncate(size int64) error {
	if err := f.fs.check(OpTruncate, f.name, f.growth(size)); err != nil {
		return err
	}
	return f.f.Truncate(size)
}

func (f *errorFile) Size() (int64, error) { return f.f.Size() }

// Allocate implements Allocator when the wrapped file does.
func (f *errorFile) Allocate(size int64) error {
	a, ok := f.f.(Allocator)
	if !ok {
		return &os.PathError{Op: "allocate", Path: f.name, Err: errors.ErrUnsupported}
	}
	if err := f.fs.check(OpAllocate, f.name, f.growth(size)); err != nil {
		return err
	}
	return a.Allocate(size)
}

// StartWriteback implements Writebacker when the wrapped file does. It
// injects no error: what it starts reports through the Sync that follows.
func (f *errorFile) StartWriteback(off, n int64) error {
	w, ok := f.f.(Writebacker)
	if !ok {
		return &os.PathError{Op: "writeback", Path: f.name, Err: errors.ErrUnsupported}
	}
	return w.StartWriteback(off, n)
}

// growth is the number of bytes by which a file of size would be larger.
func (f *errorFile) growth(size int64) int {
	cur, err := f.f.Size()
	if err != nil || size <= cur {
		return 0
	}
	return int(size - cur)
}

// FailNth fails the nth (1-based) operation whose kind is among kinds (any
// kind if none are given) with ErrInjected, and only that one.
func FailNth(n int, kinds ...OpKind) Injector {
	var count atomic.Int64
	return InjectorFunc(func(op Op) error {
		if !matchKind(op.Kind, kinds) {
			return nil
		}
		if count.Add(1) == int64(n) {
			return ErrInjected
		}
		return nil
	})
}

// Always fails every operation whose kind is among kinds (any kind if none
// are given) with ErrInjected.
func Always(kinds ...OpKind) Injector {
	return InjectorFunc(func(op Op) error {
		if matchKind(op.Kind, kinds) {
			return ErrInjected
		}
		return nil
	})
}

// OnPath restricts inj to operations whose path satisfies match.
func OnPath(match func(path string) bool, inj Injector) Injector {
	return InjectorFunc(func(op Op) error {
		if !match(op.Path) {
			return nil
		}
		return inj.MaybeError(op)
	})
}

// DiskFull lets writes through until they total more than budget bytes;
// from then on every Write and Create fails with ErrNoSpace, and so does
// every Truncate or Allocate that would make a file larger (shrinking a
// file, or allocating what it has, takes no space). A write that would cross
// the budget fails whole, writing nothing.
func DiskFull(budget int64) Injector {
	var mu sync.Mutex
	used, full := int64(0), false
	return InjectorFunc(func(op Op) error {
		switch op.Kind {
		case OpWrite, OpCreate:
		case OpTruncate, OpAllocate:
			if op.Len == 0 {
				return nil
			}
		default:
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if full || used+int64(op.Len) > budget {
			full = true
			return ErrNoSpace
		}
		used += int64(op.Len)
		return nil
	})
}

// Switch is an Injector that consults Inner only while enabled; tests arm it
// at the moment a failure should start. The zero Switch is disabled and,
// once enabled with a nil Inner, fails every operation with ErrInjected.
type Switch struct {
	Inner Injector
	on    atomic.Bool
}

// Enable arms the switch.
func (s *Switch) Enable() { s.on.Store(true) }

// Disable disarms the switch.
func (s *Switch) Disable() { s.on.Store(false) }

// MaybeError implements Injector.
func (s *Switch) MaybeError(op Op) error {
	if !s.on.Load() {
		return nil
	}
	if s.Inner == nil {
		return ErrInjected
	}
	return s.Inner.MaybeError(op)
}

func matchKind(k OpKind, kinds []OpKind) bool {
	if len(kinds) == 0 {
		return true
	}
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}
