package journal

import (
	"fmt"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/riffle-streams/riffle/internal/vfs"
)

// TestDataDriven runs the scripts in testdata/scripts. Commands:
//
//	open [segment-max=N] [fsync=always|interval|never]  open the journal in /j
//	append                 append each input line; wait; print lsn or error
//	crash                  keep only durable state (CrashClone), drop the journal
//	close                  close the journal
//	replay                 print every retained entry
//	release lsn=N          release entries <= N
//	ls                     list segment files with sizes
//	garbage                append the input text raw to the last segment
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/scripts", func(t *testing.T, p string) {
		var (
			fs   = vfs.NewMem()
			j    *Journal
			opts Options
		)
		const dir = "/j"
		defer func() {
			if j != nil {
				j.Close()
			}
		}()
		datadriven.RunTest(t, p, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "open":
				opts = Options{}
				for _, a := range d.CmdArgs {
					switch a.Key {
					case "segment-max":
						var n int64
						d.ScanArgs(t, "segment-max", &n)
						opts.SegmentMaxBytes = n
					case "fsync":
						var s string
						d.ScanArgs(t, "fsync", &s)
						p, err := ParseFsyncPolicy(s)
						if err != nil {
							d.Fatalf(t, "%v", err)
						}
						opts.Fsync = p
					}
				}
				var err error
				j, err = Open(fs, dir, opts)
				if err != nil {
					return fmt.Sprintf("error: %v\n", err)
				}
				return "ok\n"
			case "append":
				var (
					wg  sync.WaitGroup
					mu  sync.Mutex
					out strings.Builder
				)
				// Enqueue all lines before waiting so that they may form
				// one group; callbacks print in order.
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					wg.Add(1)
					j.Append([]byte(line), func(lsn uint64, err error) {
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							fmt.Fprintf(&out, "%s: error: %v\n", line, err)
						} else {
							fmt.Fprintf(&out, "%s: lsn %d\n", line, lsn)
						}
						wg.Done()
					})
				}
				wg.Wait()
				return out.String()
			case "crash":
				old := fs
				fs = old.CrashClone()
				j.Close() // writes only to the old filesystem
				j = nil
				return "crashed\n"
			case "close":
				err := j.Close()
				j = nil
				if err != nil {
					return fmt.Sprintf("error: %v\n", err)
				}
				return "ok\n"
			case "replay":
				var out strings.Builder
				err := j.Replay(func(lsn uint64, entry []byte) error {
					fmt.Fprintf(&out, "%d: %s\n", lsn, entry)
					return nil
				})
				if err != nil {
					fmt.Fprintf(&out, "error: %v\n", err)
				}
				if out.Len() == 0 {
					return "(empty)\n"
				}
				return out.String()
			case "release":
				var lsn uint64
				d.ScanArgs(t, "lsn", &lsn)
				if err := j.Release(lsn); err != nil {
					return fmt.Sprintf("error: %v\n", err)
				}
				return "ok\n"
			case "ls":
				names, err := fs.List(dir)
				if err != nil {
					return fmt.Sprintf("error: %v\n", err)
				}
				var out strings.Builder
				for _, n := range names {
					fi, err := fs.Stat(path.Join(dir, n))
					if err != nil {
						d.Fatalf(t, "%v", err)
					}
					fmt.Fprintf(&out, "%s %d\n", n, fi.Size())
				}
				return out.String()
			case "garbage":
				names, _ := fs.List(dir)
				f, err := fs.OpenAppend(path.Join(dir, names[len(names)-1]))
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				f.Write([]byte(d.Input))
				f.Sync()
				f.Close()
				return "ok\n"
			}
			d.Fatalf(t, "unknown command %s", d.Cmd)
			return ""
		})
	})
}
