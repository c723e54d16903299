package apimodel

import "unicode/utf16"

// AWS's Java front end keeps a structure's members and an enum's values in hash tables, so the
// order in which it reports violations and prints enum sets is hash-table iteration order, not
// model order. The two functions below reproduce that order. Both rules were inferred from
// recorded AWS responses and fit every one found (see doc.go for the list); they are
// deliberately isolated here so that one new observation changes one file.

// javaStringHash is Java's String.hashCode: s[0]*31^(n-1) + ... over UTF-16 code units, with
// int32 wrap-around.
func javaStringHash(s string) uint32 {
	var h uint32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + uint32(u)
	}
	return h
}

// hashMapOrder returns the indexes of names in the iteration order of a Java 7 HashMap with 16
// buckets into which names were put in order: a key's bucket is Java 7's supplemental hash of
// its hashCode masked to the table size, and a new key goes to the head of its bucket's chain.
// Violations of structure members are reported in this order of their lowerCamelCase names.
// The recorded orders show no table growth up to 16 members (DynamoDB's Scan); beyond that the
// table doubles per 16 names, an extrapolation no Kinesis shape (8 members at most) reaches.
func hashMapOrder(names []string) []int {
	buckets := 16
	for len(names) > buckets {
		buckets *= 2
	}
	chains := make([][]int, buckets)
	for i, n := range names {
		h := javaStringHash(n)
		h ^= (h >> 20) ^ (h >> 12)
		h ^= (h >> 7) ^ (h >> 4)
		b := h & uint32(buckets-1)
		chains[b] = append([]int{i}, chains[b]...)
	}
	out := make([]int, 0, len(names))
	for _, c := range chains {
		out = append(out, c...)
	}
	return out
}

// enumOrder returns values in the order AWS prints an enum value set: a 32-bucket table (doubled
// while the size exceeds 3/4 of it) indexed by the raw hashCode's low bits, values in a bucket in
// model order.
func enumOrder(values []string) []string {
	buckets := 32
	for len(values) > buckets*3/4 {
		buckets *= 2
	}
	chains := make([][]string, buckets)
	for _, v := range values {
		b := javaStringHash(v) & uint32(buckets-1)
		chains[b] = append(chains[b], v)
	}
	out := make([]string, 0, len(values))
	for _, c := range chains {
		out = append(out, c...)
	}
	return out
}
