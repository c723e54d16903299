package engine

import (
	"testing"

	"github.com/riffle-streams/riffle/internal/store"
	"github.com/riffle-streams/riffle/internal/vfs"
)

// TestMaxSubscriptions: beyond Config.MaxSubscriptions, SubscribeToShard is
// LimitExceededException; the subscriptions already streaming are untouched,
// and a slot freed by one ending serves the next caller.
func TestMaxSubscriptions(t *testing.T) {
	st, err := store.Open(vfs.NewMem(), "data", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.MaxSubscriptions = 2
	e, err := Open(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	defer e.Close()
	create(t, e, "s", 3)
	c := register(t, e, describe(t, e, "s").StreamARN, "app")
	sub := func(shard string) (*Subscription, error) {
		return e.SubscribeToShard(ctx, &SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardId: shard,
			StartingPosition: &StartingPosition{Type: IteratorLatest}})
	}
	first, err := sub("shardId-000000000000")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub("shardId-000000000001"); err != nil {
		t.Fatal(err)
	}
	_, err = sub("shardId-000000000002")
	wantKind(t, err, KindLimitExceeded, "at most 2 at once")
	first.Close()
	third, err := sub("shardId-000000000002")
	if err != nil {
		t.Fatalf("after one subscription ended: %v", err)
	}
	third.Close()
}
