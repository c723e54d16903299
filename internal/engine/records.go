package engine

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/riffle-streams/riffle/internal/store"
)

// Limits of the data plane, as Kinesis documents them.
const (
	// MaxPutRecordsBytes bounds the data and partition keys of one PutRecords
	// call to a stream with the default record size; a stream whose maximum
	// record size was raised takes requests up to that size, as AWS documents
	// (10 MiB records, 10 MiB requests).
	MaxPutRecordsBytes = 5 << 20
	// MaxGetRecordsBytes bounds the data returned by one GetRecords call.
	MaxGetRecordsBytes = 10 << 20
	// DefaultGetRecordsLimit is the number of records GetRecords returns at most by default.
	DefaultGetRecordsLimit = 10000
)

// Shard iterator types.
const (
	IteratorTrimHorizon         = "TRIM_HORIZON"
	IteratorLatest              = "LATEST"
	IteratorAtSequenceNumber    = "AT_SEQUENCE_NUMBER"
	IteratorAfterSequenceNumber = "AFTER_SEQUENCE_NUMBER"
	IteratorAtTimestamp         = "AT_TIMESTAMP"
)

// writable returns the stream if records may be written to it now.
// Callers hold e.mu.
func (e *Engine) writable(c Caller, ref StreamRef) (*stream, error) {
	s, err := e.resolve(c, ref)
	if err != nil {
		return nil, err
	}
	if st := s.meta.Status; st != StatusActive && st != StatusUpdating {
		return nil, errStreamNotFound(s.meta.Name, s.meta.Account)
	}
	return s, nil
}

// route returns the open shard whose hash-key range holds h.
func (s *stream) route(h hashKey) *shardState {
	open := s.open
	i := sort.Search(len(open), func(i int) bool { return h.less(open[i].start) })
	// open[i-1] is the last shard starting at or before h.
	if i == 0 {
		return nil
	}
	if sh := open[i-1]; !sh.end.less(h) {
		return sh
	}
	return nil
}

// hashOf returns the hash key of a record.
func (e *Engine) hashOf(s *stream, partitionKey, explicit string) (hashKey, error) {
	if explicit == "" {
		return partitionHash(partitionKey), nil
	}
	h, ok := parseHashKey(explicit)
	if !ok {
		return hashKey{}, errorf(KindInvalidArgument, "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was %s", explicit)
	}
	return h, nil
}

// PutRecord writes one record and returns once it is durable.
func (e *Engine) PutRecord(ctx context.Context, in *PutRecordInput) (*PutRecordOutput, error) {
	start := time.Now()
	c := e.caller(ctx)
	e.mu.RLock()
	s, err := e.writable(c, in.StreamRef)
	if err != nil {
		e.mu.RUnlock()
		return nil, err
	}
	label := s.label()
	if in.SequenceNumberForOrdering != "" {
		// Sequence numbers always increase within a shard, so a valid one
		// needs nothing more; an invalid one is refused as Kinesis does.
		if _, _, ok := parseSeq(in.SequenceNumberForOrdering); !ok {
			e.mu.RUnlock()
			return nil, errorf(KindInvalidArgument, "ExclusiveMinimumSequenceNumber %s used in PutRecord on stream %s under account %s is invalid.",
				in.SequenceNumberForOrdering, s.meta.Name, s.meta.Account)
		}
	}
	if err := s.checkRecordSize(len(in.Data), "data"); err != nil {
		e.mu.RUnlock()
		return nil, err
	}
	h, err := e.hashOf(s, in.PartitionKey, in.ExplicitHashKey)
	if err != nil {
		e.mu.RUnlock()
		return nil, err
	}
	sh := s.route(h)
	rec, err := e.sealRecord(s, sh, in.PartitionKey, in.Data)
	if err != nil {
		e.mu.RUnlock()
		return nil, err
	}
	recs := []store.Record{rec}
	ack := sh.log.Append(recs)
	e.mu.RUnlock()
	size := len(in.Data) + len(in.PartitionKey)
	if err := ack.Wait(); err != nil {
		e.cfg.Observer.Call(CallMeasure{StreamLabel: label, Op: "PutRecord", Latency: time.Since(start), Records: 1, Bytes: size, FailedRecords: 1})
		return nil, err
	}
	e.cfg.Observer.ShardTraffic(ShardTraffic{StreamLabel: label, ShardID: sh.meta.ID, Records: 1, Bytes: size})
	e.cfg.Observer.Call(CallMeasure{StreamLabel: label, Op: "PutRecord", Latency: time.Since(start), OK: true, Records: 1, Bytes: size})
	return &PutRecordOutput{
		ShardId:        sh.meta.ID,
		SequenceNumber: formatSeq(sh.meta.UID, recs[0].Seq),
		EncryptionType: s.encryption(),
	}, nil
}

// DefaultMaxRecordSizeKiB is the largest record a stream takes unless
// UpdateMaxRecordSize raises it.
const DefaultMaxRecordSizeKiB = 1024

// checkRecordSize refuses a record larger than the stream's maximum record
// size. The service model allows up to 10 MiB for every stream, so this check
// is the engine's; the message is the one AWS gives for the 1 MiB limit.
func (s *stream) checkRecordSize(n int, path string) error {
	limit := s.meta.MaxRecordSizeKiB
	if limit == 0 {
		limit = DefaultMaxRecordSizeKiB
	}
	if n <= limit<<10 {
		return nil
	}
	return errorf(KindValidation, "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]' at '%s' "+
		"failed to satisfy constraint: Member must have length less than or equal to %d", n, n, path, limit<<10)
}

// encryption is the EncryptionType reported for writes: omitted unless set.
func (s *stream) encryption() string { return s.meta.EncryptionType }

// PutRecords writes a batch of records, each routed to its shard, and
// returns once all are durable. Results are in request order.
func (e *Engine) PutRecords(ctx context.Context, in *PutRecordsInput) (*PutRecordsOutput, error) {
	start := time.Now()
	c := e.caller(ctx)
	size := 0
	for _, r := range in.Records {
		size += len(r.Data) + len(r.PartitionKey)
	}
	e.mu.RLock()
	s, err := e.writable(c, in.StreamRef)
	if err != nil {
		e.mu.RUnlock()
		return nil, err
	}
	if limit := max(MaxPutRecordsBytes, s.meta.MaxRecordSizeKiB<<10); size > limit {
		e.mu.RUnlock()
		return nil, errorf(KindInvalidArgument, "Records size exceeds %d MB limit", limit>>20)
	}
	for i, r := range in.Records {
		if err := s.checkRecordSize(len(r.Data), fmt.Sprintf("records.%d.member.data", i+1)); err != nil {
			e.mu.RUnlock()
			return nil, err
		}
	}
	label := s.label()
	// Group the records by shard, keeping request order within each group.
	type group struct {
		sh    *shardState
		recs  []store.Record
		index []int // request positions of recs
		bytes int
		ack   *store.Ack
	}
	var groups []*group
	byShard := make(map[*shardState]*group)
	for i, r := range in.Records {
		h, err := e.hashOf(s, r.PartitionKey, r.ExplicitHashKey)
		if err != nil {
			e.mu.RUnlock()
			return nil, err
		}
		sh := s.route(h)
		g := byShard[sh]
		if g == nil {
			g = &group{sh: sh}
			byShard[sh] = g
			groups = append(groups, g)
		}
		rec, err := e.sealRecord(s, sh, r.PartitionKey, r.Data)
		if err != nil {
			e.mu.RUnlock()
			return nil, err
		}
		g.recs = append(g.recs, rec)
		g.index = append(g.index, i)
		g.bytes += len(r.Data) + len(r.PartitionKey)
	}
	for _, g := range groups {
		g.ack = g.sh.log.Append(g.recs)
	}
	e.mu.RUnlock()

	out := &PutRecordsOutput{Records: make([]PutRecordsResultEntry, len(in.Records)), EncryptionType: s.encryption()}
	for _, g := range groups {
		if err := g.ack.Wait(); err != nil {
			// The outcome of these records is unknown to the client either
			// way; report them failed so that it retries.
			for _, i := range g.index {
				out.Records[i] = PutRecordsResultEntry{ErrorCode: "InternalFailure", ErrorMessage: "Internal service failure."}
				out.FailedRecordCount++
			}
			continue
		}
		for j, i := range g.index {
			out.Records[i] = PutRecordsResultEntry{ShardId: g.sh.meta.ID, SequenceNumber: formatSeq(g.sh.meta.UID, g.recs[j].Seq)}
		}
		e.cfg.Observer.ShardTraffic(ShardTraffic{StreamLabel: label, ShardID: g.sh.meta.ID, Records: len(g.recs), Bytes: g.bytes})
	}
	e.cfg.Observer.Call(CallMeasure{StreamLabel: label, Op: "PutRecords", Latency: time.Since(start), OK: true,
		Records: len(in.Records), Bytes: size, FailedRecords: out.FailedRecordCount})
	return out, nil
}

// GetShardIterator returns an iterator positioned in a shard.
func (e *Engine) GetShardIterator(ctx context.Context, in *GetShardIteratorInput) (*GetShardIteratorOutput, error) {
	c := e.caller(ctx)
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, err := e.resolve(c, in.StreamRef)
	if err != nil {
		return nil, err
	}
	sh := s.byID[in.ShardId]
	if sh == nil {
		return nil, errShardNotFound(in.ShardId, s.meta.Name, s.meta.Account)
	}
	var pos uint64
	typ := in.ShardIteratorType
	withSeq := typ == IteratorAtSequenceNumber || typ == IteratorAfterSequenceNumber
	switch {
	case withSeq && in.StartingSequenceNumber == "":
		return nil, errorf(KindInvalidArgument, "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "+
			"StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and no StartingSequenceNumber.", typ)
	case (typ == IteratorTrimHorizon || typ == IteratorLatest) && in.StartingSequenceNumber != "":
		return nil, errorf(KindInvalidArgument, "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "+
			"StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and also a StartingSequenceNumber.", typ)
	case typ == IteratorTrimHorizon:
		pos = e.trimHorizon(sh)
	case typ == IteratorLatest:
		pos = sh.log.Next()
	case typ == IteratorAtTimestamp:
		if in.Timestamp == nil {
			return nil, errorf(KindInvalidArgument, "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
		ts, now := in.Timestamp.UnixMilli(), e.cfg.Now().UnixMilli()
		if ts > now {
			return nil, errorf(KindInvalidArgument, "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "+
				"timestampInMillis: %d, currentTimestampInMillis: %d", ts, now)
		}
		pos = max(sh.log.SeekTime(ts), e.trimHorizon(sh))
	case withSeq:
		uid, p, ok := parseSeq(in.StartingSequenceNumber)
		if !ok {
			return nil, errorf(KindInvalidArgument, "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid.",
				in.StartingSequenceNumber, sh.meta.ID, s.meta.Name, s.meta.Account)
		}
		if uid != sh.meta.UID {
			if other := e.byUID[uid]; other != nil && other.stream == s {
				return nil, errorf(KindInvalidArgument, "Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s",
					other.meta.ID, sh.meta.ID)
			}
			return nil, errorf(KindInvalidArgument, "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid because it did not come from this stream.",
				in.StartingSequenceNumber, sh.meta.ID, s.meta.Name, s.meta.Account)
		}
		pos = p
		if typ == IteratorAfterSequenceNumber {
			pos++
		}
		if next := sh.log.Next(); pos > next {
			pos = next
		}
	}
	return &GetShardIteratorOutput{ShardIterator: e.tokens.iterator(iterator{uid: sh.meta.UID, pos: pos, issued: e.cfg.Now()})}, nil
}

// GetRecords reads records from the position of a shard iterator.
func (e *Engine) GetRecords(ctx context.Context, in *GetRecordsInput) (*GetRecordsOutput, error) {
	start := time.Now()
	c := e.caller(ctx)
	it, ok := e.tokens.parseIterator(in.ShardIterator)
	if !ok {
		return nil, errInvalidIterator
	}
	now := e.cfg.Now()
	if now.Sub(it.issued) > IteratorTTL {
		return nil, errExpiredIterator(it.issued, now)
	}
	limit := DefaultGetRecordsLimit
	if in.Limit != nil {
		limit = *in.Limit
	}
	e.mu.RLock()
	sh := e.byUID[it.uid]
	if sh == nil || sh.stream.meta.Account != c.Account || sh.stream.meta.Region != c.Region ||
		in.StreamARN != "" && sh.stream.meta.arn() != in.StreamARN {
		e.mu.RUnlock()
		return nil, errorf(KindResourceNotFound, "Shard in the iterator does not exist, or its stream was deleted.")
	}
	m := *sh.meta
	children := sh.stream.children(m.ID)
	pos := max(it.pos, e.trimHorizon(sh))
	label := sh.stream.label()
	e.mu.RUnlock()

	recs, err := sh.log.Read(pos, limit, MaxGetRecordsBytes)
	if err != nil {
		e.cfg.Observer.Call(CallMeasure{StreamLabel: label, Op: "GetRecords", Latency: time.Since(start)})
		return nil, err
	}
	out := &GetRecordsOutput{Records: make([]Record, len(recs))}
	size := 0
	defer func() {
		e.cfg.Observer.ShardTraffic(ShardTraffic{StreamLabel: label, ShardID: m.ID, Out: true, Records: len(recs), Bytes: size,
			IteratorAgeMillis: out.MillisBehindLatest})
		e.cfg.Observer.Call(CallMeasure{StreamLabel: label, Op: "GetRecords", Latency: time.Since(start), OK: true, Records: len(recs), Bytes: size})
	}()
	for i, r := range recs {
		pk, data, enc, err := e.openRecord(m.UID, r)
		if err != nil {
			return nil, err
		}
		size += len(data) + len(pk)
		out.Records[i] = Record{
			SequenceNumber:              formatSeq(m.UID, r.Seq),
			ApproximateArrivalTimestamp: time.UnixMilli(r.ArrivalMillis),
			Data:                        data,
			PartitionKey:                pk,
			EncryptionType:              enc,
		}
	}
	if len(recs) > 0 {
		pos = recs[len(recs)-1].Seq + 1
		if pos < sh.log.Next() {
			out.MillisBehindLatest = max(0, now.UnixMilli()-recs[len(recs)-1].ArrivalMillis)
		}
	}
	if m.Closed && pos >= m.EndPos {
		out.ChildShards = children
		if out.ChildShards == nil {
			out.ChildShards = []ChildShard{}
		}
		return out, nil
	}
	out.NextShardIterator = e.tokens.iterator(iterator{uid: m.UID, pos: pos, issued: now})
	return out, nil
}

// trimHorizon returns the oldest position of a shard still within its
// stream's retention period. Records past it are hidden at once, before the
// background trim deletes them. Callers hold e.mu.
func (e *Engine) trimHorizon(sh *shardState) uint64 {
	cutoff := e.cfg.Now().Add(-time.Duration(sh.stream.meta.RetentionHours) * time.Hour).UnixMilli()
	return max(sh.log.First(), sh.log.SeekTime(cutoff))
}

// children lists the shards whose parent is the given shard. Callers hold e.mu.
func (s *stream) children(parent string) []ChildShard {
	var out []ChildShard
	for _, sh := range s.shards {
		m := sh.meta
		if m.Parent != parent && m.AdjacentParent != parent {
			continue
		}
		parents := []string{m.Parent}
		if m.AdjacentParent != "" {
			parents = append(parents, m.AdjacentParent)
		}
		out = append(out, ChildShard{
			ShardId:      m.ID,
			ParentShards: parents,
			HashKeyRange: HashKeyRange{StartingHashKey: m.StartHash, EndingHashKey: m.EndHash},
		})
	}
	return out
}
