package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// testFS runs the behaviour every FS must share against each implementation.
func testFS(t *testing.T, f func(t *testing.T, fsys FS, dir string)) {
	t.Run("os", func(t *testing.T) { f(t, OS, t.TempDir()) })
	t.Run("mem", func(t *testing.T) { f(t, NewMem(), "/data") })
	t.Run("errorfs-mem", func(t *testing.T) { f(t, NewErrorFS(NewMem(), &Switch{}), "data") })
}

func mustWrite(t *testing.T, f File, s string) {
	t.Helper()
	if n, err := f.Write([]byte(s)); err != nil || n != len(s) {
		t.Fatalf("write %q: n=%d err=%v", s, n, err)
	}
}

func readAll(t *testing.T, fsys FS, name string) string {
	t.Helper()
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, size)
	if n, err := f.ReadAt(buf, 0); n != len(buf) || (err != nil && err != io.EOF) {
		t.Fatalf("readat: n=%d err=%v", n, err)
	}
	return string(buf)
}

func TestFSBehaviour(t *testing.T) {
	testFS(t, func(t *testing.T, fsys FS, dir string) {
		if err := fsys.MkdirAll(path.Join(dir, "a/b"), 0o700); err != nil {
			t.Fatal(err)
		}
		name := path.Join(dir, "a/b/f")
		f, err := fsys.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, f, "hello ")
		mustWrite(t, f, "world")
		if sz, _ := f.Size(); sz != 11 {
			t.Fatalf("size = %d, want 11", sz)
		}
		buf := make([]byte, 5)
		if n, err := f.ReadAt(buf, 6); n != 5 || string(buf) != "world" || (err != nil && err != io.EOF) {
			t.Fatalf("ReadAt = %d %q %v", n, buf, err)
		}
		if n, err := f.ReadAt(buf, 9); n != 2 || err != io.EOF {
			t.Fatalf("short ReadAt = %d %v, want 2 EOF", n, err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}

		// OpenAppend writes at the end; Truncate shrinks.
		f, err = fsys.OpenAppend(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(5); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, f, "!")
		f.Close()
		if got := readAll(t, fsys, name); got != "hello!" {
			t.Fatalf("contents = %q, want %q", got, "hello!")
		}

		// Open is read-only.
		ro, err := fsys.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ro.Write([]byte("x")); err == nil {
			t.Fatal("write to read-only file succeeded")
		}
		ro.Close()

		// Rename replaces; List is sorted; Stat reports size.
		other := path.Join(dir, "a/b/e")
		g, err := fsys.Create(other)
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, g, "old")
		g.Close()
		names, err := fsys.List(path.Join(dir, "a/b"))
		if err != nil || !reflect.DeepEqual(names, []string{"e", "f"}) {
			t.Fatalf("List = %v %v", names, err)
		}
		if err := fsys.Rename(name, other); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, fsys, other); got != "hello!" {
			t.Fatalf("after rename = %q", got)
		}
		if _, err := fsys.Stat(name); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Stat of renamed-away = %v, want ErrNotExist", err)
		}
		fi, err := fsys.Stat(other)
		if err != nil || fi.Size() != 6 || fi.IsDir() {
			t.Fatalf("Stat = %v %v", fi, err)
		}
		if err := fsys.SyncDir(path.Join(dir, "a/b")); err != nil {
			t.Fatal(err)
		}

		// Remove refuses a non-empty directory; RemoveAll does not.
		if err := fsys.Remove(path.Join(dir, "a")); err == nil {
			t.Fatal("Remove of non-empty dir succeeded")
		}
		if err := fsys.Remove(other); err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.Open(other); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open removed = %v", err)
		}
		if err := fsys.RemoveAll(path.Join(dir, "a")); err != nil {
			t.Fatal(err)
		}
		if err := fsys.RemoveAll(path.Join(dir, "missing")); err != nil {
			t.Fatalf("RemoveAll missing = %v", err)
		}
		if _, err := fsys.Create(path.Join(dir, "a/b/f")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Create in removed dir = %v", err)
		}

		// MkdirAllDurable creates nested dirs.
		if err := MkdirAllDurable(fsys, path.Join(dir, "x/y/z")); err != nil {
			t.Fatal(err)
		}
		if fi, err := fsys.Stat(path.Join(dir, "x/y/z")); err != nil || !fi.IsDir() {
			t.Fatalf("Stat dir = %v %v", fi, err)
		}
	})
}

func TestMemCrashKeepsOnlySyncedContents(t *testing.T) {
	m := NewMem()
	if err := MkdirAllDurable(m, "/d"); err != nil {
		t.Fatal(err)
	}
	f, _ := m.Create("/d/f")
	mustWrite(t, f, "abc")
	if err := m.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	// Entry durable, contents not yet.
	if got := readAll(t, m.CrashClone(), "/d/f"); got != "" {
		t.Fatalf("unsynced contents survived crash: %q", got)
	}
	f.Sync()
	mustWrite(t, f, "def")
	c := m.CrashClone()
	if got := readAll(t, c, "/d/f"); got != "abc" {
		t.Fatalf("after crash = %q, want abc", got)
	}
	// The original is untouched and keeps working.
	if got := readAll(t, m, "/d/f"); got != "abcdef" {
		t.Fatalf("original = %q", got)
	}
	// Truncating below the synced size must not alter the synced state
	// until the next Sync, even though synced data shares memory.
	f.Close()
	f, _ = m.OpenAppend("/d/f")
	f.Truncate(1)
	mustWrite(t, f, "XY")
	if got := readAll(t, m.CrashClone(), "/d/f"); got != "abc" {
		t.Fatalf("after truncate+write, crash = %q, want abc", got)
	}
	f.Sync()
	if got := readAll(t, m.CrashClone(), "/d/f"); got != "aXY" {
		t.Fatalf("after sync, crash = %q, want aXY", got)
	}
	// Writes to the clone do not leak into the original.
	cf, _ := c.OpenAppend("/d/f")
	mustWrite(t, cf, "zzz")
	if got := readAll(t, m, "/d/f"); got != "aXY" {
		t.Fatalf("clone write leaked: %q", got)
	}
}

func TestMemCrashDirectoryEntries(t *testing.T) {
	m := NewMem()
	m.MkdirAll("/d", 0o700)
	// The directory itself is not durable until its parent is synced.
	if _, err := m.CrashClone().Stat("/d"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("unsynced mkdir survived: %v", err)
	}
	m.SyncDir("/")
	f, _ := m.Create("/d/tmp")
	mustWrite(t, f, "new")
	f.Sync()
	// Synced file, unsynced entry: gone after crash.
	if _, err := m.CrashClone().Stat("/d/tmp"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("unsynced create survived: %v", err)
	}
	m.SyncDir("/d")
	m.Rename("/d/tmp", "/d/final")
	c := m.CrashClone()
	if got := readAll(t, c, "/d/tmp"); got != "new" {
		t.Fatalf("crash before rename synced: tmp = %q", got)
	}
	if _, err := c.Stat("/d/final"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("unsynced rename target survived: %v", err)
	}
	m.SyncDir("/d")
	c = m.CrashClone()
	if got, _ := c.List("/d"); !reflect.DeepEqual(got, []string{"final"}) {
		t.Fatalf("after synced rename: %v", got)
	}
	m.Remove("/d/final")
	if got, _ := m.CrashClone().List("/d"); !reflect.DeepEqual(got, []string{"final"}) {
		t.Fatalf("unsynced remove took effect: %v", got)
	}
	m.SyncDir("/d")
	if got, _ := m.CrashClone().List("/d"); len(got) != 0 {
		t.Fatalf("synced remove undone: %v", got)
	}
}

func TestMemConcurrentReadWrite(t *testing.T) {
	m := NewMem()
	f, _ := m.Create("/f")
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 1000; i++ {
			f.Write([]byte("0123456789"))
			if i%10 == 0 {
				f.Sync()
			}
		}
	}()
	go func() {
		defer wg.Done()
		r, _ := m.Open("/f")
		buf := make([]byte, 10)
		for i := 0; i < 1000; i++ {
			if n, _ := r.ReadAt(buf, 0); n == 10 && string(buf) != "0123456789" {
				t.Errorf("read %q", buf)
			}
			m.CrashClone()
		}
	}()
	wg.Wait()
	if sz, _ := f.Size(); sz != 10000 {
		t.Fatalf("size = %d", sz)
	}
}

func TestErrorFS(t *testing.T) {
	t.Run("nth write", func(t *testing.T) {
		e := NewErrorFS(NewMem(), FailNth(2, OpWrite))
		f, _ := e.Create("/f")
		mustWrite(t, f, "a")
		if _, err := f.Write([]byte("b")); !errors.Is(err, ErrInjected) {
			t.Fatalf("2nd write = %v", err)
		}
		mustWrite(t, f, "c")
		if got := readAll(t, e, "/f"); got != "ac" {
			t.Fatalf("contents %q: failed write must write nothing", got)
		}
	})
	t.Run("sync on path", func(t *testing.T) {
		e := NewErrorFS(NewMem(), OnPath(func(p string) bool { return path.Ext(p) == ".log" }, Always(OpSync)))
		a, _ := e.Create("/x.log")
		b, _ := e.Create("/x.idx")
		if err := a.Sync(); !errors.Is(err, ErrInjected) {
			t.Fatalf("sync .log = %v", err)
		}
		if err := b.Sync(); err != nil {
			t.Fatalf("sync .idx = %v", err)
		}
	})
	t.Run("disk full", func(t *testing.T) {
		e := NewErrorFS(NewMem(), DiskFull(5))
		f, _ := e.Create("/f")
		mustWrite(t, f, "abc")
		if _, err := f.Write([]byte("def")); !errors.Is(err, ErrNoSpace) {
			t.Fatalf("overflowing write = %v", err)
		}
		if _, err := f.Write([]byte("d")); !errors.Is(err, ErrNoSpace) {
			t.Fatalf("write after full = %v", err)
		}
		if got := readAll(t, e, "/f"); got != "abc" {
			t.Fatalf("contents %q", got)
		}
	})
	t.Run("switch", func(t *testing.T) {
		var s Switch
		e := NewErrorFS(NewMem(), &s)
		f, _ := e.Create("/f")
		mustWrite(t, f, "a")
		s.Enable()
		if err := f.Sync(); !errors.Is(err, ErrInjected) {
			t.Fatalf("armed sync = %v", err)
		}
		if err := e.SyncDir("/"); !errors.Is(err, ErrInjected) {
			t.Fatalf("armed syncdir = %v", err)
		}
		s.Disable()
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("failed op does not run", func(t *testing.T) {
		m := NewMem()
		e := NewErrorFS(m, Always(OpRename))
		f, _ := e.Create("/a")
		f.Close()
		if err := e.Rename("/a", "/b"); !errors.Is(err, ErrInjected) {
			t.Fatal(err)
		}
		if _, err := m.Stat("/a"); err != nil {
			t.Fatalf("rename happened despite error: %v", err)
		}
	})
}

func TestMemWriteHole(t *testing.T) {
	m := NewMem()
	f, _ := m.Create("/f")
	f.Truncate(3)
	mustWrite(t, f, "ab")
	if got := readAll(t, m, "/f"); !bytes.Equal([]byte(got), []byte("ab\x00")) {
		t.Fatalf("got %q", got)
	}
}

// TestOSAllocate: on Linux, the real filesystem's files preallocate: the
// file grows to the size asked, reading zeros after what was written, and is
// never shrunk; later writes go over the zeros.
func TestOSAllocate(t *testing.T) {
	f, err := OS.Create(path.Join(t.TempDir(), "seg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, ok := f.(Allocator)
	if !ok {
		t.Skip("no fallocate on this platform")
	}
	if _, err := f.Write([]byte("head")); err != nil {
		t.Fatal(err)
	}
	if err := a.Allocate(1 << 20); errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
	if err := a.Allocate(100); err != nil {
		t.Fatal(err)
	}
	if size, err := f.Size(); err != nil || size != 1<<20 {
		t.Fatalf("size %d, %v; want %d", size, err, 1<<20)
	}
	if _, err := f.Write([]byte("next")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 12)
	if _, err := f.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if want := []byte("headnext\x00\x00\x00\x00"); !bytes.Equal(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
}

// TestOSSyncErrors: Sync reports a failure with the file's name, so that a
// journal that fails stop says which file it could not make durable.
func TestOSSyncErrors(t *testing.T) {
	name := path.Join(t.TempDir(), "seg")
	f, err := OS.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "data")
	if err := f.Sync(); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	err = f.Sync()
	if err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("sync after close: %v; want an error naming %s", err, name)
	}
	if w, ok := f.(Writebacker); ok {
		err = w.StartWriteback(0, 4)
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "sync_file_range") {
			t.Fatalf("writeback after close: %v; want an error naming sync_file_range and %s", err, name)
		}
	}
}
