package vfs

import (
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// MemFS is an in-memory filesystem that remembers, besides the current state,
// the durable state: what a crash would leave behind. It serves both throwaway
// in-memory servers (no fsync cost) and crash tests.
//
// The durable state follows the package's durability contract exactly:
// a file's durable contents are its contents as of its last Sync, and a
// directory's durable entries are its entries as of its last SyncDir. The
// root directory always exists. CrashClone returns a new MemFS holding only
// the durable state.
//
// Paths are cleaned with path.Clean and resolved from the root, so "a/b" and
// "/a/b" name the same file.
type MemFS struct {
	// mu guards the directory tree (every memNode.children and
	// memNode.syncedChildren). Lock order: MemFS.mu before memNode.mu.
	mu   sync.Mutex
	root *memNode
}

// memNode is a file or a directory.
type memNode struct {
	isDir bool

	// Directories only; guarded by MemFS.mu.
	children       map[string]*memNode
	syncedChildren map[string]*memNode

	// Files only; guarded by mu.
	mu   sync.RWMutex
	data []byte
	// synced is the durable contents. It may share data's backing array:
	// synced is always capped (len == cap) so that appends to data never
	// show through it, and any write inside data[:len(synced)] copies data
	// first (see makePrivate).
	synced []byte
	shared bool // synced and data share a backing array
	mtime  time.Time
}

// NewMem returns an empty in-memory filesystem.
func NewMem() *MemFS {
	return &MemFS{root: newDirNode()}
}

func newDirNode() *memNode {
	return &memNode{isDir: true, children: map[string]*memNode{}, syncedChildren: map[string]*memNode{}}
}

var errIsDir = errors.New("is a directory")
var errNotDir = errors.New("not a directory")
var errReadOnly = errors.New("file opened read-only")
var errDirNotEmpty = errors.New("directory not empty")
var errClosed = errors.New("file already closed")

// split cleans name and returns its components; the root has none.
func split(name string) []string {
	p := strings.Trim(path.Clean("/"+name), "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// walk returns the node at the given components. Callers hold m.mu.
func (m *MemFS) walk(parts []string) (*memNode, bool) {
	n := m.root
	for _, p := range parts {
		if !n.isDir {
			return nil, false
		}
		c, ok := n.children[p]
		if !ok {
			return nil, false
		}
		n = c
	}
	return n, true
}

// parent returns the directory holding name and name's base. Callers hold m.mu.
func (m *MemFS) parent(op, name string) (*memNode, string, error) {
	parts := split(name)
	if len(parts) == 0 {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	dir, ok := m.walk(parts[:len(parts)-1])
	if !ok {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	if !dir.isDir {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: errNotDir}
	}
	return dir, parts[len(parts)-1], nil
}

// Create implements FS.
func (m *MemFS) Create(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.parent("create", name)
	if err != nil {
		return nil, err
	}
	n, ok := dir.children[base]
	if ok && n.isDir {
		return nil, &fs.PathError{Op: "create", Path: name, Err: errIsDir}
	}
	if ok {
		n.mu.Lock()
		n.makePrivate()
		n.data = n.data[:0]
		n.mtime = time.Now()
		n.mu.Unlock()
	} else {
		n = &memNode{mtime: time.Now()}
		dir.children[base] = n
	}
	return &memFile{n: n, name: name, write: true}, nil
}

// Open implements FS.
func (m *MemFS) Open(name string) (File, error) {
	return m.open("open", name, false, false)
}

// OpenAppend implements FS.
func (m *MemFS) OpenAppend(name string) (File, error) {
	return m.open("open", name, true, true)
}

// OpenWrite implements FS.
func (m *MemFS) OpenWrite(name string) (File, error) {
	return m.open("open-write", name, true, false)
}

func (m *MemFS) open(op, name string, write, appendMode bool) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.walk(split(name))
	if !ok {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	if n.isDir {
		return nil, &fs.PathError{Op: op, Path: name, Err: errIsDir}
	}
	return &memFile{n: n, name: name, write: write, appendMode: appendMode}, nil
}

// Rename implements FS.
func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	odir, obase, err := m.parent("rename", oldname)
	if err != nil {
		return err
	}
	n, ok := odir.children[obase]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldname, Err: fs.ErrNotExist}
	}
	ndir, nbase, err := m.parent("rename", newname)
	if err != nil {
		return err
	}
	if old, ok := ndir.children[nbase]; ok && old != n {
		if old.isDir != n.isDir || (old.isDir && len(old.children) > 0) {
			return &fs.PathError{Op: "rename", Path: newname, Err: fs.ErrExist}
		}
	}
	delete(odir.children, obase)
	ndir.children[nbase] = n
	return nil
}

// Remove implements FS.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.parent("remove", name)
	if err != nil {
		return err
	}
	n, ok := dir.children[base]
	if !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	if n.isDir && len(n.children) > 0 {
		return &fs.PathError{Op: "remove", Path: name, Err: errDirNotEmpty}
	}
	delete(dir.children, base)
	return nil
}

// RemoveAll implements FS.
func (m *MemFS) RemoveAll(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts := split(name)
	if len(parts) == 0 {
		m.root.children = map[string]*memNode{}
		return nil
	}
	dir, ok := m.walk(parts[:len(parts)-1])
	if !ok || !dir.isDir {
		return nil
	}
	delete(dir.children, parts[len(parts)-1])
	return nil
}

// MkdirAll implements FS. The permission bits are ignored.
func (m *MemFS) MkdirAll(name string, _ os.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.root
	for _, p := range split(name) {
		c, ok := n.children[p]
		if !ok {
			c = newDirNode()
			n.children[p] = c
		} else if !c.isDir {
			return &fs.PathError{Op: "mkdir", Path: name, Err: errNotDir}
		}
		n = c
	}
	return nil
}

// List implements FS.
func (m *MemFS) List(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.walk(split(dir))
	if !ok {
		return nil, &fs.PathError{Op: "list", Path: dir, Err: fs.ErrNotExist}
	}
	if !n.isDir {
		return nil, &fs.PathError{Op: "list", Path: dir, Err: errNotDir}
	}
	names := make([]string, 0, len(n.children))
	for k := range n.children {
		names = append(names, k)
	}
	sort.Strings(names)
	return names, nil
}

// Stat implements FS.
func (m *MemFS) Stat(name string) (os.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts := split(name)
	n, ok := m.walk(parts)
	if !ok {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	fi := memFileInfo{isDir: n.isDir, name: "/"}
	if len(parts) > 0 {
		fi.name = parts[len(parts)-1]
	}
	if !n.isDir {
		n.mu.RLock()
		fi.size, fi.mtime = int64(len(n.data)), n.mtime
		n.mu.RUnlock()
	}
	return fi, nil
}

// SyncDir implements FS: the directory's current entries become durable.
func (m *MemFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.walk(split(dir))
	if !ok {
		return &fs.PathError{Op: "syncdir", Path: dir, Err: fs.ErrNotExist}
	}
	if !n.isDir {
		return &fs.PathError{Op: "syncdir", Path: dir, Err: errNotDir}
	}
	n.syncedChildren = maps.Clone(n.children)
	return nil
}

// CrashClone returns a new MemFS holding only the durable state of m, as a
// machine crash at this instant would leave it: each file reachable through
// synced directory entries, with the contents of its last Sync. m itself is
// unchanged and its open files stay usable; the clone shares nothing with m.
func (m *MemFS) CrashClone() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	// A node reachable by two durable names (a rename whose old entry is
	// not yet synced away) stays one node in the clone, like a hard link.
	seen := map[*memNode]*memNode{}
	return &MemFS{root: cloneDurable(m.root, seen)}
}

func cloneDurable(n *memNode, seen map[*memNode]*memNode) *memNode {
	if c, ok := seen[n]; ok {
		return c
	}
	if !n.isDir {
		n.mu.RLock()
		data := append([]byte(nil), n.synced...)
		c := &memNode{data: data, synced: data[:len(data):len(data)], shared: true, mtime: n.mtime}
		n.mu.RUnlock()
		seen[n] = c
		return c
	}
	c := newDirNode()
	seen[n] = c
	for k, v := range n.syncedChildren {
		cc := cloneDurable(v, seen)
		c.children[k] = cc
		c.syncedChildren[k] = cc
	}
	return c
}

// makePrivate gives data its own backing array if synced shares it, so that
// an in-place write cannot change the durable contents. Callers hold n.mu.
func (n *memNode) makePrivate() {
	if n.shared {
		n.data = append(make([]byte, 0, cap(n.data)), n.data...)
		n.shared = false
	}
}

// memFile is an open MemFS file.
type memFile struct {
	n          *memNode
	name       string
	write      bool
	appendMode bool
	off        int64 // next write offset when not appendMode
	closed     bool
}

func (f *memFile) Write(p []byte) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: errClosed}
	}
	if !f.write {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: errReadOnly}
	}
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	off := f.off
	if f.appendMode {
		off = int64(len(n.data))
	}
	end := off + int64(len(p))
	if off < int64(len(n.data)) {
		n.makePrivate()
	}
	if end > int64(len(n.data)) {
		if off > int64(len(n.data)) {
			// Writing past the end leaves a hole of zeros, as on a real FS.
			n.data = append(n.data, make([]byte, off-int64(len(n.data)))...)
		}
		n.data = append(n.data[:off], p...)
	} else {
		copy(n.data[off:], p)
	}
	f.off = end
	n.mtime = time.Now()
	return len(p), nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: errClosed}
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
	}
	f.n.mu.RLock()
	defer f.n.mu.RUnlock()
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	k := copy(p, f.n.data[off:])
	if k < len(p) {
		return k, io.EOF
	}
	return k, nil
}

func (f *memFile) Close() error {
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: errClosed}
	}
	f.closed = true
	return nil
}

func (f *memFile) Sync() error {
	if f.closed {
		return &fs.PathError{Op: "sync", Path: f.name, Err: errClosed}
	}
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	// Share rather than copy so that syncing a growing log costs nothing
	// per byte; makePrivate protects synced from later in-place writes.
	n.synced = n.data[:len(n.data):len(n.data)]
	n.shared = true
	return nil
}

func (f *memFile) Truncate(size int64) error {
	if f.closed {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: errClosed}
	}
	if !f.write {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: errReadOnly}
	}
	if size < 0 {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: fs.ErrInvalid}
	}
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if size < int64(len(n.data)) {
		n.makePrivate()
		n.data = n.data[:size]
	} else {
		n.data = append(n.data, make([]byte, size-int64(len(n.data)))...)
	}
	n.mtime = time.Now()
	return nil
}

func (f *memFile) Size() (int64, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "size", Path: f.name, Err: errClosed}
	}
	f.n.mu.RLock()
	defer f.n.mu.RUnlock()
	return int64(len(f.n.data)), nil
}

type memFileInfo struct {
	name  string
	size  int64
	isDir bool
	mtime time.Time
}

func (fi memFileInfo) Name() string { return fi.name }
func (fi memFileInfo) Size() int64  { return fi.size }
func (fi memFileInfo) Mode() os.FileMode {
	if fi.isDir {
		return os.ModeDir | 0o700
	}
	return 0o600
}
func (fi memFileInfo) ModTime() time.Time { return fi.mtime }
func (fi memFileInfo) IsDir() bool        { return fi.isDir }
func (fi memFileInfo) Sys() any           { return nil }
