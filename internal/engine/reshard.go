package engine

import (
	"context"
	"fmt"

	"github.com/riffle-streams/riffle/internal/store"
)

// Resharding. A split closes one shard and opens two children that divide
// its hash-key range; a merge closes two adjacent shards and opens one child
// covering both. A closed shard keeps its records (readable until they
// expire) and ends at the position its log had reached when it closed; puts
// route to open shards only.
//
// Kinesis applies a reshard asynchronously: the stream is UPDATING and the
// old layout serves until the change completes. The engine does the same
// when UpdateStreamDelay is set, and applies the change at once otherwise.

// newShardSpec is a shard a reshard will create. Its parents are existing
// shards or earlier specs of the same plan.
type newShardSpec struct {
	start, end       hashKey
	parent, adjacent string
	// closed marks an intermediate shard, which a later step of the plan
	// closes at once (UpdateShardCount creates such shards, as Kinesis does).
	closed bool
}

// reshardPlan is a whole reshard: the open shards to close and the shards to
// create, in creation order.
type reshardPlan struct {
	base   int // the stream's next shard index when the plan was made
	close  []*shardState
	create []newShardSpec
}

// SplitShard splits an open shard at NewStartingHashKey.
func (e *Engine) SplitShard(ctx context.Context, in *SplitShardInput) error {
	c := e.caller(ctx)
	if err := e.throttle(c, "SplitShard", refName(in.StreamRef)); err != nil { // limits.go
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.reshardable(c, in.StreamRef, "SplitShard")
	if err != nil {
		return err
	}
	sh, err := s.openShard(in.ShardToSplit)
	if err != nil {
		return err
	}
	key, ok := parseHashKey(in.NewStartingHashKey)
	startPlus1 := add(sh.start, 1)
	if !ok || !startPlus1.less(key) || !key.less(sh.end) {
		return errorf(KindInvalidArgument, "NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s "+
			"is not both greater than one plus the shard's StartingHashKey %s and less than the shard's EndingHashKey %s.",
			in.NewStartingHashKey, sh.meta.ID, s.meta.Name, s.meta.Account, sh.meta.StartHash, sh.meta.EndHash)
	}
	if err := e.checkShardQuota(c, 1); err != nil {
		return err
	}
	plan := reshardPlan{base: s.meta.NextShardIndex, close: []*shardState{sh}, create: []newShardSpec{
		{start: sh.start, end: add(key, -1), parent: sh.meta.ID},
		{start: key, end: sh.end, parent: sh.meta.ID},
	}}
	return e.scheduleReshardLocked(s, plan)
}

// MergeShards merges two adjacent open shards.
func (e *Engine) MergeShards(ctx context.Context, in *MergeShardsInput) error {
	c := e.caller(ctx)
	if err := e.throttle(c, "MergeShards", refName(in.StreamRef)); err != nil { // limits.go
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.reshardable(c, in.StreamRef, "MergeShards")
	if err != nil {
		return err
	}
	a, err := s.openShard(in.ShardToMerge)
	if err != nil {
		return err
	}
	b, err := s.openShard(in.AdjacentShardToMerge)
	if err != nil {
		return err
	}
	lo, hi := a, b
	if b.start.less(a.start) {
		lo, hi = b, a
	}
	if add(lo.end, 1) != hi.start || lo.end == maxHashKey {
		return errorf(KindInvalidArgument, "Shards %s and %s in stream %s under account %s are not an adjacent pair of shards eligible for merging",
			a.meta.ID, b.meta.ID, s.meta.Name, s.meta.Account)
	}
	plan := reshardPlan{base: s.meta.NextShardIndex, close: []*shardState{a, b}, create: []newShardSpec{
		{start: lo.start, end: hi.end, parent: a.meta.ID, adjacent: b.meta.ID},
	}}
	return e.scheduleReshardLocked(s, plan)
}

// UpdateShardCount resizes a stream to TargetShardCount open shards that tile
// the hash-key space as evenly as possible, through splits and merges (and
// the intermediate shards they need), as Kinesis's UNIFORM_SCALING does.
func (e *Engine) UpdateShardCount(ctx context.Context, in *UpdateShardCountInput) (*UpdateShardCountOutput, error) {
	c := e.caller(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.reshardable(c, in.StreamRef, "UpdateShardCount")
	if err != nil {
		return nil, err
	}
	target, open := *in.TargetShardCount, len(s.open)
	switch {
	case target > e.cfg.ShardLimit:
		return nil, errorf(KindLimitExceeded, "Target shard count or number of open shards cannot be greater than %d. "+
			"Current open shard count: %d, Target shard count: %d", e.cfg.ShardLimit, open, target)
	case target > open*2:
		return nil, errorf(KindLimitExceeded, "UpdateShardCount cannot scale up over double your current open shard count. "+
			"Current open shard count: %d, Target shard count: %d", open, target)
	case target*2 < open:
		return nil, errorf(KindLimitExceeded, "UpdateShardCount cannot scale down below half your current open shard count. "+
			"Current open shard count: %d, Target shard count: %d", open, target)
	}
	if err := e.checkShardQuota(c, target-open); err != nil {
		return nil, err
	}
	if err := e.scheduleReshardLocked(s, uniformPlan(s.open, target, s.meta.NextShardIndex)); err != nil {
		return nil, err
	}
	return &UpdateShardCountOutput{StreamName: s.meta.Name, StreamARN: s.meta.arn(), CurrentShardCount: open, TargetShardCount: target}, nil
}

// piece is a shard during planning: an open shard of the stream, or one the
// plan creates.
type piece struct {
	start, end hashKey
	existing   *shardState // nil for a created shard
	spec       int         // index in plan.create when existing is nil
}

// id is the shard id of a piece; created shards get ids in creation order
// from the stream's next shard index.
func (p *reshardPlan) id(x piece) string {
	if x.existing != nil {
		return x.existing.meta.ID
	}
	return shardID(p.base + x.spec)
}

// retire closes a piece: an existing shard when the plan is applied, a
// created one at once (it becomes an intermediate shard).
func (p *reshardPlan) retire(x piece) {
	if x.existing != nil {
		p.close = append(p.close, x.existing)
	} else {
		p.create[x.spec].closed = true
	}
}

func (p *reshardPlan) add(sp newShardSpec) piece {
	p.create = append(p.create, sp)
	return piece{start: sp.start, end: sp.end, spec: len(p.create) - 1}
}

// uniformPlan turns the open shards (sorted by hash key) into n even ones:
// first every target boundary inside a shard becomes a shard boundary through
// splits, then the pieces of each target range are merged left to right.
// Pieces and partial merges that are not final become intermediate shards.
func uniformPlan(open []*shardState, n, base int) reshardPlan {
	plan := reshardPlan{base: base}
	targets := splitHashSpace(n)
	var pieces []piece
	t := 0 // first target starting after the current piece's start
	for _, sh := range open {
		cur := piece{start: sh.start, end: sh.end, existing: sh}
		for t < len(targets) && !cur.start.less(targets[t][0]) {
			t++
		}
		for ; t < len(targets) && !cur.end.less(targets[t][0]); t++ {
			b := targets[t][0]
			plan.retire(cur)
			left := plan.add(newShardSpec{start: cur.start, end: add(b, -1), parent: plan.id(cur)})
			right := plan.add(newShardSpec{start: b, end: cur.end, parent: plan.id(cur)})
			pieces = append(pieces, left)
			cur = right
		}
		pieces = append(pieces, cur)
	}
	i := 0
	for _, r := range targets {
		acc := pieces[i]
		i++
		for acc.end != r[1] {
			next := pieces[i]
			i++
			plan.retire(acc)
			plan.retire(next)
			acc = plan.add(newShardSpec{start: acc.start, end: next.end, parent: plan.id(acc), adjacent: plan.id(next)})
		}
	}
	return plan
}

// reshardable returns the stream if its shards may be changed now.
// Callers hold e.mu for writing.
func (e *Engine) reshardable(c Caller, ref StreamRef, op string) (*stream, error) {
	s, err := e.resolve(c, ref)
	if err != nil {
		return nil, err
	}
	if s.meta.Status != StatusActive {
		return nil, errStreamNotActive(s.meta.Name, s.meta.Account, s.meta.Status)
	}
	if s.meta.Mode == ModeOnDemand {
		return nil, errorf(KindValidation, "%s is not supported for stream %s under account %s because it is in ON_DEMAND capacity mode.",
			op, s.meta.Name, s.meta.Account)
	}
	return s, nil
}

// openShard returns an open shard of s by id. Callers hold e.mu.
func (s *stream) openShard(id string) (*shardState, error) {
	sh := s.byID[id]
	if sh == nil {
		return nil, errorf(KindResourceNotFound, "Could not find shard %s in stream %s under account %s.", id, s.meta.Name, s.meta.Account)
	}
	if sh.meta.Closed {
		return nil, errorf(KindResourceInUse, "Shard %s in stream %s under account %s has already been merged or split, and thus is not eligible for merging or splitting.",
			id, s.meta.Name, s.meta.Account)
	}
	return sh, nil
}

// checkShardQuota refuses a change that would take the account's open
// shards past the limit. Callers hold e.mu.
func (e *Engine) checkShardQuota(c Caller, extra int) error {
	if open := e.openShardCount(c); extra > 0 && open+extra > e.cfg.ShardLimit {
		return errShardLimit(c.Account, c.Region, open, e.cfg.ShardLimit, extra)
	}
	return nil
}

// scheduleReshardLocked applies a plan now, or after UpdateStreamDelay with
// the stream UPDATING meanwhile. Callers hold e.mu for writing.
func (e *Engine) scheduleReshardLocked(s *stream, plan reshardPlan) error {
	if e.cfg.UpdateStreamDelay <= 0 {
		return e.applyReshardLocked(s, plan)
	}
	s.meta.Status = StatusUpdating
	if err := e.saveLocked(); err != nil {
		return err
	}
	e.after(s, e.cfg.UpdateStreamDelay, func() {
		s.meta.Status = StatusActive
		if err := e.applyReshardLocked(s, plan); err != nil {
			e.cfg.Logger.Error("apply reshard", "stream", s.meta.Name, "err", err)
		}
	})
	return nil
}

// applyReshardLocked closes the plan's shards and opens its new ones. The new
// shards' directories are created before the metadata that names them is
// saved. Appends are excluded meanwhile (they hold e.mu for reading while
// they enqueue), so a closed shard's end is final. Callers hold e.mu for
// writing.
func (e *Engine) applyReshardLocked(s *stream, plan reshardPlan) error {
	now := e.cfg.Now().UnixMilli()
	if plan.base != s.meta.NextShardIndex {
		return fmt.Errorf("engine: reshard plan for %s is stale", s.meta.Name)
	}
	logs := make([]*store.Shard, len(plan.create))
	for i := range plan.create {
		log, err := e.store.CreateShard(e.meta.NextUID + uint64(i))
		if err != nil {
			for _, l := range logs[:i] {
				e.store.DeleteShard(l.UID())
			}
			return fmt.Errorf("engine: create shard for %s: %w", s.meta.Name, err)
		}
		logs[i] = log
	}
	for _, sh := range plan.close {
		sh.meta.Closed, sh.meta.EndPos, sh.meta.ClosedMillis = true, sh.log.Assigned(), now
		close(sh.closedCh)
	}
	for i, sp := range plan.create {
		m := &shardMeta{
			ID:             shardID(plan.base + i),
			UID:            e.meta.NextUID + uint64(i),
			Parent:         sp.parent,
			AdjacentParent: sp.adjacent,
			StartHash:      sp.start.String(),
			EndHash:        sp.end.String(),
			CreatedMillis:  now,
			Closed:         sp.closed,
		}
		if sp.closed {
			m.ClosedMillis = now
		}
		s.meta.Shards = append(s.meta.Shards, m)
		s.shards = append(s.shards, e.newShardState(s, m, logs[i]))
	}
	e.meta.NextUID += uint64(len(plan.create))
	s.meta.NextShardIndex += len(plan.create)
	s.index()
	return e.saveLocked()
}
