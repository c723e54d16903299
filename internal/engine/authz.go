package engine

// Read-only lookups for request authorization, which runs before an
// operation and needs the policy of the resource an ARN names whatever
// account owns it.

// ResourcePolicy returns the resource policy attached to the stream or
// consumer arn names ("" if it has none), and ok=false if no such resource
// exists.
func (e *Engine) ResourcePolicy(arn string) (policy string, ok bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, cm := e.lookupARN(arn)
	switch {
	case cm != nil:
		return cm.Policy, true
	case s != nil:
		return s.meta.Policy, true
	}
	return "", false
}

// ConsumerARN returns the ARN of the consumer called name registered on the
// stream streamARN names.
func (e *Engine) ConsumerARN(streamARN, name string) (string, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, _ := e.lookupARN(streamARN)
	if s == nil {
		return "", false
	}
	for _, cm := range s.meta.Consumers {
		if cm.Name == name {
			return cm.arn(s.meta), true
		}
	}
	return "", false
}

// IteratorStreamARN returns the ARN of the stream a shard iterator reads,
// ok=false for a garbled or forged iterator or a deleted stream.
func (e *Engine) IteratorStreamARN(token string) (string, bool) {
	it, ok := e.tokens.parseIterator(token)
	if !ok {
		return "", false
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	sh := e.byUID[it.uid]
	if sh == nil {
		return "", false
	}
	return sh.stream.meta.arn(), true
}

// lookupARN finds the stream, or the consumer and its stream, of an ARN in
// any account. Callers hold e.mu.
func (e *Engine) lookupARN(arn string) (*stream, *consumerMeta) {
	streamARN, name, epoch, isConsumer := splitConsumerARN(arn)
	if !isConsumer {
		streamARN = arn
	}
	region, account, streamName, ok := parseStreamARN(streamARN)
	if !ok {
		return nil, nil
	}
	s := e.streams[streamKey{account, region, streamName}]
	if s == nil || !isConsumer {
		return s, nil
	}
	for _, cm := range s.meta.Consumers {
		if cm.Name == name && cm.CreatedMillis/1000 == epoch {
			return s, cm
		}
	}
	return nil, nil
}

// ListShardsTokenStream returns the name of the stream a ListShards
// NextToken pages through (in the caller's account and region, as
// ListShards reads it), ok=false for a garbled or forged token.
func (e *Engine) ListShardsTokenStream(token string) (string, bool) {
	t, ok := e.tokens.parseListToken(token)
	return t.stream, ok
}
