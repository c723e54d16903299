package interop

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fakeAuth is a well-formed SigV4 header; the server does not verify
// signatures by default, but it does require one.
const fakeAuth = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=abc"

type rawResp struct {
	status int
	header http.Header
	body   []byte
}

func rawCall(t *testing.T, s *server, target string, body []byte, auth bool) (*rawResp, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if auth {
		req.Header.Set("Authorization", fakeAuth)
		req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &rawResp{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func mustRaw(t *testing.T, s *server, op, body string) *rawResp {
	t.Helper()
	r, err := rawCall(t, s, "Kinesis_20131202."+op, []byte(body), true)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return r
}

// TestRawHTTPErrors sends hand-made requests and checks the status, error
// type and wording a client sees.
func TestRawHTTPErrors(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	if r := mustRaw(t, s, "CreateStream", `{"StreamName":"raw","ShardCount":1}`); r.status != 200 {
		t.Fatalf("CreateStream: %d %s", r.status, r.body)
	}
	// A good response looks like AWS's too.
	r := mustRaw(t, s, "DescribeStreamSummary", `{"StreamName":"raw"}`)
	if r.status != 200 || r.header.Get("x-amzn-RequestId") == "" || r.header.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Errorf("DescribeStreamSummary: status %d, request id %q, content type %q", r.status, r.header.Get("x-amzn-RequestId"), r.header.Get("Content-Type"))
	}

	const namePattern = "Value 'a b' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
	cases := []struct {
		name     string
		target   string
		body     string
		noAuth   bool
		status   int
		typ      string
		message  string   // exact, when AWS's wording is known
		contains []string // parts of the message, when only those are known
	}{
		{name: "missing Authorization", target: "Kinesis_20131202.ListStreams", body: `{}`, noAuth: true,
			status: 400, typ: "MissingAuthenticationTokenException", message: "Missing Authentication Token"},
		{name: "unknown operation", target: "Kinesis_20131202.FlyToTheMoon", body: `{}`,
			status: 400, typ: "UnknownOperationException"},
		{name: "other service's target", target: "DynamoDB_20120810.ListTables", body: `{}`,
			status: 400, typ: "UnknownOperationException"},
		{name: "unparsable body", target: "Kinesis_20131202.ListStreams", body: `{"Limit": `,
			status: 400, typ: "SerializationException"},
		{name: "body not an object", target: "Kinesis_20131202.ListStreams", body: `[1,2]`,
			status: 400, typ: "SerializationException"},
		{name: "wrong member type", target: "Kinesis_20131202.CreateStream", body: `{"StreamName":5,"ShardCount":1}`,
			status: 400, typ: "SerializationException"},
		{name: "invalid stream name", target: "Kinesis_20131202.CreateStream", body: `{"StreamName":"a b","ShardCount":1}`,
			status: 400, typ: "ValidationException", message: "1 validation error detected: " + namePattern},
		{name: "two violations", target: "Kinesis_20131202.CreateStream", body: `{"StreamName":"a b","ShardCount":0}`,
			status: 400, typ: "ValidationException", contains: []string{"2 validation errors detected: ", namePattern,
				"Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1", "; "}},
		{name: "missing required member", target: "Kinesis_20131202.CreateStream", body: `{"ShardCount":1}`,
			status: 400, typ: "ValidationException",
			message: "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null"},
		{name: "unknown stream", target: "Kinesis_20131202.DescribeStreamSummary", body: `{"StreamName":"nope"}`,
			status: 400, typ: "ResourceNotFoundException", message: "Stream nope under account 000000000000 not found."},
		{name: "unknown stream by PutRecord", target: "Kinesis_20131202.PutRecord", body: `{"StreamName":"nope","PartitionKey":"k","Data":"aGk="}`,
			status: 400, typ: "ResourceNotFoundException", message: "Stream nope under account 000000000000 not found."},
		{name: "duplicate stream", target: "Kinesis_20131202.CreateStream", body: `{"StreamName":"raw","ShardCount":1}`,
			status: 400, typ: "ResourceInUseException", contains: []string{"raw", "000000000000"}},
		{name: "Data over 1 MiB", target: "Kinesis_20131202.PutRecord",
			body:   `{"StreamName":"raw","PartitionKey":"k","Data":"` + base64.StdEncoding.EncodeToString(make([]byte, 1<<20+1)) + `"}`,
			status: 400, typ: "ValidationException",
			contains: []string{"1 validation error detected: ", " at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576"}},
		{name: "Data not base64", target: "Kinesis_20131202.PutRecord", body: `{"StreamName":"raw","PartitionKey":"k","Data":"!!!not base64!!!"}`,
			status: 400, typ: "SerializationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := rawCall(t, s, tc.target, []byte(tc.body), !tc.noAuth)
			if err != nil {
				t.Fatal(err)
			}
			checkErrorResponse(t, r, tc.status, tc.typ)
			// AWS spells the member "message" or "Message"; clients accept both.
			var m map[string]any
			json.Unmarshal(r.body, &m)
			msg, _ := m["message"].(string)
			if msg == "" {
				msg, _ = m["Message"].(string)
			}
			if tc.message != "" && msg != tc.message {
				t.Errorf("message %q\nwant    %q", msg, tc.message)
			}
			for _, part := range tc.contains {
				if !strings.Contains(msg, part) {
					t.Errorf("message %q lacks %q", msg, part)
				}
			}
		})
	}
}

// checkErrorResponse asserts what every AWS JSON error response has.
func checkErrorResponse(t *testing.T, r *rawResp, status int, typ string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d (body %.300s)", r.status, status, r.body)
	}
	if r.header.Get("x-amzn-RequestId") == "" {
		t.Errorf("no x-amzn-RequestId header")
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("error body is not JSON: %q", r.body)
	}
	got, _ := m["__type"].(string)
	// Some AWS services prefix the type with a namespace ("ns#Type"); clients strip it.
	if i := strings.LastIndex(got, "#"); i >= 0 {
		got = got[i+1:]
	}
	if got != typ {
		t.Errorf("__type %v, want %q (body %.300s)", m["__type"], typ, r.body)
	}
}

// TestRawHTTPBodyLimit sends a body over the 8 MiB limit: it must be refused,
// nothing stored, and the server must keep serving.
func TestRawHTTPBodyLimit(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	if r := mustRaw(t, s, "CreateStream", `{"StreamName":"big","ShardCount":1}`); r.status != 200 {
		t.Fatalf("CreateStream: %d %s", r.status, r.body)
	}
	// Over the 16 MiB body limit (which fits a 10 MiB record in base64).
	const size = 17 << 20
	var b bytes.Buffer
	b.WriteString(`{"StreamName":"big","PartitionKey":"huge","Data":"`)
	b.Write(bytes.Repeat([]byte("A"), size-b.Len()-2))
	b.WriteString(`"}`)
	r, err := rawCall(t, s, "Kinesis_20131202.PutRecord", b.Bytes(), true)
	switch {
	case err != nil:
		// A server may close the connection on an oversized body before the
		// client finishes sending it; the client then sees a transport error.
		t.Logf("oversized request ended with a transport error: %v", err)
	case r.status == 200:
		t.Errorf("17 MiB PutRecord accepted: %s", r.body)
	default:
		if r.status != 400 && r.status != 413 {
			t.Errorf("17 MiB body: status %d, want 400 or 413", r.status)
		}
		var m map[string]any
		if json.Unmarshal(r.body, &m) != nil || m["__type"] == nil {
			t.Errorf("17 MiB body: error body without __type: %.200q", r.body)
		}
	}
	if !s.alive() {
		t.Fatalf("server exited after an oversized body")
	}
	for i := 0; i < 3; i++ {
		r := mustRaw(t, s, "PutRecord", fmt.Sprintf(`{"StreamName":"big","PartitionKey":"small","Data":"c21hbGwtJWQ=","ExplicitHashKey":"%d"}`, i))
		if r.status != 200 {
			t.Fatalf("small PutRecord after the oversized one: %d %s", r.status, r.body)
		}
	}
	c := s.client(1)
	ctx := testCtx(t, 30*time.Second)
	recs := readShard(t, ctx, c, "big", shardID(0))
	if len(recs) != 3 {
		t.Errorf("stream holds %d records, want the 3 small ones", len(recs))
	}
	for _, rec := range recs {
		if string(*rec.PartitionKey) != "small" {
			t.Errorf("the refused oversized record was stored (%d bytes)", len(rec.Data))
		}
	}
}

// TestRawHTTP2Cleartext checks that the plain listener also speaks HTTP/2
// with prior knowledge (h2c), as the design promises.
func TestRawHTTP2Cleartext(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Protocols: protocols}}
	req, err := http.NewRequest(http.MethodPost, s.endpoint+"/", strings.NewReader(`{"StreamName":"h2","ShardCount":1}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.CreateStream")
	req.Header.Set("Authorization", fakeAuth)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("h2c request: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
		t.Errorf("h2c CreateStream: %s %d %s", resp.Proto, resp.StatusCode, body)
	}
	waitActive(t, testCtx(t, 30*time.Second), s.client(1), "h2")
}
