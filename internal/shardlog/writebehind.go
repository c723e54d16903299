package shardlog

import (
	"io"
	"sync"

	"github.com/riffle-streams/riffle/internal/vfs"
)

// A log with Options.WriteBehindBytes holds that much in memory before
// writing it to its segment file. A store spreading writes over thousands of
// shards appends a small batch to each on every group commit; without the
// buffer each batch costs a write system call, which dominated such loads.
// Buffered bytes are not durable, which changes nothing for such a store: its
// node journal holds them until a checkpoint, which syncs (and so writes)
// every shard log first. A write error then shows at the next write of the
// buffer rather than at the Append that filled it.

// activeFile returns the file an active segment is written through: f
// starting writeback as it goes (writeback.go), behind a write-behind
// buffer if the log has one.
func (l *Log) activeFile(f vfs.File) (vfs.File, error) {
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	f = withWriteback(f, size)
	if l.opts.WriteBehindBytes <= 0 {
		return f, nil
	}
	return newWriteBehind(f, size, l.opts.WriteBehindBytes), nil
}

// writeBehind is the active segment's file with a small write-behind buffer.
// Reads see buffered bytes. Sync, Truncate, Size and Close behave as on the
// file with the buffer written first. Safe for the concurrency vfs.File
// allows (ReadAt concurrent with the rest).
type writeBehind struct {
	f       vfs.File
	limit   int
	mu      sync.Mutex
	flushed int64  // bytes in f
	buf     []byte // bytes after flushed, not yet written to f
}

// newWriteBehind buffers writes to f, of size bytes, up to limit bytes.
func newWriteBehind(f vfs.File, size int64, limit int) *writeBehind {
	return &writeBehind{f: f, limit: limit, flushed: size}
}

// The buffer never grows past limit: what does not fit is preceded by a
// flush, and what could never fit is written straight to the file. With
// thousands of shards the buffers are most of the server's memory, so each
// is exactly limit bytes, allocated on first use.

// Write buffers p, or writes it through if it is at least limit bytes.
func (w *writeBehind) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.makeRoomLocked(len(p)); err != nil {
		return 0, err
	}
	if len(p) >= w.limit {
		n, err := w.f.Write(p)
		w.flushed += int64(n)
		return n, err
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// appendFrame is Write of recs' frame, of size bytes (less than limit),
// encoded in place.
func (w *writeBehind) appendFrame(recs []Record, size int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.makeRoomLocked(size); err != nil {
		return err
	}
	w.buf = appendBatch(w.buf, recs)
	return nil
}

// makeRoomLocked flushes the buffer if n more bytes would not fit in it, and
// allocates it on first use. Callers hold w.mu.
func (w *writeBehind) makeRoomLocked(n int) error {
	if len(w.buf)+n > w.limit {
		if err := w.flushLocked(); err != nil {
			return err
		}
	}
	if w.buf == nil && n < w.limit {
		w.buf = make([]byte, 0, w.limit)
	}
	return nil
}

// flushLocked writes the buffer to the file. Callers hold w.mu.
func (w *writeBehind) flushLocked() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.f.Write(w.buf)
	w.flushed += int64(n)
	w.buf = w.buf[:copy(w.buf, w.buf[n:])]
	return err
}

// ReadAt reads what has been written to the file from it, and the rest from
// the buffer.
func (w *writeBehind) ReadAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	flushed := w.flushed
	end := off + int64(len(p))
	fromBuf := 0 // bytes of p served from the buffer, at its end
	if end > flushed {
		start := max(off, flushed)
		i, j := start-flushed, min(end-flushed, int64(len(w.buf)))
		if i < j {
			fromBuf = copy(p[start-off:], w.buf[i:j])
		}
	}
	w.mu.Unlock()
	if off >= flushed {
		if fromBuf < len(p) {
			return fromBuf, io.EOF
		}
		return fromBuf, nil
	}
	// The file below flushed never changes once written.
	head := min(int64(len(p)), flushed-off)
	n, err := w.f.ReadAt(p[:head], off)
	if int64(n) < head {
		return n, err
	}
	n += fromBuf
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// flush writes the buffer to the file.
func (w *writeBehind) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

// Sync writes the buffer and fsyncs the file.
func (w *writeBehind) Sync() error {
	w.mu.Lock()
	err := w.flushLocked()
	w.mu.Unlock()
	if err != nil {
		return err
	}
	return w.f.Sync()
}

// Truncate writes the buffer, then truncates the file.
func (w *writeBehind) Truncate(size int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.flushLocked(); err != nil {
		return err
	}
	if err := w.f.Truncate(size); err != nil {
		return err
	}
	w.flushed = size
	return nil
}

// Size is the file's size with the buffer.
func (w *writeBehind) Size() (int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushed + int64(len(w.buf)), nil
}

// Close writes the buffer and closes the file.
func (w *writeBehind) Close() error {
	w.mu.Lock()
	err := w.flushLocked()
	w.mu.Unlock()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}
