package engine

import (
	"context"
	"fmt"
	"runtime"
	"sync"
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
	if i := s.routeIndex(h); i >= 0 {
		return s.open[i]
	}
	return nil
}

// routeIndex returns the index in s.open of the shard whose hash-key range
// holds h, or -1.
func (s *stream) routeIndex(h hashKey) int {
	// Binary search for the first shard starting after h, in the contiguous
	// starts rather than through each shard's pointer: with thousands of
	// shards each probe was a cache miss.
	lo, hi := 0, len(s.starts)
	if s.jump != nil {
		// Shards starting in earlier buckets start before h, those in
		// later ones after it.
		b := h.hi >> (64 - jumpBits)
		lo, hi = int(s.jump[b]), int(s.jump[b+1])
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if h.less(s.starts[m]) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	// open[lo-1] is the last shard starting at or before h.
	if lo == 0 || !s.gapless && s.open[lo-1].end.less(h) {
		return -1
	}
	return lo - 1
}

// hashOf returns the hash key of a record.
func hashOf(partitionKey, explicit string) (hashKey, error) {
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
		if _, ok := parseSeq(in.SequenceNumberForOrdering); !ok {
			e.mu.RUnlock()
			return nil, errorf(KindInvalidArgument, "ExclusiveMinimumSequenceNumber %s used in PutRecord on stream %s under account %s is invalid.",
				in.SequenceNumberForOrdering, s.meta.Name, s.meta.Account)
		}
	}
	if len(in.Data) > s.maxRecordBytes() {
		e.mu.RUnlock()
		return nil, s.recordSizeError(len(in.Data), "data")
	}
	h, err := hashOf(in.PartitionKey, in.ExplicitHashKey)
	if err != nil {
		e.mu.RUnlock()
		return nil, err
	}
	sh := s.route(h)
	if r := e.admitPut(sh, len(in.Data)+len(in.PartitionKey)); r != nil { // limits.go
		e.mu.RUnlock()
		e.rejectedPut(label, sh, r, start)
		return nil, r.err()
	}
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
		SequenceNumber: recordSeq(sh.meta.UID, recs[0].Seq),
		EncryptionType: s.encryption(),
	}, nil
}

// DefaultMaxRecordSizeKiB is the largest record a stream takes unless
// UpdateMaxRecordSize raises it.
const DefaultMaxRecordSizeKiB = 1024

// maxRecordBytes is the stream's maximum record size. The service model
// allows up to 10 MiB for every stream, so this limit is the engine's.
func (s *stream) maxRecordBytes() int {
	if s.meta.MaxRecordSizeKiB == 0 {
		return DefaultMaxRecordSizeKiB << 10
	}
	return s.meta.MaxRecordSizeKiB << 10
}

// recordSizeError refuses a record of n bytes, over maxRecordBytes, at path
// of the request, with the message AWS gives for the 1 MiB limit.
func (s *stream) recordSizeError(n int, path string) error {
	return errorf(KindValidation, "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]' at '%s' "+
		"failed to satisfy constraint: Member must have length less than or equal to %d", n, n, path, s.maxRecordBytes())
}

// encryption is the EncryptionType reported for writes: omitted unless set.
func (s *stream) encryption() string { return s.meta.EncryptionType }

// groupSlots holds PutRecords' map from an open shard's index in its stream
// to the shard's group in the call plus one (0: none yet), reset to zeros
// after each call. A map keyed by shard, as this was, cost a hash and an
// allocation per call that grew with the shards touched.
var groupSlots sync.Pool // of *[]int32

func getGroupSlots(n int) []int32 {
	if p, _ := groupSlots.Get().(*[]int32); p != nil && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]int32, n)
}

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
		if len(r.Data) > s.maxRecordBytes() {
			e.mu.RUnlock()
			return nil, s.recordSizeError(len(r.Data), fmt.Sprintf("records.%d.member.data", i+1))
		}
	}
	label := s.label()
	// Route and admit every record in request order, then group the admitted
	// ones by shard (request order within each group) in slices sized once:
	// this loop runs for every record a producer sends.
	// A group copies its shard's uid and id: read again after the journal
	// wait, a call's shards (hundreds, when spread) had left the cache.
	type group struct {
		sh    *shardState
		uid   uint64
		id    string
		n     int
		recs  []store.Record
		index []int // request positions of recs
		bytes int
		at    int32 // index of sh in s.open
	}
	var rejected putRejections
	groups := make([]group, 0, min(len(in.Records), len(s.open)))
	slots := getGroupSlots(len(s.open))
	defer func() {
		for _, g := range groups {
			slots[g.at] = 0
		}
		groupSlots.Put(&slots)
	}()
	where := make([]int, len(in.Records)) // index in groups, -1: rejected
	// Hashes first, routes after: a route is a few dependent loads, cache
	// misses when the stream has thousands of shards, and with the hashing
	// out of the loop the processor overlaps the misses of many records.
	hashes := make([]hashKey, len(in.Records))
	for i, r := range in.Records {
		h, err := hashOf(r.PartitionKey, r.ExplicitHashKey)
		if err != nil {
			e.mu.RUnlock()
			return nil, err
		}
		hashes[i] = h
	}
	// Routes next, and a first touch of each shard's state in a loop of
	// independent loads, for the same reason: spread over thousands of
	// shards, nearly every record's shard is a miss, and in the grouping
	// loop below the processor overlapped only a few of them.
	ats := make([]int32, len(in.Records))
	var touch uint64
	for i := range in.Records {
		at := s.routeIndex(hashes[i])
		if at < 0 {
			e.mu.RUnlock()
			return nil, fmt.Errorf("engine: no open shard of stream %s holds hash key %s", s.meta.Name, hashes[i])
		}
		ats[i] = int32(at)
	}
	for _, at := range ats {
		sh := s.open[at]
		touch += sh.uid + uint64(len(sh.id))
	}
	runtime.KeepAlive(touch) // keeps the loads
	for i, r := range in.Records {
		at := int(ats[i])
		sh := s.open[at]
		if rj := e.admitPut(sh, len(r.Data)+len(r.PartitionKey)); rj != nil { // limits.go
			rejected = append(rejected, putRejection{i, rj, sh})
			where[i] = -1
			continue
		}
		k := int(slots[at]) - 1
		if k < 0 {
			k = len(groups)
			slots[at] = int32(k + 1)
			groups = append(groups, group{sh: sh, uid: sh.uid, id: sh.id, at: int32(at)})
		}
		where[i] = k
		groups[k].n++
		groups[k].bytes += len(r.Data) + len(r.PartitionKey)
	}
	recs := make([]store.Record, len(in.Records)-len(rejected))
	index := make([]int, len(recs))
	for k := range groups {
		g := &groups[k]
		g.recs, recs = recs[:g.n:g.n], recs[g.n:]
		g.index, index = index[:0:g.n], index[g.n:]
	}
	for i, k := range where {
		if k >= 0 {
			g := &groups[k]
			rec, err := e.sealRecord(s, g.sh, in.Records[i].PartitionKey, in.Records[i].Data)
			if err != nil {
				e.mu.RUnlock()
				return nil, err // before anything is appended
			}
			g.recs[len(g.index)] = rec
			g.index = append(g.index, i)
		}
	}
	batches := make([]store.Batch, len(groups))
	for k, g := range groups {
		batches[k] = store.Batch{Shard: g.sh.log, Recs: g.recs}
	}
	ack := e.store.AppendMany(batches) // one journal hand-off for every shard
	e.mu.RUnlock()

	out := &PutRecordsOutput{Records: make([]PutRecordsResultEntry, len(in.Records)), EncryptionType: s.encryption()}
	rejected.apply(e, label, out)
	ack.Wait() // each batch's outcome is in its Err
	// Every sequence number of the call in one string; a batch is numbered
	// consecutively.
	text := make([]byte, 0, len(where)*seqLen)
	for k, g := range groups {
		if batches[k].Err == nil {
			text = appendRecordSeqs(text, g.uid, g.recs[0].Seq, len(g.recs))
		}
	}
	seqs := string(text)
	// Without shard-level metrics the observer gets the call's traffic
	// once: per shard, a call spread over thousands cost as much again.
	perShard := len(label.ShardLevelMetrics) > 0
	total := ShardTraffic{StreamLabel: label}
	for k, g := range groups {
		if batches[k].Err != nil {
			// The outcome of these records is unknown to the client either
			// way; report them failed so that it retries.
			for _, i := range g.index {
				out.Records[i] = PutRecordsResultEntry{ErrorCode: "InternalFailure", ErrorMessage: "Internal service failure."}
				out.FailedRecordCount++
			}
			continue
		}
		for _, i := range g.index {
			out.Records[i] = PutRecordsResultEntry{ShardId: g.id, SequenceNumber: seqs[:seqLen]}
			seqs = seqs[seqLen:]
		}
		if perShard {
			e.cfg.Observer.ShardTraffic(ShardTraffic{StreamLabel: label, ShardID: g.id, Records: len(g.recs), Bytes: g.bytes})
		}
		total.Records += len(g.recs)
		total.Bytes += g.bytes
	}
	if !perShard && total.Records > 0 {
		e.cfg.Observer.ShardTraffic(total)
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
	if err := e.throttleShard("GetShardIterator", sh); err != nil { // limits.go
		return nil, err
	}
	if err := e.faultCall(sh); err != nil { // faults.go
		return nil, err
	}
	pos, err := e.startPosition(s, sh, "GetShardIterator", in.ShardIteratorType, in.StartingSequenceNumber, in.Timestamp)
	if err != nil {
		return nil, err
	}
	return &GetShardIteratorOutput{ShardIterator: e.tokens.iterator(iterator{uid: sh.meta.UID, pos: pos, issued: e.cfg.Now()})}, nil
}

// startPosition resolves where a reader starts in a shard: an iterator type
// (or SubscribeToShard starting position) with its sequence number or
// timestamp. op names the operation in messages. Callers hold e.mu.
func (e *Engine) startPosition(s *stream, sh *shardState, op, typ, seq string, ts *time.Time) (uint64, error) {
	var pos uint64
	withSeq := typ == IteratorAtSequenceNumber || typ == IteratorAfterSequenceNumber
	switch {
	case withSeq && seq == "":
		return 0, errorf(KindInvalidArgument, "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "+
			"StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and no StartingSequenceNumber.", typ)
	case (typ == IteratorTrimHorizon || typ == IteratorLatest) && seq != "":
		return 0, errorf(KindInvalidArgument, "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "+
			"StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and also a StartingSequenceNumber.", typ)
	case typ == IteratorTrimHorizon:
		pos = e.trimHorizon(sh)
	case typ == IteratorLatest:
		pos = sh.log.Next()
	case typ == IteratorAtTimestamp:
		if ts == nil {
			return 0, errorf(KindInvalidArgument, "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
		ms, now := ts.UnixMilli(), e.cfg.Now().UnixMilli()
		if ms > now {
			return 0, errorf(KindInvalidArgument, "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "+
				"timestampInMillis: %d, currentTimestampInMillis: %d", ms, now)
		}
		pos = max(sh.log.SeekTime(ms), e.trimHorizon(sh))
	case withSeq:
		p, ok := parseSeq(seq)
		if !ok {
			return 0, errorf(KindInvalidArgument, "StartingSequenceNumber %s used in %s on shard %s in stream %s under account %s is invalid.",
				seq, op, sh.meta.ID, s.meta.Name, s.meta.Account)
		}
		if p.uid != sh.meta.UID {
			if other := e.byUID[p.uid]; other != nil && other.stream == s {
				return 0, errorf(KindInvalidArgument, "Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s",
					other.meta.ID, sh.meta.ID)
			}
			return 0, errorf(KindInvalidArgument, "StartingSequenceNumber %s used in %s on shard %s in stream %s under account %s is invalid because it did not come from this stream.",
				seq, op, sh.meta.ID, s.meta.Name, s.meta.Account)
		}
		pos = p.at()
		if typ == IteratorAfterSequenceNumber {
			pos = p.after()
		}
		if next := sh.log.Next(); pos > next {
			pos = next
		}
	}
	return pos, nil
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

	if r := e.admitGet(sh); r != nil { // limits.go
		e.rejectedGet(label, sh, r, start)
		return nil, r.err()
	}
	b, err := e.readBatch(sh, pos, limit, MaxGetRecordsBytes, now)
	if err != nil {
		e.cfg.Observer.Call(CallMeasure{StreamLabel: label, Op: "GetRecords", Latency: time.Since(start)})
		return nil, err
	}
	e.afterGet(sh, b.bytes)
	out := &GetRecordsOutput{Records: b.records, MillisBehindLatest: b.behindMillis}
	e.cfg.Observer.ShardTraffic(ShardTraffic{StreamLabel: label, ShardID: m.ID, Out: true, Records: len(b.records), Bytes: b.bytes,
		IteratorAgeMillis: out.MillisBehindLatest})
	e.cfg.Observer.Call(CallMeasure{StreamLabel: label, Op: "GetRecords", Latency: time.Since(start), OK: true, Records: len(b.records), Bytes: b.bytes})
	pos = b.next
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

// batch is a run of records read for a client.
type batch struct {
	records      []Record
	next         uint64 // position after the last record (pos if none)
	bytes        int    // data and partition keys, as clients see them
	behindMillis int64  // how far behind the tip the reader is; 0 when caught up
}

// readBatch reads up to limit records (and about maxBytes) of a shard from
// pos, decrypting those stored encrypted. It takes no engine lock.
func (e *Engine) readBatch(sh *shardState, pos uint64, limit, maxBytes int, now time.Time) (batch, error) {
	uid := sh.meta.UID // immutable
	recs, err := sh.log.Read(pos, limit, maxBytes)
	if err != nil {
		return batch{}, err
	}
	b := batch{records: make([]Record, len(recs)), next: pos}
	seqs := recordSeqRun(uid, recs)
	for i, r := range recs {
		pk, data, enc, err := e.openRecord(uid, r)
		if err != nil {
			return batch{}, err
		}
		b.bytes += len(data) + len(pk)
		seq := seqs[i*seqLen : (i+1)*seqLen]
		b.records[i] = Record{
			SequenceNumber:              seq,
			ApproximateArrivalTimestamp: time.UnixMilli(r.ArrivalMillis),
			Data:                        data,
			PartitionKey:                pk,
			EncryptionType:              enc,
		}
	}
	if len(recs) > 0 {
		last := recs[len(recs)-1]
		b.next = last.Seq + 1
		if b.next < sh.log.Next() {
			b.behindMillis = max(0, now.UnixMilli()-last.ArrivalMillis)
		}
	}
	return b, nil
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
