package store

// The applier writes journaled batches to their shard logs on a goroutine
// of its own, in journal order. The journal's commit goroutine only hands
// each durable entry over, so it can write and fsync the next group while
// the previous one is applied: with many shards a group's entries cost one
// shard-log write each, as much as the fsync itself.

// applyQueueLen bounds the entries waiting to be applied; the journal's
// commit goroutine waits when it is full.
const applyQueueLen = 8192

// applyItem is the durable entries of an AppendMany (lsn is the last one's),
// or a barrier.
type applyItem struct {
	many    *manyItem
	lsn     uint64
	barrier chan struct{} // closed once every earlier item is applied
}

func (s *Store) startApplier() {
	s.applyQ = make(chan applyItem, applyQueueLen)
	s.applierDone = make(chan struct{})
	go func() {
		defer close(s.applierDone)
		for it := range s.applyQ {
			if it.barrier != nil {
				close(it.barrier)
				continue
			}
			s.applyMany(it.many, it.lsn, nil)
		}
	}()
}

// drainApplies returns once every entry handed to the applier so far has
// been applied.
func (s *Store) drainApplies() {
	b := make(chan struct{})
	s.applyQ <- applyItem{barrier: b}
	<-b
}

// stopApplier applies what is queued and stops the applier. Nothing may be
// enqueued after it (the journal is closed first).
func (s *Store) stopApplier() {
	close(s.applyQ)
	<-s.applierDone
}
