// Package bufpool reuses the large byte buffers of the write path: request
// bodies, decoded record data and journal entries, each tens or hundreds of
// KiB per PutRecords call. Allocated fresh, they were most of the garbage a
// busy server made, and the collector's work grows with it.
//
// Buffers come in power-of-two size classes from 4 KiB to 8 MiB, one
// sync.Pool each; larger requests are allocated and never pooled.
package bufpool

import (
	"math/bits"
	"sync"
)

const (
	minShift = 12 // 4 KiB
	maxShift = 23 // 8 MiB
)

var pools [maxShift - minShift + 1]sync.Pool

// class returns the pool index for a buffer of capacity 1<<shift.
func class(shift int) int { return shift - minShift }

// Get returns a buffer of length n; its contents are undefined. Return it
// with Put once nothing refers to it any more.
func Get(n int) *[]byte {
	shift := max(minShift, bits.Len(uint(max(n, 1)-1)))
	if shift > maxShift {
		b := make([]byte, n)
		return &b
	}
	if p, ok := pools[class(shift)].Get().(*[]byte); ok {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n, 1<<shift)
	return &b
}

// Put returns a buffer from Get for reuse. The caller must not use it, or
// anything sliced from it, afterwards.
func Put(p *[]byte) {
	c := cap(*p)
	shift := bits.Len(uint(c)) - 1
	if c != 1<<shift || shift < minShift || shift > maxShift {
		return // not one of ours (or an oversized one)
	}
	*p = (*p)[:0]
	pools[class(shift)].Put(p)
}
