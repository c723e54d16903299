package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
)

const tailLong = `Print the records of every shard of STREAM as they arrive.

A shard's children (after a split, merge or scale) are read once their parents
have been read to the end, so every record is printed once and each partition
key's records stay in order.

--from picks where to start:
  latest             only records written from now on (the default)
  trim-horizon       the oldest records still retained
  2024-05-01T12:00:00Z  records that arrived at or after an RFC 3339 time
  <sequence number>  that record and what follows in its shard; the other open
                     shards are followed from now on

--format picks how records are printed:
  text   SHARD<TAB>SEQUENCE<TAB>DATA, DATA as is when it is one line of
         printable UTF-8, else as a Go-quoted string
  raw    DATA followed by a newline, nothing else ('riffle put' in reverse)
  json   one JSON object per line: shardId, sequenceNumber, subSequenceNumber
         (aggregated records), partitionKey, explicitHashKey,
         approximateArrivalTimestamp, data (base64) and text (DATA when it is
         valid UTF-8)
  hex    a header line, then a hex dump of DATA

Records aggregated by the KPL (or aws-kinesis-agg) are split into their user
records, which share the Kinesis record's sequence number and are numbered by
subsequence. A record that only looks aggregated but fails the MD5 check is
printed as it is, with a warning on standard error.

--consumer NAME reads through enhanced fan-out (SubscribeToShard), registering
the consumer first if it does not exist; without it tail polls GetRecords.

tail runs until interrupted (exit 0), until --limit records are printed, or
with --no-follow until it has caught up with every shard.`

type tailOptions struct {
	from        string
	format      string
	consumer    string
	limit       int
	noFollow    bool
	poll        time.Duration
	deaggregate bool
}

func newTailCmd(g *globals) *cobra.Command {
	var o tailOptions
	cmd := &cobra.Command{
		Use:   "tail STREAM",
		Short: "Follow a stream's records, across reshards",
		Long:  tailLong,
		Example: `  riffle tail orders
  riffle tail orders --from trim-horizon --format json --no-follow | jq .text
  riffle tail orders --consumer audit --format hex`,
		Args:              exactArgs("STREAM"),
		ValidArgsFunction: g.completeStreams,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return runTail(cmd.Context(), g, args[0], o)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "latest", "latest, trim-horizon, an RFC 3339 timestamp or a sequence number")
	f.StringVar(&o.format, "format", "text", "text, raw, json or hex")
	f.StringVar(&o.consumer, "consumer", "", "read through this enhanced fan-out consumer (SubscribeToShard)")
	f.IntVarP(&o.limit, "limit", "n", 0, "stop after this many records (0: no limit)")
	f.BoolVar(&o.noFollow, "no-follow", false, "stop once every shard is caught up")
	f.DurationVar(&o.poll, "poll-interval", 500*time.Millisecond, "wait between GetRecords calls on a caught-up shard")
	f.BoolVar(&o.deaggregate, "deaggregate", true, "split KPL-aggregated records into their user records")
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "raw", "json", "hex"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("from", cobra.FixedCompletions([]string{"latest", "trim-horizon"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// startPos is where reading a shard begins.
type startPos struct {
	typ types.ShardIteratorType
	seq string
	ts  time.Time
}

func parseFrom(s string) (startPos, error) {
	switch strings.ToLower(s) {
	case "latest":
		return startPos{typ: types.ShardIteratorTypeLatest}, nil
	case "trim-horizon", "trim_horizon", "oldest":
		return startPos{typ: types.ShardIteratorTypeTrimHorizon}, nil
	}
	if s != "" && strings.Trim(s, "0123456789") == "" {
		return startPos{typ: types.ShardIteratorTypeAtSequenceNumber, seq: s}, nil
	}
	if ts, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return startPos{typ: types.ShardIteratorTypeAtTimestamp, ts: ts}, nil
	}
	return startPos{}, usagef("--from %q: want latest, trim-horizon, an RFC 3339 timestamp (2006-01-02T15:04:05Z) or a sequence number", s)
}

// Shard states in the tailer's bookkeeping.
const (
	shardPending = iota // waiting for its parents to be read to the end
	shardRunning
	shardIdle // caught up with --no-follow; not read further
	shardDone // closed and read to the end (or skipped: closed before --from latest)
)

// shardResult is what a shard reader reports when it stops.
type shardResult struct {
	shard    string
	finished bool // closed and read to the end
	err      error
}

type tailer struct {
	c           *kinesis.Client
	stream      string
	name, arn   *string
	o           tailOptions
	consumerARN string
	pr          *printer
}

func runTail(ctx context.Context, g *globals, stream string, o tailOptions) error {
	from, err := parseFrom(o.from)
	if err != nil {
		return err
	}
	if !slices.Contains([]string{"text", "raw", "json", "hex"}, o.format) {
		return usagef("--format %q: want text, raw, json or hex", o.format)
	}
	if o.limit < 0 || o.poll <= 0 {
		return usagef("--limit must not be negative and --poll-interval must be positive")
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	t := &tailer{c: c, stream: stream, o: o}
	t.name, t.arn = streamRef(stream)
	if o.consumer != "" {
		if t.consumerARN, err = t.ensureConsumer(ctx); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t.pr = newPrinter(g.io.Stdout, g.io.Stderr, o.format, o.deaggregate, o.limit, cancel)
	err = t.run(ctx, from)
	if t.pr.reachedLimit() || errors.Is(err, context.Canceled) {
		// Interrupted, or --limit reached: the normal ways tail ends.
		return t.pr.err()
	}
	if err != nil {
		return err
	}
	return t.pr.err()
}

// ensureConsumer returns the consumer's ARN, registering it (and waiting for
// ACTIVE) if the stream does not have it yet.
func (t *tailer) ensureConsumer(ctx context.Context) (string, error) {
	streamARN, err := resolveStreamARN(ctx, t.c, t.stream)
	if err != nil {
		return "", err
	}
	d, err := t.c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{StreamARN: aws.String(streamARN), ConsumerName: aws.String(t.o.consumer)})
	var arn string
	switch {
	case err == nil:
		arn = aws.ToString(d.ConsumerDescription.ConsumerARN)
	case errorCode(err) == "ResourceNotFoundException":
		r, err := t.c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARN), ConsumerName: aws.String(t.o.consumer)})
		if err != nil {
			return "", err
		}
		arn = aws.ToString(r.Consumer.ConsumerARN)
	default:
		return "", err
	}
	return arn, waitConsumerActive(ctx, t.c, arn)
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// run is the coordinator: it decides which shards to read from where, starts
// a reader per shard, and starts children once their parents are done.
func (t *tailer) run(ctx context.Context, from startPos) error {
	shards, err := listShards(ctx, t.c, t.stream)
	if err != nil {
		return err
	}
	known := map[string]types.Shard{}
	state := map[string]int{}
	pos := map[string]startPos{}
	var order []string // shard ids in listing order, for a stable start order
	add := func(s types.Shard) bool {
		id := aws.ToString(s.ShardId)
		if _, ok := known[id]; ok {
			return false
		}
		known[id] = s
		order = append(order, id)
		state[id] = shardPending
		return true
	}
	for _, s := range shards {
		add(s)
	}
	closed := func(id string) bool { return known[id].SequenceNumberRange.EndingSequenceNumber != nil }
	// Children found later start from their beginning (or from the same
	// timestamp, which is equivalent for them and cheaper).
	childPos := startPos{typ: types.ShardIteratorTypeTrimHorizon}
	switch from.typ {
	case types.ShardIteratorTypeLatest:
		for _, id := range order {
			if closed(id) {
				state[id] = shardDone
			} else {
				pos[id] = from
			}
		}
	case types.ShardIteratorTypeAtTimestamp:
		childPos = from
	case types.ShardIteratorTypeAtSequenceNumber:
		owner, err := t.ownerOf(ctx, order, from.seq)
		if err != nil {
			return err
		}
		pos[owner] = from
		lineage := descendants(known, owner)
		for _, id := range order {
			switch {
			case id == owner || lineage[id]:
			case closed(id):
				state[id] = shardDone
			default:
				pos[id] = startPos{typ: types.ShardIteratorTypeLatest}
			}
		}
	}

	results := make(chan shardResult)
	running := 0
	var wg sync.WaitGroup
	defer wg.Wait()
	// Runs before wg.Wait: the readers stop when run returns.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	startReady := func() {
		for _, id := range order {
			if state[id] != shardPending {
				continue
			}
			s := known[id]
			ready := true
			for _, p := range nonEmpty(aws.ToString(s.ParentShardId), aws.ToString(s.AdjacentParentShardId)) {
				if st, ok := state[p]; ok && st != shardDone {
					ready = false
				}
			}
			if !ready {
				continue
			}
			p, ok := pos[id]
			if !ok {
				p = childPos
			}
			state[id] = shardRunning
			running++
			wg.Add(1)
			go func() {
				defer wg.Done()
				var r shardResult
				if t.consumerARN != "" {
					r = t.subscribe(ctx, id, p)
				} else {
					r = t.poll(ctx, id, p)
				}
				select {
				case results <- r:
				case <-ctx.Done():
				}
			}()
		}
	}
	startReady()
	for {
		if running == 0 {
			if !t.o.noFollow {
				// Every shard was closed and read (the stream was resharded
				// to nothing new?): look again before giving up.
				return fmt.Errorf("stream %s has no open shard to follow", t.stream)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case r := <-results:
			running--
			if r.err != nil {
				return fmt.Errorf("%s: %w", r.shard, r.err)
			}
			if !r.finished {
				state[r.shard] = shardIdle
				continue
			}
			state[r.shard] = shardDone
			shards, err := listShards(ctx, t.c, t.stream)
			if err != nil {
				return err
			}
			for _, s := range shards {
				add(s)
			}
			startReady()
		}
	}
}

// descendants lists the shards descending from root.
func descendants(known map[string]types.Shard, root string) map[string]bool {
	out := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for id, s := range known {
			if out[id] {
				continue
			}
			for _, p := range nonEmpty(aws.ToString(s.ParentShardId), aws.ToString(s.AdjacentParentShardId)) {
				if p == root || out[p] {
					out[id] = true
					changed = true
				}
			}
		}
	}
	return out
}

// ownerOf finds the shard a sequence number belongs to. A sequence number
// names its shard implicitly: GetShardIterator accepts it only there.
func (t *tailer) ownerOf(ctx context.Context, shards []string, seq string) (string, error) {
	var lastErr error
	for _, id := range shards {
		_, err := t.c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: t.name, StreamARN: t.arn, ShardId: aws.String(id),
			ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(seq)})
		if err == nil {
			return id, nil
		}
		if errorCode(err) != "InvalidArgumentException" {
			return "", err
		}
		lastErr = err
	}
	if lastErr != nil {
		return "", fmt.Errorf("no shard of %s holds sequence number %s (%s)", t.stream, seq, describeError(lastErr))
	}
	return "", fmt.Errorf("stream %s has no shards", t.stream)
}

func (t *tailer) iterator(ctx context.Context, shard string, p startPos) (string, error) {
	in := &kinesis.GetShardIteratorInput{StreamName: t.name, StreamARN: t.arn, ShardId: aws.String(shard), ShardIteratorType: p.typ}
	switch p.typ {
	case types.ShardIteratorTypeAtSequenceNumber, types.ShardIteratorTypeAfterSequenceNumber:
		in.StartingSequenceNumber = aws.String(p.seq)
	case types.ShardIteratorTypeAtTimestamp:
		in.Timestamp = aws.Time(p.ts)
	}
	out, err := t.c.GetShardIterator(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ShardIterator), nil
}

// poll reads a shard with GetRecords until it is closed and read to the end,
// caught up (--no-follow), or ctx ends.
func (t *tailer) poll(ctx context.Context, shard string, p startPos) shardResult {
	it, err := t.iterator(ctx, shard, p)
	if err != nil {
		return shardResult{shard: shard, err: err}
	}
	throttled := 0
	for {
		out, err := t.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
		switch code := errorCode(err); {
		case err == nil:
			throttled = 0
		case code == "ExpiredIteratorException":
			// Paused too long (a slow terminal?): continue where we were.
			if it, err = t.iterator(ctx, shard, p); err != nil {
				return shardResult{shard: shard, err: err}
			}
			continue
		case code == "ProvisionedThroughputExceededException":
			if sleep(ctx, backoff(throttled)) != nil {
				return shardResult{shard: shard, err: ctx.Err()}
			}
			throttled++
			continue
		default:
			return shardResult{shard: shard, err: err}
		}
		if n := len(out.Records); n > 0 {
			p = startPos{typ: types.ShardIteratorTypeAfterSequenceNumber, seq: aws.ToString(out.Records[n-1].SequenceNumber)}
			if !t.pr.emit(shard, out.Records) {
				return shardResult{shard: shard, err: ctx.Err()}
			}
		}
		if out.NextShardIterator == nil {
			return shardResult{shard: shard, finished: true}
		}
		it = *out.NextShardIterator
		if len(out.Records) == 0 {
			if t.o.noFollow && aws.ToInt64(out.MillisBehindLatest) == 0 {
				return shardResult{shard: shard}
			}
			if sleep(ctx, t.o.poll) != nil {
				return shardResult{shard: shard, err: ctx.Err()}
			}
		}
	}
}

// subscribe reads a shard through SubscribeToShard, subscribing again each
// time a subscription ends (after 5 minutes, or on a transient error).
func (t *tailer) subscribe(ctx context.Context, shard string, p startPos) shardResult {
	failures := 0
	for {
		sp := &types.StartingPosition{Type: p.typ}
		switch p.typ {
		case types.ShardIteratorTypeAtSequenceNumber, types.ShardIteratorTypeAfterSequenceNumber:
			sp.SequenceNumber = aws.String(p.seq)
		case types.ShardIteratorTypeAtTimestamp:
			sp.Timestamp = aws.Time(p.ts)
		}
		out, err := t.c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(t.consumerARN), ShardId: aws.String(shard), StartingPosition: sp})
		if err != nil {
			// ResourceInUse: the previous subscription of this consumer to
			// this shard is still being torn down; LimitExceeded: we
			// subscribed again within a second. Both pass.
			if code := errorCode(err); (code == "ResourceInUseException" || code == "LimitExceededException") && failures < 30 {
				failures++
				if sleep(ctx, time.Second) != nil {
					return shardResult{shard: shard, err: ctx.Err()}
				}
				continue
			}
			return shardResult{shard: shard, err: err}
		}
		es := out.GetStream()
		got := false
		for ev := range es.Events() {
			e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
			if !ok {
				continue
			}
			got = true
			v := e.Value
			if !t.pr.emit(shard, v.Records) {
				es.Close()
				return shardResult{shard: shard, err: ctx.Err()}
			}
			if v.ContinuationSequenceNumber != nil {
				p = startPos{typ: types.ShardIteratorTypeAfterSequenceNumber, seq: *v.ContinuationSequenceNumber}
			} else if n := len(v.Records); n > 0 {
				p = startPos{typ: types.ShardIteratorTypeAfterSequenceNumber, seq: aws.ToString(v.Records[n-1].SequenceNumber)}
			}
			// The last event of a closed shard names its children (AWS also
			// leaves out the continuation number).
			if v.ChildShards != nil || v.ContinuationSequenceNumber == nil {
				es.Close()
				return shardResult{shard: shard, finished: true}
			}
			if t.o.noFollow && len(v.Records) == 0 || t.o.noFollow && v.MillisBehindLatest != nil && *v.MillisBehindLatest == 0 {
				es.Close()
				return shardResult{shard: shard}
			}
		}
		es.Close()
		if ctx.Err() != nil {
			return shardResult{shard: shard, err: ctx.Err()}
		}
		if err := es.Err(); err != nil {
			if got {
				failures = 0
			}
			failures++
			if failures > 5 {
				return shardResult{shard: shard, err: err}
			}
		}
		if sleep(ctx, time.Second) != nil {
			return shardResult{shard: shard, err: ctx.Err()}
		}
	}
}
