package engine

import (
	"context"
	"time"
)

// Capacity of one shard, as Kinesis defines it for writes.
const (
	ShardWriteBytesPerSecond   = 1 << 20
	ShardWriteRecordsPerSecond = 1000
)

// UpdateStreamMode switches a stream between PROVISIONED and ON_DEMAND.
// Kinesis allows two switches per rolling 24 hours.
func (e *Engine) UpdateStreamMode(ctx context.Context, in *UpdateStreamModeInput) error {
	c := e.caller(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.resolve(c, StreamRef{StreamARN: in.StreamARN})
	if err != nil {
		return err
	}
	if s.meta.Status != StatusActive {
		return errStreamNotActive(s.meta.Name, s.meta.Account, s.meta.Status)
	}
	mode := in.StreamModeDetails.StreamMode
	if mode == s.meta.Mode {
		return errorf(KindInvalidArgument, "Stream %s under account %s is already in %s mode.", s.meta.Name, s.meta.Account, mode)
	}
	if mode == ModeOnDemand {
		if err := e.checkOnDemandQuota(c); err != nil {
			return err
		}
	}
	if in.WarmThroughputMiBps != nil && *in.WarmThroughputMiBps > 0 {
		if err := e.checkWarmThroughputLocked(s.meta, mode, *in.WarmThroughputMiBps); err != nil {
			return err
		}
	}
	now := e.cfg.Now()
	var recent []int64
	for _, t := range s.meta.ModeSwitches {
		if now.Sub(time.UnixMilli(t)) < 24*time.Hour {
			recent = append(recent, t)
		}
	}
	if len(recent) >= 2 {
		return errorf(KindLimitExceeded, "Stream %s under account %s can switch its capacity mode at most twice within 24 hours.", s.meta.Name, s.meta.Account)
	}
	s.meta.Mode = mode
	s.meta.ModeSwitches = append(recent, now.UnixMilli())
	if in.WarmThroughputMiBps != nil {
		s.meta.WarmThroughputMiBps = *in.WarmThroughputMiBps
	}
	if e.cfg.UpdateStreamDelay > 0 {
		s.meta.Status = StatusUpdating
		e.after(s, e.cfg.UpdateStreamDelay, func() { s.meta.Status = StatusActive })
	}
	return e.saveLocked()
}

// OnDemandScaleWindow is how long an ON_DEMAND stream's shard must write past
// a shard's capacity before it is split.
const OnDemandScaleWindow = 10 * time.Second

// autoScaleLoop samples write rates every second until stop is closed.
func (e *Engine) autoScaleLoop(stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			e.AutoScale()
		}
	}
}

// writeRate is a shard's write counters at the last sample.
type writeRate struct {
	atMillis  int64
	records   uint64
	bytes     int64
	hotSince  int64 // ms since the shard has been over capacity, 0 if not
	lastRecPS float64
}

// AutoScale samples the write rate of every open shard of ON_DEMAND streams
// and splits, at the middle of its hash-key range, each shard that has
// written more than a shard's capacity for OnDemandScaleWindow.
func (e *Engine) AutoScale() {
	e.scaleMu.Lock()
	defer e.scaleMu.Unlock()
	now := e.cfg.Now().UnixMilli()
	e.mu.RLock()
	var hot []*shardState
	for _, s := range e.streams {
		if s.meta.Mode != ModeOnDemand || s.meta.Status != StatusActive {
			continue
		}
		for _, sh := range s.open {
			recs, bytes := sh.log.Assigned(), sh.log.AppendedBytes()
			r := &sh.rate
			if r.atMillis == 0 || now <= r.atMillis {
				r.atMillis, r.records, r.bytes = now, recs, bytes
				continue
			}
			secs := float64(now-r.atMillis) / 1000
			recPS, bytesPS := float64(recs-r.records)/secs, float64(bytes-r.bytes)/secs
			r.atMillis, r.records, r.bytes, r.lastRecPS = now, recs, bytes, recPS
			if recPS <= ShardWriteRecordsPerSecond && bytesPS <= ShardWriteBytesPerSecond {
				r.hotSince = 0
				continue
			}
			if r.hotSince == 0 {
				r.hotSince = now
			}
			if time.Duration(now-r.hotSince)*time.Millisecond >= OnDemandScaleWindow {
				hot = append(hot, sh)
			}
		}
	}
	e.mu.RUnlock()
	for _, sh := range hot {
		e.splitHot(sh)
	}
}

// splitHot splits a hot shard of an ON_DEMAND stream in two.
func (e *Engine) splitHot(sh *shardState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := sh.stream
	if e.streams[s.meta.key()] != s || sh.meta.Closed || s.meta.Status != StatusActive || sh.start == sh.end {
		return
	}
	c := Caller{Account: s.meta.Account, Region: s.meta.Region}
	if err := e.checkShardQuota(c, 1); err != nil {
		e.cfg.Logger.Warn("on-demand stream cannot grow", "stream", s.meta.Name, "shard", sh.meta.ID, "err", err)
		return
	}
	mid := midpoint(sh.start, sh.end)
	plan := reshardPlan{base: s.meta.NextShardIndex, close: []*shardState{sh}, create: []newShardSpec{
		{start: sh.start, end: mid, parent: sh.meta.ID},
		{start: add(mid, 1), end: sh.end, parent: sh.meta.ID},
	}}
	e.cfg.Logger.Info("splitting hot shard of on-demand stream", "stream", s.meta.Name, "shard", sh.meta.ID,
		"records_per_second", int(sh.rate.lastRecPS))
	if err := e.scheduleReshardLocked(s, plan); err != nil {
		e.cfg.Logger.Error("split hot shard", "stream", s.meta.Name, "shard", sh.meta.ID, "err", err)
	}
}

// midpoint returns the last key of the lower half of [a, b].
func midpoint(a, b hashKey) hashKey {
	x, y := a.big(), b.big()
	x.Add(x, y)
	x.Rsh(x, 1)
	return hashKeyFromBig(x)
}
