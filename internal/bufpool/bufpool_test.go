package bufpool

import "testing"

func TestGetSizesAndReuse(t *testing.T) {
	for _, n := range []int{0, 1, 4096, 4097, 100_000, 8 << 20, 8<<20 + 1} {
		p := Get(n)
		if len(*p) != n {
			t.Fatalf("Get(%d) has length %d", n, len(*p))
		}
		if c := cap(*p); n <= 8<<20 && (c < n || c&(c-1) != 0) {
			t.Fatalf("Get(%d) has capacity %d, want a power of two >= n", n, c)
		}
		Put(p)
	}
	// A buffer of the same class comes back with the asked length.
	p := Get(5000)
	(*p)[0] = 1
	Put(p)
	q := Get(6000)
	if len(*q) != 6000 || cap(*q) != 8192 {
		t.Fatalf("Get(6000) length %d capacity %d", len(*q), cap(*q))
	}
	// Foreign buffers are ignored.
	b := make([]byte, 10, 5000)
	Put(&b)
}
