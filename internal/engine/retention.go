package engine

import (
	"context"
	"time"
)

// RetentionCheckInterval is how often expired records are trimmed. Reads hide
// expired records at once regardless (see GetRecords), so this only bounds
// how long their disk space is held.
const RetentionCheckInterval = time.Minute

// retentionLoop trims expired records until stop is closed.
func (e *Engine) retentionLoop(stop <-chan struct{}) {
	t := time.NewTicker(RetentionCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			e.EnforceRetention()
		}
	}
}

// EnforceRetention makes records older than their stream's retention period
// unreadable, deletes the segments that hold only such records, and drops
// closed shards whose records have all expired (as Kinesis stops listing
// them).
func (e *Engine) EnforceRetention() {
	now := e.cfg.Now()
	e.mu.RLock()
	type job struct {
		sh     *shardState
		cutoff int64
	}
	var jobs []job
	expired := false
	for _, s := range e.streams {
		cutoff := now.Add(-time.Duration(s.meta.RetentionHours) * time.Hour).UnixMilli()
		for _, sh := range s.shards {
			jobs = append(jobs, job{sh, cutoff})
			expired = expired || sh.meta.Closed && sh.meta.ClosedMillis < cutoff
		}
	}
	e.mu.RUnlock()
	for _, j := range jobs {
		if err := j.sh.log.TrimBefore(j.cutoff); err != nil {
			e.cfg.Logger.Error("trim expired records", "stream", j.sh.stream.meta.Name, "shard", j.sh.meta.ID, "err", err)
		}
	}
	if expired {
		e.dropExpiredShards(now)
	}
}

// dropExpiredShards removes closed shards whose every record has expired:
// from the metadata first, then their data.
func (e *Engine) dropExpiredShards(now time.Time) {
	defer e.reap()
	e.mu.Lock()
	defer e.mu.Unlock()
	var doomed []*shardState
	for _, s := range e.streams {
		cutoff := now.Add(-time.Duration(s.meta.RetentionHours) * time.Hour).UnixMilli()
		kept, keptMeta := s.shards[:0], s.meta.Shards[:0]
		for _, sh := range s.shards {
			if sh.meta.Closed && sh.meta.ClosedMillis < cutoff {
				doomed = append(doomed, sh)
				continue
			}
			kept, keptMeta = append(kept, sh), append(keptMeta, sh.meta)
		}
		s.shards, s.meta.Shards = kept, keptMeta
		s.index()
	}
	if err := e.saveLocked(); err != nil {
		e.cfg.Logger.Error("save metadata after dropping expired shards", "err", err)
		return
	}
	e.doom(doomed)
}

// Retention bounds, in hours.
const (
	MinRetentionHours = 24
	MaxRetentionHours = 8760
)

// IncreaseStreamRetentionPeriod lengthens how long records are kept.
func (e *Engine) IncreaseStreamRetentionPeriod(ctx context.Context, in *RetentionPeriodInput) error {
	return e.changeRetention(ctx, in, true)
}

// DecreaseStreamRetentionPeriod shortens how long records are kept; records
// older than the new period become unreadable at once.
func (e *Engine) DecreaseStreamRetentionPeriod(ctx context.Context, in *RetentionPeriodInput) error {
	if err := e.changeRetention(ctx, in, false); err != nil {
		return err
	}
	e.EnforceRetention()
	return nil
}

func (e *Engine) changeRetention(ctx context.Context, in *RetentionPeriodInput, increase bool) error {
	c := e.caller(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.resolve(c, in.StreamRef)
	if err != nil {
		return err
	}
	h := *in.RetentionPeriodHours
	switch {
	case h < MinRetentionHours:
		return errorf(KindInvalidArgument, "Minimum allowed retention period is %d hours. Requested retention period (%d hours) is too short.", MinRetentionHours, h)
	case h > MaxRetentionHours:
		return errorf(KindInvalidArgument, "Maximum allowed retention period is %d hours. Requested retention period (%d hours) is too long.", MaxRetentionHours, h)
	case s.meta.Status != StatusActive:
		return errStreamNotActive(s.meta.Name, s.meta.Account, s.meta.Status)
	case increase && h < s.meta.RetentionHours:
		return errorf(KindInvalidArgument, "Requested retention period (%d hours) for stream %s can not be shorter than existing retention period (%d hours). Use DecreaseRetentionPeriod API.",
			h, s.meta.Name, s.meta.RetentionHours)
	case !increase && h > s.meta.RetentionHours:
		return errorf(KindInvalidArgument, "Requested retention period (%d hours) for stream %s can not be longer than existing retention period (%d hours). Use IncreaseRetentionPeriod API.",
			h, s.meta.Name, s.meta.RetentionHours)
	}
	s.meta.RetentionHours = h
	return e.saveLocked()
}
