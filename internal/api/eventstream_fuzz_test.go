package api

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// FuzzEventStreamFrames: every event and exception message the server frames
// for SubscribeToShard decodes, with the SDK's decoder, to exactly what was
// encoded. The server parses no event stream itself, so the decoder side is
// the clients'; arbitrary bytes fed to it must not panic either.
func FuzzEventStreamFrames(f *testing.F) {
	f.Add("SubscribeToShardEvent", "application/json", []byte(`{"Records":[],"ContinuationSequenceNumber":"1","MillisBehindLatest":0}`), false)
	f.Add("initial-response", cborContentType, []byte{0xa0}, false)
	f.Add("ResourceNotFoundException", "application/json", []byte(`{"message":"Shard shardId-000000000000 not found."}`), true)
	f.Add("", "", []byte{}, true)
	f.Add("\x00\xff", "é", bytes.Repeat([]byte{0}, 1<<10), false)
	f.Fuzz(func(t *testing.T, typ, contentType string, payload []byte, exception bool) {
		msg := eventMessage(typ, contentType, payload)
		if exception {
			msg = exceptionMessage(typ, contentType, payload)
		}
		var buf bytes.Buffer
		if err := eventstream.NewEncoder().Encode(&buf, msg); err != nil {
			return // e.g. a header value longer than the format allows; the server never sends one
		}
		frame := bytes.Clone(buf.Bytes())
		got, err := eventstream.NewDecoder().Decode(&buf, nil)
		if err != nil {
			t.Fatalf("decode of an encoded frame: %v", err)
		}
		if !bytes.Equal(got.Payload, payload) {
			t.Fatalf("payload %q, want %q", got.Payload, payload)
		}
		for _, h := range msg.Headers {
			if v := got.Headers.Get(h.Name); v == nil || v.String() != h.Value.String() {
				t.Fatalf("header %s = %v, want %v", h.Name, v, h.Value)
			}
		}
		if len(got.Headers) != len(msg.Headers) {
			t.Fatalf("%d headers, want %d", len(got.Headers), len(msg.Headers))
		}
		// A damaged frame is an error for the client, never a panic.
		for _, i := range []int{0, 4, 8, len(frame) / 2, len(frame) - 1} {
			bad := bytes.Clone(frame)
			bad[i] ^= 0x5a
			eventstream.NewDecoder().Decode(bytes.NewReader(bad), nil)
		}
		eventstream.NewDecoder().Decode(bytes.NewReader(payload), nil)
	})
}
