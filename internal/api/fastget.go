package api

import (
	"encoding/base64"
	"strconv"
	"sync"

	"github.com/riffle-streams/riffle/internal/engine"
)

// appendGetRecordsOutput encodes a GetRecords response as JSON by hand: a
// drain spends most of its time encoding records, and the general encoder
// goes through a generic tree and reflection. The members come in the order
// the general encoder writes them (sorted), and values in the same forms; a
// response with ChildShards (the end of a closed shard, rare) is left to the
// general encoder (ok is false).
func appendGetRecordsOutput(b []byte, out *engine.GetRecordsOutput) (_ []byte, ok bool) {
	if out.ChildShards != nil {
		return b, false
	}
	b = append(b, `{"MillisBehindLatest":`...)
	b = strconv.AppendInt(b, out.MillisBehindLatest, 10)
	if out.NextShardIterator != "" {
		b = append(b, `,"NextShardIterator":`...)
		b = appendJSONString(b, out.NextShardIterator)
	}
	b = append(b, `,"Records":[`...)
	for i := range out.Records {
		r := &out.Records[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if !r.ApproximateArrivalTimestamp.IsZero() {
			b = append(b, `"ApproximateArrivalTimestamp":`...)
			b = appendEpochMillis(b, r.ApproximateArrivalTimestamp.UnixMilli())
			b = append(b, ',')
		}
		b = append(b, `"Data":"`...)
		b = base64.StdEncoding.AppendEncode(b, r.Data)
		b = append(b, '"')
		if r.EncryptionType != "" {
			b = append(b, `,"EncryptionType":`...)
			b = appendJSONString(b, r.EncryptionType)
		}
		if r.PartitionKey != "" {
			b = append(b, `,"PartitionKey":`...)
			b = appendJSONString(b, r.PartitionKey)
		}
		b = append(b, `,"SequenceNumber":"`...)
		b = append(b, r.SequenceNumber...)
		b = append(b, `"}`...)
	}
	return append(b, "]}"...), true
}

// Response buffers of GetRecords (up to tens of MiB) are reused: allocating
// and zeroing one per call was a sixth of a drain's server time. Write copies
// or sends the bytes before it returns, so a buffer is free again after it.
var responseBuffers sync.Pool

// maxPooledBuffer keeps the pool from holding on to unusually large buffers.
const maxPooledBuffer = 32 << 20

func getResponseBuffer(size int) *[]byte {
	if p, ok := responseBuffers.Get().(*[]byte); ok && cap(*p) >= size {
		return p
	}
	b := make([]byte, 0, size)
	return &b
}

func putResponseBuffer(p *[]byte) {
	if cap(*p) <= maxPooledBuffer {
		*p = (*p)[:0]
		responseBuffers.Put(p)
	}
}

// recordOverhead is what a record's JSON takes besides its data and key: its
// punctuation and member names, a 56-digit sequence number and a timestamp
// with milliseconds (151 bytes), and room for an EncryptionType or a few
// escaped characters.
const recordOverhead = 192

// getRecordsSize estimates the encoded size of a response, to allocate once:
// a response that outgrows it is copied whole into a larger buffer.
func getRecordsSize(out *engine.GetRecordsOutput) int {
	n := 128 + len(out.NextShardIterator)
	for i := range out.Records {
		r := &out.Records[i]
		n += recordOverhead + base64.StdEncoding.EncodedLen(len(r.Data)) + len(r.PartitionKey)
	}
	return n
}

// appendEpochMillis appends ms milliseconds since the epoch as seconds, in
// the form strconv.AppendFloat(float64(ms)/1000, 'f', -1, 64) gives (no
// trailing zeros in the fraction), without converting through a float: a
// drain formats one per record.
func appendEpochMillis(b []byte, ms int64) []byte {
	if ms < 0 {
		return strconv.AppendFloat(b, float64(ms)/1000, 'f', -1, 64)
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	frac := ms % 1000
	if frac == 0 {
		return b
	}
	digits := [3]byte{byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := 3
	for digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}
