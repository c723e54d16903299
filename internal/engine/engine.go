// Package engine holds the semantics of Kinesis Data Streams: streams, shards
// and their hash-key ranges, sequence numbers, shard iterators and the
// control-plane state machine. It knows nothing of HTTP; records are stored
// through the store package.
//
// Locking: Engine.mu guards the stream table and all metadata. Data-plane
// calls hold it for reading while they route and enqueue records (so that no
// record is appended to a shard while a control-plane change holds it for
// writing) and release it before they wait for durability.
package engine

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/riffle-streams/riffle/internal/keyring"
	"github.com/riffle-streams/riffle/internal/store"
)

// Config holds the engine's settings. The zero value is not usable; start
// from DefaultConfig.
type Config struct {
	Region    string
	AccountID string
	// ShardLimit is the most open shards the account may have, as the
	// per-account shard quota of Kinesis.
	ShardLimit int
	// CreateStreamDelay is how long a new stream stays CREATING; DeleteDelay
	// how long a deleted one stays DELETING. Zero means instant.
	CreateStreamDelay time.Duration
	DeleteStreamDelay time.Duration
	// ConsumerDelay is how long a consumer stays CREATING after
	// RegisterStreamConsumer and DELETING after DeregisterStreamConsumer.
	ConsumerDelay time.Duration
	// UpdateStreamDelay is how long a stream stays UPDATING after a
	// resharding or another change that Kinesis applies asynchronously.
	UpdateStreamDelay time.Duration
	// Now is the clock; tests replace it.
	Now    func() time.Time
	Logger *slog.Logger
	// Observer receives data-plane measurements; nil means none.
	Observer Observer
	// Keyring encrypts records of encrypted streams (encryption.go); nil
	// means an ephemeral one, whose data does not survive a restart.
	Keyring *keyring.Keyring
	// MaxSubscriptions bounds the SubscribeToShard calls streaming at once,
	// across all consumers; beyond it SubscribeToShard is
	// LimitExceededException. Zero means no bound.
	MaxSubscriptions int
}

// DefaultConfig returns the settings of a development server.
func DefaultConfig() Config {
	return Config{
		Region:     "us-east-1",
		AccountID:  "000000000000",
		ShardLimit: 500,
		Now:        time.Now,
		Logger:     slog.New(slog.DiscardHandler),
	}
}

// DefaultRetentionHours is the retention of a new stream.
const DefaultRetentionHours = 24

// Engine serves the Kinesis operations for one account and region.
type Engine struct {
	cfg    Config
	store  *store.Store
	tokens signer

	mu      sync.RWMutex
	meta    metadata               // persisted state; guarded by mu
	streams map[streamKey]*stream  // guarded by mu
	byUID   map[uint64]*shardState // every shard of every live stream; guarded by mu
	timers  map[any]*time.Timer    // pending status transitions of streams and consumers; guarded by mu
	closed  bool
	stop    chan struct{}            // closed by Close; stops background work
	scaleMu sync.Mutex               // serializes AutoScale; guards shardState.rate
	subs    map[subKey]*Subscription // live SubscribeToShard calls; guarded by mu

	// Shards dropped from the metadata whose data reap has yet to delete.
	// Deleting is done without mu: for a stream of thousands of shards it
	// takes seconds, and every put takes mu.
	reapMu sync.Mutex // serializes reap, so that it returns once earlier drops are deleted too
	doomMu sync.Mutex
	doomed []uint64 // guarded by doomMu

	limits limiter    // throughput and API rate limits (limits.go); off by default
	faults faultState // fault injection (faults.go); off by default
}

// metadata is the persisted control-plane state, saved whole through the
// store after every change (changes are rare next to records).
type metadata struct {
	Version     int
	IteratorKey []byte
	NextUID     uint64 // next shard uid: never reused
	Streams     []*streamMeta
	// Keyring holds the data keys of encrypted streams, wrapped under the
	// master key (encryption.go); nil until a stream is first encrypted.
	Keyring *keyring.State `json:",omitempty"`

	// Accounts holds account-level settings (settings.go), one entry per
	// account and region that changed them.
	Accounts []*accountMeta `json:",omitempty"`
}

type streamMeta struct {
	Account        string
	Region         string
	Name           string
	CreatedMillis  int64
	Status         string
	RetentionHours int
	Mode           string
	NextShardIndex int
	Shards         []*shardMeta
	Tags           map[string]string `json:",omitempty"`
	Consumers      []*consumerMeta   `json:",omitempty"`
	// ModeSwitches are the times (ms) of recent capacity-mode changes.
	ModeSwitches []int64 `json:",omitempty"`
	// MaxRecordSizeKiB is the largest record accepted; 0 means the default.
	MaxRecordSizeKiB    int      `json:",omitempty"`
	WarmThroughputMiBps int      `json:",omitempty"`
	ShardLevelMetrics   []string `json:",omitempty"` // enhanced monitoring
	Policy              string   `json:",omitempty"` // resource policy (JSON)
	EncryptionType      string   `json:",omitempty"`
	KeyID               string   `json:",omitempty"`

	// WarmThroughputCurrentMiBps is the warm throughput the stream had
	// before an UpdateStreamWarmThroughput still in progress (settings.go).
	WarmThroughputCurrentMiBps int `json:",omitempty"`
}

type shardMeta struct {
	ID             string
	UID            uint64
	Parent         string `json:",omitempty"`
	AdjacentParent string `json:",omitempty"`
	StartHash      string
	EndHash        string
	CreatedMillis  int64
	// Closed shards keep their data until it expires; EndPos is one past
	// their last position.
	Closed       bool   `json:",omitempty"`
	EndPos       uint64 `json:",omitempty"`
	ClosedMillis int64  `json:",omitempty"`
}

// streamKey identifies a stream: names are scoped by account and region.
type streamKey struct{ account, region, name string }

func (sm *streamMeta) key() streamKey { return streamKey{sm.Account, sm.Region, sm.Name} }

// arn is the stream's ARN.
func (sm *streamMeta) arn() string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", sm.Region, sm.Account, sm.Name)
}

// stream is a live stream: its metadata and its shards' runtime state.
type stream struct {
	meta   *streamMeta
	shards []*shardState          // same order as meta.Shards
	byID   map[string]*shardState // by shard id
	open   []*shardState          // open shards by starting hash key, for routing
	starts []hashKey              // open[i].start: searched without touching every shard
	// jump narrows the search in starts for streams of many shards: the
	// shards starting in the hash space's b-th 1/jumpBuckets are
	// starts[jump[b]:jump[b+1]]. Nil for streams of fewer than jumpMinShards.
	jump []int32
	// gapless is true when the open shards cover the hash space without
	// gaps (always, outside of tests): the shard starting last at or before
	// a hash key then holds it, and routing need not read the shard.
	gapless bool
}

const (
	jumpBits      = 12
	jumpMinShards = 256
)

// index rebuilds the lookup tables of s after its shards change.
func (s *stream) index() {
	s.byID = make(map[string]*shardState, len(s.shards))
	s.open = s.open[:0]
	for _, sh := range s.shards {
		s.byID[sh.meta.ID] = sh
		if !sh.meta.Closed {
			s.open = append(s.open, sh)
		}
	}
	sort.Slice(s.open, func(i, j int) bool { return s.open[i].start.less(s.open[j].start) })
	s.starts = s.starts[:0]
	for _, sh := range s.open {
		s.starts = append(s.starts, sh.start)
	}
	s.gapless = len(s.open) > 0 && s.starts[0] == (hashKey{}) && s.open[len(s.open)-1].end == maxHashKey
	for i := 1; i < len(s.open) && s.gapless; i++ {
		s.gapless = s.open[i-1].end != maxHashKey && add(s.open[i-1].end, 1) == s.starts[i]
	}
	s.jump = nil
	if len(s.starts) >= jumpMinShards {
		s.jump = make([]int32, 1<<jumpBits+1)
		i := 0
		for b := range s.jump {
			for i < len(s.starts) && s.starts[i].hi>>(64-jumpBits) < uint64(b) {
				i++
			}
			s.jump[b] = int32(i)
		}
	}
}

type shardState struct {
	meta       *shardMeta
	stream     *stream
	start, end hashKey
	log        *store.Shard
	// uid and id are meta.UID and meta.ID, beside log: a PutRecords call
	// spread over thousands of shards reads them for nearly every record,
	// and meta's cache line was one more miss each time.
	uid      uint64
	id       string
	rate     writeRate     // guarded by Engine.scaleMu
	closedCh chan struct{} // closed when the shard is closed, to wake subscribers
}

// Open loads the engine's state from st, finishing any status transition a
// previous run left pending, and removes shard data no stream refers to.
func Open(cfg Config, st *store.Store) (*Engine, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	e := &Engine{
		cfg:     cfg,
		store:   st,
		streams: make(map[streamKey]*stream),
		byUID:   make(map[uint64]*shardState),
		timers:  make(map[any]*time.Timer),
		subs:    make(map[subKey]*Subscription),
	}
	raw, err := st.LoadMeta()
	if err != nil {
		return nil, fmt.Errorf("engine: load metadata: %w", err)
	}
	if raw != nil {
		if err := json.Unmarshal(raw, &e.meta); err != nil {
			return nil, fmt.Errorf("engine: decode metadata: %w", err)
		}
	} else {
		e.meta = metadata{Version: 1, NextUID: 1, IteratorKey: make([]byte, 32)}
		rand.Read(e.meta.IteratorKey)
	}
	e.tokens = signer{key: e.meta.IteratorKey}
	if err := e.openKeyring(); err != nil {
		return nil, err
	}

	var kept []*streamMeta
	var doomed []uint64
	for _, sm := range e.meta.Streams {
		if sm.Account == "" {
			sm.Account, sm.Region = cfg.AccountID, cfg.Region
		}
		if sm.Status == StatusDeleting {
			for _, sh := range sm.Shards {
				doomed = append(doomed, sh.UID)
			}
			continue
		}
		if sm.Status != StatusActive {
			sm.Status = StatusActive
		}
		// Consumer status changes left pending by the last run complete now.
		var consumers []*consumerMeta
		for _, cm := range sm.Consumers {
			if cm.Status != ConsumerDeleting {
				cm.Status = ConsumerActive
				consumers = append(consumers, cm)
			}
		}
		sm.Consumers = consumers
		s, err := e.attach(sm)
		if err != nil {
			return nil, err
		}
		e.streams[sm.key()] = s
		kept = append(kept, sm)
	}
	e.meta.Streams = kept
	if err := e.saveLocked(); err != nil {
		return nil, err
	}
	for _, uid := range st.ShardIDs() {
		if _, ok := e.byUID[uid]; !ok {
			doomed = append(doomed, uid)
		}
	}
	if err := st.DeleteShards(doomed); err != nil {
		return nil, fmt.Errorf("engine: remove data of deleted shards: %w", err)
	}
	// Trimming is not persisted by the shard logs; redo it before serving.
	e.EnforceRetention()
	e.stop = make(chan struct{})
	go e.retentionLoop(e.stop)
	go e.autoScaleLoop(e.stop)
	return e, nil
}

// attach builds the runtime state of a stream from its metadata, opening its
// shards in the store.
func (e *Engine) attach(sm *streamMeta) (*stream, error) {
	s := &stream{meta: sm}
	for _, m := range sm.Shards {
		log, ok := e.store.Shard(m.UID)
		if !ok {
			return nil, fmt.Errorf("engine: shard %s of stream %s (uid %d) has no data directory", m.ID, sm.Name, m.UID)
		}
		s.shards = append(s.shards, e.newShardState(s, m, log))
	}
	s.index()
	return s, nil
}

func (e *Engine) newShardState(s *stream, m *shardMeta, log *store.Shard) *shardState {
	start, _ := parseHashKey(m.StartHash)
	end, _ := parseHashKey(m.EndHash)
	sh := &shardState{meta: m, stream: s, start: start, end: end, log: log, uid: m.UID, id: m.ID, closedCh: make(chan struct{})}
	if m.Closed {
		close(sh.closedCh)
	}
	e.byUID[m.UID] = sh
	return sh
}

// saveLocked persists the metadata. Callers hold e.mu for writing.
func (e *Engine) saveLocked() error {
	b, err := json.Marshal(&e.meta)
	if err != nil {
		return fmt.Errorf("engine: encode metadata: %w", err)
	}
	if err := e.store.SaveMeta(b); err != nil {
		return fmt.Errorf("engine: save metadata: %w", err)
	}
	return nil
}

// Close stops pending status timers. It does not close the store.
func (e *Engine) Close() error {
	defer e.reap()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	close(e.stop)
	e.endSubscriptions(func(*Subscription) bool { return true })
	for _, t := range e.timers {
		t.Stop()
	}
	return nil
}

// doom hands the data of shards just dropped from the metadata to reap.
// Callers hold e.mu, and call reap once they have released it.
func (e *Engine) doom(shards []*shardState) {
	uids := make([]uint64, len(shards))
	for i, sh := range shards {
		delete(e.byUID, sh.meta.UID)
		uids[i] = sh.meta.UID
	}
	e.doomUIDs(uids)
}

// doomUIDs is doom for shards that never were in the metadata.
func (e *Engine) doomUIDs(uids []uint64) {
	e.doomMu.Lock()
	e.doomed = append(e.doomed, uids...)
	e.doomMu.Unlock()
}

// reap deletes the data of the doomed shards, without e.mu. It returns once
// every shard doomed before the call is deleted.
func (e *Engine) reap() {
	e.reapMu.Lock()
	defer e.reapMu.Unlock()
	e.doomMu.Lock()
	uids := e.doomed
	e.doomed = nil
	e.doomMu.Unlock()
	if len(uids) == 0 {
		return
	}
	if err := e.store.DeleteShards(uids); err != nil {
		e.cfg.Logger.Error("delete the data of dropped shards", "err", err)
	}
}

// Stream statuses.
const (
	StatusCreating = "CREATING"
	StatusActive   = "ACTIVE"
	StatusDeleting = "DELETING"
	StatusUpdating = "UPDATING"
)

// Stream modes.
const (
	ModeProvisioned = "PROVISIONED"
	ModeOnDemand    = "ON_DEMAND"
)

// resolve finds the stream a request names, by name or ARN, among the
// caller's streams. Callers hold e.mu.
func (e *Engine) resolve(c Caller, ref StreamRef) (*stream, error) {
	k, err := streamKeyOf(c, ref)
	if err != nil {
		return nil, err
	}
	s, ok := e.streams[k]
	if !ok {
		return nil, errStreamNotFound(k.name, k.account)
	}
	return s, nil
}

// streamKeyOf returns the stream a request refers to. A stream of another
// account can only be named by ARN, and is reported as not found unless the
// caller was authorized for it (Caller.CrossAccount).
func streamKeyOf(c Caller, ref StreamRef) (streamKey, error) {
	if ref.StreamARN == "" {
		if ref.StreamName == "" {
			return streamKey{}, errorf(KindInvalidArgument, "Either StreamName or StreamARN must be provided.")
		}
		return streamKey{c.Account, c.Region, ref.StreamName}, nil
	}
	region, account, name, ok := parseStreamARN(ref.StreamARN)
	if !ok {
		return streamKey{}, errorf(KindInvalidArgument, "Invalid StreamARN %s.", ref.StreamARN)
	}
	if ref.StreamName != "" && ref.StreamName != name {
		return streamKey{}, errorf(KindInvalidArgument, "StreamARN %s and StreamName %s do not refer to the same stream.", ref.StreamARN, ref.StreamName)
	}
	if region != c.Region || (account != c.Account && !c.CrossAccount) {
		return streamKey{}, errStreamNotFound(name, account)
	}
	return streamKey{account, region, name}, nil
}

// parseStreamARN splits arn:aws:kinesis:<region>:<account>:stream/<name>.
func parseStreamARN(arn string) (region, account, name string, ok bool) {
	var parts [6]string
	rest := arn
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return "", "", "", false
		}
		parts[i], rest = rest[:j], rest[j+1:]
	}
	parts[5] = rest
	if parts[0] != "arn" || parts[2] != "kinesis" || len(parts[5]) <= len("stream/") || parts[5][:7] != "stream/" {
		return "", "", "", false
	}
	name = parts[5][7:]
	if strings.IndexByte(name, '/') >= 0 {
		return "", "", "", false
	}
	return parts[3], parts[4], name, true
}

// openShardCount counts the open shards of an account in a region, the
// figure the shard quota applies to. Callers hold e.mu.
func (e *Engine) openShardCount(c Caller) int {
	n := 0
	for k, s := range e.streams {
		if k.account != c.Account || k.region != c.Region {
			continue
		}
		for _, sh := range s.meta.Shards {
			if !sh.Closed {
				n++
			}
		}
	}
	return n
}

// errClosed is returned for calls after Close.
var errClosed = errors.New("engine: closed")
