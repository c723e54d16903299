package shardlog

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// Read returns records with Seq >= max(from, First()), in order: at most
// maxRecords, and stopping before the total length of Data and PartitionKey
// would exceed maxBytes, but always at least one record if any is readable.
// A limit <= 0 means no limit. It returns no records and no error when from
// is at or past Next(). The caller owns the returned records and their
// slices. A frame failing its checksum is ErrCorrupt.
func (l *Log) Read(from uint64, maxRecords int, maxBytes int) ([]Record, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, ErrClosed
	}
	from = max(from, l.first)
	if from >= l.next {
		return nil, nil
	}
	// Sized for the records there are (up to the limit), so that a long
	// read does not regrow and copy its slice ten times over.
	n := l.next - from
	if maxRecords > 0 {
		n = min(n, uint64(maxRecords))
	}
	out := make([]Record, 0, min(n, maxPrealloc))
	bytes := 0
	full := func(r *Record) bool {
		if maxRecords > 0 && len(out) >= maxRecords {
			return true
		}
		n := len(r.PartitionKey) + len(r.Data)
		return maxBytes > 0 && len(out) > 0 && bytes+n > maxBytes
	}
	i := l.segmentFor(from)
	for ; i < len(l.segs); i++ {
		seg := l.segs[i]
		if seg.empty() {
			continue
		}
		f, closeFile, err := l.readHandle(seg)
		if err != nil {
			return out, err
		}
		r := &frameReader{f: f, off: seg.offsetForSeq(from), end: seg.size, chunk: readChunk, fresh: true}
		done, err := readFrames(r, seg, from, &out, &bytes, full)
		closeFile()
		if err != nil || done {
			return out, err
		}
	}
	return out, nil
}

// maxPrealloc bounds the records Read allocates room for before it has read
// them (GetRecords's limit).
const maxPrealloc = 10000

// readFrames appends records with Seq >= from from r to out until full says
// stop (done) or the segment ends.
func readFrames(r *frameReader, seg *segment, from uint64, out *[]Record, bytes *int, full func(*Record) bool) (done bool, err error) {
	for {
		off := r.off
		frame, h, err := r.next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, readError(seg, off, err)
		}
		if h.nextSeq() <= from {
			continue
		}
		err = forEachRecord(frame, h, func(i uint32, arrival int64, key, data []byte) bool {
			seq := h.firstSeq + uint64(i)
			if seq < from {
				return true
			}
			rec := Record{Seq: seq, ArrivalMillis: arrival, PartitionKey: string(key), Data: data[:len(data):len(data)]}
			if full(&rec) {
				done = true
				return false
			}
			*out = append(*out, rec)
			*bytes += len(key) + len(data)
			return true
		})
		if err != nil {
			return false, readError(seg, off, err)
		}
		if done {
			return true, nil
		}
	}
}

func readError(seg *segment, off int64, err error) error {
	if errors.Is(err, errBadFrame) || errors.Is(err, errShortFrame) {
		return fmt.Errorf("%w: %s at offset %d: %v", ErrCorrupt, seg.path, off, err)
	}
	return fmt.Errorf("shardlog: read %s at offset %d: %w", seg.path, off, err)
}

// segmentFor returns the index of the segment holding seq, or of the first
// segment if seq precedes them all. Callers hold mu or wmu.
func (l *Log) segmentFor(seq uint64) int {
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > seq })
	return max(i-1, 0)
}

// readHandle returns a file to read seg through: the active segment's own
// file, or a new read-only handle for a sealed one. Callers hold mu or wmu.
func (l *Log) readHandle(seg *segment) (vfs.File, func(), error) {
	if seg.f != nil {
		return seg.f, func() {}, nil
	}
	f, err := l.fs.Open(seg.path)
	if err != nil {
		return nil, nil, fmt.Errorf("shardlog: open %s: %w", seg.path, err)
	}
	return f, func() { f.Close() }, nil
}

// SeekTime returns the first readable position whose record arrived at or
// after ms, or Next() if there is none. If reading the segment fails, it
// returns an earlier position (never a later one), so a reader starting
// there misses nothing.
func (l *Log) SeekTime(ms int64) uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.seekTime(ms)
}

// seekTime implements SeekTime. Callers hold mu or wmu.
func (l *Log) seekTime(ms int64) uint64 {
	// Only the last segment may be empty, and arrival times never
	// decrease, so this predicate is monotonic over segs.
	i := sort.Search(len(l.segs), func(i int) bool {
		s := l.segs[i]
		return !s.empty() && s.lastArrival >= ms
	})
	if i == len(l.segs) {
		return l.next
	}
	seg := l.segs[i]
	if seg.firstArrival >= ms {
		return max(seg.base, l.first)
	}
	off, fallback := seg.offsetForTime(ms)
	fallback = max(fallback, l.first)
	f, closeFile, err := l.readHandle(seg)
	if err != nil {
		return fallback
	}
	defer closeFile()
	r := &frameReader{f: f, off: off, end: seg.size, chunk: readChunk}
	for {
		frame, h, err := r.next()
		if err != nil {
			// io.EOF cannot happen: seg.lastArrival >= ms.
			return fallback
		}
		if h.lastArrival < ms {
			continue
		}
		found := uint64(0)
		err = forEachRecord(frame, h, func(i uint32, arrival int64, _, _ []byte) bool {
			if arrival >= ms {
				found = h.firstSeq + uint64(i)
				return false
			}
			return true
		})
		if err != nil {
			return fallback
		}
		return max(found, l.first)
	}
}
