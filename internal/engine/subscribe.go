package engine

import (
	"context"
	"errors"
	"time"
)

// SubscribeToShard pushes a shard's records to an enhanced fan-out consumer.
// Each subscription reads the shard on its own, woken when records become
// durable, so a slow consumer holds back no one else.

// Subscription timing, as Kinesis documents it.
const (
	// SubscriptionLifetime is how long a subscription lasts; the client
	// then subscribes again from the continuation sequence number.
	SubscriptionLifetime = 5 * time.Minute
	// HeartbeatInterval bounds the gap between events on an idle shard
	// (Kinesis sends one at least every 5 seconds).
	HeartbeatInterval = 4 * time.Second
	// SubscriptionTakeoverAfter is how long a subscription of a consumer to
	// a shard is exclusive; a second one before that is ResourceInUse, after
	// it the new one takes over.
	SubscriptionTakeoverAfter = 5 * time.Second
	// maxEventRecords and maxEventBytes bound one event.
	maxEventRecords = 10000
	maxEventBytes   = 2 << 20
)

// ErrSubscriptionEnded is returned by Subscription.Next when the
// subscription is over: its lifetime passed, another subscription took over,
// the consumer was deregistered or the server is shutting down.
var ErrSubscriptionEnded = errors.New("engine: subscription ended")

type subKey struct {
	consumer *consumerMeta
	shard    uint64
}

// Subscription is one SubscribeToShard call. Next is called by one
// goroutine; Close may be called from any.
type Subscription struct {
	e        *Engine
	sh       *shardState
	consumer *consumerMeta
	label    StreamLabel
	started  time.Time
	pos      uint64
	ended    chan struct{} // closed when ended by the engine
	done     bool          // the last event (end of a closed shard) was sent
}

// SubscribeToShard starts a subscription of a consumer to a shard.
func (e *Engine) SubscribeToShard(ctx context.Context, in *SubscribeToShardInput) (*Subscription, error) {
	c := e.caller(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errClosed
	}
	s, cm, err := e.resolveConsumer(c, ConsumerRef{ConsumerARN: in.ConsumerARN})
	if err != nil {
		return nil, err
	}
	if cm.Status != ConsumerActive {
		return nil, errorf(KindResourceInUse, "Consumer %s under stream %s under account %s is not ACTIVE, instead in state %s.",
			cm.Name, s.meta.Name, s.meta.Account, cm.Status)
	}
	sh := s.byID[in.ShardId]
	if sh == nil {
		return nil, errShardNotFound(in.ShardId, s.meta.Name, s.meta.Account)
	}
	if err := e.throttleSubscribe(s, cm, sh); err != nil { // limits.go
		return nil, err
	}
	sp := in.StartingPosition
	pos, err := e.startPosition(s, sh, "SubscribeToShard", sp.Type, sp.SequenceNumber, sp.Timestamp)
	if err != nil {
		return nil, err
	}
	now := e.cfg.Now()
	key := subKey{cm, sh.meta.UID}
	if old := e.subs[key]; old != nil {
		if now.Sub(old.started) < SubscriptionTakeoverAfter {
			return nil, errorf(KindResourceInUse, "Another active subscription exists for consumer %s on shard %s.",
				cm.arn(s.meta), sh.meta.ID)
		}
		old.endLocked()
	}
	if limit := e.cfg.MaxSubscriptions; limit > 0 && len(e.subs) >= limit {
		return nil, errorf(KindLimitExceeded, "Too many concurrent subscriptions: the server streams at most %d at once. Subscribe again later.", limit)
	}
	sub := &Subscription{e: e, sh: sh, consumer: cm, label: s.label(), started: now, pos: pos, ended: make(chan struct{})}
	e.subs[key] = sub
	return sub, nil
}

// endLocked ends a subscription. Callers hold e.mu for writing.
func (sub *Subscription) endLocked() {
	key := subKey{sub.consumer, sub.sh.meta.UID}
	if sub.e.subs[key] == sub {
		delete(sub.e.subs, key)
	}
	select {
	case <-sub.ended:
	default:
		close(sub.ended)
	}
}

// endSubscriptions ends every subscription match selects. Callers hold e.mu
// for writing.
func (e *Engine) endSubscriptions(match func(*Subscription) bool) {
	for _, sub := range e.subs {
		if match(sub) {
			sub.endLocked()
		}
	}
}

// EndSubscriptions ends every subscription, for a server shutting down: each
// stream ends cleanly and clients subscribe again elsewhere or later.
func (e *Engine) EndSubscriptions() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.endSubscriptions(func(*Subscription) bool { return true })
}

// Close ends the subscription (the client went away).
func (sub *Subscription) Close() {
	sub.e.mu.Lock()
	defer sub.e.mu.Unlock()
	sub.endLocked()
}

// Next returns the next event: records as soon as they are durable, or a
// heartbeat with the current continuation number after HeartbeatInterval of
// idleness. At the end of a closed shard it returns an event with ChildShards,
// after which the subscription is over. It returns ErrSubscriptionEnded when
// the subscription is over, ctx's error when ctx ends, and a client error
// (e.g. ResourceNotFound) if the stream goes away meanwhile.
func (sub *Subscription) Next(ctx context.Context) (*SubscribeToShardEvent, error) {
	if sub.done {
		return nil, ErrSubscriptionEnded
	}
	e := sub.e
	expire := time.NewTimer(time.Until(sub.started.Add(SubscriptionLifetime)))
	defer expire.Stop()
	heartbeat := time.NewTimer(HeartbeatInterval)
	defer heartbeat.Stop()
	for {
		// Take the change channel before reading, so that records made
		// visible after the read wake us.
		changed := sub.sh.log.Changed()
		e.mu.RLock()
		sh := sub.sh
		live := e.byUID[sh.meta.UID] == sh
		m := *sh.meta
		var children []ChildShard
		if live {
			children = sh.stream.children(m.ID)
		}
		pos := max(sub.pos, e.trimHorizon(sh))
		e.mu.RUnlock()
		select {
		case <-sub.ended:
			return nil, ErrSubscriptionEnded
		default:
		}
		if !live {
			return nil, errShardNotFound(m.ID, sub.label.Stream, sub.label.Account)
		}
		now := e.cfg.Now()
		b, err := e.readBatch(sh, pos, maxEventRecords, maxEventBytes, now)
		if err != nil {
			return nil, err
		}
		sub.pos = b.next
		atEnd := m.Closed && sub.pos >= m.EndPos
		if len(b.records) > 0 || atEnd {
			ev := &SubscribeToShardEvent{Records: b.records, ContinuationSequenceNumber: continuationSeq(m.UID, sub.pos, now),
				MillisBehindLatest: b.behindMillis}
			if atEnd {
				ev.ChildShards = children
				if ev.ChildShards == nil {
					ev.ChildShards = []ChildShard{}
				}
				sub.done = true
			}
			e.cfg.Observer.Call(CallMeasure{StreamLabel: sub.label, Op: "SubscribeToShardEvent", OK: true, Records: len(b.records), Bytes: b.bytes})
			return ev, nil
		}
		select {
		case <-changed:
		case <-sh.closedCh:
		case <-heartbeat.C:
			return &SubscribeToShardEvent{Records: []Record{}, ContinuationSequenceNumber: continuationSeq(m.UID, sub.pos, e.cfg.Now())}, nil
		case <-expire.C:
			return nil, ErrSubscriptionEnded
		case <-sub.ended:
			return nil, ErrSubscriptionEnded
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
