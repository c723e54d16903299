// Package shardlog is one shard's append-only, segmented log: it appends
// batches of records, reads them back by position or arrival time, hides and
// deletes expired data, and recovers after a crash.
//
// # Positions and time
//
// Every record has a position (Seq), assigned by the caller and consecutive
// within a log, and an arrival time in milliseconds since the epoch, which
// never decreases within a log. First is the oldest readable position and
// Next the position the next record must have; the log never forgets Next,
// even when retention has expired every record.
//
// # Files
//
// A log is a directory of segment files, each named by the position of its
// first record as 20 decimal digits:
//
//	00000000000000000000.seg
//	00000000000000001234.seg
//	00000000000000001234.seg.tmp   (a segment being created; deleted on Open)
//
// Records of one segment directly precede those of the next: the first
// position of a segment equals one past the last position of the previous
// segment. Only the last segment is written to. A segment is created under
// its temporary name, its header is written and fsynced, it is renamed to
// its final name and the directory is fsynced, so a segment file with a final
// name always has a complete header. Before a new segment is used the previous
// one is fsynced, so only the last segment can have a torn tail.
//
// # Segment header (28 bytes, little-endian)
//
//	offset size field
//	0      4    magic "RFSL"
//	4      1    format version, 1
//	5      3    reserved, zero
//	8      8    base: position of the segment's first record (equals the name)
//	16     8    arrival time of the newest record before this segment, 0 if none
//	24     4    CRC-32C (Castagnoli) of bytes 0..24
//
// # Batch frame
//
// After the header come batch frames, one per Append call, back to back:
//
//	offset size field
//	0      4    length L: number of bytes after the checksum field
//	4      4    CRC-32C (Castagnoli) of the L bytes that follow
//	8      1    batch version, 1
//	9      8    position of the batch's first record
//	17     4    record count N, at least 1
//	21     8    arrival time of the first record
//	29     8    arrival time of the last record
//	37     ...  N records
//
// Each record is
//
//	uvarint  arrival time minus the batch's first arrival time
//	uvarint  partition key length K, then K bytes of key
//	uvarint  data length D, then D bytes of data
//
// and the records of a batch have consecutive positions starting at the
// batch's first position. L is at most 256 MiB. The fixed part of the frame
// lets readers skip a batch without decoding its records.
//
// # Index
//
// The log keeps no index file. When a segment is opened or appended to, the
// log records in memory, at most every Options.IndexIntervalBytes, the
// position, first arrival time and file offset of a batch. A read or a
// time seek binary-searches the segments and then this sparse index, and
// scans at most about IndexIntervalBytes plus one batch.
//
// # Recovery
//
// Open reads every segment and checks every frame. In the last segment, an
// invalid frame (short, bad length, bad checksum, malformed, or not
// continuing the positions) that is not followed by a valid frame is a torn
// tail: the file is truncated there and Recovered reports how many bytes were
// cut. Anything else invalid (a bad header, an invalid frame in an earlier
// segment, an invalid frame followed by a valid one, a gap between segments)
// is ErrCorrupt, never skipped. Retention is not persisted: after a reopen,
// records hidden by TrimBefore but still in a kept segment are readable until
// the caller trims again.
//
// # Failure
//
// The log is fail-stop: after any error writing, truncating, fsyncing,
// creating or deleting a file, the error is kept and every later Append,
// Sync and TrimBefore returns it; an fsync is never retried. Reopen the log to
// recover.
//
// # Concurrency
//
// Append, Sync, TrimBefore and Close must be serialized by the caller (the log
// also serializes them itself). Read, First, Next, SeekTime,
// LastArrivalMillis, SizeBytes and SegmentCount may run concurrently with
// them and with each other. A batch becomes visible to readers only whole,
// after its bytes are written.
package shardlog
