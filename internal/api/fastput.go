package api

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/riffle-streams/riffle/internal/bufpool"
	"github.com/riffle-streams/riffle/internal/engine"
)

// The PutRecords and PutRecord fast paths. The two carry almost all of a
// producer's traffic, and decoding them through generic JSON, model
// validation and reflection costs more than storing the records (for one
// record, as much as a tenth of a PutRecord's latency on a fast disk).
// decodePutRecordsFast and decodePutRecordFast decode the common shape of
// the request straight into the engine's input,
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

// rawStr reads a JSON string up to the next quote without looking at its
// content: for Data, whose base64 decoding then refuses anything but the
// alphabet (so an escape or a control character, both invalid base64 here,
// makes the fast path give up too). Data is most of every request, so this
// scan is worth its own SIMD-backed loop.
func (s *scanner) rawStr() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	n := bytes.IndexByte(s.b[s.i:], '"')
	if n < 0 {
		return nil, false
	}
	v := s.b[s.i : s.i+n]
	s.i += n + 1
	return v, true
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
// ok is false if the general path must handle it. The records' data is in
// data, a bufpool buffer the caller returns once the records are stored; the
// input refers to nothing else of body.
func decodePutRecordsFast(body []byte) (in *engine.PutRecordsInput, data *[]byte, ok bool) {
	s := &scanner{b: body}
	if !s.consume('{') {
		return nil, nil, false
	}
	// Sized once from a count of the braces, one per entry (base64 has
	// none; a brace in a partition key only costs capacity).
	n := min(bytes.Count(body, []byte{'{'}), maxPutRecordsEntries)
	in = &engine.PutRecordsInput{Records: make([]engine.PutRecordsRequestEntry, 0, n)}
	raw := make([]rawEntry, 0, n)
	seenName, seenRecords := false, false
	for first := true; ; first = false {
		if s.consume('}') {
			if first {
				return nil, nil, false
			}
			break
		}
		if !first && !s.consume(',') {
			return nil, nil, false
		}
		key, ok := s.str()
		if !ok || !s.consume(':') {
			return nil, nil, false
		}
		switch string(key) {
		case "StreamName":
			v, ok := s.str()
			if !ok || seenName || !validStreamName(v) {
				return nil, nil, false
			}
			in.StreamName, seenName = string(v), true
		case "Records":
			if seenRecords || !s.consume('[') {
				return nil, nil, false
			}
			seenRecords = true
			for n := 0; ; n++ {
				if n == 0 && s.consume(']') {
					return nil, nil, false // an empty list violates the model's minimum
				}
				if n > 0 {
					if s.consume(']') {
						break
					}
					if !s.consume(',') {
						return nil, nil, false
					}
				}
				if n == maxPutRecordsEntries {
					return nil, nil, false
				}
				e, ok := s.entry(nil)
				if !ok {
					return nil, nil, false
				}
				raw = append(raw, e)
			}
		default:
			return nil, nil, false
		}
	}
	s.ws()
	if s.i != len(s.b) || !seenRecords {
		return nil, nil, false
	}
	// Every record's data goes into one buffer, and its keys into one
	// string, so that a batch costs a few allocations, not several per record.
	total, keyBytes := 0, 0
	for _, e := range raw {
		total += base64.StdEncoding.DecodedLen(len(e.data))
		keyBytes += len(e.key) + len(e.hash)
	}
	data = bufpool.Get(total)
	buf := *data
	keyBuf := make([]byte, 0, keyBytes)
	off := 0
	for _, e := range raw {
		n, ok := decodeData(buf[off:], e.data)
		if !ok {
			bufpool.Put(data)
			return nil, nil, false
		}
		in.Records = append(in.Records, engine.PutRecordsRequestEntry{Data: buf[off : off+n : off+n]})
		off += n
		keyBuf = append(append(keyBuf, e.key...), e.hash...)
	}
	keys := string(keyBuf)
	for i, e := range raw {
		in.Records[i].PartitionKey, keys = keys[:len(e.key)], keys[len(e.key):]
		if e.hash != nil {
			in.Records[i].ExplicitHashKey, keys = keys[:len(e.hash)], keys[len(e.hash):]
		}
	}
	return in, data, true
}

// decodeData decodes an entry's base64 Data into dst, which has room for
// it, and reports whether it is valid and within the size limit.
func decodeData(dst, b64 []byte) (n int, ok bool) {
	n, err := strictBase64.Decode(dst, b64)
	// The decoder skips CR and LF, which JSON does not allow raw in a
	// string: a short result means it skipped some.
	return n, err == nil && n == decodedLen(b64) && n <= maxDataBytes
}

// decodedLen is the length of the data that the padded base64 text b
// encodes if b holds nothing but the alphabet and padding; -1 if it cannot.
func decodedLen(b []byte) int {
	if len(b)%4 != 0 {
		return -1
	}
	n := len(b) / 4 * 3
	if len(b) > 0 && b[len(b)-1] == '=' {
		n--
		if len(b) > 1 && b[len(b)-2] == '=' {
			n--
		}
	}
	return n
}

// decodePutRecordFast is decodePutRecordsFast for a PutRecord body, whose
// members are those of a PutRecords entry and StreamName.
func decodePutRecordFast(body []byte) (in *engine.PutRecordInput, data *[]byte, ok bool) {
	s := &scanner{b: body}
	var name []byte
	e, ok := s.entry(&name)
	s.ws()
	if !ok || name == nil || s.i != len(s.b) {
		return nil, nil, false
	}
	data = bufpool.Get(base64.StdEncoding.DecodedLen(len(e.data)))
	n, ok := decodeData(*data, e.data)
	if !ok {
		bufpool.Put(data)
		return nil, nil, false
	}
	in = &engine.PutRecordInput{Data: (*data)[:n:n], PartitionKey: string(e.key)}
	in.StreamName = string(name)
	if e.hash != nil {
		in.ExplicitHashKey = string(e.hash)
	}
	return in, data, true
}

// rawEntry is one PutRecordsRequestEntry as the scanner found it: its Data
// still in base64, its strings aliasing the request body. A PutRecords call
// holds up to 500 of them, so its size counts.
type rawEntry struct {
	data, key, hash []byte
}

// entry reads one PutRecordsRequestEntry, or with a non-nil name a PutRecord
// request, whose StreamName it stores there.
func (s *scanner) entry(name *[]byte) (e rawEntry, ok bool) {
	if !s.consume('{') {
		return e, false
	}
	var seenData, seenKey, seenHash bool
	for first := true; ; first = false {
		if s.consume('}') {
			break
		}
		if !first && !s.consume(',') {
			return e, false
		}
		key, ok := s.str()
		if !ok || !s.consume(':') {
			return e, false
		}
		if string(key) == "Data" {
			if seenData {
				return e, false
			}
			if e.data, ok = s.rawStr(); !ok {
				return e, false
			}
			seenData = true
			continue
		}
		v, ok := s.str()
		if !ok {
			return e, false
		}
		switch string(key) {
		case "PartitionKey":
			if seenKey || !validPartitionKey(v) {
				return e, false
			}
			e.key, seenKey = v, true
		case "ExplicitHashKey":
			if seenHash || !validHashKey(v) {
				return e, false
			}
			e.hash, seenHash = v, true
		case "StreamName":
			if name == nil || *name != nil || !validStreamName(v) {
				return e, false
			}
			*name = v
		default:
			return e, false
		}
	}
	return e, seenData && seenKey
}

// appendPutRecordsOutput encodes a PutRecords response as JSON, with the
// members in the order the general encoder writes them.
func appendPutRecordsOutput(b []byte, out *engine.PutRecordsOutput) []byte {
	b = openWithEncryption(b, out.EncryptionType)
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

// appendPutRecordOutput encodes a PutRecord response as JSON, with the
// members in the order the general encoder writes them.
func appendPutRecordOutput(b []byte, out *engine.PutRecordOutput) []byte {
	b = openWithEncryption(b, out.EncryptionType)
	b = append(b, `"SequenceNumber":`...)
	b = appendJSONString(b, out.SequenceNumber)
	b = append(b, `,"ShardId":`...)
	b = appendJSONString(b, out.ShardId)
	return append(b, '}')
}

// openWithEncryption opens a put's response object with its EncryptionType
// member, if set; it sorts before the others.
func openWithEncryption(b []byte, encryption string) []byte {
	b = append(b, '{')
	if encryption != "" {
		b = append(b, `"EncryptionType":`...)
		b = appendJSONString(b, encryption)
		b = append(b, ',')
	}
	return b
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

// serveFast serves a PutRecords or PutRecord whose body the fast path
// decodes; ok is false, and bodyBuf untouched, if the general path must
// serve the request. Otherwise bodyBuf is returned to its pool.
func (h *Handler) serveFast(w http.ResponseWriter, r *http.Request, opName string, bodyBuf *[]byte) (status int, errType string, ok bool) {
	if isCBOR(r) {
		return 0, "", false
	}
	var name string
	var run func(r *http.Request) (int, string)
	var data *[]byte
	switch opName {
	case "PutRecords":
		var in *engine.PutRecordsInput
		if in, data, ok = decodePutRecordsFast(*bodyBuf); ok {
			name, run = in.StreamName, func(r *http.Request) (int, string) { return h.putRecordsFast(w, r, in) }
		}
	case "PutRecord":
		var in *engine.PutRecordInput
		if in, data, ok = decodePutRecordFast(*bodyBuf); ok {
			name, run = in.StreamName, func(r *http.Request) (int, string) { return h.putRecordFast(w, r, in) }
		}
	}
	if !ok {
		return 0, "", false
	}
	// The decoded input copies what it needs of the body, and the operation
	// returns once the records are stored, so data is free after it.
	bufpool.Put(bodyBuf)
	defer bufpool.Put(data)
	if h.opts.Auth != nil {
		// The fast paths never take a StreamARN, so the stream name is all
		// authorization needs of the request.
		var aerr *apiError
		if r, aerr = h.authorize(r, opName, map[string]any{"StreamName": name}); aerr != nil {
			status, errType = writeError(w, aerr)
			return status, errType, true
		}
	}
	status, errType = run(r)
	return status, errType, true
}

// putRecordsFast runs a PutRecords decoded by the fast path.
func (h *Handler) putRecordsFast(w http.ResponseWriter, r *http.Request, in *engine.PutRecordsInput) (int, string) {
	out, err := h.eng.PutRecords(engine.WithCaller(r.Context(), callerOf(r)), in)
	if err != nil {
		return h.operationError(w, "PutRecords", err)
	}
	buf := getResponseBuffer(64 + len(out.Records)*110)
	defer putResponseBuffer(buf)
	*buf = appendPutRecordsOutput((*buf)[:0], out)
	respond(w, http.StatusOK, jsonContentType, *buf)
	return http.StatusOK, ""
}

// putRecordFast runs a PutRecord decoded by the fast path.
func (h *Handler) putRecordFast(w http.ResponseWriter, r *http.Request, in *engine.PutRecordInput) (int, string) {
	out, err := h.eng.PutRecord(engine.WithCaller(r.Context(), callerOf(r)), in)
	if err != nil {
		return h.operationError(w, "PutRecord", err)
	}
	respond(w, http.StatusOK, jsonContentType, appendPutRecordOutput(make([]byte, 0, 160), out))
	return http.StatusOK, ""
}

// operationError answers an operation that failed in the engine.
func (h *Handler) operationError(w http.ResponseWriter, op string, err error) (int, string) {
	ae := toAPIError(err)
	if ae.Status == http.StatusInternalServerError {
		h.opts.Logger.Error("operation failed", "op", op, "err", err)
	}
	return writeError(w, ae)
}
