package engine

import "time"

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
// unreadable and deletes the segments that hold only such records.
func (e *Engine) EnforceRetention() {
	now := e.cfg.Now()
	e.mu.RLock()
	type job struct {
		sh     *shardState
		cutoff int64
	}
	var jobs []job
	for _, s := range e.streams {
		cutoff := now.Add(-time.Duration(s.meta.RetentionHours) * time.Hour).UnixMilli()
		for _, sh := range s.shards {
			jobs = append(jobs, job{sh, cutoff})
		}
	}
	e.mu.RUnlock()
	for _, j := range jobs {
		if err := j.sh.log.TrimBefore(j.cutoff); err != nil {
			e.cfg.Logger.Error("trim expired records", "stream", j.sh.stream.meta.Name, "shard", j.sh.meta.ID, "err", err)
		}
	}
}
