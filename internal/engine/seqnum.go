package engine

import (
	"strconv"
	"time"

	"github.com/riffle-streams/riffle/internal/store"
)

// Sequence numbers are decimal strings of 56 digits:
//
//	"49" | shard uid (16) | slot (20) | tick (13) | check (5)
//
// The record at position p of a shard has slot p+1 and tick 0. Slot 0, tick 0
// is the shard's StartingSequenceNumber, below every record. A continuation
// number of SubscribeToShard (slot q, tick = time of issue in ms) lies between
// the record at position q-1 and the one at position q, and grows while a
// shard is idle, as Kinesis's do. Every field has a fixed width, so numeric
// order is (slot, tick) order within a shard. The uid is never reused, so a
// number from another shard, or another incarnation of a stream, is detected;
// the check digits (a hash of the rest) catch most made-up numbers. See
// docs/sequence-numbers.md.
const (
	seqPrefix = "49"
	seqLen    = 2 + 16 + 20 + 13 + 5
)

// seqPoint is a decoded sequence number.
type seqPoint struct {
	uid, slot uint64
	tick      int64
}

func (p seqPoint) String() string {
	var b [seqLen]byte
	p.put(&b)
	return string(b[:])
}

// put formats p into b. Built by hand, without strconv's intermediate
// buffers: PutRecords and GetRecords format one per record.
func (p seqPoint) put(b *[seqLen]byte) {
	b[0], b[1] = seqPrefix[0], seqPrefix[1]
	putDigits(b[2:18], p.uid)
	putDigits(b[18:38], p.slot)
	putDigits(b[38:51], uint64(p.tick))
	putDigits(b[51:], seqCheck(p))
}

// putDigits writes v in decimal into all of b, zero-padded on the left. Every
// field's width holds its largest value (uids and ticks stay far below 10^16
// and 10^13; a uint64 slot has at most 20 digits). Most fields are mostly
// leading zeros (a record's tick is 0), written without dividing.
func putDigits(b []byte, v uint64) {
	i := len(b) - 1
	for ; i >= 0 && v != 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	for ; i >= 0; i-- {
		b[i] = '0'
	}
}

// appendRecordSeqs appends to dst the sequence numbers of the records at
// positions first, first+1, ... of shard uid, n of them, seqLen bytes each.
// Each number after the first is its predecessor with the slot incremented
// in place and new check digits.
func appendRecordSeqs(dst []byte, uid, first uint64, n int) []byte {
	if n == 0 {
		return dst
	}
	start := len(dst)
	dst = append(dst, make([]byte, n*seqLen)...)
	text := dst[start:]
	p := seqPoint{uid: uid, slot: first + 1}
	p.put((*[seqLen]byte)(text))
	for i := 1; i < n; i++ {
		b := text[i*seqLen : (i+1)*seqLen]
		copy(b, text[(i-1)*seqLen:i*seqLen])
		p.slot++
		slot := b[18:38]
		for d := len(slot) - 1; d >= 0; d-- {
			if slot[d] != '9' {
				slot[d]++
				break
			}
			slot[d] = '0'
		}
		putDigits(b[51:], seqCheck(p))
	}
	return dst
}

// recordSeq is the sequence number of the record at position pos.
func recordSeq(uid, pos uint64) string { return seqPoint{uid: uid, slot: pos + 1}.String() }

// recordSeqRun returns the sequence numbers of recs, records of shard uid,
// as one string of seqLen bytes each: one allocation for a batch where a
// string per record was a tenth of a drain's server time.
func recordSeqRun(uid uint64, recs []store.Record) string {
	if len(recs) == 0 {
		return ""
	}
	first, last := recs[0].Seq, recs[len(recs)-1].Seq
	if last-first == uint64(len(recs)-1) { // consecutive, as a log returns them
		return string(appendRecordSeqs(make([]byte, 0, len(recs)*seqLen), uid, first, len(recs)))
	}
	b := make([]byte, len(recs)*seqLen)
	for i, r := range recs {
		seqPoint{uid: uid, slot: r.Seq + 1}.put((*[seqLen]byte)(b[i*seqLen:]))
	}
	return string(b)
}

// startSeq is a shard's StartingSequenceNumber.
func startSeq(uid uint64) string { return seqPoint{uid: uid}.String() }

// continuationSeq is a SubscribeToShard continuation number for a reader
// whose next position is next.
func continuationSeq(uid, next uint64, now time.Time) string {
	return seqPoint{uid: uid, slot: next, tick: max(1, now.UnixMilli())}.String()
}

// at is the position of the first record whose number is >= p
// (AT_SEQUENCE_NUMBER).
func (p seqPoint) at() uint64 {
	if p.tick == 0 && p.slot > 0 {
		return p.slot - 1
	}
	return p.slot
}

// after is the position of the first record whose number is > p
// (AFTER_SEQUENCE_NUMBER).
func (p seqPoint) after() uint64 { return p.slot }

// parseSeq decodes a sequence number; ok is false if s is not one this
// server issued.
func parseSeq(s string) (seqPoint, bool) {
	if len(s) != seqLen || s[:2] != seqPrefix {
		return seqPoint{}, false
	}
	uid, err1 := strconv.ParseUint(s[2:18], 10, 64)
	slot, err2 := strconv.ParseUint(s[18:38], 10, 64)
	tick, err3 := strconv.ParseInt(s[38:51], 10, 64)
	check, err4 := strconv.ParseUint(s[51:], 10, 64)
	p := seqPoint{uid: uid, slot: slot, tick: tick}
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || check != seqCheck(p) {
		return seqPoint{}, false
	}
	return p, true
}

// seqCheck is an FNV-1a hash of the fields, reduced to 5 digits.
func seqCheck(p seqPoint) uint64 {
	h := uint64(14695981039346656037)
	for _, v := range [3]uint64{p.uid, p.slot, uint64(p.tick)} {
		for i := 0; i < 8; i++ {
			h ^= (v >> (8 * i)) & 0xff
			h *= 1099511628211
		}
	}
	return h % 100_000
}
