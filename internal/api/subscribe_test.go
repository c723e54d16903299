package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/fxamacker/cbor/v2"
)

// TestSubscribeEventPayloadsFollowTheRequestCodec subscribes once with a
// JSON request and once with a CBOR one and decodes the event stream frames:
// payloads come in the request's encoding.
func TestSubscribeEventPayloadsFollowTheRequestCodec(t *testing.T) {
	h := newTestHandler(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	call(t, h, "CreateStream", []byte(`{"StreamName":"s","ShardCount":1}`), true)
	_, reg, _ := call(t, h, "RegisterStreamConsumer", []byte(`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","ConsumerName":"c"}`), true)
	arn := reg["Consumer"].(map[string]any)["ConsumerARN"].(string)
	// A second consumer, so that the two subscriptions don't collide.
	_, reg2, _ := call(t, h, "RegisterStreamConsumer", []byte(`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","ConsumerName":"c2"}`), true)
	arn2 := reg2["Consumer"].(map[string]any)["ConsumerARN"].(string)
	call(t, h, "PutRecord", []byte(`{"StreamName":"s","PartitionKey":"k","Data":"aGk="}`), true)

	for _, tc := range []struct {
		ctype string
		body  []byte
	}{
		{"application/x-amz-json-1.1", mustJSON(t, map[string]any{"ConsumerARN": arn, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "TRIM_HORIZON"}})},
		{"application/x-amz-cbor-1.1", mustCBOR(t, map[string]any{"ConsumerARN": arn2, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "TRIM_HORIZON"}})},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.ctype)
		req.Header.Set("X-Amz-Target", targetPrefix+"SubscribeToShard")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != eventStreamContentType {
			t.Fatalf("%s: %v %v", tc.ctype, resp, err)
		}
		dec := eventstream.NewDecoder()
		var kinds []string
		var records []any
		for len(kinds) < 2 {
			msg, err := dec.Decode(resp.Body, nil)
			if err != nil {
				t.Fatalf("%s: decode frame: %v", tc.ctype, err)
			}
			kinds = append(kinds, msg.Headers.Get(":event-type").String())
			if kinds[len(kinds)-1] != "SubscribeToShardEvent" {
				continue
			}
			var ev map[string]any
			if tc.ctype == "application/x-amz-cbor-1.1" {
				if ct := msg.Headers.Get(":content-type").String(); ct != "application/x-amz-cbor-1.1" {
					t.Fatalf("CBOR event content type %s", ct)
				}
				dm, _ := cbor.DecOptions{DefaultMapType: reflect.TypeOf(map[string]any(nil))}.DecMode()
				err = dm.Unmarshal(msg.Payload, &ev)
			} else {
				err = json.Unmarshal(msg.Payload, &ev)
			}
			if err != nil {
				t.Fatalf("%s: event payload: %v (%q)", tc.ctype, err, msg.Payload)
			}
			records = ev["Records"].([]any)
		}
		cancel()
		resp.Body.Close()
		if kinds[0] != "initial-response" || len(records) != 1 {
			t.Fatalf("%s: events %v, records %v", tc.ctype, kinds, records)
		}
		data := records[0].(map[string]any)["Data"]
		if tc.ctype == "application/x-amz-cbor-1.1" {
			if b, ok := data.([]byte); !ok || string(b) != "hi" {
				t.Fatalf("CBOR Data %#v, want a byte string", data)
			}
		} else if data != "aGk=" {
			t.Fatalf("JSON Data %#v", data)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
