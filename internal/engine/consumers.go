package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Enhanced fan-out consumers. A consumer belongs to a stream, is named in it,
// and has an ARN that carries its creation time, so that a consumer registered
// again under the same name is a different consumer:
//
//	<stream ARN>/consumer/<name>:<creation, epoch seconds>

// MaxConsumersPerStream is how many consumers a stream may have, as in Kinesis.
const MaxConsumersPerStream = 20

// Consumer statuses.
const (
	ConsumerCreating = "CREATING"
	ConsumerActive   = "ACTIVE"
	ConsumerDeleting = "DELETING"
)

type consumerMeta struct {
	Name          string
	CreatedMillis int64
	Status        string
	Tags          map[string]string `json:",omitempty"`
	Policy        string            `json:",omitempty"`
}

func (cm *consumerMeta) arn(sm *streamMeta) string {
	return fmt.Sprintf("%s/consumer/%s:%d", sm.arn(), cm.Name, cm.CreatedMillis/1000)
}

func (cm *consumerMeta) consumer(sm *streamMeta) Consumer {
	return Consumer{ConsumerName: cm.Name, ConsumerARN: cm.arn(sm), ConsumerStatus: cm.Status,
		ConsumerCreationTimestamp: time.UnixMilli(cm.CreatedMillis)}
}

// consumerResource is the resource view of a consumer, for tags and policies.
func consumerResource(s *stream, cm *consumerMeta) *resource {
	return &resource{kind: "consumer", name: cm.Name, account: s.meta.Account, stream: s, tags: &cm.Tags, policy: &cm.Policy}
}

// splitConsumerARN splits a consumer ARN into its stream ARN, name and
// creation epoch seconds.
func splitConsumerARN(arn string) (streamARN, name string, epoch int64, ok bool) {
	streamARN, rest, ok := strings.Cut(arn, "/consumer/")
	if !ok {
		return "", "", 0, false
	}
	name, sec, ok := strings.Cut(rest, ":")
	if !ok || name == "" {
		return "", "", 0, false
	}
	epoch, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return "", "", 0, false
	}
	return streamARN, name, epoch, true
}

// resolveConsumer finds a consumer by ARN or by stream ARN and name. Callers
// hold e.mu.
func (e *Engine) resolveConsumer(c Caller, ref ConsumerRef) (*stream, *consumerMeta, error) {
	streamARN, name, epoch := ref.StreamARN, ref.ConsumerName, int64(-1)
	if ref.ConsumerARN != "" {
		var ok bool
		streamARN, name, epoch, ok = splitConsumerARN(ref.ConsumerARN)
		if !ok {
			return nil, nil, errorf(KindInvalidArgument, "Invalid ConsumerARN %s.", ref.ConsumerARN)
		}
	} else if streamARN == "" || name == "" {
		return nil, nil, errorf(KindInvalidArgument, "Either ConsumerARN or both StreamARN and ConsumerName must be provided.")
	}
	s, err := e.resolve(c, StreamRef{StreamARN: streamARN})
	if err != nil {
		return nil, nil, err
	}
	for _, cm := range s.meta.Consumers {
		if cm.Name == name && (epoch < 0 || cm.CreatedMillis/1000 == epoch) {
			return s, cm, nil
		}
	}
	return nil, nil, errorf(KindResourceNotFound, "Consumer %s under stream %s under account %s not found.", name, s.meta.Name, s.meta.Account)
}

// RegisterStreamConsumer registers an enhanced fan-out consumer. It is
// CREATING for ConsumerDelay, then ACTIVE.
func (e *Engine) RegisterStreamConsumer(ctx context.Context, in *RegisterStreamConsumerInput) (*RegisterStreamConsumerOutput, error) {
	c := e.caller(ctx)
	if err := e.throttle(c, "RegisterStreamConsumer", refName(StreamRef{StreamARN: in.StreamARN})); err != nil { // limits.go
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.resolve(c, StreamRef{StreamARN: in.StreamARN})
	if err != nil {
		return nil, err
	}
	if st := s.meta.Status; st != StatusActive && st != StatusUpdating {
		return nil, errStreamNotActive(s.meta.Name, s.meta.Account, st)
	}
	for _, cm := range s.meta.Consumers {
		if cm.Name == in.ConsumerName {
			return nil, errorf(KindResourceInUse, "Consumer %s under stream %s under account %s already exists.", cm.Name, s.meta.Name, s.meta.Account)
		}
	}
	if len(s.meta.Consumers) >= MaxConsumersPerStream {
		return nil, errorf(KindLimitExceeded, "Stream %s under account %s already has the maximum of %d registered consumers.",
			s.meta.Name, s.meta.Account, MaxConsumersPerStream)
	}
	if len(in.Tags) > 0 {
		r := &resource{kind: "consumer", name: in.ConsumerName, account: s.meta.Account}
		if err := checkNewTags(r, in.Tags, nil); err != nil {
			return nil, err
		}
	}
	// The creation time is in the ARN to the second; keep two consumers of
	// the same name (one deregistered) from sharing an ARN.
	created := e.cfg.Now().UnixMilli()
	cm := &consumerMeta{Name: in.ConsumerName, CreatedMillis: created, Status: ConsumerActive, Tags: in.Tags}
	if e.cfg.ConsumerDelay > 0 {
		cm.Status = ConsumerCreating
		e.afterConsumer(s, cm, e.cfg.ConsumerDelay, func() { cm.Status = ConsumerActive })
	}
	s.meta.Consumers = append(s.meta.Consumers, cm)
	if err := e.saveLocked(); err != nil {
		return nil, err
	}
	return &RegisterStreamConsumerOutput{Consumer: cm.consumer(s.meta)}, nil
}

// afterConsumer runs fn with e.mu held once d has passed, if the consumer is
// still registered, then saves the metadata.
func (e *Engine) afterConsumer(s *stream, cm *consumerMeta, d time.Duration, fn func()) {
	e.timers[cm] = time.AfterFunc(d, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		delete(e.timers, cm)
		if e.closed || e.streams[s.meta.key()] != s || !s.hasConsumer(cm) {
			return
		}
		fn()
		if err := e.saveLocked(); err != nil {
			e.cfg.Logger.Error("save metadata after consumer status change", "consumer", cm.Name, "err", err)
		}
	})
}

// consumerKeys are the timer keys of a stream's consumers.
func consumerKeys(s *stream) []any {
	keys := make([]any, len(s.meta.Consumers))
	for i, cm := range s.meta.Consumers {
		keys[i] = cm
	}
	return keys
}

func (s *stream) hasConsumer(cm *consumerMeta) bool {
	for _, x := range s.meta.Consumers {
		if x == cm {
			return true
		}
	}
	return false
}

func (s *stream) removeConsumer(cm *consumerMeta) {
	for i, x := range s.meta.Consumers {
		if x == cm {
			s.meta.Consumers = append(s.meta.Consumers[:i:i], s.meta.Consumers[i+1:]...)
			return
		}
	}
}

// DeregisterStreamConsumer removes a consumer; its subscriptions end. It is
// DELETING for ConsumerDelay first.
func (e *Engine) DeregisterStreamConsumer(ctx context.Context, in *ConsumerRef) error {
	c := e.caller(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	s, cm, err := e.resolveConsumer(c, *in)
	if err != nil {
		return err
	}
	if err := e.throttle(c, "DeregisterStreamConsumer", s.meta.Name); err != nil { // limits.go
		return err
	}
	if cm.Status == ConsumerDeleting {
		return errorf(KindResourceInUse, "Consumer %s under stream %s under account %s is already being deleted.", cm.Name, s.meta.Name, s.meta.Account)
	}
	e.endSubscriptions(func(sub *Subscription) bool { return sub.consumer == cm })
	if e.cfg.ConsumerDelay > 0 {
		cm.Status = ConsumerDeleting
		e.afterConsumer(s, cm, e.cfg.ConsumerDelay, func() { s.removeConsumer(cm) })
		return e.saveLocked()
	}
	s.removeConsumer(cm)
	return e.saveLocked()
}

// DescribeStreamConsumer describes a consumer.
func (e *Engine) DescribeStreamConsumer(ctx context.Context, in *ConsumerRef) (*DescribeStreamConsumerOutput, error) {
	c := e.caller(ctx)
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, cm, err := e.resolveConsumer(c, *in)
	if err != nil {
		return nil, err
	}
	if err := e.throttle(c, "DescribeStreamConsumer", s.meta.Name); err != nil { // limits.go
		return nil, err
	}
	d := cm.consumer(s.meta)
	return &DescribeStreamConsumerOutput{ConsumerDescription: ConsumerDescription{
		ConsumerName: d.ConsumerName, ConsumerARN: d.ConsumerARN, ConsumerStatus: d.ConsumerStatus,
		ConsumerCreationTimestamp: d.ConsumerCreationTimestamp, StreamARN: s.meta.arn(),
	}}, nil
}

// ListStreamConsumers lists a stream's consumers in registration order, a
// page at a time.
func (e *Engine) ListStreamConsumers(ctx context.Context, in *ListStreamConsumersInput) (*ListStreamConsumersOutput, error) {
	c := e.caller(ctx)
	if err := e.throttle(c, "ListStreamConsumers", refName(StreamRef{StreamARN: in.StreamARN})); err != nil { // limits.go
		return nil, err
	}
	now := e.cfg.Now()
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, err := e.resolve(c, StreamRef{StreamARN: in.StreamARN})
	if err != nil {
		return nil, err
	}
	if in.StreamCreationTimestamp != nil && in.StreamCreationTimestamp.UnixMilli() != s.meta.CreatedMillis {
		return nil, errStreamNotFound(s.meta.Name, s.meta.Account)
	}
	start := 0
	if in.NextToken != "" {
		t, ok := e.tokens.parseListToken(in.NextToken)
		if !ok || t.stream != s.meta.arn() || t.created != s.meta.CreatedMillis {
			return nil, errorf(KindInvalidArgument, "Invalid NextToken.")
		}
		if now.Sub(t.issued) > NextTokenTTL {
			return nil, errorf(KindExpiredNextToken, "The timestamp on the nextToken has expired.")
		}
		n, err := strconv.Atoi(t.after)
		if err != nil || n < 0 {
			return nil, errorf(KindInvalidArgument, "Invalid NextToken.")
		}
		start = n
	}
	limit := 100
	if in.MaxResults != nil {
		limit = *in.MaxResults
	}
	out := &ListStreamConsumersOutput{Consumers: []Consumer{}}
	all := s.meta.Consumers
	for i := start; i < len(all); i++ {
		if len(out.Consumers) == limit {
			out.NextToken = e.tokens.listToken(listToken{stream: s.meta.arn(), created: s.meta.CreatedMillis, issued: now, after: strconv.Itoa(i)})
			break
		}
		out.Consumers = append(out.Consumers, all[i].consumer(s.meta))
	}
	return out, nil
}
