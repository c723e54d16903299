package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/riffle-streams/riffle/internal/loadgen"
)

// The report's header describes the targets that ran, with the versions
// installed, and no others.
func TestPeerHeaderNamesTheTargetsRun(t *testing.T) {
	peers := t.TempDir()
	dir := filepath.Join(peers, "node_modules", "kinesalite")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name": "kinesalite", "version": "3.3.3"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := func(names ...string) []loadgen.TargetResults {
		var rs []loadgen.TargetResults
		for _, n := range names {
			rs = append(rs, loadgen.TargetResults{Target: n})
		}
		return rs
	}
	h := peerHeader(loadgen.Options{}, peers, runs("riffle", "ceiling"))
	if !strings.Contains(h, "ceiling: a Go server") || strings.Contains(h, "kinesalite") || strings.Contains(h, "kinesis-local") {
		t.Errorf("riffle and ceiling only: header %q", h)
	}
	if h = peerHeader(loadgen.Options{}, peers, runs("riffle")); strings.Contains(h, "Other targets") {
		t.Errorf("riffle only: header %q", h)
	}
	h = peerHeader(loadgen.Options{Quick: true}, peers, runs("riffle", "ceiling", "kinesalite", "kinesis-local"))
	for _, want := range []string{"kinesalite 3.3.3 (in memory", "kinesis-local ? (", "ceiling:", "Run mode: --quick"} {
		if !strings.Contains(h, want) {
			t.Errorf("all targets: header %q lacks %q", h, want)
		}
	}
}
