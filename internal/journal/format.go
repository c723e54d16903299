package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Frozen format constants; see the package documentation.
const (
	segmentMagic   = "RFJW"
	segmentVersion = 1
	frameVersion   = 1
	// headerSize is the size of a segment header in bytes.
	headerSize = 20
	// frameHeaderSize is the size of a frame's fixed prefix in bytes.
	frameHeaderSize = 17
	// MaxEntryBytes bounds one entry's size, so that a corrupt length field
	// cannot make recovery allocate unbounded memory.
	MaxEntryBytes = 64 << 20
	segmentSuffix = ".wal"
	tempSuffix    = ".tmp"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errTruncated reports that a frame extends past the end of the data; at the
// end of the last segment it marks a torn write.
var errTruncated = errors.New("journal: truncated frame")

// errStale marks a frame whose LSN is below the one expected: an old frame
// of a recycled segment (recycle.go), which is where a segment written over
// one ends.
var errStale = errors.New("stale frame")

// segmentName returns the file name of the segment whose first LSN is lsn.
func segmentName(firstLSN uint64) string {
	return fmt.Sprintf("%020d%s", firstLSN, segmentSuffix)
}

// parseSegmentName returns the first LSN encoded in a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	if len(name) != 20+len(segmentSuffix) || name[20:] != segmentSuffix {
		return 0, false
	}
	var lsn uint64
	for _, c := range name[:20] {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if lsn > (^uint64(0)-d)/10 {
			return 0, false
		}
		lsn = lsn*10 + d
	}
	return lsn, true
}

// encodeHeader returns a segment header for a segment starting at firstLSN.
func encodeHeader(firstLSN uint64) []byte {
	b := make([]byte, headerSize)
	copy(b, segmentMagic)
	b[4] = segmentVersion
	binary.LittleEndian.PutUint64(b[8:16], firstLSN)
	binary.LittleEndian.PutUint32(b[16:20], crc32.Checksum(b[:16], castagnoli))
	return b
}

// decodeHeader validates a segment header and returns its first LSN.
func decodeHeader(b []byte) (uint64, error) {
	if len(b) < headerSize {
		return 0, fmt.Errorf("%w: short segment header (%d bytes)", ErrCorrupt, len(b))
	}
	if string(b[:4]) != segmentMagic {
		return 0, fmt.Errorf("%w: bad segment magic %q", ErrCorrupt, b[:4])
	}
	if b[4] != segmentVersion {
		return 0, fmt.Errorf("%w: unsupported segment version %d", ErrCorrupt, b[4])
	}
	if got, want := binary.LittleEndian.Uint32(b[16:20]), crc32.Checksum(b[:16], castagnoli); got != want {
		return 0, fmt.Errorf("%w: segment header checksum mismatch", ErrCorrupt)
	}
	return binary.LittleEndian.Uint64(b[8:16]), nil
}

// appendFrame appends the frame of entry at lsn to dst.
func appendFrame(dst []byte, lsn uint64, entry []byte) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(entry)))
	dst = append(dst, 0, 0, 0, 0) // crc, filled in below
	dst = append(dst, frameVersion)
	dst = binary.LittleEndian.AppendUint64(dst, lsn)
	dst = append(dst, entry...)
	crc := crc32.Checksum(dst[start+8:], castagnoli)
	binary.LittleEndian.PutUint32(dst[start+4:start+8], crc)
	return dst
}

// frameSize is the encoded size of a frame holding an entry of n bytes.
func frameSize(n int) int64 { return int64(frameHeaderSize + n) }

// DecodeFrame decodes the frame at the start of b. It returns the frame's LSN,
// its payload (aliasing b) and the number of bytes the frame occupies. It
// returns an error wrapping ErrCorrupt if the frame is invalid, and
// errTruncated if b ends before the frame does.
func decodeFrame(b []byte) (lsn uint64, payload []byte, n int, err error) {
	if len(b) < frameHeaderSize {
		return 0, nil, 0, errTruncated
	}
	length := binary.LittleEndian.Uint32(b[0:4])
	if length > MaxEntryBytes {
		return 0, nil, 0, fmt.Errorf("%w: frame length %d exceeds %d", ErrCorrupt, length, MaxEntryBytes)
	}
	if b[8] != frameVersion {
		return 0, nil, 0, fmt.Errorf("%w: unsupported frame version %d", ErrCorrupt, b[8])
	}
	n = frameHeaderSize + int(length)
	if len(b) < n {
		return 0, nil, 0, errTruncated
	}
	if got, want := binary.LittleEndian.Uint32(b[4:8]), crc32.Checksum(b[8:n], castagnoli); got != want {
		return 0, nil, 0, fmt.Errorf("%w: frame checksum mismatch", ErrCorrupt)
	}
	return binary.LittleEndian.Uint64(b[9:17]), b[frameHeaderSize:n], n, nil
}
