// Package kpl decodes records aggregated by the Kinesis Producer Library
// (KPL) and compatible aggregators, so that a consumer sees the user records
// a producer wrote rather than the Kinesis records that carried them.
//
// # Format
//
// An aggregated Kinesis record's data is
//
//	+---------------+--------------------------------+-----------------+
//	| magic (4 B)   | AggregatedRecord (protobuf)    | MD5 (16 B)      |
//	| F3 89 9A C2   |                                | of the protobuf |
//	+---------------+--------------------------------+-----------------+
//
// where the protobuf message is (proto2):
//
//	message AggregatedRecord {
//	  repeated string partition_key_table     = 1;
//	  repeated string explicit_hash_key_table = 2;
//	  repeated Record records                 = 3;
//	}
//	message Record {
//	  required uint64 partition_key_index     = 1;
//	  optional uint64 explicit_hash_key_index = 2;
//	  required bytes  data                    = 3;
//	  repeated Tag    tags                    = 4;
//	}
//	message Tag {
//	  required string key   = 1;
//	  optional string value = 2;
//	}
//
// Each user record's partition key (and explicit hash key, if any) is an
// index into the tables. The user records share the Kinesis record's sequence
// number and are told apart by their position, the subsequence number.
//
// Deaggregate never trusts its input: a record that does not start with the
// magic, is too short, fails the MD5 check or does not parse is not
// aggregated, and the caller keeps it as it is (as the KCL does).
package kpl

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Magic is the prefix of every aggregated record.
var Magic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// md5Len is the length of the trailing checksum.
const md5Len = md5.Size

// Errors returned by Deaggregate, wrapped with detail.
var (
	// ErrNotAggregated means the data does not start with Magic or is too
	// short to hold the magic and the checksum: an ordinary record.
	ErrNotAggregated = errors.New("kpl: not an aggregated record")
	// ErrChecksum means the trailing MD5 does not match the protobuf message:
	// the record was corrupted, or only looks aggregated by accident.
	ErrChecksum = errors.New("kpl: MD5 checksum mismatch")
	// ErrMalformed means the checksum matched but the protobuf message is not
	// a valid AggregatedRecord (bad wire format, index out of range, missing
	// required field).
	ErrMalformed = errors.New("kpl: malformed aggregated record")
)

// Record is one user record unpacked from an aggregated record. Data aliases
// the input slice.
type Record struct {
	PartitionKey    string
	ExplicitHashKey string // "" when the record has none
	Data            []byte
	Tags            []Tag
}

// Tag is a user record's key-value tag (written by the KPL, rarely used).
type Tag struct {
	Key, Value string
}

// IsAggregated reports whether data starts with the magic and is long enough
// to be an aggregated record. It does not check the checksum.
func IsAggregated(data []byte) bool {
	return len(data) >= len(Magic)+md5Len && bytes.HasPrefix(data, Magic)
}

// Deaggregate unpacks the user records of an aggregated record, in
// subsequence order. It returns an error wrapping ErrNotAggregated,
// ErrChecksum or ErrMalformed when data is not a well-formed aggregated
// record; the caller then treats data as one ordinary record. An aggregated
// record holding no user records yields an empty slice and no error.
func Deaggregate(data []byte) ([]Record, error) {
	if !IsAggregated(data) {
		return nil, ErrNotAggregated
	}
	body := data[len(Magic) : len(data)-md5Len]
	sum := md5.Sum(body)
	if !bytes.Equal(sum[:], data[len(data)-md5Len:]) {
		return nil, ErrChecksum
	}
	var (
		pkTable, ehkTable []string
		raw               [][]byte
	)
	d := decoder{buf: body}
	for !d.done() {
		field, wt, err := d.key()
		if err != nil {
			return nil, err
		}
		switch {
		case field == 1 && wt == wireBytes:
			s, err := d.str()
			if err != nil {
				return nil, err
			}
			pkTable = append(pkTable, s)
		case field == 2 && wt == wireBytes:
			s, err := d.str()
			if err != nil {
				return nil, err
			}
			ehkTable = append(ehkTable, s)
		case field == 3 && wt == wireBytes:
			b, err := d.bytes()
			if err != nil {
				return nil, err
			}
			raw = append(raw, b)
		default:
			if err := d.skip(wt); err != nil {
				return nil, err
			}
		}
	}
	out := make([]Record, 0, len(raw))
	for i, b := range raw {
		r, err := decodeRecord(b, pkTable, ehkTable)
		if err != nil {
			return nil, fmt.Errorf("user record %d: %w", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// decodeRecord parses one Record message and resolves its table indexes.
func decodeRecord(b []byte, pkTable, ehkTable []string) (Record, error) {
	var (
		r             Record
		pkIdx, ehkIdx uint64
		havePK        bool
		haveEHK       bool
		haveData      bool
	)
	d := decoder{buf: b}
	for !d.done() {
		field, wt, err := d.key()
		if err != nil {
			return r, err
		}
		switch {
		case field == 1 && wt == wireVarint:
			if pkIdx, err = d.varint(); err != nil {
				return r, err
			}
			havePK = true
		case field == 2 && wt == wireVarint:
			if ehkIdx, err = d.varint(); err != nil {
				return r, err
			}
			haveEHK = true
		case field == 3 && wt == wireBytes:
			if r.Data, err = d.bytes(); err != nil {
				return r, err
			}
			haveData = true
		case field == 4 && wt == wireBytes:
			tb, err := d.bytes()
			if err != nil {
				return r, err
			}
			t, err := decodeTag(tb)
			if err != nil {
				return r, err
			}
			r.Tags = append(r.Tags, t)
		default:
			if err := d.skip(wt); err != nil {
				return r, err
			}
		}
	}
	if !havePK || !haveData {
		return r, fmt.Errorf("%w: missing partition_key_index or data", ErrMalformed)
	}
	if pkIdx >= uint64(len(pkTable)) {
		return r, fmt.Errorf("%w: partition_key_index %d, table has %d", ErrMalformed, pkIdx, len(pkTable))
	}
	r.PartitionKey = pkTable[pkIdx]
	if haveEHK {
		if ehkIdx >= uint64(len(ehkTable)) {
			return r, fmt.Errorf("%w: explicit_hash_key_index %d, table has %d", ErrMalformed, ehkIdx, len(ehkTable))
		}
		r.ExplicitHashKey = ehkTable[ehkIdx]
	}
	return r, nil
}

func decodeTag(b []byte) (Tag, error) {
	var t Tag
	d := decoder{buf: b}
	for !d.done() {
		field, wt, err := d.key()
		if err != nil {
			return t, err
		}
		switch {
		case field == 1 && wt == wireBytes:
			if t.Key, err = d.str(); err != nil {
				return t, err
			}
		case field == 2 && wt == wireBytes:
			if t.Value, err = d.str(); err != nil {
				return t, err
			}
		default:
			if err := d.skip(wt); err != nil {
				return t, err
			}
		}
	}
	return t, nil
}

// Protobuf wire types used by the format (the others are skipped).
const (
	wireVarint = 0
	wireI64    = 1
	wireBytes  = 2
	wireI32    = 5
)

// decoder reads protobuf wire format from buf. Every read is bounds-checked;
// a truncated or overlong field is ErrMalformed, never a panic.
type decoder struct {
	buf []byte
	off int
}

func (d *decoder) done() bool { return d.off >= len(d.buf) }

func (d *decoder) varint() (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if d.off >= len(d.buf) {
			return 0, fmt.Errorf("%w: truncated varint", ErrMalformed)
		}
		b := d.buf[d.off]
		d.off++
		v |= uint64(b&0x7F) << shift
		if b < 0x80 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: varint longer than 10 bytes", ErrMalformed)
}

func (d *decoder) key() (field uint64, wireType int, err error) {
	k, err := d.varint()
	if err != nil {
		return 0, 0, err
	}
	if k>>3 == 0 {
		return 0, 0, fmt.Errorf("%w: field number 0", ErrMalformed)
	}
	return k >> 3, int(k & 7), nil
}

func (d *decoder) bytes() ([]byte, error) {
	n, err := d.varint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.buf)-d.off) {
		return nil, fmt.Errorf("%w: field of %d bytes overruns the message", ErrMalformed, n)
	}
	b := d.buf[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return b, nil
}

// str reads a string field; proto2 does not require UTF-8, but partition
// keys are Unicode strings, so invalid UTF-8 means this is not a KPL record.
func (d *decoder) str() (string, error) {
	b, err := d.bytes()
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%w: string field is not UTF-8", ErrMalformed)
	}
	return string(b), nil
}

func (d *decoder) skip(wireType int) error {
	var n int
	switch wireType {
	case wireVarint:
		_, err := d.varint()
		return err
	case wireBytes:
		_, err := d.bytes()
		return err
	case wireI64:
		n = 8
	case wireI32:
		n = 4
	default:
		// Groups (3, 4) are not used by the format and 6, 7 do not exist.
		return fmt.Errorf("%w: unsupported wire type %d", ErrMalformed, wireType)
	}
	if n > len(d.buf)-d.off {
		return fmt.Errorf("%w: truncated fixed-width field", ErrMalformed)
	}
	d.off += n
	return nil
}

// Aggregate encodes records in the aggregated format. It exists for tests
// and for producers that want to pack small records; it writes one table
// entry per distinct key.
func Aggregate(records []Record) []byte {
	var pks, ehks []string
	pkIdx := map[string]uint64{}
	ehkIdx := map[string]uint64{}
	var body []byte
	var recs [][]byte
	for _, r := range records {
		i, ok := pkIdx[r.PartitionKey]
		if !ok {
			i = uint64(len(pks))
			pkIdx[r.PartitionKey] = i
			pks = append(pks, r.PartitionKey)
		}
		var rb []byte
		rb = appendVarintField(rb, 1, i)
		if r.ExplicitHashKey != "" {
			j, ok := ehkIdx[r.ExplicitHashKey]
			if !ok {
				j = uint64(len(ehks))
				ehkIdx[r.ExplicitHashKey] = j
				ehks = append(ehks, r.ExplicitHashKey)
			}
			rb = appendVarintField(rb, 2, j)
		}
		rb = appendBytesField(rb, 3, r.Data)
		for _, t := range r.Tags {
			var tb []byte
			tb = appendBytesField(tb, 1, []byte(t.Key))
			tb = appendBytesField(tb, 2, []byte(t.Value))
			rb = appendBytesField(rb, 4, tb)
		}
		recs = append(recs, rb)
	}
	for _, s := range pks {
		body = appendBytesField(body, 1, []byte(s))
	}
	for _, s := range ehks {
		body = appendBytesField(body, 2, []byte(s))
	}
	for _, rb := range recs {
		body = appendBytesField(body, 3, rb)
	}
	sum := md5.Sum(body)
	out := make([]byte, 0, len(Magic)+len(body)+md5Len)
	out = append(out, Magic...)
	out = append(out, body...)
	return append(out, sum[:]...)
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendVarintField(b []byte, field, v uint64) []byte {
	return appendVarint(appendVarint(b, field<<3|wireVarint), v)
}

func appendBytesField(b []byte, field uint64, v []byte) []byte {
	b = appendVarint(b, field<<3|wireBytes)
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}
