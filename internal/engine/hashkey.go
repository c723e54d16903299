package engine

import (
	"crypto/md5"
	"encoding/binary"
	"math/big"
)

// hashKey is an unsigned 128-bit hash key. Kinesis maps every record to a
// point of [0, 2^128-1]: the MD5 of its partition key read as a big-endian
// integer, or the ExplicitHashKey the producer gave.
type hashKey struct{ hi, lo uint64 }

var maxHashKey = hashKey{^uint64(0), ^uint64(0)}

func partitionHash(partitionKey string) hashKey {
	sum := md5.Sum([]byte(partitionKey))
	return hashKey{binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:])}
}

func (h hashKey) less(o hashKey) bool {
	return h.hi < o.hi || (h.hi == o.hi && h.lo < o.lo)
}

func (h hashKey) big() *big.Int {
	b := new(big.Int).SetUint64(h.hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(h.lo))
}

func (h hashKey) String() string { return h.big().String() }

func hashKeyFromBig(b *big.Int) hashKey {
	lo := new(big.Int).And(b, new(big.Int).SetUint64(^uint64(0)))
	hi := new(big.Int).Rsh(b, 64)
	return hashKey{hi.Uint64(), lo.Uint64()}
}

// parseHashKey parses a decimal hash key; ok is false if s is not a decimal
// integer in [0, 2^128-1].
func parseHashKey(s string) (hashKey, bool) {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok || b.Sign() < 0 || b.BitLen() > 128 {
		return hashKey{}, false
	}
	return hashKeyFromBig(b), true
}

// splitHashSpace divides [0, 2^128-1] into n contiguous ranges, as even as
// integer division allows: range i starts at floor(i * 2^128 / n), which is
// how Kinesis lays out the shards of a new stream.
func splitHashSpace(n int) [][2]hashKey {
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	out := make([][2]hashKey, n)
	for i := 0; i < n; i++ {
		start := new(big.Int).Mul(space, big.NewInt(int64(i)))
		start.Div(start, big.NewInt(int64(n)))
		end := new(big.Int).Mul(space, big.NewInt(int64(i+1)))
		end.Div(end, big.NewInt(int64(n)))
		end.Sub(end, big.NewInt(1))
		out[i] = [2]hashKey{hashKeyFromBig(start), hashKeyFromBig(end)}
	}
	return out
}

// add returns h+d, for d of -1, 0 or 1, wrapping around like the unsigned
// integer it is; callers check the range first.
func add(h hashKey, d int) hashKey {
	switch d {
	case 1:
		lo := h.lo + 1
		hi := h.hi
		if lo == 0 {
			hi++
		}
		return hashKey{hi, lo}
	case -1:
		lo := h.lo - 1
		hi := h.hi
		if h.lo == 0 {
			hi--
		}
		return hashKey{hi, lo}
	}
	return h
}
