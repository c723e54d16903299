package loadgen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// The targets assume a disk with a 65 µs fsync; on these virtual
// disks a small write's fsync drifted between about 110 µs and 380 µs within
// an hour. A run therefore probes the disk it runs on, before and after, so
// that each run's latency figures can be read against the fsync they paid.

// FsyncProbe is the latency of a 200 B write followed by the journal's sync
// (vfs File.Sync: fdatasync on Linux): at the end of a file, and into blocks
// allocated beforehand, as the journal writes (internal/journal/recycle.go),
// back to back and paced.
//
// Paced writes pause ProbePause before each write, as one producer's
// PutRecord calls leave the disk idle between syncs. These virtual disks
// sync slower after a pause, even a short one, than back to back, so the
// paced figures are what the PutRecord latency scenario pays.
type FsyncProbe struct {
	AppendP50, AppendP99       time.Duration
	AllocatedP50, AllocatedP99 time.Duration
	PacedP50, PacedP99         time.Duration
}

// ProbePause is the pause before each paced probe write: about the time one
// producer's PutRecord round trip takes besides the sync (the ceiling
// server's PutRecord latency here).
const ProbePause = 300 * time.Microsecond

// probeWriteBytes is the size of each probe write: a PutRecord of 100 B
// makes a journal entry about this large.
const probeWriteBytes = 200

// ProbeFsync times n writes with fsync of each kind in a file it creates in
// dir and removes.
func ProbeFsync(dir string, n int) (FsyncProbe, error) {
	var p FsyncProbe
	var err error
	if p.AppendP50, p.AppendP99, err = probeWrites(dir, n, false, 0); err != nil {
		return p, err
	}
	allocate := true
	p.AllocatedP50, p.AllocatedP99, err = probeWrites(dir, n, true, 0)
	if errors.Is(err, errors.ErrUnsupported) {
		allocate, err = false, nil // no preallocation here; the journal appends too
	}
	if err != nil {
		return p, err
	}
	p.PacedP50, p.PacedP99, err = probeWrites(dir, n, allocate, ProbePause)
	return p, err
}

func probeWrites(dir string, n int, allocate bool, pause time.Duration) (p50, p99 time.Duration, err error) {
	name := filepath.Join(dir, fmt.Sprintf("riffle-fsync-probe-%d", os.Getpid()))
	f, err := vfs.OS.Create(name)
	if err != nil {
		return 0, 0, fmt.Errorf("fsync probe: %w", err)
	}
	defer os.Remove(name)
	defer f.Close()
	if allocate {
		a, ok := f.(vfs.Allocator)
		if !ok {
			return 0, 0, fmt.Errorf("fsync probe: %w", errors.ErrUnsupported)
		}
		if err := a.Allocate(int64(n) * probeWriteBytes); err != nil {
			return 0, 0, fmt.Errorf("fsync probe: %w", err)
		}
		if err := f.Sync(); err != nil {
			return 0, 0, fmt.Errorf("fsync probe: %w", err)
		}
	}
	buf := make([]byte, probeWriteBytes)
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		buf[0] = byte(i)
		if pause > 0 {
			time.Sleep(pause)
		}
		t0 := time.Now()
		if _, err := f.Write(buf); err != nil {
			return 0, 0, fmt.Errorf("fsync probe: %w", err)
		}
		if err := f.Sync(); err != nil {
			return 0, 0, fmt.Errorf("fsync probe: %w", err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	return pct(lat, 50), pct(lat, 99), nil
}

// String describes the probe for the report's header.
func (p FsyncProbe) String() string {
	us := func(d time.Duration) int64 { return d.Microseconds() }
	s := fmt.Sprintf("p50 %d µs appending (p99 %d µs)", us(p.AppendP50), us(p.AppendP99))
	if p.AllocatedP50 > 0 {
		s += fmt.Sprintf(", %d µs into allocated blocks (p99 %d µs)", us(p.AllocatedP50), us(p.AllocatedP99))
	}
	return s + fmt.Sprintf(", %d µs paced by a %d µs pause before each write (p99 %d µs)", us(p.PacedP50), ProbePause.Microseconds(), us(p.PacedP99))
}
