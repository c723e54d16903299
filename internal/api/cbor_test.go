package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/riffle-streams/riffle/internal/apimodel"
	"github.com/riffle-streams/riffle/internal/engine"
)

// cborResp is a CBOR response as a client sees it.
type cborResp struct {
	status int
	ctype  string
	body   map[string]cbor.RawMessage
}

// callCBOR sends one CBOR request and decodes the response map, keeping the
// members raw so that tests can check their exact encoding.
func callCBOR(t testing.TB, h http.Handler, op string, body []byte) cborResp {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	req.Header.Set("Content-Type", cborContentType)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := cborResp{status: rec.Code, ctype: rec.Header().Get("Content-Type")}
	if err := cbor.Unmarshal(rec.Body.Bytes(), &r.body); err != nil {
		t.Fatalf("%s: response is not a CBOR map: %v (%x)", op, err, rec.Body.Bytes())
	}
	return r
}

// okCBOR sends a request that must succeed.
func okCBOR(t testing.TB, h http.Handler, op string, req any) cborResp {
	t.Helper()
	r := callCBOR(t, h, op, mustCBOR(t, req))
	if r.status != http.StatusOK || r.ctype != cborContentType {
		t.Fatalf("%s: status %d, content type %q, body %s", op, r.status, r.ctype, diag(r.body))
	}
	return r
}

func mustCBOR(t testing.TB, v any) []byte {
	t.Helper()
	b, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jacksonMap encodes a map the way the Java SDKs' Jackson CBORGenerator
// does: indefinite length (0xbf ... 0xff), members in the order given.
func jacksonMap(t testing.TB, kv ...any) []byte {
	t.Helper()
	out := []byte{0xbf}
	for _, x := range kv {
		out = append(out, mustCBOR(t, x)...)
	}
	return append(out, 0xff)
}

func diag(m map[string]cbor.RawMessage) string {
	b, _ := cbor.Marshal(m)
	s, _ := cbor.Diagnose(b)
	return s
}

func field[T any](t testing.TB, raw cbor.RawMessage) T {
	t.Helper()
	var v T
	if err := cbor.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %x as %T: %v", []byte(raw), v, err)
	}
	return v
}

// millisTag decodes a timestamp as the Java SDKs write and read it: tag 1
// around an integer of epoch milliseconds.
func millisTag(t testing.TB, raw cbor.RawMessage) time.Time {
	t.Helper()
	var tag cbor.RawTag
	if err := cbor.Unmarshal(raw, &tag); err != nil || tag.Number != 1 {
		t.Fatalf("timestamp %x is not tag 1: %v", []byte(raw), err)
	}
	if major := tag.Content[0] >> 5; major != 0 {
		t.Fatalf("timestamp content %x is not an unsigned integer", []byte(tag.Content))
	}
	return time.UnixMilli(field[int64](t, tag.Content))
}

func TestCBORRecordsAndTimestamps(t *testing.T) {
	h := newTestHandler(t)
	// CreateStream as the Java SDK writes it: an indefinite-length map.
	if r := callCBOR(t, h, "CreateStream", jacksonMap(t, "StreamName", "s", "ShardCount", 1)); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, diag(r.body))
	}
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	before := time.Now().Add(-time.Millisecond)
	okCBOR(t, h, "PutRecord", map[string]any{"StreamName": "s", "Data": binary, "PartitionKey": "a"})
	time.Sleep(5 * time.Millisecond)
	okCBOR(t, h, "PutRecords", map[string]any{"StreamName": "s", "Records": []any{
		map[string]any{"Data": []byte{0xff, 0x00}, "PartitionKey": "b"},
		map[string]any{"Data": "aGk=", "PartitionKey": "c"}, // base64 text is read as a blob too
	}})
	after := time.Now().Add(time.Millisecond)

	it := okCBOR(t, h, "GetShardIterator", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000",
		"ShardIteratorType": "TRIM_HORIZON"})
	got := okCBOR(t, h, "GetRecords", map[string]any{"ShardIterator": field[string](t, it.body["ShardIterator"])})
	recs := field[[]map[string]cbor.RawMessage](t, got.body["Records"])
	if len(recs) != 3 {
		t.Fatalf("got %d records", len(recs))
	}
	wantData := [][]byte{binary, {0xff, 0x00}, []byte("hi")}
	var arrivals []time.Time
	for i, rec := range recs {
		if major := rec["Data"][0] >> 5; major != 2 {
			t.Errorf("record %d: Data is CBOR major type %d, want a byte string", i, major)
		}
		if d := field[[]byte](t, rec["Data"]); !bytes.Equal(d, wantData[i]) {
			t.Errorf("record %d: Data %x, want %x", i, d, wantData[i])
		}
		at := millisTag(t, rec["ApproximateArrivalTimestamp"])
		if at.Before(before) || at.After(after) {
			t.Errorf("record %d: arrival %v outside [%v, %v]", i, at, before, after)
		}
		arrivals = append(arrivals, at)
	}
	if !arrivals[1].After(arrivals[0]) {
		t.Fatalf("arrivals %v: the second put was not later", arrivals)
	}

	// AT_TIMESTAMP of the second put's arrival, in every form a client may
	// send it, starts at the second record.
	ms := arrivals[1].UnixMilli()
	forms := map[string]any{
		"tag 1, integer millis (Java SDK)": cbor.Tag{Number: 1, Content: ms},
		"tag 1, float seconds (RFC 8949)":  cbor.Tag{Number: 1, Content: float64(ms) / 1000},
		"untagged integer millis":          ms,
		"untagged float seconds":           float64(ms) / 1000,
	}
	for name, ts := range forms {
		it := okCBOR(t, h, "GetShardIterator", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000",
			"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": ts})
		got := okCBOR(t, h, "GetRecords", map[string]any{"ShardIterator": field[string](t, it.body["ShardIterator"])})
		recs := field[[]map[string]cbor.RawMessage](t, got.body["Records"])
		if len(recs) != 2 || !bytes.Equal(field[[]byte](t, recs[0]["Data"]), wantData[1]) {
			t.Errorf("%s: got %d records from AT_TIMESTAMP", name, len(recs))
		}
	}

	// Millis sent as seconds would be far in the future: the engine must see
	// the instant the client meant, not one 1000 times later.
	r := callCBOR(t, h, "GetShardIterator", mustCBOR(t, map[string]any{"StreamName": "s",
		"ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP",
		"Timestamp": cbor.Tag{Number: 1, Content: time.Now().Add(time.Hour).UnixMilli()}}))
	if typ := field[string](t, r.body["__type"]); typ != "InvalidArgumentException" ||
		!strings.Contains(field[string](t, r.body["message"]), "cannot be greater than the currentTimestampInMillis") {
		t.Fatalf("future timestamp: %s", diag(r.body))
	}
}

func TestCBOREveryShapeKind(t *testing.T) {
	h := newTestHandler(t)
	start := time.Now().Add(-time.Second)
	okCBOR(t, h, "CreateStream", map[string]any{"StreamName": "kinds", "ShardCount": uint64(2)}) // integer
	// map and string
	okCBOR(t, h, "AddTagsToStream", map[string]any{"StreamName": "kinds", "Tags": map[string]any{"k1": "v1", "k2": ""}})
	// list of strings
	okCBOR(t, h, "RemoveTagsFromStream", map[string]any{"StreamName": "kinds", "TagKeys": []any{"k2"}})
	tags := okCBOR(t, h, "ListTagsForStream", map[string]any{"StreamName": "kinds"})
	type tag struct{ Key, Value string }
	if got := field[[]tag](t, tags.body["Tags"]); !reflect.DeepEqual(got, []tag{{"k1", "v1"}}) {
		t.Errorf("tags %+v", got)
	}
	if major := tags.body["HasMoreTags"][0]; major != 0xf4 {
		t.Errorf("HasMoreTags encoded %x, want CBOR false", major)
	}

	// Timestamps in outputs: tag 1 with integer milliseconds.
	sum := okCBOR(t, h, "DescribeStreamSummary", map[string]any{"StreamName": "kinds"})
	desc := field[map[string]cbor.RawMessage](t, sum.body["StreamDescriptionSummary"])
	created := millisTag(t, desc["StreamCreationTimestamp"])
	if created.Before(start) || created.After(time.Now().Add(time.Second)) {
		t.Errorf("StreamCreationTimestamp %v", created)
	}
	if n := field[int64](t, desc["OpenShardCount"]); n != 2 {
		t.Errorf("OpenShardCount %d", n)
	}
	ds := okCBOR(t, h, "DescribeStream", map[string]any{"StreamName": "kinds", "Limit": 1.9}) // a float truncates
	full := field[map[string]cbor.RawMessage](t, ds.body["StreamDescription"])
	if got := millisTag(t, full["StreamCreationTimestamp"]); !got.Equal(created) {
		t.Errorf("DescribeStream creation %v, DescribeStreamSummary %v", got, created)
	}
	if shards := field[[]any](t, full["Shards"]); len(shards) != 1 {
		t.Errorf("Limit 1.9 gave %d shards", len(shards))
	}

	// structure with a timestamp inside, and a boolean.
	ls := okCBOR(t, h, "ListShards", map[string]any{"StreamName": "kinds",
		"ShardFilter": map[string]any{"Type": "FROM_TIMESTAMP", "Timestamp": cbor.Tag{Number: 1, Content: start.UnixMilli()}}})
	if shards := field[[]any](t, ls.body["Shards"]); len(shards) != 2 {
		t.Errorf("ListShards FROM_TIMESTAMP: %d shards", len(shards))
	}
	okCBOR(t, h, "DeleteStream", map[string]any{"StreamName": "kinds", "EnforceConsumerDeletion": true})
	// An operation without output answers an empty map.
	r := okCBOR(t, h, "CreateStream", map[string]any{"StreamName": "empty", "ShardCount": 1})
	if len(r.body) != 0 {
		t.Errorf("CreateStream answered %s", diag(r.body))
	}
}

func TestCBORErrors(t *testing.T) {
	h := newTestHandler(t)
	okCBOR(t, h, "CreateStream", map[string]any{"StreamName": "s", "ShardCount": 1})
	cases := []struct {
		name, op string
		body     []byte
		typ, msg string
	}{
		{"unknown stream", "PutRecord", mustCBOR(t, map[string]any{"StreamName": "nope", "Data": []byte("x"), "PartitionKey": "p"}),
			"ResourceNotFoundException", "Stream nope under account 000000000000 not found."},
		{"validation", "CreateStream", mustCBOR(t, map[string]any{"StreamName": "s", "ShardCount": 0}),
			"ValidationException", "1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"bignum saturates", "ListStreams", mustCBOR(t, map[string]any{"Limit": new(big.Int).Lsh(big.NewInt(1), 100)}),
			"ValidationException", "1 validation error detected: Value '2147483647' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000"},
		{"text for an integer", "CreateStream", mustCBOR(t, map[string]any{"StreamName": "s", "ShardCount": "1"}),
			"SerializationException", "class java.lang.String can not be converted to an Integer"},
		{"bytes for a string", "DescribeStream", mustCBOR(t, map[string]any{"StreamName": []byte("s")}),
			"SerializationException", "class java.nio.HeapByteBuffer can not be converted to an String"},
		{"text for a timestamp", "GetShardIterator", mustCBOR(t, map[string]any{"Timestamp": "2026-01-01T00:00:00Z"}),
			"SerializationException", "class java.lang.String can not be converted to milliseconds since epoch"},
		{"bad base64 text blob", "PutRecord", mustCBOR(t, map[string]any{"Data": "abc"}),
			"SerializationException", "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"},
		{"array body", "ListStreams", mustCBOR(t, []any{}), "SerializationException", "Start of list found where not expected"},
		{"truncated", "ListStreams", []byte{0xa1, 0x65, 'L', 'i'}, "SerializationException", ""},
		{"trailing data", "ListStreams", []byte{0xa0, 0xa0}, "SerializationException", ""},
		{"empty body", "ListStreams", nil, "SerializationException", ""},
		{"integer key", "ListStreams", []byte{0xa1, 0x01, 0x01}, "SerializationException", ""},
		{"NaN", "ListStreams", mustCBOR(t, map[string]any{"Limit": math.NaN()}), "SerializationException", ""},
		{"unknown operation", "Frobnicate", mustCBOR(t, map[string]any{}), "UnknownOperationException", ""},
	}
	for _, c := range cases {
		r := callCBOR(t, h, c.op, c.body)
		if r.status != http.StatusBadRequest || r.ctype != cborContentType {
			t.Errorf("%s: status %d, content type %q", c.name, r.status, r.ctype)
		}
		if typ := field[string](t, r.body["__type"]); typ != c.typ {
			t.Errorf("%s: __type %q, want %q (%s)", c.name, typ, c.typ, diag(r.body))
		}
		msg, hasMsg := r.body["message"]
		switch {
		case c.msg == "" && hasMsg:
			t.Errorf("%s: unexpected message %s", c.name, diag(r.body))
		case c.msg != "" && (!hasMsg || field[string](t, msg) != c.msg):
			t.Errorf("%s: message %s\nwant %q", c.name, diag(r.body), c.msg)
		}
	}

	// Byte strings are measured and printed as blobs (the test handler's body
	// limit is below the model's, so this goes to the checker directly).
	_, err := apimodel.Check("PutRecord", map[string]any{"StreamName": "s", "Data": make([]byte, 10<<20+1), "PartitionKey": "p"})
	if want := "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=10485761 cap=10485761]' at 'data' " +
		"failed to satisfy constraint: Member must have length less than or equal to 10485760"; err == nil || err.Error() != want {
		t.Errorf("oversized blob: %v", err)
	}

	// An unsigned CBOR request is refused in CBOR.
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte{0xa0}))
	req.Header.Set("X-Amz-Target", targetPrefix+"ListStreams")
	req.Header.Set("Content-Type", cborContentType+"; charset=utf-8")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body cborErrorBody
	if err := cbor.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Type != "MissingAuthenticationTokenException" ||
		rec.Header().Get("Content-Type") != cborContentType {
		t.Errorf("unsigned: %v %+v %q", err, body, rec.Header().Get("Content-Type"))
	}
}

// cborErrorBody is an error response as a CBOR client decodes it.
type cborErrorBody struct {
	Type    string `cbor:"__type"`
	Message string `cbor:"message"`
}

// TestJSONStillJSON checks that JSON requests keep JSON's forms now that
// render is codec-neutral.
func TestJSONStillJSON(t *testing.T) {
	h := newTestHandler(t)
	call(t, h, "CreateStream", []byte(`{"StreamName":"s","ShardCount":1}`), true)
	code, out, hdr := call(t, h, "DescribeStreamSummary", []byte(`{"StreamName":"s"}`), true)
	if code != 200 || hdr.Get("Content-Type") != jsonContentType {
		t.Fatalf("%d %q", code, hdr.Get("Content-Type"))
	}
	ts, ok := out["StreamDescriptionSummary"].(map[string]any)["StreamCreationTimestamp"].(float64)
	if !ok || math.Abs(ts-float64(time.Now().Unix())) > 60 {
		t.Fatalf("StreamCreationTimestamp %v is not epoch seconds", out["StreamDescriptionSummary"])
	}
	// A decimal fraction reads as the instant written, not its binary
	// approximation (1700000000.123 is 1700000000.12299990654 as a float64).
	var in engine.GetShardIteratorInput
	if err := bind(&in, map[string]any{"Timestamp": json.Number("1700000000.123")}); err != nil {
		t.Fatal(err)
	}
	if got := in.Timestamp.UnixMilli(); got != 1700000000123 {
		t.Fatalf("1700000000.123 bound as %d ms", got)
	}
}

// TestCheckTimestampForms pins how each timestamp form decodeCBOR produces
// reads: integers are milliseconds, floats are seconds, tagged or not.
func TestCheckTimestampForms(t *testing.T) {
	millis := time.UnixMilli(1787036486712).UTC()
	cases := []struct {
		name string
		body []byte
		want time.Time
	}{
		// The exact bytes the Java SDK v2 sends (floci-io/floci#2368).
		{"java sdk", append(append([]byte{0xa1, 0x69}, "Timestamp"...), 0xc1, 0x1b, 0, 0, 0x01, 0xa0, 0x13, 0xac, 0xcc, 0x38), millis},
		{"tag 1 float64", mustCBOR(t, map[string]any{"Timestamp": cbor.Tag{Number: 1, Content: 1787036486.712}}), millis},
		{"untagged float32", mustCBOR(t, map[string]any{"Timestamp": float32(1787036928)}), time.Unix(1787036928, 0).UTC()},
		{"untagged unsigned", mustCBOR(t, map[string]any{"Timestamp": uint64(1787036486712)}), millis},
		{"negative millis", mustCBOR(t, map[string]any{"Timestamp": cbor.Tag{Number: 1, Content: -1500}}), time.UnixMilli(-1500).UTC()},
	}
	for _, c := range cases {
		tree, err := decodeCBOR(c.body)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := checkTimestamp(tree)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// checkTimestamp completes a GetShardIterator tree around its Timestamp and
// returns the time Check reads.
func checkTimestamp(tree any) (time.Time, error) {
	m := tree.(map[string]any)
	m["StreamName"], m["ShardId"], m["ShardIteratorType"] = "s", "shardId-000000000000", "AT_TIMESTAMP"
	out, err := apimodel.Check("GetShardIterator", m)
	if err != nil {
		return time.Time{}, err
	}
	return out["Timestamp"].(time.Time), nil
}

// FuzzDecodeCBOR checks that no body panics the CBOR path, and that every
// refusal is an AWS-shaped CBOR error. Seeds: testdata/fuzz/FuzzDecodeCBOR.
func FuzzDecodeCBOR(f *testing.F) {
	h := newTestHandler(f)
	ops := apimodel.Operations()
	f.Fuzz(func(t *testing.T, opIndex uint8, body []byte) {
		op := ops[int(opIndex)%len(ops)]
		if op == "SubscribeToShard" {
			return // a long-lived stream, not a request-response
		}
		tree, err := decodeCBOR(body)
		if err == nil {
			_, err = apimodel.Check(op, tree)
		}
		var se *apimodel.SerializationError
		var ve *apimodel.ValidationError
		if err != nil && !errors.As(err, &se) && !errors.As(err, &ve) {
			t.Fatalf("%s: error %T %v is neither a SerializationError nor a ValidationError", op, err, err)
		}
		r := callCBOR(t, h, op, body)
		if r.ctype != cborContentType {
			t.Fatalf("%s: content type %q", op, r.ctype)
		}
		if r.status != http.StatusOK {
			var e cborErrorBody
			b, _ := cbor.Marshal(r.body)
			if err := cbor.Unmarshal(b, &e); err != nil || e.Type == "" || e.Type == "InternalFailure" {
				t.Fatalf("%s: status %d body %s", op, r.status, diag(r.body))
			}
		}
	})
}
