package engine

import (
	"math/big"
	"testing"
	"time"

	"github.com/riffle-streams/riffle/internal/store"
)

func TestSequenceNumberOrderAndPositions(t *testing.T) {
	const uid = 42
	start := startSeq(uid)
	r0, r1 := recordSeq(uid, 0), recordSeq(uid, 1)
	cont1 := continuationSeq(uid, 1, time.UnixMilli(1_700_000_000_000))
	cont1later := continuationSeq(uid, 1, time.UnixMilli(1_700_000_005_000))
	order := []string{start, r0, cont1, cont1later, r1}
	for i := 1; i < len(order); i++ {
		a, _ := new(big.Int).SetString(order[i-1], 10)
		b, _ := new(big.Int).SetString(order[i], 10)
		if len(order[i]) != 56 || a.Cmp(b) >= 0 {
			t.Fatalf("%s does not sort before %s", order[i-1], order[i])
		}
	}
	for _, c := range []struct {
		seq       string
		at, after uint64
	}{
		{start, 0, 0}, {r0, 0, 1}, {cont1, 1, 1}, {cont1later, 1, 1}, {r1, 1, 2},
	} {
		p, ok := parseSeq(c.seq)
		if !ok || p.uid != uid || p.at() != c.at || p.after() != c.after {
			t.Errorf("%s: ok=%v at=%d after=%d, want at=%d after=%d", c.seq, ok, p.at(), p.after(), c.at, c.after)
		}
	}
	bad := []byte(r1)
	bad[40]++
	if _, ok := parseSeq(string(bad)); ok {
		t.Fatal("a number with a changed digit was accepted")
	}
	for _, s := range []string{"", "0", "12345", r1 + "0", "59" + r1[2:]} {
		if _, ok := parseSeq(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestRecordSeqsMatchRecordSeq(t *testing.T) {
	// Across carries in the slot digits, and at the largest slot.
	for _, c := range []struct{ uid, first uint64 }{{1, 0}, {42, 8}, {7, 99_998}, {1<<53 + 3, ^uint64(0) - 5}} {
		got := string(appendRecordSeqs([]byte("x"), c.uid, c.first, 5))[1:]
		for i := 0; i < 5; i++ {
			if s, want := got[i*seqLen:(i+1)*seqLen], recordSeq(c.uid, c.first+uint64(i)); s != want {
				t.Fatalf("uid %d position %d: %s, want %s", c.uid, c.first+uint64(i), s, want)
			}
		}
	}
}

func TestRecordSeqRunMatchesRecordSeq(t *testing.T) {
	for _, positions := range [][]uint64{{}, {0}, {9, 10, 11, 12}, {3, 5, 6}} {
		recs := make([]store.Record, len(positions))
		for i, p := range positions {
			recs[i].Seq = p
		}
		got := recordSeqRun(42, recs)
		if len(got) != len(positions)*seqLen {
			t.Fatalf("positions %v: %d bytes", positions, len(got))
		}
		for i, p := range positions {
			if s, want := got[i*seqLen:(i+1)*seqLen], recordSeq(42, p); s != want {
				t.Fatalf("positions %v, #%d: %s, want %s", positions, i, s, want)
			}
		}
	}
}
