package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// segment describes one segment file of the journal.
type segment struct {
	firstLSN uint64
	name     string // file name within the journal directory
	size     int64  // bytes, including the header
}

// segmentScanner reads the frames of one segment in order.
type segmentScanner struct {
	r       *bufio.Reader
	off     int64  // offset of the next frame
	nextLSN uint64 // LSN the next frame must carry
	buf     []byte
}

// newSegmentScanner validates the header of f (of the given size) and returns
// a scanner positioned at its first frame, along with the header's first LSN.
func newSegmentScanner(f vfs.File, size int64) (*segmentScanner, uint64, error) {
	hdr := make([]byte, headerSize)
	if size < headerSize {
		return nil, 0, fmt.Errorf("%w: segment of %d bytes has no header", ErrCorrupt, size)
	}
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return nil, 0, fmt.Errorf("journal: read segment header: %w", err)
	}
	first, err := decodeHeader(hdr)
	if err != nil {
		return nil, 0, err
	}
	sr := io.NewSectionReader(f, headerSize, size-headerSize)
	return &segmentScanner{
		r:       bufio.NewReaderSize(sr, 256<<10),
		off:     headerSize,
		nextLSN: first,
	}, first, nil
}

// next returns the next frame's LSN and payload (valid until the following
// call). It returns io.EOF at a clean end, errTruncated if the data ends
// inside a frame, and an error wrapping ErrCorrupt for an invalid frame.
func (s *segmentScanner) next() (uint64, []byte, error) {
	if cap(s.buf) < frameHeaderSize {
		s.buf = make([]byte, frameHeaderSize, 4096)
	}
	s.buf = s.buf[:frameHeaderSize]
	if _, err := io.ReadFull(s.r, s.buf); err != nil {
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, errTruncated
		}
		return 0, nil, fmt.Errorf("journal: read frame at offset %d: %w", s.off, err)
	}
	length := binary.LittleEndian.Uint32(s.buf[0:4])
	if length > MaxEntryBytes {
		return 0, nil, fmt.Errorf("%w: frame at offset %d: length %d exceeds %d", ErrCorrupt, s.off, length, MaxEntryBytes)
	}
	n := frameHeaderSize + int(length)
	if cap(s.buf) < n {
		nb := make([]byte, n)
		copy(nb, s.buf)
		s.buf = nb
	}
	s.buf = s.buf[:n]
	if _, err := io.ReadFull(s.r, s.buf[frameHeaderSize:]); err != nil {
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, errTruncated
		}
		return 0, nil, fmt.Errorf("journal: read frame at offset %d: %w", s.off, err)
	}
	lsn, payload, _, err := decodeFrame(s.buf)
	if err != nil {
		return 0, nil, fmt.Errorf("frame at offset %d: %w", s.off, err)
	}
	if lsn < s.nextLSN {
		return 0, nil, fmt.Errorf("%w: %w at offset %d has lsn %d, want %d", ErrCorrupt, errStale, s.off, lsn, s.nextLSN)
	}
	if lsn != s.nextLSN {
		return 0, nil, fmt.Errorf("%w: frame at offset %d has lsn %d, want %d", ErrCorrupt, s.off, lsn, s.nextLSN)
	}
	s.off += int64(n)
	s.nextLSN++
	return lsn, payload, nil
}
