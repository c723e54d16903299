// Package store composes the node journal and the shard logs into durable
// shards for the streams engine.
//
// # Write path
//
//	Shard.Append ──▶ journal entry ──▶ group commit (one write, one fsync)
//	                                        │ done callback, in LSN order
//	                                        ▼
//	                         shardlog.Append (no fsync) ──▶ Ack completes
//
// Shard.Append assigns positions and arrival times and enqueues the journal
// entry under the shard's lock, so journal order equals position order
// within a shard. A record becomes readable only once its entry is durable
// (per the fsync policy) and applied to the shard log; Ack.Wait returns then.
// Store.AppendMany does the same for several shards at once, one entry each,
// with one journal hand-off and one Ack (many.go).
//
// # Checkpoints
//
// When CheckpointBytes of entries have been applied since the last
// checkpoint, and on Close, the store makes every shard log written since
// then durable (an fsync each, or with many of them a flush each and one
// syncfs of the filesystem, see syncShards) and releases the journal up to
// the last applied LSN. After that the journal's released segments are
// deleted or recycled: the shard logs hold the data.
//
// # Recovery
//
// Open opens every shard directory (each shard log cuts its own torn tail),
// then replays the journal: entries for shards that no longer exist are
// skipped, entries whose positions are all below the shard's Next are
// skipped, the rest are applied. An entry that begins beyond Next means data
// was lost; Open fails with ErrGap rather than skip it. Open ends with a
// checkpoint.
//
// # Failure
//
// After a write or fsync error the store refuses writes (ErrFailed) until
// Reopen recovers it from disk, as a restart would; a failure for lack of
// space is reopened automatically with back-off (reopen.go).
//
// # Files
//
//	<dir>/meta                  the engine's metadata snapshot
//	<dir>/journal/              journal segments (package journal)
//	<dir>/shards/<uid>/         one shard log per shard; uid in 16 hex digits
//	<dir>/shards/<uid>.new/     a shard that CreateShards has not yet made durable; Open removes it
//
// The meta file is replaced atomically (written to meta.tmp, fsynced,
// renamed, directory fsynced). Its format, little-endian:
//
//	meta := magic "RFMT" (4) | version (1) = 1 | zero (3) | length (4) | crc (4) | data (length)
//
// where crc is the CRC-32C (Castagnoli) of data.
//
// # Journal entry format (version 1), little-endian
//
//	entry  := version (1) = 1 | uid (8) | firstSeq (8) | count uvarint | record{count}
//	record := arrivalMillis (8) | len(partitionKey) uvarint | partitionKey | len(data) uvarint | data
//
// Positions of an entry's records are firstSeq, firstSeq+1, and so on.
//
// # Locking
//
// Lock order: Store.adminMu, then Store.ckptMu (Reopen), then Shard.mu (several
// in uid order: AppendMany, Reopen), then (inside the journal's Append) the
// journal's locks; Store.mu is a leaf. Done callbacks run on the
// journal's goroutine and take only Store.mu and Shard.changedMu.
//
// Shard uids must never be reused after DeleteShard.
package store
