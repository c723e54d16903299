package vfs

import (
	"errors"
	"testing"
)

func TestMemBulkSyncMakesContentsDurable(t *testing.T) {
	m := NewMem()
	if err := MkdirAllDurable(m, "/d/e"); err != nil {
		t.Fatal(err)
	}
	f, _ := m.Create("/d/f")
	g, _ := m.Create("/d/e/g")
	m.SyncDir("/d")
	m.SyncDir("/d/e")
	mustWrite(t, f, "abc")
	mustWrite(t, g, "xyz")
	bs, err := m.OpenBulkSyncer("/d")
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, m.CrashClone(), "/d/f"); got != "" {
		t.Fatalf("unsynced contents survived crash: %q", got)
	}
	if err := bs.Sync(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "def")
	c := m.CrashClone()
	if got := readAll(t, c, "/d/f") + readAll(t, c, "/d/e/g"); got != "abcxyz" {
		t.Fatalf("after bulk sync and crash: %q, want abcxyz", got)
	}
}

func TestMemBulkSyncMakesDirectoryEntriesDurable(t *testing.T) {
	m := NewMem()
	if err := MkdirAllDurable(m, "/d"); err != nil {
		t.Fatal(err)
	}
	bs, _ := m.OpenBulkSyncer("/d")
	if err := m.MkdirAll("/d/new", 0o700); err != nil {
		t.Fatal(err)
	}
	h, _ := m.Create("/d/new/h")
	mustWrite(t, h, "hi")
	if _, err := m.CrashClone().Stat("/d/new"); err == nil {
		t.Fatal("an unsynced directory entry survived a crash")
	}
	if err := bs.Sync(); err != nil {
		t.Fatal(err)
	}
	m.Rename("/d/new", "/d/renamed") // not synced: the old name stays durable
	c := m.CrashClone()
	if got := readAll(t, c, "/d/new/h"); got != "hi" {
		t.Fatalf("after bulk sync and crash: %q, want hi", got)
	}
	if _, err := c.Stat("/d/renamed"); err == nil {
		t.Fatal("a rename after the bulk sync survived a crash")
	}
}

func TestErrorFSBulkSyncInjects(t *testing.T) {
	sw := &Switch{Inner: InjectorFunc(func(op Op) error {
		if op.Kind == OpSync && op.Path == "/d" {
			return ErrInjected
		}
		return nil
	})}
	e := NewErrorFS(NewMem(), sw)
	bs, err := e.OpenBulkSyncer("/d")
	if err != nil {
		t.Fatal(err)
	}
	sw.Enable()
	if err := bs.Sync(); !errors.Is(err, ErrInjected) {
		t.Fatalf("Sync = %v, want the injected error", err)
	}
}

func TestOSBulkSync(t *testing.T) {
	bs, err := OS.(BulkSyncFS).OpenBulkSyncer(t.TempDir())
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	if err := bs.Sync(); err != nil {
		t.Fatal(err)
	}
}
