package apimodel

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Type-mismatch messages, as AWS's JSON 1.1 front end words them (recorded by kinesalite, see
// doc.go). "an String" and "dectected" are AWS's spelling.
const (
	msgStartList    = "Start of list found where not expected"
	msgStartObject  = "Start of structure or map found where not expected."
	msgExpectList   = "Expected list or null"
	msgExpectMap    = "Expected map or null"
	msgExpectStruct = "Expected null"
	javaBoolean     = "class java.lang.Boolean"
	javaString      = "class java.lang.String"
	javaNumber      = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
)

// Decode parses a JSON 1.1 request body for op. It returns the body as generic JSON (map[string]any, numbers as
// json.Number) after checking it against the input shape: types first (a type mismatch or unparsable body is a
// *SerializationError with AWS's message), then constraints (a *ValidationError listing every violation).
//
// The returned map holds only the input shape's members, under their wire names; members AWS
// ignores (unknown ones, and null ones) are dropped. Values are normalised the way AWS reads them,
// so that decoding the map (re-marshalled) into typed structs cannot fail:
//   - integer and long members are truncated toward zero and saturated to int32 or int64,
//     as json.Number;
//   - timestamps are finite float64 epoch seconds, as json.Number;
//   - the boolean strings AWS accepts ("true", "false", "yes", "no", "1", "0", any case)
//     become bool;
//   - blobs stay base64 strings, and are valid standard, padded base64.
//
// An empty body is a *SerializationError without a message, as AWS answers it. An op the model
// does not define gives ErrUnknownOperation.
func Decode(op string, body []byte) (map[string]any, error) {
	o, ok := kinesis.Operations[op]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownOperation, op)
	}
	input := emptyInput
	if o.Input != "" {
		input = kinesis.Shapes[o.Input]
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &SerializationError{}
	}
	d := &typeDecoder{dec: json.NewDecoder(bytes.NewReader(body))}
	d.dec.UseNumber()
	v, err := d.value(input)
	if err != nil {
		return nil, err
	}
	// Exactly one JSON value: anything after it is a malformed body.
	if _, err := d.dec.Token(); err != io.EOF {
		return nil, &SerializationError{}
	}
	obj, _ := v.(map[string]any)
	if obj == nil {
		// A top-level null reads as an input with no members.
		obj = map[string]any{}
	}
	if vs := validate(input, obj); len(vs) > 0 {
		return nil, &ValidationError{Violations: vs}
	}
	return obj, nil
}

// emptyInput stands in for an operation without an input shape.
var emptyInput = &shape{name: "Empty", Type: typeStructure}

// typeDecoder reads one JSON value per call, in document order, checking it against a shape.
// The first mismatch ends the decode, as in AWS's streaming parser.
type typeDecoder struct {
	dec *json.Decoder
}

// syntaxError is what any malformed JSON becomes: AWS answers it without a message.
func syntaxError() error { return &SerializationError{} }

func mismatch(msg string) error { return &SerializationError{Message: msg} }

// value reads the next JSON value as shape s. JSON null yields nil for every shape.
func (d *typeDecoder) value(s *shape) (any, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return nil, syntaxError()
	}
	if tok == nil {
		return nil, nil
	}
	if delim, ok := tok.(json.Delim); ok {
		switch {
		case delim == '{' && s.Type == typeStructure:
			return d.structure(s)
		case delim == '{' && s.Type == typeMap:
			return d.mapValue(s)
		case delim == '[' && s.Type == typeList:
			return d.list(s)
		case delim == '{':
			return nil, mismatch(msgStartObject)
		case delim == '[':
			return nil, mismatch(msgStartList)
		default:
			return nil, syntaxError()
		}
	}
	switch s.Type {
	case typeStructure:
		return nil, mismatch(msgExpectStruct)
	case typeList:
		return nil, mismatch(msgExpectList)
	case typeMap:
		return nil, mismatch(msgExpectMap)
	case typeString:
		return stringValue(tok)
	case typeInteger:
		return integerValue(tok, "Integer", math.MinInt32, math.MaxInt32)
	case typeLong:
		return integerValue(tok, "Long", math.MinInt64, math.MaxInt64)
	case typeBoolean:
		return booleanValue(tok)
	case typeBlob:
		return blobValue(tok)
	case typeTimestamp:
		return timestampValue(tok)
	}
	return nil, fmt.Errorf("apimodel: shape %s has unsupported type %q", s.name, s.Type)
}

// structure reads the members of an object whose '{' was consumed. Unknown members are read
// and dropped, as AWS ignores them.
func (d *typeDecoder) structure(s *shape) (any, error) {
	obj := map[string]any{}
	for d.dec.More() {
		key, err := d.key()
		if err != nil {
			return nil, err
		}
		m := s.memberByWire(key)
		if m == nil {
			if err := d.skip(); err != nil {
				return nil, err
			}
			continue
		}
		v, err := d.value(m.shape)
		if err != nil {
			return nil, err
		}
		if v == nil {
			delete(obj, key)
			continue
		}
		obj[key] = v
	}
	return obj, d.end()
}

func (d *typeDecoder) mapValue(s *shape) (any, error) {
	obj := map[string]any{}
	for d.dec.More() {
		key, err := d.key()
		if err != nil {
			return nil, err
		}
		v, err := d.value(s.value)
		if err != nil {
			return nil, err
		}
		obj[key] = v
	}
	return obj, d.end()
}

func (d *typeDecoder) list(s *shape) (any, error) {
	out := []any{}
	for d.dec.More() {
		v, err := d.value(s.member)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, d.end()
}

func (d *typeDecoder) key() (string, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return "", syntaxError()
	}
	k, ok := tok.(string)
	if !ok {
		return "", syntaxError()
	}
	return k, nil
}

// end consumes the closing delimiter of an object or array.
func (d *typeDecoder) end() error {
	if _, err := d.dec.Token(); err != nil {
		return syntaxError()
	}
	return nil
}

// skip reads and discards one value of any depth without recursion, so that a deeply nested
// unknown member costs memory proportional to its depth and nothing more.
func (d *typeDecoder) skip() error {
	depth := 0
	for {
		tok, err := d.dec.Token()
		if err != nil {
			return syntaxError()
		}
		if delim, ok := tok.(json.Delim); ok {
			if delim == '{' || delim == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// memberByWire finds the member whose JSON key is key. Keys match exactly, as in AWS.
func (s *shape) memberByWire(key string) *member {
	for i := range s.Members {
		if s.Members[i].wireName() == key {
			return &s.Members[i]
		}
	}
	return nil
}

func stringValue(tok any) (any, error) {
	switch v := tok.(type) {
	case string:
		return v, nil
	case bool:
		return nil, mismatch(javaBoolean + " can not be converted to an String")
	case json.Number:
		return nil, mismatch(javaNumber + " can not be converted to an String")
	}
	return nil, syntaxError()
}

// integerValue reads a number as AWS's TruncatingBigNumber does: the fraction is dropped
// (toward zero) and the result saturates at the type's range.
func integerValue(tok any, javaType string, lo, hi int64) (any, error) {
	switch v := tok.(type) {
	case string:
		return nil, mismatch(javaString + " can not be converted to an " + javaType)
	case bool:
		return nil, mismatch(javaBoolean + " can not be converted to an " + javaType)
	case json.Number:
		return json.Number(strconv.FormatInt(truncate(string(v), lo, hi), 10)), nil
	}
	return nil, syntaxError()
}

// truncate converts a JSON number to an integer in [lo, hi], truncating toward zero. Exponents
// of any size are safe: big.Float keeps a binary exponent, never the decimal expansion.
func truncate(num string, lo, hi int64) int64 {
	f, _, err := big.ParseFloat(num, 10, 64, big.ToZero)
	if err != nil {
		// Only an exponent literal beyond big.Float's range gets here: the value is zero or
		// saturates by sign.
		mant, exp, _ := strings.Cut(strings.ToLower(num), "e")
		switch {
		case strings.Trim(mant, "-0.") == "", strings.HasPrefix(exp, "-"):
			return 0
		case strings.HasPrefix(mant, "-"):
			return lo
		default:
			return hi
		}
	}
	i, _ := f.Int64() // truncates toward zero and saturates at the int64 range
	return max(lo, min(hi, i))
}

// booleanValue accepts JSON booleans and the strings AWS converts (kinesalite's recording: "true",
// "false", "yes", "no", "1", "0"); any other string is echoed upper-cased, as AWS does.
func booleanValue(tok any) (any, error) {
	switch v := tok.(type) {
	case bool:
		return v, nil
	case json.Number:
		return nil, mismatch(javaNumber + " can not be converted to an Boolean")
	case string:
		switch strings.ToLower(v) {
		case "true", "yes", "1":
			return true, nil
		case "false", "no", "0":
			return false, nil
		}
		return nil, mismatch("'" + strings.ToUpper(v) + "' can not be converted to an Boolean")
	}
	return nil, syntaxError()
}

// blobValue checks a base64 blob the way AWS does, in AWS's order: length first, then alphabet
// (a '=' may only be followed by '='), then the padding bits.
func blobValue(tok any) (any, error) {
	switch v := tok.(type) {
	case bool:
		return nil, mismatch(javaBoolean + " can not be converted to a Blob")
	case json.Number:
		return nil, mismatch(javaNumber + " can not be converted to a Blob")
	case string:
		prefix := "'" + v + "' can not be converted to a Blob: "
		if n := len(utf16.Encode([]rune(v))); n%4 != 0 {
			return nil, mismatch(prefix + "Base64 encoded length is expected a multiple of 4 bytes but found: " +
				strconv.Itoa(n))
		}
		if c, ok := badBase64Char(v); ok {
			return nil, mismatch(prefix + "Invalid Base64 character: '" + c + "'")
		}
		if _, err := base64.StdEncoding.Strict().DecodeString(v); err != nil {
			return nil, mismatch(prefix + "Invalid last non-pad Base64 character dectected")
		}
		return v, nil
	}
	return nil, syntaxError()
}

// badBase64Char returns the first character outside the base64 alphabet, or a '=' that is
// followed by something other than '='.
func badBase64Char(s string) (string, bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '+', r == '/':
		case r == '=':
			if i+1 < len(s) && s[i+1] != '=' {
				return "=", true
			}
		default:
			return string(r), true
		}
		i += size
	}
	return "", false
}

// timestampValue reads epoch seconds (a fraction allowed). A number beyond float64's range is
// saturated so that typed decoding cannot fail on it.
func timestampValue(tok any) (any, error) {
	switch v := tok.(type) {
	case string:
		return nil, mismatch(javaString + " can not be converted to milliseconds since epoch")
	case bool:
		return nil, mismatch(javaBoolean + " can not be converted to milliseconds since epoch")
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, strconv.ErrRange) {
			return nil, syntaxError()
		}
		if math.IsInf(f, 0) {
			f = math.Copysign(math.MaxFloat64, f)
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	return nil, syntaxError()
}
