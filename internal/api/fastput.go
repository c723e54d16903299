package api

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/riffle-streams/riffle/internal/engine"
)

// The PutRecords fast path. PutRecords carries almost all of a producer's
// traffic, and decoding it through generic JSON, model validation and
// reflection costs more than storing the records. decodePutRecordsFast
// decodes the common shape of the request straight into the engine's input,
// checking every constraint of the service model on the way; anything it is
// not certain about (escapes, non-ASCII partition keys, unknown members, a
// StreamARN, any constraint violation) makes it give up, and the request
// takes the general path, which produces AWS's exact errors. So the fast path
// changes speed, never answers.

// maxPutRecordsEntries is the model's bound on PutRecords' Records list.
const maxPutRecordsEntries = 500

// strictBase64 refuses non-zero padding bits, as AWS does ("Invalid last
// non-pad Base64 character").
var strictBase64 = base64.StdEncoding.Strict()

// maxDataBytes is the model's bound on a record's Data (10 MiB).
const maxDataBytes = 10 << 20

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips white space and the byte c, reporting whether it was there.
func (s *scanner) consume(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a JSON string without escapes or control characters and returns
// its bytes (aliasing the input); ok is false for anything else.
func (s *scanner) str() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

func validStreamName(v []byte) bool {
	if len(v) < 1 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// validPartitionKey accepts 1 to 256 ASCII characters (non-ASCII keys take
// the general path, which counts characters as AWS does).
func validPartitionKey(v []byte) bool {
	if len(v) < 1 || len(v) > 256 {
		return false
	}
	for _, c := range v {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// validHashKey matches the model's pattern 0|([1-9]\d{0,38}).
func validHashKey(v []byte) bool {
	if len(v) == 1 && v[0] == '0' {
		return true
	}
	if len(v) < 1 || len(v) > 39 || v[0] < '1' || v[0] > '9' {
		return false
	}
	for _, c := range v[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// decodePutRecordsFast decodes a PutRecords JSON body of the usual shape;
// ok is false if the general path must handle it.
func decodePutRecordsFast(body []byte) (in *engine.PutRecordsInput, ok bool) {
	s := &scanner{b: body}
	if !s.consume('{') {
		return nil, false
	}
	in = &engine.PutRecordsInput{}
	var data [][]byte // base64 text of each record
	seenName, seenRecords := false, false
	for first := true; ; first = false {
		if s.consume('}') {
			if first {
				return nil, false
			}
			break
		}
		if !first && !s.consume(',') {
			return nil, false
		}
		key, ok := s.str()
		if !ok || !s.consume(':') {
			return nil, false
		}
		switch string(key) {
		case "StreamName":
			v, ok := s.str()
			if !ok || seenName || !validStreamName(v) {
				return nil, false
			}
			in.StreamName, seenName = string(v), true
		case "Records":
			if seenRecords || !s.consume('[') {
				return nil, false
			}
			seenRecords = true
			for n := 0; ; n++ {
				if n == 0 && s.consume(']') {
					return nil, false // an empty list violates the model's minimum
				}
				if n > 0 {
					if s.consume(']') {
						break
					}
					if !s.consume(',') {
						return nil, false
					}
				}
				if n == maxPutRecordsEntries {
					return nil, false
				}
				e, b64, ok := s.entry()
				if !ok {
					return nil, false
				}
				in.Records = append(in.Records, e)
				data = append(data, b64)
			}
		default:
			return nil, false
		}
	}
	s.ws()
	if s.i != len(s.b) || !seenRecords {
		return nil, false
	}
	// Decode every record's data into one buffer.
	total := 0
	for _, d := range data {
		total += base64.StdEncoding.DecodedLen(len(d))
	}
	buf := make([]byte, total)
	off := 0
	for i, d := range data {
		n, err := strictBase64.Decode(buf[off:], d)
		if err != nil || n > maxDataBytes {
			return nil, false
		}
		in.Records[i].Data = buf[off : off+n : off+n]
		off += n
	}
	return in, true
}

// entry reads one PutRecordsRequestEntry; it returns the base64 text of its
// Data for decoding later.
func (s *scanner) entry() (e engine.PutRecordsRequestEntry, b64 []byte, ok bool) {
	if !s.consume('{') {
		return e, nil, false
	}
	var seenData, seenKey, seenHash bool
	for first := true; ; first = false {
		if s.consume('}') {
			break
		}
		if !first && !s.consume(',') {
			return e, nil, false
		}
		key, ok := s.str()
		if !ok || !s.consume(':') {
			return e, nil, false
		}
		v, ok := s.str()
		if !ok {
			return e, nil, false
		}
		switch string(key) {
		case "Data":
			if seenData {
				return e, nil, false
			}
			b64, seenData = v, true
		case "PartitionKey":
			if seenKey || !validPartitionKey(v) {
				return e, nil, false
			}
			e.PartitionKey, seenKey = string(v), true
		case "ExplicitHashKey":
			if seenHash || !validHashKey(v) {
				return e, nil, false
			}
			e.ExplicitHashKey, seenHash = string(v), true
		default:
			return e, nil, false
		}
	}
	return e, b64, seenData && seenKey
}

// appendPutRecordsOutput encodes a PutRecords response as JSON, with the
// members in the order the general encoder writes them.
func appendPutRecordsOutput(b []byte, out *engine.PutRecordsOutput) []byte {
	b = append(b, '{')
	if out.EncryptionType != "" {
		b = append(b, `"EncryptionType":`...)
		b = appendJSONString(b, out.EncryptionType)
		b = append(b, ',')
	}
	b = append(b, `"FailedRecordCount":`...)
	b = strconv.AppendInt(b, int64(out.FailedRecordCount), 10)
	b = append(b, `,"Records":[`...)
	for i, r := range out.Records {
		if i > 0 {
			b = append(b, ',')
		}
		if r.ErrorCode != "" {
			b = append(b, `{"ErrorCode":`...)
			b = appendJSONString(b, r.ErrorCode)
			b = append(b, `,"ErrorMessage":`...)
			b = appendJSONString(b, r.ErrorMessage)
			b = append(b, '}')
			continue
		}
		b = append(b, `{"SequenceNumber":"`...)
		b = append(b, r.SequenceNumber...)
		b = append(b, `","ShardId":"`...)
		b = append(b, r.ShardId...)
		b = append(b, `"}`...)
	}
	return append(b, "]}"...)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// putRecordsFast runs a PutRecords decoded by the fast path.
func (h *Handler) putRecordsFast(w http.ResponseWriter, r *http.Request, in *engine.PutRecordsInput) (int, string) {
	out, err := h.eng.PutRecords(engine.WithCaller(r.Context(), callerOf(r)), in)
	if err != nil {
		ae := toAPIError(err)
		if ae.Status == http.StatusInternalServerError {
			h.opts.Logger.Error("operation failed", "op", "PutRecords", "err", err)
		}
		return writeError(w, ae)
	}
	b := appendPutRecordsOutput(make([]byte, 0, 64+len(out.Records)*110), out)
	w.Header().Set("Content-Type", jsonContentType)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return http.StatusOK, ""
}
