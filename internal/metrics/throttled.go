package metrics

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riffle-streams/riffle/internal/engine"
)

var _ engine.ThrottleObserver = (*Metrics)(nil)

// Throttled implements engine.ThrottleObserver: it counts writes and reads
// refused for a shard's throughput (with --enforce-limits, or injected with
// --fault-rate).
func (m *Metrics) Throttled(t engine.Throttle) { m.k.throttled(t) }

func (k *kinesisCollector) throttled(t engine.Throttle) {
	k.mu.Lock()
	defer k.mu.Unlock()
	id := idOf(t.StreamLabel)
	st := k.stateLocked(id) // makes the stream's series, so that they are reconciled
	l := []string{id.account, id.region, id.name}
	name, n := "WriteProvisionedThroughputExceeded", float64(t.Records)
	switch t.Op {
	case opGetRecords:
		name, n = "ReadProvisionedThroughputExceeded", 1
		k.readExceeded.WithLabelValues(l...).Add(n)
	case opPutRecords:
		k.putRecordsThrottled.WithLabelValues(l...).Add(n)
		k.writeExceeded.WithLabelValues(l...).Add(n)
	default:
		k.writeExceeded.WithLabelValues(l...).Add(n)
	}
	if slices.Contains(t.ShardLevelMetrics, name) {
		k.shard[name].(*prometheus.CounterVec).WithLabelValues(id.account, id.region, id.name, t.ShardID).Add(n)
		k.markLocked(st, name)
	}
}
