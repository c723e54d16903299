package engine

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"
)

var fuzzSigner = signer{key: bytes.Repeat([]byte{7}, 32)}

// FuzzParseIterator: any string given as a shard iterator is rejected or
// names exactly what the server signed, never panics; a token the server
// made parses back to what it encoded.
func FuzzParseIterator(f *testing.F) {
	f.Add(fuzzSigner.iterator(iterator{uid: 1, pos: 42, issued: time.UnixMilli(1767225600000)}), uint64(1), uint64(42), int64(1767225600000))
	f.Add("", uint64(0), uint64(0), int64(0))
	f.Add("AAAA", uint64(1<<63), uint64(1<<64-1), int64(-1))
	f.Add(fuzzSigner.listToken(listToken{stream: "s", after: "shardId-000000000001"}), uint64(7), uint64(0), int64(0))
	f.Fuzz(func(t *testing.T, token string, uid, pos uint64, issuedMillis int64) {
		if it, ok := fuzzSigner.parseIterator(token); ok {
			if !sameToken(fuzzSigner.iterator(it), token) {
				t.Fatalf("accepted %q, which the server did not sign as %+v", token, it)
			}
		}
		want := iterator{uid: uid, pos: pos, issued: time.UnixMilli(issuedMillis)}
		tok := fuzzSigner.iterator(want)
		got, ok := fuzzSigner.parseIterator(tok)
		if !ok || got.uid != uid || got.pos != pos || !got.issued.Equal(want.issued) {
			t.Fatalf("round trip of %+v: %+v, %v", want, got, ok)
		}
		if _, ok := fuzzSigner.parseListToken(tok); ok {
			t.Fatal("a shard iterator was accepted as a ListShards token")
		}
	})
}

// FuzzParseListToken is FuzzParseIterator for ListShards NextTokens.
func FuzzParseListToken(f *testing.F) {
	f.Add(fuzzSigner.listToken(listToken{stream: "orders", created: 1767225600000, after: "shardId-000000000003", issued: time.UnixMilli(1767225600000)}), "orders", "shardId-000000000003", int64(1))
	f.Add("", "", "", int64(0))
	f.Add("Ag==", "\x00", "\xff", int64(-1))
	f.Fuzz(func(t *testing.T, token, stream, after string, millis int64) {
		if lt, ok := fuzzSigner.parseListToken(token); ok {
			if !sameToken(fuzzSigner.listToken(lt), token) {
				t.Fatalf("accepted %q, which the server did not sign as %+v", token, lt)
			}
		}
		if len(after) > 255 {
			after = after[:255] // shard ids are short; the format keeps one length byte
		}
		want := listToken{stream: stream, created: millis, after: after, issued: time.UnixMilli(millis)}
		got, ok := fuzzSigner.parseListToken(fuzzSigner.listToken(want))
		if !ok || got.stream != stream || got.after != after || got.created != millis || !got.issued.Equal(want.issued) {
			t.Fatalf("round trip of %+v: %+v, %v", want, got, ok)
		}
	})
}

// sameToken reports whether two tokens carry the same bytes (base64 may
// spell the same bytes more than one way).
func sameToken(a, b string) bool {
	x, err1 := base64.StdEncoding.DecodeString(a)
	y, err2 := base64.StdEncoding.DecodeString(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
