package journal

import (
	"bytes"
	"errors"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, e := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte{0xab}, 1000)} {
		b := appendFrame([]byte("prefix"), 42, e)[len("prefix"):]
		lsn, payload, n, err := decodeFrame(append(b, "trailing"...))
		if err != nil || lsn != 42 || !bytes.Equal(payload, e) || n != len(b) {
			t.Fatalf("decode(%q) = %d %q %d %v", e, lsn, payload, n, err)
		}
		for cut := 0; cut < len(b); cut++ {
			if _, _, _, err := decodeFrame(b[:cut]); err != errTruncated {
				t.Fatalf("decode of %d/%d bytes: %v, want errTruncated", cut, len(b), err)
			}
		}
		for i := 4; i < len(b); i++ { // every byte but the length is checked
			bad := append([]byte(nil), b...)
			bad[i] ^= 0x10
			if _, _, _, err := decodeFrame(bad); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("flipped byte %d: %v, want ErrCorrupt", i, err)
			}
		}
	}
}

func TestHeaderAndName(t *testing.T) {
	h := encodeHeader(77)
	if first, err := decodeHeader(h); err != nil || first != 77 {
		t.Fatalf("decodeHeader = %d, %v", first, err)
	}
	for i := range h {
		bad := append([]byte(nil), h...)
		bad[i] ^= 1
		if _, err := decodeHeader(bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flipped header byte %d: %v", i, err)
		}
	}
	if n, ok := parseSegmentName(segmentName(123456)); !ok || n != 123456 {
		t.Fatalf("parseSegmentName = %d %v", n, ok)
	}
	for _, bad := range []string{"1.wal", "0000000000000000000x.wal", "00000000000000000001.tmp", "99999999999999999999.wal"} {
		if _, ok := parseSegmentName(bad); ok {
			t.Fatalf("parseSegmentName accepted %q", bad)
		}
	}
}

// FuzzDecodeFrame checks that the decoder never panics, never reads past its
// input, and accepts only frames it would encode identically.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(appendFrame(nil, 1, []byte("hello")))
	f.Add(appendFrame(nil, 1<<40, nil))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		lsn, payload, n, err := decodeFrame(b)
		if err != nil {
			if err != errTruncated && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if n > len(b) {
			t.Fatalf("frame of %d bytes from %d bytes of input", n, len(b))
		}
		if re := appendFrame(nil, lsn, payload); !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encoding differs: %x vs %x", re, b[:n])
		}
	})
}
