package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/riffle-streams/riffle/internal/config"
)

// TestPprofOnlyWhenAsked: Go's profiles are served at /debug/pprof/ with
// --pprof, and not at all without it.
func TestPprofOnlyWhenAsked(t *testing.T) {
	get := func(addr, path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	off := startTest(t, func(*config.Config) {})
	if code, body := get(off, "/debug/pprof/"); code == http.StatusOK || strings.Contains(body, "goroutine") {
		t.Errorf("without --pprof: GET /debug/pprof/ answered %d: %.200s", code, body)
	}
	on := startTest(t, func(c *config.Config) { c.Pprof = true })
	if code, body := get(on, "/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("with --pprof: GET /debug/pprof/ answered %d: %.200s", code, body)
	}
	if code, body := get(on, "/debug/pprof/cmdline"); code != http.StatusOK || body == "" {
		t.Errorf("with --pprof: GET /debug/pprof/cmdline answered %d: %q", code, body)
	}
}
