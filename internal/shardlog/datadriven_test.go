package shardlog

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/riffle-streams/riffle/internal/vfs"
)

// ddEnv is the state of one datadriven script: a crashable filesystem with a
// switchable error injector in front of it, and the open log.
type ddEnv struct {
	mem  *vfs.MemFS
	sw   *vfs.Switch
	fs   vfs.FS
	opts Options
	log  *Log
}

const ddDir = "/shard"

func newDDEnv(mem *vfs.MemFS) *ddEnv {
	sw := &vfs.Switch{}
	return &ddEnv{mem: mem, sw: sw, fs: vfs.NewErrorFS(mem, sw)}
}

func (e *ddEnv) state() string {
	l := e.log
	if l == nil {
		return "closed\n"
	}
	return fmt.Sprintf("first=%d next=%d segments=%d size=%d last-arrival=%d recovered=%d\n",
		l.First(), l.Next(), l.SegmentCount(), l.SizeBytes(), l.LastArrivalMillis(), l.Recovered())
}

func (e *ddEnv) open() string {
	l, err := Open(e.fs, ddDir, e.opts)
	if err != nil {
		e.log = nil
		return fmt.Sprintf("error: %v\n", err)
	}
	e.log = l
	return e.state()
}

func (e *ddEnv) segFile(t testing.TB, td *datadriven.TestData) string {
	var name string
	td.ScanArgs(t, "file", &name)
	return path.Join(ddDir, name)
}

var ddOps = map[string]vfs.OpKind{
	"write": vfs.OpWrite, "sync": vfs.OpSync, "create": vfs.OpCreate,
	"rename": vfs.OpRename, "sync-dir": vfs.OpSyncDir, "remove": vfs.OpRemove,
}

func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, p string) {
		if strings.Contains(p, "testdata/fuzz") {
			return // the fuzz corpus
		}
		e := newDDEnv(vfs.NewMem())
		datadriven.RunTest(t, p, func(t *testing.T, td *datadriven.TestData) string {
			return e.run(t, td)
		})
	})
}

func (e *ddEnv) run(t *testing.T, td *datadriven.TestData) string {
	errOr := func(err error) string {
		if err != nil {
			return fmt.Sprintf("error: %v\n", err)
		}
		return e.state()
	}
	switch td.Cmd {
	case "open":
		td.MaybeScanArgs(t, "segment-max", &e.opts.SegmentMaxBytes)
		td.MaybeScanArgs(t, "index-interval", &e.opts.IndexIntervalBytes)
		return e.open()

	case "append":
		seq := e.log.Next()
		td.MaybeScanArgs(t, "seq", &seq)
		var recs []Record
		for i, line := range strings.Split(strings.TrimSpace(td.Input), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 {
				td.Fatalf(t, "want: arrival key data, got %q", line)
			}
			ms, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				td.Fatalf(t, "%v", err)
			}
			recs = append(recs, Record{Seq: seq + uint64(i), ArrivalMillis: ms, PartitionKey: f[1], Data: []byte(f[2])})
		}
		return errOr(e.log.Append(recs))

	case "append-many":
		// append-many n=N arrival=MS [per-batch=K]: N records with data
		// "d<seq>", K per batch, arrival MS.
		var n, ms int64
		perBatch := int64(1)
		td.ScanArgs(t, "n", &n)
		td.ScanArgs(t, "arrival", &ms)
		td.MaybeScanArgs(t, "per-batch", &perBatch)
		for i := int64(0); i < n; i += perBatch {
			var recs []Record
			for j := i; j < min(n, i+perBatch); j++ {
				seq := e.log.Next() + uint64(j-i)
				recs = append(recs, Record{Seq: seq, ArrivalMillis: ms, PartitionKey: "k", Data: []byte(fmt.Sprintf("d%d", seq))})
			}
			if err := e.log.Append(recs); err != nil {
				return errOr(err)
			}
		}
		return e.state()

	case "sync":
		return errOr(e.log.Sync())

	case "roll":
		e.log.wmu.Lock()
		err := e.log.roll()
		e.log.wmu.Unlock()
		return errOr(err)

	case "trim":
		var ms int64
		td.ScanArgs(t, "before", &ms)
		return errOr(e.log.TrimBefore(ms))

	case "read":
		var from uint64
		maxRecords, maxBytes := 0, 0
		td.ScanArgs(t, "from", &from)
		td.MaybeScanArgs(t, "max", &maxRecords)
		td.MaybeScanArgs(t, "bytes", &maxBytes)
		recs, err := e.log.Read(from, maxRecords, maxBytes)
		var b strings.Builder
		for _, r := range recs {
			fmt.Fprintf(&b, "%d %d %s %s\n", r.Seq, r.ArrivalMillis, r.PartitionKey, r.Data)
		}
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
		}
		if b.Len() == 0 {
			return "(none)\n"
		}
		return b.String()

	case "seek-time":
		var ms int64
		td.ScanArgs(t, "ms", &ms)
		return fmt.Sprintf("%d\n", e.log.SeekTime(ms))

	case "crash":
		// The machine dies: only durable state survives. The old log is
		// abandoned, not closed (closing would fsync).
		*e = ddEnv{mem: e.mem.CrashClone(), opts: e.opts}
		sw := &vfs.Switch{}
		e.sw, e.fs = sw, vfs.NewErrorFS(e.mem, sw)
		return e.open()

	case "close":
		err := e.log.Close()
		e.log = nil
		if err != nil {
			return fmt.Sprintf("error: %v\n", err)
		}
		return "ok\n"

	case "reopen":
		if e.log != nil {
			if err := e.log.Close(); err != nil {
				return fmt.Sprintf("close error: %v\n", err)
			}
		}
		return e.open()

	case "fail":
		// fail op=KIND: every later operation of that kind fails.
		var op string
		td.ScanArgs(t, "op", &op)
		kind, ok := ddOps[op]
		if !ok {
			td.Fatalf(t, "unknown op %q", op)
		}
		e.sw.Inner = vfs.Always(kind)
		e.sw.Enable()
		return "ok\n"

	case "heal":
		e.sw.Disable()
		return "ok\n"

	case "corrupt":
		// corrupt file=NAME off=N: flip every bit of one byte; a negative
		// offset counts from the end.
		name := e.segFile(t, td)
		var off int64
		td.ScanArgs(t, "off", &off)
		f, err := e.mem.OpenAppend(name)
		if err != nil {
			return fmt.Sprintf("error: %v\n", err)
		}
		defer f.Close()
		size, _ := f.Size()
		if off < 0 {
			off += size
		}
		data := make([]byte, size)
		f.ReadAt(data, 0)
		data[off] ^= 0xff
		f.Truncate(0)
		f.Write(data)
		f.Sync()
		return "ok\n"

	case "truncate":
		// truncate file=NAME cut=N: drop the last N bytes (durably).
		name := e.segFile(t, td)
		var cut int64
		td.ScanArgs(t, "cut", &cut)
		f, err := e.mem.OpenAppend(name)
		if err != nil {
			return fmt.Sprintf("error: %v\n", err)
		}
		defer f.Close()
		size, _ := f.Size()
		f.Truncate(size - cut)
		f.Sync()
		return "ok\n"

	case "ls":
		names, err := e.mem.List(ddDir)
		if err != nil {
			return fmt.Sprintf("error: %v\n", err)
		}
		var b strings.Builder
		for _, n := range names {
			fi, _ := e.mem.Stat(path.Join(ddDir, n))
			fmt.Fprintf(&b, "%s %d\n", n, fi.Size())
		}
		return b.String()

	default:
		td.Fatalf(t, "unknown command %q", td.Cmd)
		return ""
	}
}
