package engine

import "time"

// Observer receives measurements of the data plane, for metrics. Methods are
// called on the request path, so they must be cheap and safe for concurrent
// use. The engine calls them after the outcome is known.
type Observer interface {
	// ShardTraffic reports records written to (In) or read from (Out) one
	// shard by one call (or all of a call's shards: see ShardID).
	ShardTraffic(t ShardTraffic)
	// Call reports one data-plane call of a stream: its operation (PutRecord,
	// PutRecords, GetRecords), latency and whether it succeeded.
	Call(c CallMeasure)
}

// StreamLabel identifies a stream in measurements.
type StreamLabel struct {
	Account, Region, Stream string
	// ShardLevelMetrics are the stream's enabled enhanced-monitoring
	// metrics; shard-level figures are kept only for these. Read-only.
	ShardLevelMetrics []string
}

// ShardTraffic is the data one call moved through one shard.
type ShardTraffic struct {
	StreamLabel
	// ShardID is empty for the writes of a PutRecords call to a stream
	// without shard-level metrics: they are reported once, summed over the
	// call's shards.
	ShardID string
	Out     bool // false: written (IncomingRecords); true: read (OutgoingRecords)
	Records int
	Bytes   int
	// IteratorAgeMillis is, for reads, how far behind the tip the reader is.
	IteratorAgeMillis int64
}

// CallMeasure is one data-plane call.
type CallMeasure struct {
	StreamLabel
	Op      string
	Latency time.Duration
	OK      bool
	// Records and Bytes are the call's totals (PutRecords.Records, ...).
	Records, Bytes int
	// FailedRecords counts PutRecords entries that failed.
	FailedRecords int
}

type nopObserver struct{}

func (nopObserver) ShardTraffic(ShardTraffic) {}
func (nopObserver) Call(CallMeasure)          {}

// label is the stream's identity for measurements. Callers hold e.mu.
func (s *stream) label() StreamLabel {
	return StreamLabel{Account: s.meta.Account, Region: s.meta.Region, Stream: s.meta.Name, ShardLevelMetrics: s.meta.ShardLevelMetrics}
}
