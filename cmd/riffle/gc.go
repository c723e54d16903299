package main

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// A server's live heap is small (metadata, per-shard buffers) while every
// request allocates its records and response: at Go's default GOGC of 100
// the collector took a fifth of the server's CPU under PutRecords load even
// with the large buffers pooled (bufpool). So the collector runs at 200, but
// under a soft memory limit of gcSoftLimit, or twice the live heap if that
// is more: small heaps get the cheaper collection, resident memory stays
// under about 100 MiB while the live heap allows it, and a large live heap
// (tens of thousands of shards) is collected as at GOGC 100 rather than
// thrashing against a fixed limit. The limit leaves room for what the
// runtime holds outside it: at 96 MiB a read-back of 1M records left 96 to
// 108 MiB resident, at 80 MiB 90 MiB, with the drain no slower.
const (
	gcPercent   = 200
	gcSoftLimit = 80 << 20
)

var gcTuneOnce sync.Once

// tuneGC applies the policy above unless GOGC or GOMEMLIMIT is set, in which
// case the runtime's own settings stand.
func tuneGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	gcTuneOnce.Do(func() {
		debug.SetGCPercent(gcPercent)
		debug.SetMemoryLimit(gcSoftLimit)
		go func() {
			live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			for range time.Tick(time.Second) {
				metrics.Read(live)
				if live[0].Value.Kind() == metrics.KindUint64 {
					debug.SetMemoryLimit(memoryLimitFor(live[0].Value.Uint64()))
				}
			}
		}()
	})
}

// memoryLimitFor is the soft memory limit for a live heap of live bytes.
func memoryLimitFor(live uint64) int64 { return max(gcSoftLimit, 2*int64(live)) }
