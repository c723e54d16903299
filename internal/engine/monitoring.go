package engine

import (
	"context"
	"slices"
)

// Enhanced (shard-level) monitoring. A stream's enabled shard-level metrics
// are part of its metadata (streamMeta.ShardLevelMetrics), always stored
// expanded (never "ALL") and in the order of ShardLevelMetricNames. The
// engine only records the setting; the metrics collector reads it (through
// the StreamLabel of each measurement and through StreamLabels) to decide
// which per-shard series exist.

// MetricAll is the ShardLevelMetrics value that stands for every metric.
const MetricAll = "ALL"

// ShardLevelMetricNames are the shard-level metrics of Kinesis, in the order
// of the service model's MetricsName enum.
var ShardLevelMetricNames = []string{
	"IncomingBytes",
	"IncomingRecords",
	"OutgoingBytes",
	"OutgoingRecords",
	"WriteProvisionedThroughputExceeded",
	"ReadProvisionedThroughputExceeded",
	"IteratorAgeMilliseconds",
}

// EnhancedMonitoringInput is the input of EnableEnhancedMonitoring and
// DisableEnhancedMonitoring.
type EnhancedMonitoringInput struct {
	StreamRef
	ShardLevelMetrics []string
	StreamId          string // reserved by the service model; ignored
}

// EnhancedMonitoringOutput is the output of EnableEnhancedMonitoring and
// DisableEnhancedMonitoring: the enabled metrics before and after the call.
type EnhancedMonitoringOutput struct {
	StreamName               string
	StreamARN                string
	CurrentShardLevelMetrics []string
	DesiredShardLevelMetrics []string
}

// EnableEnhancedMonitoring enables shard-level metrics of a stream, in
// addition to those already enabled. Enabling an enabled metric is not an
// error.
func (e *Engine) EnableEnhancedMonitoring(ctx context.Context, in *EnhancedMonitoringInput) (*EnhancedMonitoringOutput, error) {
	return e.setShardLevelMetrics(ctx, in, true)
}

// DisableEnhancedMonitoring disables shard-level metrics of a stream.
// Disabling a metric that is not enabled is not an error.
func (e *Engine) DisableEnhancedMonitoring(ctx context.Context, in *EnhancedMonitoringInput) (*EnhancedMonitoringOutput, error) {
	return e.setShardLevelMetrics(ctx, in, false)
}

func (e *Engine) setShardLevelMetrics(ctx context.Context, in *EnhancedMonitoringInput, enable bool) (*EnhancedMonitoringOutput, error) {
	c := e.caller(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errClosed
	}
	s, err := e.resolve(c, in.StreamRef)
	if err != nil {
		return nil, err
	}
	sm := s.meta
	// Kinesis changes the setting only on an ACTIVE stream, as it does for
	// every other stream update.
	if sm.Status != StatusActive {
		return nil, errStreamNotActive(sm.Name, sm.Account, sm.Status)
	}
	requested := expandMetrics(in.ShardLevelMetrics)
	current := sm.ShardLevelMetrics
	var desired []string
	for _, name := range ShardLevelMetricNames {
		on := slices.Contains(current, name)
		if slices.Contains(requested, name) {
			on = enable
		}
		if on {
			desired = append(desired, name)
		}
	}
	out := &EnhancedMonitoringOutput{
		StreamName:               sm.Name,
		StreamARN:                sm.arn(),
		CurrentShardLevelMetrics: append([]string{}, current...),
		DesiredShardLevelMetrics: append([]string{}, desired...),
	}
	if slices.Equal(current, desired) {
		return out, nil
	}
	// A new slice, never an in-place change: measurements in flight hold
	// the old one through their StreamLabel without a lock.
	sm.ShardLevelMetrics = desired
	// Kinesis shows the stream UPDATING while it applies the change.
	updating := e.cfg.UpdateStreamDelay > 0
	if updating {
		sm.Status = StatusUpdating
	}
	if err := e.saveLocked(); err != nil {
		sm.ShardLevelMetrics, sm.Status = current, StatusActive
		return nil, err
	}
	if updating {
		e.after(s, e.cfg.UpdateStreamDelay, func() { sm.Status = StatusActive })
	}
	return out, nil
}

// expandMetrics returns the metric names a request lists, with "ALL"
// standing for every one.
func expandMetrics(names []string) []string {
	if slices.Contains(names, MetricAll) {
		return ShardLevelMetricNames
	}
	return names
}

// StreamLabels returns the identity and enabled shard-level metrics of every
// stream, so that a metrics collector can drop the series of deleted streams
// and of disabled metrics. The ShardLevelMetrics slices are shared and must
// not be modified.
func (e *Engine) StreamLabels() []StreamLabel {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]StreamLabel, 0, len(e.streams))
	for _, s := range e.streams {
		out = append(out, s.label())
	}
	return out
}
