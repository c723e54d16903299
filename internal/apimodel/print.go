package apimodel

import (
	"encoding/json"
	"strconv"
	"strings"
)

// javaPackage is the package of AWS's generated request classes; a structure inside a list is
// printed as that class's Object.toString().
const javaPackage = "com.amazonaws.kinesis.v20131202."

// quoted prints a non-null value for "Value '...' at": strings raw and unescaped, numbers in
// decimal, blobs as the Java ByteBuffer AWS holds them in, lists as "[a, b]", maps as
// "{k=v, ...}".
func quoted(s *shape, val any) string {
	return "'" + printValue(s, val) + "'"
}

func printValue(s *shape, val any) string {
	if val == nil {
		return "null"
	}
	switch s.Type {
	case typeBlob:
		n := strconv.Itoa(len(blobBytes(val)))
		return "java.nio.HeapByteBuffer[pos=0 lim=" + n + " cap=" + n + "]"
	case typeList:
		elems, _ := val.([]any)
		parts := make([]string, len(elems))
		for i, e := range elems {
			parts[i] = printValue(s.member, e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case typeMap:
		obj, _ := val.(map[string]any)
		keys := mapOrder(obj)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + printValue(s.value, obj[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case typeStructure:
		return javaPackage + s.name + "@" + strconv.FormatUint(uint64(javaHash(s, val)), 16)
	}
	switch v := val.(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// javaHash approximates the hashCode of AWS's generated class for a value: for a structure, 1
// plus the sum of its members' hashes. The one recorded case (a PutRecordsRequestEntry with an
// empty partition key and empty data printed as "@2") fits; the rule is otherwise a guess, and
// only ever shows inside a list that breaks a length constraint.
func javaHash(s *shape, val any) uint32 {
	switch s.Type {
	case typeStructure:
		obj, _ := val.(map[string]any)
		h := uint32(1)
		for i := range s.Members {
			m := &s.Members[i]
			if e, ok := obj[m.wireName()]; ok && e != nil {
				h += javaHash(m.shape, e)
			}
		}
		return h
	case typeString:
		str, _ := val.(string)
		return javaStringHash(str)
	case typeBlob:
		// java.nio.ByteBuffer.hashCode: from the last byte to the first, signed bytes.
		b := blobBytes(val)
		h := uint32(1)
		for i := len(b) - 1; i >= 0; i-- {
			h = 31*h + uint32(int32(int8(b[i])))
		}
		return h
	case typeInteger, typeLong:
		n, _ := val.(json.Number)
		i, _ := strconv.ParseInt(string(n), 10, 64)
		return uint32(i ^ int64(uint64(i)>>32))
	case typeBoolean:
		if b, _ := val.(bool); b {
			return 1231
		}
		return 1237
	case typeList:
		elems, _ := val.([]any)
		h := uint32(1)
		for _, e := range elems {
			var eh uint32
			if e != nil {
				eh = javaHash(s.member, e)
			}
			h = 31*h + eh
		}
		return h
	case typeMap:
		obj, _ := val.(map[string]any)
		var h uint32
		for k, e := range obj {
			var eh uint32
			if e != nil {
				eh = javaHash(s.value, e)
			}
			h += javaStringHash(k) ^ eh
		}
		return h
	}
	return 0
}
