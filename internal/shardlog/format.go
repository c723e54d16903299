package shardlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
)

// Frozen format constants; see the package documentation.
const (
	segmentMagic      = "RFSL"
	segmentVersion    = 1
	segmentHeaderSize = 28

	batchVersion    = 1
	frameHeaderSize = 37 // length, checksum and the fixed part of the batch
	minFrameBody    = frameHeaderSize - 8
	maxFrameBody    = 256 << 20
	minRecordBytes  = 3 // three one-byte uvarints
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errBadFrame marks a frame that fails validation; callers decide whether it
// is a torn tail or ErrCorrupt.
var errBadFrame = errors.New("invalid batch frame")

// batchHeader is the fixed part of a frame.
type batchHeader struct {
	frameLen     int64 // whole frame, including length and checksum
	firstSeq     uint64
	count        uint32
	firstArrival int64
	lastArrival  int64
}

func (h batchHeader) nextSeq() uint64 { return h.firstSeq + uint64(h.count) }

// appendSegmentHeader appends a segment header to dst.
func appendSegmentHeader(dst []byte, base uint64, prevArrival int64) []byte {
	start := len(dst)
	dst = append(dst, segmentMagic...)
	dst = append(dst, segmentVersion, 0, 0, 0)
	dst = binary.LittleEndian.AppendUint64(dst, base)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(prevArrival))
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// parseSegmentHeader validates a segment header.
func parseSegmentHeader(b []byte) (base uint64, prevArrival int64, err error) {
	if len(b) < segmentHeaderSize {
		return 0, 0, fmt.Errorf("short segment header (%d bytes)", len(b))
	}
	if string(b[:4]) != segmentMagic {
		return 0, 0, fmt.Errorf("bad segment magic %q", b[:4])
	}
	if b[4] != segmentVersion {
		return 0, 0, fmt.Errorf("unknown segment version %d", b[4])
	}
	if got, want := binary.LittleEndian.Uint32(b[24:28]), crc32.Checksum(b[:24], castagnoli); got != want {
		return 0, 0, fmt.Errorf("segment header checksum %08x, want %08x", got, want)
	}
	return binary.LittleEndian.Uint64(b[8:16]), int64(binary.LittleEndian.Uint64(b[16:24])), nil
}

// batchSize is the length of the frame appendBatch makes of recs.
func batchSize(recs []Record) int {
	n := frameHeaderSize
	first := recs[0].ArrivalMillis
	for i := range recs {
		r := &recs[i]
		n += uvarintLen(uint64(r.ArrivalMillis-first)) + uvarintLen(uint64(len(r.PartitionKey))) + len(r.PartitionKey) +
			uvarintLen(uint64(len(r.Data))) + len(r.Data)
	}
	return n
}

// uvarintLen is the length of x as a uvarint: 7 bits a byte, at least one.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// appendBatch appends the frame of recs (at least one record, consecutive
// positions, non-decreasing arrivals) to dst.
func appendBatch(dst []byte, recs []Record) []byte {
	start := len(dst)
	first, last := recs[0].ArrivalMillis, recs[len(recs)-1].ArrivalMillis
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0, batchVersion)
	dst = binary.LittleEndian.AppendUint64(dst, recs[0].Seq)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(recs)))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(first))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(last))
	for i := range recs {
		r := &recs[i]
		dst = binary.AppendUvarint(dst, uint64(r.ArrivalMillis-first))
		dst = binary.AppendUvarint(dst, uint64(len(r.PartitionKey)))
		dst = append(dst, r.PartitionKey...)
		dst = binary.AppendUvarint(dst, uint64(len(r.Data)))
		dst = append(dst, r.Data...)
	}
	body := dst[start+8:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(body, castagnoli))
	return dst
}

// frameLength returns the whole length of the frame starting at b (at least
// 4 bytes), or an error if its length field is out of bounds.
func frameLength(b []byte) (int64, error) {
	l := binary.LittleEndian.Uint32(b[:4])
	if l < minFrameBody || l > maxFrameBody {
		return 0, fmt.Errorf("%w: length %d out of bounds", errBadFrame, l)
	}
	return int64(l) + 8, nil
}

// parseFrame checks the checksum and the fixed part of a whole frame.
func parseFrame(frame []byte) (batchHeader, error) {
	if len(frame) < frameHeaderSize {
		return batchHeader{}, fmt.Errorf("%w: short frame (%d bytes)", errBadFrame, len(frame))
	}
	n, err := frameLength(frame)
	if err != nil {
		return batchHeader{}, err
	}
	if n != int64(len(frame)) {
		return batchHeader{}, fmt.Errorf("%w: length %d, have %d bytes", errBadFrame, n, len(frame))
	}
	if got, want := binary.LittleEndian.Uint32(frame[4:8]), crc32.Checksum(frame[8:], castagnoli); got != want {
		return batchHeader{}, fmt.Errorf("%w: checksum %08x, want %08x", errBadFrame, got, want)
	}
	if frame[8] != batchVersion {
		return batchHeader{}, fmt.Errorf("%w: unknown batch version %d", errBadFrame, frame[8])
	}
	h := batchHeader{
		frameLen:     n,
		firstSeq:     binary.LittleEndian.Uint64(frame[9:17]),
		count:        binary.LittleEndian.Uint32(frame[17:21]),
		firstArrival: int64(binary.LittleEndian.Uint64(frame[21:29])),
		lastArrival:  int64(binary.LittleEndian.Uint64(frame[29:37])),
	}
	if h.count == 0 || int64(h.count)*minRecordBytes > n-frameHeaderSize {
		return batchHeader{}, fmt.Errorf("%w: record count %d does not fit", errBadFrame, h.count)
	}
	if h.firstSeq+uint64(h.count) < h.firstSeq {
		return batchHeader{}, fmt.Errorf("%w: position overflow", errBadFrame)
	}
	if h.lastArrival < h.firstArrival {
		return batchHeader{}, fmt.Errorf("%w: arrival times decrease", errBadFrame)
	}
	return h, nil
}

// forEachRecord decodes the records of a frame already checked by
// parseFrame, calling fn for each until it returns false. key and data
// alias frame. A complete walk also validates that the records fill the
// frame exactly and agree with the header.
func forEachRecord(frame []byte, h batchHeader, fn func(i uint32, arrival int64, key, data []byte) bool) error {
	p := frame[frameHeaderSize:]
	prev := h.firstArrival
	for i := uint32(0); i < h.count; i++ {
		delta, n := binary.Uvarint(p)
		if n <= 0 {
			return fmt.Errorf("%w: record %d: bad arrival", errBadFrame, i)
		}
		p = p[n:]
		arrival := h.firstArrival + int64(delta)
		if arrival < prev || (i == 0 && arrival != h.firstArrival) || arrival > h.lastArrival {
			return fmt.Errorf("%w: record %d: arrival %d out of order", errBadFrame, i, arrival)
		}
		prev = arrival
		key, rest, err := lengthPrefixed(p)
		if err != nil {
			return fmt.Errorf("%w: record %d: key: %v", errBadFrame, i, err)
		}
		data, rest, err := lengthPrefixed(rest)
		if err != nil {
			return fmt.Errorf("%w: record %d: data: %v", errBadFrame, i, err)
		}
		p = rest
		if !fn(i, arrival, key, data) {
			return nil
		}
	}
	if len(p) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errBadFrame, len(p))
	}
	if prev != h.lastArrival {
		return fmt.Errorf("%w: last arrival %d, header says %d", errBadFrame, prev, h.lastArrival)
	}
	return nil
}

func lengthPrefixed(p []byte) (field, rest []byte, err error) {
	l, n := binary.Uvarint(p)
	if n <= 0 {
		return nil, nil, errors.New("bad length")
	}
	p = p[n:]
	if l > uint64(len(p)) {
		return nil, nil, fmt.Errorf("length %d exceeds %d remaining bytes", l, len(p))
	}
	return p[:l], p[l:], nil
}

// decodeBatch fully decodes and validates one whole frame. The returned
// records own their memory.
func decodeBatch(frame []byte) (batchHeader, []Record, error) {
	h, err := parseFrame(frame)
	if err != nil {
		return batchHeader{}, nil, err
	}
	recs := make([]Record, 0, h.count)
	err = forEachRecord(frame, h, func(i uint32, arrival int64, key, data []byte) bool {
		recs = append(recs, Record{
			Seq:           h.firstSeq + uint64(i),
			ArrivalMillis: arrival,
			PartitionKey:  string(key),
			Data:          append([]byte(nil), data...),
		})
		return true
	})
	if err != nil {
		return batchHeader{}, nil, err
	}
	return h, recs, nil
}
