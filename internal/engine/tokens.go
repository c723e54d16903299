package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// IteratorTTL is how long a shard iterator stays valid, as in Kinesis.
const IteratorTTL = 5 * time.Minute

// NextTokenTTL is how long a ListShards pagination token stays valid.
const NextTokenTTL = 300 * time.Second

// Token kinds, the first byte of every signed token, so that a token of one
// kind is never accepted as another.
const (
	tokenIterator  byte = 1
	tokenListShard byte = 2
)

const macLen = 16

// signer makes and checks opaque, authenticated tokens: shard iterators and
// pagination tokens. The key is kept in the metadata so tokens survive a
// restart.
type signer struct{ key []byte }

func (s signer) seal(payload []byte) string {
	m := hmac.New(sha256.New, s.key)
	m.Write(payload)
	return base64.StdEncoding.EncodeToString(m.Sum(payload)[:len(payload)+macLen])
}

// open returns the payload of a token made by seal, or ok=false if the token
// is garbled or forged.
func (s signer) open(token string, kind byte) ([]byte, bool) {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil || len(raw) < 1+macLen || raw[0] != kind {
		return nil, false
	}
	payload, mac := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	m := hmac.New(sha256.New, s.key)
	m.Write(payload)
	if !hmac.Equal(mac, m.Sum(nil)[:macLen]) {
		return nil, false
	}
	return payload, true
}

// iterator is the decoded content of a shard iterator.
type iterator struct {
	uid    uint64 // the shard
	pos    uint64 // next position to read
	issued time.Time
}

func (s signer) iterator(it iterator) string {
	b := make([]byte, 1+8+8+8)
	b[0] = tokenIterator
	binary.BigEndian.PutUint64(b[1:], it.uid)
	binary.BigEndian.PutUint64(b[9:], it.pos)
	binary.BigEndian.PutUint64(b[17:], uint64(it.issued.UnixMilli()))
	return s.seal(b)
}

func (s signer) parseIterator(token string) (iterator, bool) {
	b, ok := s.open(token, tokenIterator)
	if !ok || len(b) != 25 {
		return iterator{}, false
	}
	return iterator{
		uid:    binary.BigEndian.Uint64(b[1:]),
		pos:    binary.BigEndian.Uint64(b[9:]),
		issued: time.UnixMilli(int64(binary.BigEndian.Uint64(b[17:]))),
	}, true
}

// listToken is the decoded content of a ListShards NextToken.
type listToken struct {
	stream  string
	created int64  // stream creation, ms: a recreated stream invalidates old tokens
	after   string // last shard id returned
	issued  time.Time
}

func (s signer) listToken(t listToken) string {
	b := []byte{tokenListShard}
	b = binary.BigEndian.AppendUint64(b, uint64(t.issued.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, uint64(t.created))
	b = append(b, byte(len(t.after)))
	b = append(b, t.after...)
	b = append(b, t.stream...)
	return s.seal(b)
}

func (s signer) parseListToken(token string) (listToken, bool) {
	b, ok := s.open(token, tokenListShard)
	if !ok || len(b) < 18 {
		return listToken{}, false
	}
	n := int(b[17])
	if len(b) < 18+n {
		return listToken{}, false
	}
	return listToken{
		issued:  time.UnixMilli(int64(binary.BigEndian.Uint64(b[1:]))),
		created: int64(binary.BigEndian.Uint64(b[9:])),
		after:   string(b[18 : 18+n]),
		stream:  string(b[18+n:]),
	}, true
}
