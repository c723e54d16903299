package shardlog

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// segment is one segment file and its in-memory index.
//
// Fields other than path, base and prevArrival change only while the log's
// writer lock and mu are both held, so readers holding mu.RLock see a
// consistent segment.
type segment struct {
	// Appends read and write the first fields, so they come first (see
	// Log). Invariant: base <= next; next == base means no records.
	base uint64 // position of the first record; from the header
	next uint64
	// size is the number of bytes readers may look at: the header plus
	// whole, written frames.
	size        int64
	sinceIndex  int64
	lastArrival int64 // valid when next > base
	// index holds a sample of batch starts, at least every
	// IndexIntervalBytes, ordered by offset (hence by seq and arrival).
	index []indexEntry

	// wb is f as a write-behind file, if it is one. Set with f and never
	// changed, so that Log.Warm may read it without locks.
	wb *writeBehind
	// f is open only for the last (active) segment; readers of sealed
	// segments open their own handle.
	f vfs.File

	firstArrival int64 // valid when next > base
	path         string
	prevArrival  int64 // from the header
}

// setFile makes f the file the segment is appended through.
func (s *segment) setFile(f vfs.File) {
	s.f = f
	s.wb, _ = f.(*writeBehind)
}

type indexEntry struct {
	seq     uint64 // first position of the batch
	arrival int64  // first arrival of the batch
	off     int64  // file offset of the frame
}

func (s *segment) empty() bool { return s.next == s.base }

// noteBatch adds a batch at offset off to the segment's bookkeeping.
func (s *segment) noteBatch(h batchHeader, off int64, interval int) {
	if len(s.index) == 0 || s.sinceIndex >= int64(interval) {
		s.index = append(s.index, indexEntry{seq: h.firstSeq, arrival: h.firstArrival, off: off})
		s.sinceIndex = 0
	}
	s.sinceIndex += h.frameLen
	if s.empty() {
		s.firstArrival = h.firstArrival
	}
	s.lastArrival = h.lastArrival
	s.next = h.nextSeq()
	s.size = off + h.frameLen
}

// offsetForSeq returns the offset of a batch at or before the one holding seq.
func (s *segment) offsetForSeq(seq uint64) int64 {
	i := sort.Search(len(s.index), func(i int) bool { return s.index[i].seq > seq })
	if i == 0 {
		return segmentHeaderSize
	}
	return s.index[i-1].off
}

// offsetForTime returns the offset of a batch such that every record before
// it arrived before ms.
func (s *segment) offsetForTime(ms int64) (int64, uint64) {
	i := sort.Search(len(s.index), func(i int) bool { return s.index[i].arrival >= ms })
	if i == 0 {
		return segmentHeaderSize, s.base
	}
	return s.index[i-1].off, s.index[i-1].seq
}

// frameReader reads frames sequentially from a file through bounded ReadAt
// calls, so that draining a segment costs about one ReadAt per chunk.
type frameReader struct {
	f   vfs.File
	off int64 // offset of the next frame
	end int64 // bytes beyond end are not looked at
	// buf holds file bytes [bufOff, bufOff+len(buf)).
	buf    []byte
	bufOff int64
	chunk  int
	// fresh makes every chunk a new allocation, so that frames returned
	// earlier stay valid (their records alias them).
	fresh bool
}

const readChunk = 64 << 10

// errShortFrame marks a frame that extends beyond the readable end.
var errShortFrame = errors.New("incomplete batch frame")

// next returns the next whole, checksummed frame and its header. It returns
// io.EOF exactly at the end, errShortFrame if a frame is cut off, and an
// error wrapping errBadFrame if the frame is invalid. On an error, r.off
// stays at the frame's offset.
func (r *frameReader) next() ([]byte, batchHeader, error) {
	if r.off >= r.end {
		return nil, batchHeader{}, io.EOF
	}
	if r.end-r.off < 8 {
		return nil, batchHeader{}, errShortFrame
	}
	lenb, err := r.bytes(r.off, 8)
	if err != nil {
		return nil, batchHeader{}, err
	}
	n, err := frameLength(lenb)
	if err != nil {
		return nil, batchHeader{}, err
	}
	if r.end-r.off < n {
		return nil, batchHeader{}, errShortFrame
	}
	frame, err := r.bytes(r.off, n)
	if err != nil {
		return nil, batchHeader{}, err
	}
	h, err := parseFrame(frame)
	if err != nil {
		return nil, batchHeader{}, err
	}
	r.off += n
	return frame, h, nil
}

// bytes returns file bytes [off, off+n), reading a new chunk if needed.
func (r *frameReader) bytes(off, n int64) ([]byte, error) {
	if off >= r.bufOff && off+n <= r.bufOff+int64(len(r.buf)) {
		return r.buf[off-r.bufOff : off-r.bufOff+n], nil
	}
	size := max(int64(r.chunk), n)
	size = min(size, r.end-off)
	var buf []byte
	if !r.fresh && int64(cap(r.buf)) >= size {
		buf = r.buf[:size]
	} else {
		buf = make([]byte, size)
	}
	k, err := r.f.ReadAt(buf, off)
	if int64(k) < size {
		if err == nil || err == io.EOF {
			err = fmt.Errorf("read %d bytes at %d: %w", k, off, io.ErrUnexpectedEOF)
		}
		return nil, err
	}
	r.buf, r.bufOff = buf, off
	return buf[:n], nil
}
