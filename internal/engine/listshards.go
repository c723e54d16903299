package engine

import (
	"context"
	"time"
)

// Shard filter types of ListShards.
const (
	FilterAfterShardID    = "AFTER_SHARD_ID"
	FilterAtTrimHorizon   = "AT_TRIM_HORIZON"
	FilterFromTrimHorizon = "FROM_TRIM_HORIZON"
	FilterAtLatest        = "AT_LATEST"
	FilterAtTimestamp     = "AT_TIMESTAMP"
	FilterFromTimestamp   = "FROM_TIMESTAMP"
)

// ListShards lists a stream's shards, a page at a time, optionally filtered
// the way KCL uses it to find where to start after a reshard.
func (e *Engine) ListShards(ctx context.Context, in *ListShardsInput) (*ListShardsOutput, error) {
	c := e.caller(ctx)
	now := e.cfg.Now()
	ref, after := in.StreamRef, in.ExclusiveStartShardId
	var created int64 = -1
	if in.NextToken != "" {
		if in.StreamName != "" || in.StreamARN != "" {
			return nil, errorf(KindInvalidArgument, "NextToken and StreamName cannot be provided together.")
		}
		t, ok := e.tokens.parseListToken(in.NextToken)
		if !ok {
			return nil, errorf(KindInvalidArgument, "Invalid NextToken.")
		}
		if now.Sub(t.issued) > NextTokenTTL {
			return nil, errorf(KindExpiredNextToken, "The timestamp on the nextToken has expired.")
		}
		ref, after, created = StreamRef{StreamName: t.stream}, t.after, t.created
	}
	if err := e.throttle(c, "ListShards", refName(ref)); err != nil { // limits.go
		return nil, err
	}
	limit := 1000
	if in.MaxResults != nil {
		limit = *in.MaxResults
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, err := e.resolve(c, ref)
	if err != nil {
		return nil, err
	}
	if created >= 0 && created != s.meta.CreatedMillis {
		return nil, errStreamNotFound(s.meta.Name, s.meta.Account)
	}
	if in.StreamCreationTimestamp != nil && in.StreamCreationTimestamp.UnixMilli() != s.meta.CreatedMillis {
		return nil, errStreamNotFound(s.meta.Name, s.meta.Account)
	}
	keep := func(*shardState) bool { return true }
	if f := in.ShardFilter; f != nil {
		trim := now.Add(-time.Duration(s.meta.RetentionHours) * time.Hour).UnixMilli()
		switch f.Type {
		case FilterAfterShardID:
			if f.ShardId == "" {
				return nil, errorf(KindInvalidArgument, "Must specify ShardId when ShardFilter type is %s.", f.Type)
			}
			if after == "" || shardAfter(f.ShardId, after) {
				after = f.ShardId
			}
		case FilterAtLatest:
			keep = func(sh *shardState) bool { return !sh.meta.Closed }
		case FilterAtTrimHorizon:
			keep = func(sh *shardState) bool { return openAt(sh.meta, trim) }
		case FilterFromTrimHorizon:
			keep = func(sh *shardState) bool { return !sh.meta.Closed || sh.meta.ClosedMillis >= trim }
		case FilterAtTimestamp, FilterFromTimestamp:
			if f.Timestamp == nil {
				return nil, errorf(KindInvalidArgument, "Must specify Timestamp when ShardFilter type is %s.", f.Type)
			}
			ts := f.Timestamp.UnixMilli()
			if f.Type == FilterAtTimestamp {
				keep = func(sh *shardState) bool { return openAt(sh.meta, ts) }
			} else {
				keep = func(sh *shardState) bool { return !sh.meta.Closed || sh.meta.ClosedMillis >= ts }
			}
		}
	}
	out := &ListShardsOutput{Shards: []Shard{}}
	for _, sh := range s.shards {
		if after != "" && !shardAfter(sh.meta.ID, after) || !keep(sh) {
			continue
		}
		if len(out.Shards) == limit {
			out.NextToken = e.tokens.listToken(listToken{
				stream: s.meta.Name, created: s.meta.CreatedMillis, issued: now,
				after: out.Shards[len(out.Shards)-1].ShardId,
			})
			break
		}
		out.Shards = append(out.Shards, e.describeShard(sh))
	}
	return out, nil
}

// openAt reports whether a shard was open at time ms. A shard created with
// its stream counts as open from the beginning of time, so that AT_TIMESTAMP
// before the stream existed still finds the first shards.
func openAt(m *shardMeta, ms int64) bool {
	if m.Parent != "" && m.CreatedMillis > ms {
		return false
	}
	return !m.Closed || m.ClosedMillis > ms
}
