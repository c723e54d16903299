package server

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWarnIfShared(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	private, shared := filepath.Join(dir, "private"), filepath.Join(dir, "shared")
	os.WriteFile(private, []byte("x"), 0o600)
	os.WriteFile(shared, []byte("x"), 0o644)
	os.Chmod(shared, 0o644) // whatever the umask
	warnIfShared(log, private, "credentials file")
	if buf.Len() != 0 {
		t.Fatalf("warned about a 0600 file: %s", buf.String())
	}
	warnIfShared(log, shared, "credentials file")
	if !strings.Contains(buf.String(), "credentials file is accessible to other users") {
		t.Fatalf("no warning about a 0644 file: %q", buf.String())
	}
}
