package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/fxamacker/cbor/v2"
)

// The AWS SDKs for Java speak application/x-amz-cbor-1.1 to Kinesis by
// default. No Java runs in this suite, so these tests send the requests those
// SDKs send, byte for byte where it matters (indefinite-length maps, tag 1
// around integer epoch milliseconds, byte-string blobs), signed with SigV4,
// and read the answers the way those SDKs parse them.

const cborType = "application/x-amz-cbor-1.1"

// cborClient sends signed CBOR requests to one server.
type cborClient struct {
	t        *testing.T
	endpoint string
	http     *http.Client
	signer   *v4.Signer
}

func newCBORClient(t *testing.T, s *server) *cborClient {
	return &cborClient{t: t, endpoint: s.endpoint, http: &http.Client{Timeout: 30 * time.Second}, signer: v4.NewSigner()}
}

// cborAnswer is one response: status, content type and the top-level map
// with members left raw, so that tests can check their exact encoding.
type cborAnswer struct {
	status int
	ctype  string
	body   map[string]cbor.RawMessage
	raw    []byte
}

func (c *cborClient) send(op string, body []byte) cborAnswer {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", cborType)
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: "AKIDCBOR", SecretAccessKey: "cbor-secret"}
	if err := c.signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "kinesis", region, time.Now()); err != nil {
		c.t.Fatal(err)
	}
	if !strings.HasPrefix(req.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDCBOR/") {
		c.t.Fatalf("request not signed: %q", req.Header.Get("Authorization"))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s: %v", op, err)
	}
	a := cborAnswer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), raw: raw}
	if err := cbor.Unmarshal(raw, &a.body); err != nil {
		c.t.Fatalf("%s: answer is not a CBOR map (%v): %q", op, err, raw)
	}
	return a
}

// ok sends a request that must succeed; req is encoded with cbor.Marshal
// unless it is already bytes.
func (c *cborClient) ok(op string, req any) cborAnswer {
	c.t.Helper()
	body, isBytes := req.([]byte)
	if !isBytes {
		body = cborBytes(c.t, req)
	}
	a := c.send(op, body)
	if a.status != http.StatusOK || a.ctype != cborType {
		c.t.Fatalf("%s: status %d, content type %q, body %s", op, a.status, a.ctype, cborDiag(a.raw))
	}
	return a
}

func cborBytes(t *testing.T, v any) []byte {
	t.Helper()
	b, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// javaMap encodes a map as the Java SDKs' Jackson generator does: indefinite
// length, members in the order given.
func javaMap(t *testing.T, kv ...any) []byte {
	t.Helper()
	out := []byte{0xbf}
	for _, x := range kv {
		out = append(out, cborBytes(t, x)...)
	}
	return append(out, 0xff)
}

func cborDiag(b []byte) string {
	s, err := cbor.Diagnose(b)
	if err != nil {
		return hex.EncodeToString(b)
	}
	return s
}

func cborField[T any](t *testing.T, raw cbor.RawMessage) T {
	t.Helper()
	var v T
	if err := cbor.Unmarshal(raw, &v); err != nil {
		t.Fatalf("member %s is not a %T: %v", cborDiag(raw), v, err)
	}
	return v
}

// javaTimestamp reads a timestamp as the SDK for Java v2 does (it parses the
// number with Long.parseLong as epoch milliseconds), insisting on the form
// AWS sends: tag 1 around an integer.
func javaTimestamp(t *testing.T, raw cbor.RawMessage) time.Time {
	t.Helper()
	var tag cbor.RawTag
	if err := cbor.Unmarshal(raw, &tag); err != nil || tag.Number != 1 {
		t.Fatalf("timestamp %s is not tag 1", cborDiag(raw))
	}
	if major := tag.Content[0] >> 5; major != 0 && major != 1 {
		t.Fatalf("timestamp %s is not an integer: Long.parseLong would fail", cborDiag(raw))
	}
	return time.UnixMilli(cborField[int64](t, tag.Content))
}

func TestCBORClient(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	c := newCBORClient(t, s)
	const stream = "cbor"
	shard := shardID(0)

	beforeCreate := time.Now().Add(-5 * time.Millisecond)
	c.ok("CreateStream", javaMap(t, "StreamName", stream, "ShardCount", 1))
	afterCreate := time.Now().Add(5 * time.Millisecond)
	waitCBORActive(t, c, stream)

	// Records with every byte value, as byte strings.
	data := [][]byte{make([]byte, 256), {0x00, 0xff, 0xc1, 0x1b}, []byte("third")}
	for i := range data[0] {
		data[0][i] = byte(i)
	}
	before := time.Now().Add(-5 * time.Millisecond)
	put := c.ok("PutRecord", javaMap(t, "StreamName", stream, "Data", data[0], "PartitionKey", "k0"))
	if seq := cborField[string](t, put.body["SequenceNumber"]); !isDecimal(seq) {
		t.Fatalf("PutRecord SequenceNumber %q", seq)
	}
	time.Sleep(20 * time.Millisecond) // distinct arrival milliseconds for AT_TIMESTAMP
	puts := c.ok("PutRecords", map[string]any{"StreamName": stream, "Records": []any{
		map[string]any{"Data": data[1], "PartitionKey": "k1"},
		map[string]any{"Data": data[2], "PartitionKey": "k2"},
	}})
	if n := cborField[int](t, puts.body["FailedRecordCount"]); n != 0 {
		t.Fatalf("PutRecords failed %d records", n)
	}
	after := time.Now().Add(5 * time.Millisecond)

	it := c.ok("GetShardIterator", map[string]any{"StreamName": stream, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"})
	recs := cborRecords(t, c, cborField[string](t, it.body["ShardIterator"]))
	if len(recs) != 3 {
		t.Fatalf("TRIM_HORIZON: %d records, want 3", len(recs))
	}
	var arrivals []time.Time
	for i, r := range recs {
		if major := r["Data"][0] >> 5; major != 2 {
			t.Errorf("record %d: Data %s is not a byte string", i, cborDiag(r["Data"]))
		}
		if got := cborField[[]byte](t, r["Data"]); !bytes.Equal(got, data[i]) {
			t.Errorf("record %d: Data %x, want %x", i, got, data[i])
		}
		at := javaTimestamp(t, r["ApproximateArrivalTimestamp"])
		if at.Before(before) || at.After(after) {
			t.Errorf("record %d: ApproximateArrivalTimestamp %v outside the put's window [%v, %v]", i, at, before, after)
		}
		arrivals = append(arrivals, at)
	}
	if !arrivals[1].After(arrivals[0]) {
		t.Fatalf("arrivals %v: PutRecords was not later than PutRecord", arrivals)
	}

	// The same instant as a JSON client sees it (epoch seconds with a fraction).
	jc := s.client(1)
	jit, err := jc.GetShardIterator(testCtx(t, 10*time.Second), &kinesis.GetShardIteratorInput{
		StreamName: aws.String(stream), ShardId: aws.String(shard), ShardIteratorType: "TRIM_HORIZON"})
	if err != nil {
		t.Fatal(err)
	}
	jrecs, err := jc.GetRecords(testCtx(t, 10*time.Second), &kinesis.GetRecordsInput{ShardIterator: jit.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range jrecs.Records {
		if !r.ApproximateArrivalTimestamp.Equal(arrivals[i]) {
			t.Errorf("record %d: JSON arrival %v, CBOR arrival %v", i, *r.ApproximateArrivalTimestamp, arrivals[i])
		}
	}

	// AT_TIMESTAMP at the second record's arrival starts at the second record,
	// in the Java SDKs' form and in RFC 8949's (float seconds).
	ms := arrivals[1].UnixMilli()
	for name, ts := range map[string]any{
		"tag 1 integer millis": cbor.Tag{Number: 1, Content: ms},
		"tag 1 float seconds":  cbor.Tag{Number: 1, Content: float64(ms) / 1000},
	} {
		it := c.ok("GetShardIterator", javaMap(t, "StreamName", stream, "ShardId", shard,
			"ShardIteratorType", "AT_TIMESTAMP", "Timestamp", ts))
		recs := cborRecords(t, c, cborField[string](t, it.body["ShardIterator"]))
		if len(recs) != 2 || !bytes.Equal(cborField[[]byte](t, recs[0]["Data"]), data[1]) {
			t.Errorf("AT_TIMESTAMP (%s): %d records, want the last 2", name, len(recs))
		}
	}

	// Timestamps in other outputs, and as input inside a structure.
	ds := c.ok("DescribeStream", map[string]any{"StreamName": stream})
	desc := cborField[map[string]cbor.RawMessage](t, ds.body["StreamDescription"])
	created := javaTimestamp(t, desc["StreamCreationTimestamp"])
	if created.Before(beforeCreate) || created.After(afterCreate) {
		t.Errorf("StreamCreationTimestamp %v outside the CreateStream call [%v, %v]", created, beforeCreate, afterCreate)
	}
	if st := cborField[string](t, desc["StreamStatus"]); st != "ACTIVE" {
		t.Errorf("StreamStatus %q", st)
	}
	ls := c.ok("ListShards", map[string]any{"StreamName": stream,
		"ShardFilter": map[string]any{"Type": "FROM_TIMESTAMP", "Timestamp": cbor.Tag{Number: 1, Content: created.UnixMilli()}}})
	shards := cborField[[]map[string]any](t, ls.body["Shards"])
	if len(shards) != 1 || shards[0]["ShardId"] != shard {
		t.Errorf("ListShards: %v", shards)
	}
}

// cborRecords reads one GetRecords page.
func cborRecords(t *testing.T, c *cborClient, iterator string) []map[string]cbor.RawMessage {
	t.Helper()
	got := c.ok("GetRecords", map[string]any{"ShardIterator": iterator})
	return cborField[[]map[string]cbor.RawMessage](t, got.body["Records"])
}

func waitCBORActive(t *testing.T, c *cborClient, stream string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		sum := c.ok("DescribeStreamSummary", map[string]any{"StreamName": stream})
		d := cborField[map[string]any](t, sum.body["StreamDescriptionSummary"])
		if d["StreamStatus"] == "ACTIVE" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s not ACTIVE: %v", stream, d["StreamStatus"])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCBORClientErrors checks that errors answer a CBOR client in CBOR, with
// the members the SDKs read: __type (the error code) and message.
func TestCBORClientErrors(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	c := newCBORClient(t, s)
	c.ok("CreateStream", map[string]any{"StreamName": "errs", "ShardCount": 1})
	waitCBORActive(t, c, "errs")

	cases := []struct {
		name, op string
		body     []byte
		typ, msg string
	}{
		{"unknown stream", "PutRecord", cborBytes(t, map[string]any{"StreamName": "nope", "Data": []byte{1}, "PartitionKey": "k"}),
			"ResourceNotFoundException", "Stream nope under account 000000000000 not found."},
		{"validation", "CreateStream", javaMap(t, "StreamName", "a b", "ShardCount", 1),
			"ValidationException", "1 validation error detected: Value 'a b' at 'streamName' failed to satisfy constraint: " +
				"Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"AT_TIMESTAMP in the future", "GetShardIterator", javaMap(t, "StreamName", "errs", "ShardId", shardID(0),
			"ShardIteratorType", "AT_TIMESTAMP", "Timestamp", cbor.Tag{Number: 1, Content: time.Now().Add(time.Hour).UnixMilli()}),
			"InvalidArgumentException", ""},
		{"wrong type", "CreateStream", cborBytes(t, map[string]any{"StreamName": "x", "ShardCount": "one"}),
			"SerializationException", "class java.lang.String can not be converted to an Integer"},
		{"bad CBOR", "ListStreams", []byte{0xbf, 0x65, 'L', 'i', 'm'}, "SerializationException", ""},
		{"JSON sent as CBOR", "ListStreams", []byte(`{"Limit":1}`), "SerializationException", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCBORClient(t, s)
			a := c.send(tc.op, tc.body)
			if a.status != http.StatusBadRequest || a.ctype != cborType {
				t.Errorf("status %d, content type %q; want 400 and %s", a.status, a.ctype, cborType)
			}
			if typ := cborField[string](t, a.body["__type"]); typ != tc.typ {
				t.Errorf("__type %q, want %q (%s)", typ, tc.typ, cborDiag(a.raw))
			}
			msg, hasMsg := a.body["message"]
			switch {
			case tc.msg != "" && (!hasMsg || cborField[string](t, msg) != tc.msg):
				t.Errorf("message %s\nwant %q", cborDiag(a.raw), tc.msg)
			case tc.typ == "InvalidArgumentException" && !strings.Contains(cborField[string](t, msg), "currentTimestampInMillis"):
				t.Errorf("message %s", cborDiag(a.raw))
			}
		})
	}
}
