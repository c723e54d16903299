package engine

import (
	"fmt"
	"strconv"
)

// Sequence numbers are decimal strings of 56 digits:
//
//	"49" | shard uid (16 digits) | position (20 digits) | check (18 digits)
//
// The fixed width of every field makes numeric order equal to position order
// within a shard. The shard uid is unique for the life of a data directory
// (never reused, even after a stream is deleted and created again), so a
// number from another shard or another incarnation of the stream is detected.
// The check digits (a hash of uid and position) make a made-up number very
// unlikely to be accepted. See docs/sequence-numbers.md.
const (
	seqPrefix = "49"
	seqLen    = 2 + 16 + 20 + 18
)

func formatSeq(uid, pos uint64) string {
	return fmt.Sprintf("%s%016d%020d%018d", seqPrefix, uid, pos, seqCheck(uid, pos))
}

// parseSeq splits a sequence number into shard uid and position; ok is false
// if s is not a sequence number this server issued.
func parseSeq(s string) (uid, pos uint64, ok bool) {
	if len(s) != seqLen || s[:2] != seqPrefix {
		return 0, 0, false
	}
	uid, err1 := strconv.ParseUint(s[2:18], 10, 64)
	pos, err2 := strconv.ParseUint(s[18:38], 10, 64)
	check, err3 := strconv.ParseUint(s[38:], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || check != seqCheck(uid, pos) {
		return 0, 0, false
	}
	return uid, pos, true
}

// seqCheck is an FNV-1a hash of uid and position, reduced to 18 digits.
func seqCheck(uid, pos uint64) uint64 {
	h := uint64(14695981039346656037)
	for _, v := range [2]uint64{uid, pos} {
		for i := 0; i < 8; i++ {
			h ^= (v >> (8 * i)) & 0xff
			h *= 1099511628211
		}
	}
	return h % 1_000_000_000_000_000_000
}
