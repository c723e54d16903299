package engine

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CreateStream creates a stream whose shards tile the hash-key space evenly.
func (e *Engine) CreateStream(ctx context.Context, in *CreateStreamInput) error {
	c := e.caller(ctx)
	if err := e.throttle(c, "CreateStream", in.StreamName); err != nil { // limits.go
		return err
	}
	if err := checkCreateTags(c, in); err != nil {
		return err
	}
	mode := ModeProvisioned
	if in.StreamModeDetails != nil {
		mode = in.StreamModeDetails.StreamMode
	}
	if in.MaxRecordSizeInKiB != nil {
		if err := checkMaxRecordSize(*in.MaxRecordSizeInKiB); err != nil {
			return err
		}
	}
	count := 0
	switch {
	case in.ShardCount != nil:
		count = *in.ShardCount
	case mode == ModeOnDemand:
		count = 4 // on-demand streams start with four shards
	default:
		return errorf(KindInvalidArgument, "ShardCount must be specified for a stream in PROVISIONED mode.")
	}
	// The shards are created without the engine's lock, which every put
	// takes: for thousands of shards that takes a second. So the checks run
	// before, with the shards' uids reserved, and again after, in case a
	// concurrent call changed their outcome.
	e.mu.Lock()
	_, err := e.newStreamMetaLocked(c, in, mode, count)
	first := e.meta.NextUID
	if err == nil {
		e.meta.NextUID += uint64(count)
	}
	e.mu.Unlock()
	if err != nil {
		return err
	}
	uids := make([]uint64, count)
	for i := range uids {
		uids[i] = first + uint64(i)
	}
	// Shard directories first, then the metadata naming them: a crash in
	// between leaves orphan directories, which Open removes.
	logs, err := e.store.CreateShards(uids)
	if err != nil {
		return fmt.Errorf("engine: create the shards of %s: %w", in.StreamName, err)
	}
	defer e.reap() // of the shards, if the second check fails
	e.mu.Lock()
	defer e.mu.Unlock()
	sm, err := e.newStreamMetaLocked(c, in, mode, count)
	if err != nil {
		e.doomUIDs(uids)
		return err
	}
	s := &stream{meta: sm}
	for i, r := range splitHashSpace(count) {
		m := &shardMeta{
			ID:            shardID(sm.NextShardIndex),
			UID:           uids[i],
			StartHash:     r[0].String(),
			EndHash:       r[1].String(),
			CreatedMillis: sm.CreatedMillis,
		}
		sm.NextShardIndex++
		sm.Shards = append(sm.Shards, m)
		s.shards = append(s.shards, e.newShardState(s, m, logs[i]))
	}
	s.index()
	e.meta.Streams = append(e.meta.Streams, sm)
	e.streams[sm.key()] = s
	if err := e.saveLocked(); err != nil {
		return err
	}
	if sm.Status == StatusCreating {
		e.after(s, e.cfg.CreateStreamDelay, func() {
			sm.Status = StatusActive
		})
	}
	return nil
}

// newStreamMetaLocked checks that the caller may create the stream in and
// returns its metadata, without shards. Callers hold e.mu.
func (e *Engine) newStreamMetaLocked(c Caller, in *CreateStreamInput, mode string, count int) (*streamMeta, error) {
	if e.closed {
		return nil, errClosed
	}
	if _, ok := e.streams[streamKey{c.Account, c.Region, in.StreamName}]; ok {
		return nil, errStreamExists(in.StreamName, c.Account)
	}
	if open := e.openShardCount(c); open+count > e.cfg.ShardLimit {
		return nil, errShardLimit(c.Account, c.Region, open, e.cfg.ShardLimit, count)
	}
	if mode == ModeOnDemand {
		if err := e.checkOnDemandQuota(c); err != nil {
			return nil, err
		}
	}
	sm := &streamMeta{
		Account:        c.Account,
		Region:         c.Region,
		Name:           in.StreamName,
		CreatedMillis:  e.cfg.Now().UnixMilli(),
		Status:         StatusActive,
		RetentionHours: DefaultRetentionHours,
		Mode:           mode,
		Tags:           in.Tags,
	}
	if in.MaxRecordSizeInKiB != nil {
		sm.MaxRecordSizeKiB = *in.MaxRecordSizeInKiB
	}
	if in.WarmThroughputMiBps != nil && *in.WarmThroughputMiBps > 0 {
		if err := e.checkWarmThroughputLocked(sm, mode, *in.WarmThroughputMiBps); err != nil {
			return nil, err
		}
		sm.WarmThroughputMiBps = *in.WarmThroughputMiBps
	}
	if e.cfg.CreateStreamDelay > 0 {
		sm.Status = StatusCreating
	}
	return sm, nil
}

// after runs fn with e.mu held once d has passed, then saves the metadata;
// it models the asynchronous status changes of Kinesis.
func (e *Engine) after(s *stream, d time.Duration, fn func()) {
	e.timers[s] = time.AfterFunc(d, func() {
		defer e.reap() // of a stream fn dropped
		e.mu.Lock()
		defer e.mu.Unlock()
		delete(e.timers, s)
		if e.closed || e.streams[s.meta.key()] != s {
			return
		}
		fn()
		if err := e.saveLocked(); err != nil {
			e.cfg.Logger.Error("save metadata after status change", "stream", s.meta.Name, "err", err)
		}
	})
}

func shardID(i int) string { return fmt.Sprintf("shardId-%012d", i) }

// DeleteStream deletes a stream and, once it has left DELETING, its data.
func (e *Engine) DeleteStream(ctx context.Context, in *DeleteStreamInput) error {
	c := e.caller(ctx)
	if err := e.throttle(c, "DeleteStream", refName(in.StreamRef)); err != nil { // limits.go
		return err
	}
	defer e.reap() // of the stream, if dropped now
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.resolve(c, in.StreamRef)
	if err != nil {
		return err
	}
	if s.meta.Status == StatusDeleting {
		return errStreamNotFound(s.meta.Name, s.meta.Account)
	}
	if len(s.meta.Consumers) > 0 && (in.EnforceConsumerDeletion == nil || !*in.EnforceConsumerDeletion) {
		return errorf(KindResourceInUse, "Stream %s under account %s has registered consumers. Deregister them first, "+
			"or set EnforceConsumerDeletion to true.", s.meta.Name, s.meta.Account)
	}
	// Its subscriptions end now; its consumers go with the stream.
	e.endSubscriptions(func(sub *Subscription) bool { return sub.sh.stream == s })
	if e.cfg.DeleteStreamDelay > 0 {
		s.meta.Status = StatusDeleting
		if t := e.timers[s]; t != nil {
			t.Stop()
		}
		if err := e.saveLocked(); err != nil {
			return err
		}
		e.after(s, e.cfg.DeleteStreamDelay, func() { e.dropLocked(s) })
		return nil
	}
	return e.dropLocked(s)
}

// dropLocked removes a stream from the metadata, and dooms its shard data
// for reap: a crash in between leaves orphan data that Open removes.
func (e *Engine) dropLocked(s *stream) error {
	delete(e.streams, s.meta.key())
	for i, sm := range e.meta.Streams {
		if sm == s.meta {
			e.meta.Streams = append(e.meta.Streams[:i:i], e.meta.Streams[i+1:]...)
			break
		}
	}
	for _, key := range append([]any{s}, consumerKeys(s)...) {
		if t := e.timers[key]; t != nil {
			t.Stop()
			delete(e.timers, key)
		}
	}
	if err := e.saveLocked(); err != nil {
		return err
	}
	e.doom(s.shards)
	return nil
}

// DescribeStream describes a stream and a page of its shards.
func (e *Engine) DescribeStream(ctx context.Context, in *DescribeStreamInput) (*DescribeStreamOutput, error) {
	c := e.caller(ctx)
	if err := e.throttle(c, "DescribeStream", refName(in.StreamRef)); err != nil { // limits.go
		return nil, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, err := e.resolve(c, in.StreamRef)
	if err != nil {
		return nil, err
	}
	limit := 100
	if in.Limit != nil {
		limit = *in.Limit
	}
	var shards []Shard
	more := false
	for _, sh := range s.shards {
		if in.ExclusiveStartShardId != "" && !shardAfter(sh.meta.ID, in.ExclusiveStartShardId) {
			continue
		}
		if len(shards) == limit {
			more = true
			break
		}
		shards = append(shards, e.describeShard(sh))
	}
	if shards == nil {
		shards = []Shard{}
	}
	sm := s.meta
	return &DescribeStreamOutput{StreamDescription: StreamDescription{
		StreamName:              sm.Name,
		StreamARN:               sm.arn(),
		StreamStatus:            sm.Status,
		StreamModeDetails:       &StreamModeDetails{StreamMode: sm.Mode},
		Shards:                  shards,
		HasMoreShards:           more,
		RetentionPeriodHours:    sm.RetentionHours,
		StreamCreationTimestamp: time.UnixMilli(sm.CreatedMillis),
		EnhancedMonitoring:      sm.enhancedMonitoring(),
		EncryptionType:          encryptionType(sm),
		KeyId:                   sm.KeyID,
	}}, nil
}

func encryptionType(sm *streamMeta) string {
	if sm.EncryptionType == "" {
		return "NONE"
	}
	return sm.EncryptionType
}

// shardAfter reports whether shard id a sorts after b. Ids compare by their
// numeric suffix, so that a client-made id without zero padding still works.
func shardAfter(a, b string) bool {
	return shardIndex(a) > shardIndex(b)
}

// shardIndex returns the number in shardId-NNNNNNNNNNNN, or -1.
func shardIndex(id string) int64 {
	s := strings.TrimPrefix(id, "shardId-")
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

func (e *Engine) describeShard(sh *shardState) Shard {
	m := sh.meta
	out := Shard{
		ShardId:               m.ID,
		ParentShardId:         m.Parent,
		AdjacentParentShardId: m.AdjacentParent,
		HashKeyRange:          HashKeyRange{StartingHashKey: m.StartHash, EndingHashKey: m.EndHash},
		SequenceNumberRange:   SequenceNumberRange{StartingSequenceNumber: startSeq(m.UID)},
	}
	if m.Closed {
		// The number of the last record, or the start of an empty shard.
		out.SequenceNumberRange.EndingSequenceNumber = startSeq(m.UID)
		if m.EndPos > 0 {
			out.SequenceNumberRange.EndingSequenceNumber = recordSeq(m.UID, m.EndPos-1)
		}
	}
	return out
}

// DescribeStreamSummary describes a stream without listing its shards.
func (e *Engine) DescribeStreamSummary(ctx context.Context, in *DescribeStreamSummaryInput) (*DescribeStreamSummaryOutput, error) {
	c := e.caller(ctx)
	if err := e.throttle(c, "DescribeStreamSummary", refName(in.StreamRef)); err != nil { // limits.go
		return nil, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, err := e.resolve(c, in.StreamRef)
	if err != nil {
		return nil, err
	}
	sm := s.meta
	open := 0
	for _, m := range sm.Shards {
		if !m.Closed {
			open++
		}
	}
	return &DescribeStreamSummaryOutput{StreamDescriptionSummary: StreamDescriptionSummary{
		StreamName:              sm.Name,
		StreamARN:               sm.arn(),
		StreamStatus:            sm.Status,
		StreamModeDetails:       &StreamModeDetails{StreamMode: sm.Mode},
		RetentionPeriodHours:    sm.RetentionHours,
		StreamCreationTimestamp: time.UnixMilli(sm.CreatedMillis),
		EnhancedMonitoring:      sm.enhancedMonitoring(),
		EncryptionType:          encryptionType(sm),
		KeyId:                   sm.KeyID,
		OpenShardCount:          open,
		ConsumerCount:           len(sm.Consumers),
		MaxRecordSizeInKiB:      cmp.Or(sm.MaxRecordSizeKiB, DefaultMaxRecordSizeKiB),
		WarmThroughput:          e.warmThroughputLocked(sm),
	}}, nil
}

// ListStreams lists the account's streams in name order.
func (e *Engine) ListStreams(ctx context.Context, in *ListStreamsInput) (*ListStreamsOutput, error) {
	c := e.caller(ctx)
	if err := e.throttle(c, "ListStreams", ""); err != nil { // limits.go
		return nil, err
	}
	limit := 100
	if in.Limit != nil {
		limit = *in.Limit
	}
	after := in.ExclusiveStartStreamName
	if in.NextToken != "" {
		// The token is the last name of the previous page; it is opaque to
		// clients but need not be secret.
		after = in.NextToken
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	var names []string
	for k := range e.streams {
		if k.account == c.Account && k.region == c.Region && k.name > after {
			names = append(names, k.name)
		}
	}
	sort.Strings(names)
	out := &ListStreamsOutput{StreamNames: []string{}, StreamSummaries: []StreamSummary{}}
	if len(names) > limit {
		names = names[:limit]
		out.HasMoreStreams = true
		out.NextToken = names[len(names)-1]
	}
	for _, n := range names {
		sm := e.streams[streamKey{c.Account, c.Region, n}].meta
		out.StreamNames = append(out.StreamNames, n)
		out.StreamSummaries = append(out.StreamSummaries, StreamSummary{
			StreamName:              n,
			StreamARN:               sm.arn(),
			StreamStatus:            sm.Status,
			StreamModeDetails:       &StreamModeDetails{StreamMode: sm.Mode},
			StreamCreationTimestamp: time.UnixMilli(sm.CreatedMillis),
		})
	}
	return out, nil
}

// enhancedMonitoring reports the stream's enabled shard-level metrics, as an
// empty list when there are none (as Kinesis reports them).
func (sm *streamMeta) enhancedMonitoring() []EnhancedMetrics {
	return []EnhancedMetrics{{ShardLevelMetrics: append([]string{}, sm.ShardLevelMetrics...)}}
}
