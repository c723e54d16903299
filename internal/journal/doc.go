// Package journal is Riffle's node-level write-ahead log. Every batch written
// to any shard on the node passes through one Journal, which groups the
// batches that arrive together and makes them durable with a single write and
// a single fsync (group commit). The shard logs are written from the journal
// afterwards without fsync and are fsynced only at checkpoints, after which
// the journal is released up to the checkpointed entry.
//
// # Entries and LSNs
//
// An entry is an opaque byte slice. Append assigns it the next log sequence
// number (LSN); LSNs start at 1 and are consecutive across segments and
// restarts (after a crash, an LSN that never became durable is reassigned).
// The done callback of Append runs on the journal's single commit goroutine,
// strictly in LSN order, once the entry is durable per the FsyncPolicy.
//
// # Files
//
// A journal is a directory of segment files named by the LSN of their first
// entry, in decimal, zero-padded to 20 digits, with the suffix ".wal":
//
//	00000000000000000001.wal
//	00000000000000004711.wal
//
// Only the last segment is ever written. A new segment is created
// crash-safely: written to "<name>.tmp", fsynced, renamed, and the directory
// fsynced; the previous segment is fsynced before the new one is used. Leftover
// ".tmp" files are removed on Open. Release removes whole segments, oldest
// first, never the last one; it keeps a few as "spare-<n>.tmp", which new
// segments are written over (recycle.go): such a segment may hold stale bytes
// after its last frame until it is sealed, and recovery cuts them as a torn
// tail.
//
// # Segment format (all integers little-endian)
//
//	segment := header frame*
//	header  := magic "RFJW" (4) | version (1) = 1 | zero (3) | firstLSN (8) | crc (4)
//	frame   := length (4) | crc (4) | version (1) = 1 | lsn (8) | payload (length)
//
// The header crc is the CRC-32C (Castagnoli) of the 16 bytes before it. A
// frame's crc is the CRC-32C of its version byte, lsn and payload. A frame's
// lsn is one more than the previous frame's (or the header's firstLSN for the
// first frame), and length is at most MaxEntryBytes.
//
// # Recovery
//
// On Open, the last segment is scanned; from its first frame that is
// incomplete or invalid (bad length, version, lsn or checksum) to the end of
// the file is a torn tail, which is cut (truncated and fsynced) and logged.
// An invalid frame in any earlier segment, a bad segment header, or a
// discontinuity of LSNs between segments is corruption: Open or Replay
// returns an error wrapping ErrCorrupt and nothing is skipped silently.
//
// # Failure
//
// The journal is fail-stop: after a write or fsync error it keeps the error,
// fails every pending and later Append with it (wrapping ErrFailed and the
// cause), and never retries an fsync. Only reopening clears the condition.
package journal
