package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
)

// Fault injection (--fault-rate, --fault-types, or PUT /admin/faults at run
// time) makes data-plane calls fail at a chosen rate with the errors a real
// stream returns under stress, so that users can test their retry code:
// PutRecord, GetRecords and GetShardIterator fail whole; PutRecords fails
// entry by entry (the call succeeds with FailedRecordCount and per-entry
// ErrorCode, as Kinesis reports partial failures). A faulted write is not
// written, so a retry never duplicates it.

// Fault types.
const (
	// FaultThroughput is ProvisionedThroughputExceededException, worded as a
	// real throttle of the shard.
	FaultThroughput = "ProvisionedThroughputExceeded"
	// FaultInternal is InternalFailure (HTTP 500 for a whole call).
	FaultInternal = "InternalFailure"
)

// FaultTypes lists every fault type, in the order they are documented.
var FaultTypes = []string{FaultThroughput, FaultInternal}

// Faults configures fault injection. The zero value injects none.
type Faults struct {
	// Rate is the probability, from 0 to 1, that a data-plane call (or a
	// PutRecords entry) fails.
	Rate float64
	// Types are the faults drawn from, each equally likely; empty means all.
	Types []string
}

// Validate reports what is wrong with f.
func (f Faults) Validate() error {
	var bad []string
	if !(f.Rate >= 0 && f.Rate <= 1) {
		bad = append(bad, fmt.Sprintf("fault rate %v: must be from 0 to 1", f.Rate))
	}
	for _, t := range f.Types {
		if !slices.Contains(FaultTypes, t) {
			bad = append(bad, fmt.Sprintf("fault type %q: must be one of %s", t, strings.Join(FaultTypes, ", ")))
		}
	}
	if bad != nil {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}

// SetFaults changes fault injection; it may be called at any time.
func (e *Engine) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	f.Types = slices.Clone(f.Types)
	if len(f.Types) == 0 {
		f.Types = slices.Clone(FaultTypes)
	}
	if f.Rate == 0 {
		e.faults.Store(nil)
	} else {
		e.faults.Store(&f)
	}
	return nil
}

// Faults returns the fault injection in force.
func (e *Engine) Faults() Faults {
	if f := e.faults.Load(); f != nil {
		return Faults{Rate: f.Rate, Types: slices.Clone(f.Types)}
	}
	return Faults{Types: slices.Clone(FaultTypes)}
}

// faultState is the engine's fault injection: nil when off, so that the
// data plane pays one atomic load for it.
type faultState = atomic.Pointer[Faults]

// drawFault decides whether this call (or entry) on sh fails, and how.
// throughputMessage words a throughput fault for the operation.
func (e *Engine) drawFault(sh *shardState, throughputMessage func(*shardState) string) *rejection {
	f := e.faults.Load()
	if f == nil || rand.Float64() >= f.Rate {
		return nil
	}
	switch f.Types[rand.IntN(len(f.Types))] {
	case FaultInternal:
		return &rejection{code: codeInternal, message: "Internal service failure."}
	default:
		return &rejection{code: codeThroughput, message: throughputMessage(sh)}
	}
}

// faultCall decides whether a call without a shard's throughput budget
// (GetShardIterator) fails: nil, or the error.
func (e *Engine) faultCall(sh *shardState) error {
	if r := e.drawFault(sh, writeThrottleMessage); r != nil {
		return r.err()
	}
	return nil
}
