package apimodel

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// javaBytes names the Java type a binary (byte string) value reaches AWS's front end as, for the
// type-mismatch messages of binary codecs. AWS's wording for this case is not recorded anywhere
// we know of; this follows the pattern of the recorded messages.
const javaBytes = "class java.nio.HeapByteBuffer"

// Check type-checks and validates a request that a binary codec (CBOR, application/x-amz-cbor-1.1)
// has already decoded into a generic tree (normally a map), and returns it normalised for binding, exactly as
// Decode does for JSON 1.1: the same errors (*SerializationError, *ValidationError), members AWS
// ignores dropped, integers truncated and saturated as json.Number.
//
// The tree holds map[string]any, []any, nil, string, bool, []byte, integers as json.Number
// (an integer literal of any size) and floats as float64. Timestamps follow AWS's CBOR
// convention, tagged or not: an integer is epoch milliseconds (what the AWS SDKs for Java write,
// under tag 1), a float is epoch seconds with a fraction (RFC 8949's tag 1 form, what generic
// CBOR encoders write). Blobs are byte strings; a base64 text string is accepted as well, since
// AWS's parser reads text as base64 where it wants binary.
//
// In the result, blobs are []byte and timestamps are time.Time in UTC. Validation accepts both
// forms alongside the JSON ones.
func Check(op string, v any) (map[string]any, error) {
	o, ok := kinesis.Operations[op]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownOperation, op)
	}
	input := emptyInput
	if o.Input != "" {
		input = kinesis.Shapes[o.Input]
	}
	out := map[string]any{} // a top-level null reads as an input with no members
	if v != nil {
		x, err := treeValue(input, v)
		if err != nil {
			return nil, err
		}
		out = x.(map[string]any)
	}
	if vs := validate(input, out); len(vs) > 0 {
		return nil, &ValidationError{Violations: vs}
	}
	return out, nil
}

// treeValue checks one non-nil value against shape s, reusing the JSON path's scalar readers
// (and so AWS's wording) wherever the value has a JSON counterpart.
func treeValue(s *shape, val any) (any, error) {
	switch s.Type {
	case typeStructure, typeList, typeMap:
		return treeContainer(s, val)
	}
	if b, ok := val.([]byte); ok {
		if s.Type == typeBlob {
			return b, nil
		}
		return nil, mismatch(javaBytes + " can not be converted to " + article(s.Type) + javaTypeName(s.Type))
	}
	tok, err := treeToken(val)
	if err != nil {
		return nil, err
	}
	switch s.Type {
	case typeString:
		return stringValue(tok)
	case typeInteger:
		return integerValue(tok, "Integer", math.MinInt32, math.MaxInt32)
	case typeLong:
		return integerValue(tok, "Long", math.MinInt64, math.MaxInt64)
	case typeBoolean:
		return booleanValue(tok)
	case typeBlob:
		if _, err := blobValue(tok); err != nil {
			return nil, err
		}
		// blobValue accepted strict base64 text.
		return base64.StdEncoding.DecodeString(tok.(string))
	case typeTimestamp:
		return treeTimestamp(tok, val)
	}
	return nil, fmt.Errorf("apimodel: shape %s has unsupported type %q", s.name, s.Type)
}

// treeToken turns a scalar of the tree into the token form the JSON readers take (string, bool,
// json.Number). A float is written in Go's shortest exact form; NaN has no number form and is
// refused as unreadable, as a JSON body cannot express it either.
func treeToken(val any) (any, error) {
	switch v := val.(type) {
	case string, bool, json.Number:
		return v, nil
	case float64:
		if math.IsNaN(v) {
			return nil, syntaxError()
		}
		if math.IsInf(v, 0) {
			v = math.Copysign(math.MaxFloat64, v)
		}
		return json.Number(strconv.FormatFloat(v, 'g', -1, 64)), nil
	}
	return nil, syntaxError()
}

// treeTimestamp reads a timestamp: integers are epoch milliseconds, floats epoch seconds.
func treeTimestamp(tok, val any) (any, error) {
	n, ok := tok.(json.Number)
	if !ok {
		return timestampValue(tok) // AWS's message for a string or boolean
	}
	if _, isFloat := val.(float64); isFloat {
		f, _ := strconv.ParseFloat(string(n), 64)
		return EpochSeconds(f), nil
	}
	return time.UnixMilli(truncate(string(n), math.MinInt64, math.MaxInt64)).UTC(), nil
}

// EpochSeconds converts epoch seconds with a fraction to a time, rounded to the microsecond:
// binary floats cannot hold most decimal fractions, and 1700000000.123 must read as .123, not
// .122999906. Values beyond the int64 range of seconds saturate.
func EpochSeconds(f float64) time.Time {
	sec, frac := math.Modf(f)
	if sec >= math.MaxInt64/2 || sec <= math.MinInt64/2 {
		sec = math.Copysign(math.MaxInt64/2, sec)
		frac = 0
	}
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
}

func treeContainer(s *shape, val any) (any, error) {
	switch v := val.(type) {
	case map[string]any:
		switch s.Type {
		case typeStructure:
			return treeStructure(s, v)
		case typeMap:
			out := make(map[string]any, len(v))
			for k, e := range v {
				if e == nil {
					// Kept: the validator reports a null map value.
					out[k] = nil
					continue
				}
				x, err := treeValue(s.value, e)
				if err != nil {
					return nil, err
				}
				out[k] = x
			}
			return out, nil
		}
		return nil, mismatch(msgStartObject)
	case []any:
		if s.Type != typeList {
			return nil, mismatch(msgStartList)
		}
		out := make([]any, len(v))
		for i, e := range v {
			if e == nil {
				continue // the validator reports a null element
			}
			x, err := treeValue(s.member, e)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	}
	switch s.Type {
	case typeStructure:
		return nil, mismatch(msgExpectStruct)
	case typeList:
		return nil, mismatch(msgExpectList)
	default:
		return nil, mismatch(msgExpectMap)
	}
}

// treeStructure keeps the members the shape defines, in model order (a decoded map has no
// document order; the model's makes the first reported mismatch deterministic), and drops
// unknown and null ones as AWS does.
func treeStructure(s *shape, obj map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for i := range s.Members {
		m := &s.Members[i]
		e := obj[m.wireName()]
		if e == nil {
			continue
		}
		x, err := treeValue(m.shape, e)
		if err != nil {
			return nil, err
		}
		out[m.wireName()] = x
	}
	return out, nil
}

// javaTypeName is the Java type AWS names for a scalar shape in a conversion message.
func javaTypeName(typ string) string {
	switch typ {
	case typeString:
		return "String"
	case typeInteger:
		return "Integer"
	case typeLong:
		return "Long"
	case typeBoolean:
		return "Boolean"
	case typeTimestamp:
		return "milliseconds since epoch"
	}
	return typ
}

// article is the article AWS puts before the type name: "an" before class names (AWS's grammar,
// "an String"), none before "milliseconds since epoch".
func article(typ string) string {
	if typ == typeTimestamp {
		return ""
	}
	return "an "
}

// blobBytes returns a blob value's bytes, from either tree form: base64 text (JSON 1.1) or
// []byte (binary codecs).
func blobBytes(val any) []byte {
	switch v := val.(type) {
	case []byte:
		return v
	case string:
		b, _ := base64.StdEncoding.DecodeString(v)
		return b
	}
	return nil
}
