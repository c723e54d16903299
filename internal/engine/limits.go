package engine

import (
	"sync"
	"sync/atomic"
	"time"
)

// Throughput limits, as Kinesis enforces them, are off by default (a
// development server accepts whatever a test throws at it) and turned on with
// SetEnforceLimits (--enforce-limits, or PUT /admin/limits at run time).
//
// Each limit is a token bucket refilled continuously at its documented rate,
// holding at most one second of it, so that a client within the rate on
// average is never refused and a burst is cut at what one second allows.
// Buckets are made on first use and dropped once idle long enough to be full
// again, when they are indistinguishable from new ones; turning limits off
// drops them all, so that turning them on again starts afresh.
//
// The numbers and scopes are those of the Kinesis API reference (botocore's
// service model documents each operation's quota).
//
// Writes to one shard are bounded by ShardWriteBytesPerSecond (data and
// partition keys count) and ShardWriteRecordsPerSecond (mode.go).
const (
	// ShardReadBytesPerSecond and ShardReadCallsPerSecond bound GetRecords
	// on one shard. The byte budget may go into debt: a call returning 10
	// MiB is served whole and the shard's reads are then refused until the
	// debt is repaid, 5 s later, as AWS documents.
	ShardReadBytesPerSecond = 2 << 20
	ShardReadCallsPerSecond = 5
)

// rateScope says what a control-plane rate is counted per.
type rateScope int

const (
	perAccount       rateScope = iota // account and region
	perStream                         // one stream
	perShard                          // one shard (GetShardIterator)
	perConsumerShard                  // one consumer on one shard (SubscribeToShard)
)

// controlRates are the documented transaction rates of the operations that
// call throttle.
var controlRates = map[string]struct {
	perSecond float64
	scope     rateScope
}{
	"CreateStream":               {5, perAccount},
	"DeleteStream":               {5, perAccount},
	"DescribeStream":             {10, perAccount},
	"DescribeStreamSummary":      {20, perAccount},
	"ListStreams":                {5, perAccount},
	"ListShards":                 {1000, perStream},
	"RegisterStreamConsumer":     {5, perAccount},
	"DeregisterStreamConsumer":   {5, perStream},
	"DescribeStreamConsumer":     {20, perStream},
	"ListStreamConsumers":        {5, perStream},
	"GetShardIterator":           {5, perShard},
	"SubscribeToShard":           {1, perConsumerShard},
	"AddTagsToStream":            {5, perAccount},
	"RemoveTagsFromStream":       {5, perAccount},
	"ListTagsForStream":          {5, perAccount},
	"SplitShard":                 {5, perAccount},
	"MergeShards":                {5, perAccount},
	"DescribeLimits":             {1, perAccount},
	"DescribeAccountSettings":    {5, perAccount},
	"UpdateAccountSettings":      {5, perAccount},
	"UpdateStreamWarmThroughput": {5, perAccount},
}

// bucket is a token bucket. It is guarded by the limiter's mutex.
type bucket struct {
	tokens float64
	last   time.Time // when tokens was last brought up to date
}

// refill brings b up to now at rate per second, holding at most burst.
func (b *bucket) refill(now time.Time, rate, burst float64) {
	if b.last.IsZero() {
		b.tokens, b.last = burst, now
		return
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(burst, b.tokens+d.Seconds()*rate)
		b.last = now
	}
}

// bucketKey names one bucket: an operation (or "write"/"read" for a shard's
// data plane) and what it is counted per.
type bucketKey struct {
	op              string
	account, region string
	stream          string
	shard           uint64
	consumer        string
}

// limiter holds the buckets. The zero value is off.
type limiter struct {
	on atomic.Bool

	mu        sync.Mutex
	buckets   map[bucketKey]*bucket // guarded by mu
	lastSweep time.Time             // guarded by mu
}

// idleAfter is how long a bucket goes unused before it is full again, at
// the slowest rate, and can be dropped.
const idleAfter = 10 * time.Second

// bucketLocked returns the bucket of k, refilled to now. Callers hold l.mu.
func (l *limiter) bucketLocked(k bucketKey, now time.Time, rate, burst float64) *bucket {
	if l.buckets == nil {
		l.buckets = make(map[bucketKey]*bucket)
	}
	if now.Sub(l.lastSweep) > time.Minute {
		for key, b := range l.buckets {
			if now.Sub(b.last) > idleAfter {
				delete(l.buckets, key)
			}
		}
		l.lastSweep = now
	}
	b := l.buckets[k]
	if b == nil {
		b = new(bucket)
		l.buckets[k] = b
	}
	b.refill(now, rate, burst)
	return b
}

// take takes one token of the bucket of k if it has one.
func (l *limiter) take(k bucketKey, now time.Time, perSecond float64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketLocked(k, now, perSecond, perSecond)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// SetEnforceLimits turns the enforcement of Kinesis's throughput and API
// rate limits on or off. It may be called at any time.
func (e *Engine) SetEnforceLimits(on bool) {
	l := &e.limits
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on.Store(on)
	l.buckets = nil
}

// EnforceLimits reports whether limits are enforced.
func (e *Engine) EnforceLimits() bool { return e.limits.on.Load() }

// throttle charges one call of a control-plane operation against its
// documented rate. stream names the stream the call acts on ("" if none): it
// scopes per-stream rates and words the message, as AWS's names the stream
// even for per-account rates ("Rate exceeded for stream X under account Y.").
func (e *Engine) throttle(c Caller, op, stream string) error {
	if !e.limits.on.Load() {
		return nil
	}
	r, ok := controlRates[op]
	if !ok {
		return nil
	}
	k := bucketKey{op: op, account: c.Account, region: c.Region}
	if r.scope == perStream {
		k.stream = stream
	}
	if e.limits.take(k, e.cfg.Now(), r.perSecond) {
		return nil
	}
	if stream != "" {
		return errorf(KindLimitExceeded, "Rate exceeded for stream %s under account %s.", stream, c.Account)
	}
	return errorf(KindLimitExceeded, "Rate exceeded for account %s.", c.Account)
}

// refName is the name of the stream a request names, by name or ARN; "" if
// neither holds one.
func refName(ref StreamRef) string {
	if ref.StreamName != "" {
		return ref.StreamName
	}
	if _, _, name, ok := parseStreamARN(ref.StreamARN); ok {
		return name
	}
	return ""
}

// throttleShard charges one GetShardIterator call against the shard's rate.
func (e *Engine) throttleShard(op string, sh *shardState) error {
	if !e.limits.on.Load() {
		return nil
	}
	m := sh.stream.meta
	k := bucketKey{op: op, account: m.Account, region: m.Region, stream: m.Name, shard: sh.meta.UID}
	if e.limits.take(k, e.cfg.Now(), controlRates[op].perSecond) {
		return nil
	}
	return errorf(KindProvisionedThroughputExceeded, "%s", writeThrottleMessage(sh))
}

// throttleSubscribe charges one SubscribeToShard call against the rate of a
// consumer on a shard. The message is Riffle's: AWS's wording for this
// refusal is not on record.
func (e *Engine) throttleSubscribe(s *stream, cm *consumerMeta, sh *shardState) error {
	if !e.limits.on.Load() {
		return nil
	}
	arn := cm.arn(s.meta)
	k := bucketKey{op: "SubscribeToShard", account: s.meta.Account, region: s.meta.Region, consumer: arn, shard: sh.meta.UID}
	if e.limits.take(k, e.cfg.Now(), controlRates["SubscribeToShard"].perSecond) {
		return nil
	}
	return errorf(KindLimitExceeded, "Rate exceeded for consumer %s and shard %s.", arn, sh.meta.ID)
}

// writeThrottleMessage is AWS's message for a write refused for a shard's
// throughput, the same for PutRecord and for a PutRecords entry.
func writeThrottleMessage(sh *shardState) string {
	m := sh.stream.meta
	return "Rate exceeded for shard " + sh.meta.ID + " in stream " + m.Name + " under account " + m.Account + "."
}

// readThrottleMessage is the message AWS gives today for GetRecords refused
// for a shard's throughput.
func readThrottleMessage(sh *shardState) string {
	m := sh.stream.meta
	return "Rate exceeded for Shard - " + m.Account + "/" + m.Name + "/" + sh.meta.ID
}

// admitWrite decides whether a record of size bytes may be written to
// sh now. A record larger than a second's byte budget is admitted when the
// budget is full, and the shard's writes wait until it is repaid.
func (l *limiter) admitWrite(sh *shardState, size int, now time.Time) bool {
	m := sh.stream.meta
	kr := bucketKey{op: "write-records", account: m.Account, region: m.Region, stream: m.Name, shard: sh.meta.UID}
	kb := kr
	kb.op = "write-bytes"
	l.mu.Lock()
	defer l.mu.Unlock()
	recs := l.bucketLocked(kr, now, ShardWriteRecordsPerSecond, ShardWriteRecordsPerSecond)
	bytes := l.bucketLocked(kb, now, ShardWriteBytesPerSecond, ShardWriteBytesPerSecond)
	if recs.tokens < 1 || bytes.tokens < min(float64(size), ShardWriteBytesPerSecond) {
		return false
	}
	recs.tokens--
	bytes.tokens -= float64(size)
	return true
}

// admitRead decides whether a GetRecords call may read sh now: the shard has
// a call left this second and its byte budget is not in debt.
func (l *limiter) admitRead(sh *shardState, now time.Time) bool {
	m := sh.stream.meta
	kc := bucketKey{op: "read-calls", account: m.Account, region: m.Region, stream: m.Name, shard: sh.meta.UID}
	kb := kc
	kb.op = "read-bytes"
	l.mu.Lock()
	defer l.mu.Unlock()
	calls := l.bucketLocked(kc, now, ShardReadCallsPerSecond, ShardReadCallsPerSecond)
	// The byte budget holds no surplus: a call may read up to 10 MiB, and
	// what it reads is repaid at 2 MiB/s before the next call.
	bytes := l.bucketLocked(kb, now, ShardReadBytesPerSecond, 0)
	if calls.tokens < 1 || bytes.tokens < 0 {
		return false
	}
	calls.tokens--
	return true
}

// chargeRead charges the bytes a GetRecords call returned to sh's budget.
func (l *limiter) chargeRead(sh *shardState, n int, now time.Time) {
	m := sh.stream.meta
	k := bucketKey{op: "read-bytes", account: m.Account, region: m.Region, stream: m.Name, shard: sh.meta.UID}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucketLocked(k, now, ShardReadBytesPerSecond, 0).tokens -= float64(n)
}

// Throttle is a refusal for a shard's throughput (or an injected
// ProvisionedThroughputExceeded fault), for metrics.
type Throttle struct {
	StreamLabel
	ShardID string
	// Op is PutRecord, PutRecords or GetRecords.
	Op string
	// Records counts the records refused (writes); a refused read is one
	// call and has Records 0.
	Records int
}

// ThrottleObserver is implemented by Observers that count refusals for
// throughput (CloudWatch's WriteProvisionedThroughputExceeded,
// ReadProvisionedThroughputExceeded and PutRecords.ThrottledRecords). It is
// separate from Observer so that observers without it keep working.
type ThrottleObserver interface {
	Throttled(t Throttle)
}

// observeThrottle reports a refusal to the observer if it counts them.
func (e *Engine) observeThrottle(t Throttle) {
	if o, ok := e.cfg.Observer.(ThrottleObserver); ok {
		o.Throttled(t)
	}
}

// rejection is why one write or read was refused: a throttle or an injected
// fault, with the error code and message the client sees.
type rejection struct {
	code    string // ProvisionedThroughputExceededException or InternalFailure
	message string
}

// Error codes of refused PutRecords entries.
const (
	codeThroughput = "ProvisionedThroughputExceededException"
	codeInternal   = "InternalFailure"
)

// err is the rejection as the error of a whole call.
func (r *rejection) err() error {
	if r.code == codeInternal {
		return &Error{Kind: KindInternal, Message: "injected fault: " + r.message}
	}
	return &Error{Kind: KindProvisionedThroughputExceeded, Message: r.message}
}

// admitPut decides whether one record of size bytes may be written to sh:
// nil, or why not. Faults are drawn first, so that a faulted record uses no
// throughput. Callers hold e.mu for reading.
func (e *Engine) admitPut(sh *shardState, size int) *rejection {
	if r := e.drawFault(sh, writeThrottleMessage); r != nil {
		return r
	}
	if !e.limits.on.Load() || e.limits.admitWrite(sh, size, e.cfg.Now()) {
		return nil
	}
	return &rejection{code: codeThroughput, message: writeThrottleMessage(sh)}
}

// admitGet decides whether a GetRecords call may read sh: nil, or why not.
func (e *Engine) admitGet(sh *shardState) *rejection {
	if r := e.drawFault(sh, readThrottleMessage); r != nil {
		return r
	}
	if !e.limits.on.Load() || e.limits.admitRead(sh, e.cfg.Now()) {
		return nil
	}
	return &rejection{code: codeThroughput, message: readThrottleMessage(sh)}
}

// afterGet charges what a GetRecords call read to sh's read budget.
func (e *Engine) afterGet(sh *shardState, bytes int) {
	if e.limits.on.Load() {
		e.limits.chargeRead(sh, bytes, e.cfg.Now())
	}
}

// putRejections are the PutRecords entries refused before writing, in
// request order.
type putRejections []putRejection

// putRejection is one refused PutRecords entry.
type putRejection struct {
	index int
	r     *rejection
	sh    *shardState
}

// rejectedPut reports a PutRecord refused by admitPut to the observer.
func (e *Engine) rejectedPut(label StreamLabel, sh *shardState, r *rejection, start time.Time) {
	if r.code == codeThroughput {
		e.observeThrottle(Throttle{StreamLabel: label, ShardID: sh.meta.ID, Op: "PutRecord", Records: 1})
	}
	e.cfg.Observer.Call(CallMeasure{StreamLabel: label, Op: "PutRecord", Latency: time.Since(start), Records: 1, FailedRecords: 1})
}

// apply marks the refused entries of out failed, and reports the throttled
// ones to the observer.
func (rs putRejections) apply(e *Engine, label StreamLabel, out *PutRecordsOutput) {
	if len(rs) == 0 {
		return
	}
	throttled := make(map[*shardState]int)
	for _, x := range rs {
		out.Records[x.index] = PutRecordsResultEntry{ErrorCode: x.r.code, ErrorMessage: x.r.message}
		out.FailedRecordCount++
		if x.r.code == codeThroughput {
			throttled[x.sh]++
		}
	}
	for sh, n := range throttled {
		e.observeThrottle(Throttle{StreamLabel: label, ShardID: sh.meta.ID, Op: "PutRecords", Records: n})
	}
}

// rejectedGet reports a GetRecords call refused by admitGet to the observer.
func (e *Engine) rejectedGet(label StreamLabel, sh *shardState, r *rejection, start time.Time) {
	if r.code == codeThroughput {
		e.observeThrottle(Throttle{StreamLabel: label, ShardID: sh.meta.ID, Op: "GetRecords"})
	}
	e.cfg.Observer.Call(CallMeasure{StreamLabel: label, Op: "GetRecords", Latency: time.Since(start)})
}
