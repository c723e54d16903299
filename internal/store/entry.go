package store

import (
	"encoding/binary"
	"fmt"
)

const (
	entryVersion = 1
	// entryHeaderBytes is version + uid + firstSeq.
	entryHeaderBytes = 17
	// minRecordBytes is the smallest encoded record (arrival + two empty
	// lengths); it bounds the record count a decoder believes.
	minRecordBytes = 10
)

// encodeEntry appends the journal entry for recs of shard uid to dst. The
// records' Seq fields must already be firstSeq, firstSeq+1, ...
func encodeEntry(dst []byte, uid, firstSeq uint64, recs []Record) []byte {
	dst = append(dst, entryVersion)
	dst = binary.LittleEndian.AppendUint64(dst, uid)
	dst = binary.LittleEndian.AppendUint64(dst, firstSeq)
	dst = binary.AppendUvarint(dst, uint64(len(recs)))
	for i := range recs {
		r := &recs[i]
		dst = binary.LittleEndian.AppendUint64(dst, uint64(r.ArrivalMillis))
		dst = binary.AppendUvarint(dst, uint64(len(r.PartitionKey)))
		dst = append(dst, r.PartitionKey...)
		dst = binary.AppendUvarint(dst, uint64(len(r.Data)))
		dst = append(dst, r.Data...)
	}
	return dst
}

// entrySize returns the encoded size of the entry for recs.
func entrySize(recs []Record) int {
	n := entryHeaderBytes + uvarintLen(uint64(len(recs)))
	for i := range recs {
		n += 8 + uvarintLen(uint64(len(recs[i].PartitionKey))) + len(recs[i].PartitionKey) +
			uvarintLen(uint64(len(recs[i].Data))) + len(recs[i].Data)
	}
	return n
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// decodeEntry decodes a journal entry. The records' Data alias b. Errors wrap
// ErrCorrupt.
func decodeEntry(b []byte) (uid, firstSeq uint64, recs []Record, err error) {
	if len(b) < entryHeaderBytes {
		return 0, 0, nil, fmt.Errorf("%w: journal entry of %d bytes", ErrCorrupt, len(b))
	}
	if b[0] != entryVersion {
		return 0, 0, nil, fmt.Errorf("%w: journal entry version %d", ErrCorrupt, b[0])
	}
	uid = binary.LittleEndian.Uint64(b[1:9])
	firstSeq = binary.LittleEndian.Uint64(b[9:17])
	p := b[entryHeaderBytes:]
	count, n := binary.Uvarint(p)
	if n <= 0 {
		return 0, 0, nil, fmt.Errorf("%w: journal entry: bad record count", ErrCorrupt)
	}
	p = p[n:]
	if count == 0 || count > uint64(len(p)/minRecordBytes) {
		return 0, 0, nil, fmt.Errorf("%w: journal entry: record count %d for %d bytes", ErrCorrupt, count, len(p))
	}
	if firstSeq+count < firstSeq {
		return 0, 0, nil, fmt.Errorf("%w: journal entry: positions overflow", ErrCorrupt)
	}
	recs = make([]Record, count)
	for i := range recs {
		if len(p) < 8 {
			return 0, 0, nil, fmt.Errorf("%w: journal entry: record %d truncated", ErrCorrupt, i)
		}
		recs[i].Seq = firstSeq + uint64(i)
		recs[i].ArrivalMillis = int64(binary.LittleEndian.Uint64(p))
		p = p[8:]
		var key, data []byte
		if key, p, err = lengthPrefixed(p); err != nil {
			return 0, 0, nil, fmt.Errorf("record %d key: %w", i, err)
		}
		if data, p, err = lengthPrefixed(p); err != nil {
			return 0, 0, nil, fmt.Errorf("record %d data: %w", i, err)
		}
		recs[i].PartitionKey = string(key)
		recs[i].Data = data
	}
	if len(p) != 0 {
		return 0, 0, nil, fmt.Errorf("%w: journal entry: %d trailing bytes", ErrCorrupt, len(p))
	}
	return uid, firstSeq, recs, nil
}

// lengthPrefixed splits a uvarint-length-prefixed field off p.
func lengthPrefixed(p []byte) (field, rest []byte, err error) {
	l, n := binary.Uvarint(p)
	if n <= 0 || l > uint64(len(p)-n) {
		return nil, nil, fmt.Errorf("%w: journal entry: bad field length", ErrCorrupt)
	}
	return p[n : n+int(l)], p[n+int(l):], nil
}
