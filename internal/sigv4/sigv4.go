// Package sigv4 verifies AWS Signature Version 4 on incoming HTTP requests,
// in both forms clients use: the Authorization header, and the presigned
// query string (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-SignedHeaders, X-Amz-Signature and optionally X-Amz-Expires).
//
// The server recomputes the signature the way AWS defines it:
//
//	CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n
//	                   CanonicalHeaders \n SignedHeaders \n PayloadHash
//	StringToSign     = "AWS4-HMAC-SHA256" \n AmzDate \n Scope \n hex(SHA256(CanonicalRequest))
//	Scope            = YYYYMMDD/region/service/aws4_request
//	SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, YYYYMMDD), region), service), "aws4_request")
//	Signature        = hex(HMAC(SigningKey, StringToSign))
//
// The canonical URI is the request's escaped path escaped once more, as
// every service but S3 expects; the canonical query sorts the decoded
// parameters (without X-Amz-Signature) and encodes them with RFC 3986;
// header values are trimmed with inner runs of spaces collapsed, repeated
// headers joined by commas. The payload hash is X-Amz-Content-Sha256 when
// the client sent it (a hex SHA-256, which must then match the body, or
// UNSIGNED-PAYLOAD), else the SHA-256 of the body.
//
// Failures are *Error values carrying AWS's error code and wording. Secrets
// never appear in them; signatures are compared in constant time.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// DefaultMaxSkew is how far a request's signing time may be from the
// server's clock, as in AWS.
const DefaultMaxSkew = 15 * time.Minute

// MaxPresignExpires is the longest X-Amz-Expires a presigned request may
// carry: one week, as in AWS.
const MaxPresignExpires = 7 * 24 * time.Hour

// UnsignedPayload is the X-Amz-Content-Sha256 value of a request whose body
// is not covered by the signature.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// timeFormat is ISO 8601 basic format, as X-Amz-Date carries it.
const timeFormat = "20060102T150405Z"

// Error codes, as AWS's __type.
const (
	CodeMissingToken = "MissingAuthenticationTokenException"
	CodeIncomplete   = "IncompleteSignatureException"
	CodeInvalid      = "InvalidSignatureException"
	CodeUnrecognized = "UnrecognizedClientException"
)

// MsgInvalidToken is AWS's message for an access key (or session token) it
// does not know.
const MsgInvalidToken = "The security token included in the request is invalid."

// Error is a failed verification, with the code and message AWS answers.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func fail(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Signature is what a request claims about its signing, parsed from the
// Authorization header or the presigned query string.
type Signature struct {
	AccessKeyID   string
	ScopeDate     string // YYYYMMDD
	Region        string
	Service       string
	SignedHeaders []string // lower case, in the order given
	Signature     string   // hex, as sent
	Time          time.Time
	AmzDate       string // Time in ISO 8601 basic format, as it enters the string to sign
	Presigned     bool
	Expires       time.Duration // presigned only; 0 if X-Amz-Expires was absent
	SecurityToken string
}

// Scope is the credential scope: date/region/service/aws4_request.
func (s *Signature) Scope() string {
	return s.ScopeDate + "/" + s.Region + "/" + s.Service + "/aws4_request"
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// Verifier checks request signatures.
type Verifier struct {
	// Service is the service name the credential scope must carry (kinesis).
	Service string
	// Secret returns the secret access key of an access key id; ok=false
	// for an unknown key.
	Secret func(accessKeyID string) (secret string, ok bool)
	// Now is the server's clock; time.Now if nil.
	Now func() time.Time
	// MaxSkew bounds the difference between the signing time and Now;
	// DefaultMaxSkew if zero.
	MaxSkew time.Duration
}

// Verify checks the signature of r, whose body (already read, r.Body is not
// used) is body. It returns the verified signature, or an *Error.
func (v *Verifier) Verify(r *http.Request, body []byte) (*Signature, error) {
	sig, err := Parse(r)
	if err != nil {
		return nil, err
	}
	if sig.Service != v.Service {
		return nil, fail(CodeInvalid, "Credential should be scoped to correct service: '%s'. ", v.Service)
	}
	if !regionRE.MatchString(sig.Region) {
		return nil, fail(CodeInvalid, "Credential should be scoped to a valid region, not '%s'. ", sig.Region)
	}
	secret, ok := v.Secret(sig.AccessKeyID)
	if !ok || sig.SecurityToken != "" {
		// No temporary credentials exist here, so any session token is
		// one AWS would not recognise either.
		return nil, fail(CodeUnrecognized, MsgInvalidToken)
	}
	if err := v.checkTime(sig); err != nil {
		return nil, err
	}
	payloadHash, err := payloadHash(r, body)
	if err != nil {
		return nil, err
	}
	creq := CanonicalRequest(r, sig, payloadHash)
	sts := StringToSign(sig, creq)
	want := hex.EncodeToString(hmacSHA256(SigningKey(secret, sig.ScopeDate, sig.Region, sig.Service), sts))
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(sig.Signature))) != 1 {
		return nil, fail(CodeInvalid, "The request signature we calculated does not match the signature you provided. "+
			"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."+
			"\n\nThe Canonical String for this request should have been\n'%s'\n\nThe String-to-Sign should have been\n'%s'\n", creq, sts)
	}
	// The signature covers the claimed hash; the body must then match it.
	if payloadHash != UnsignedPayload {
		sum := sha256.Sum256(body)
		if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(payloadHash)) != 1 {
			return nil, fail(CodeInvalid, "The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
	}
	return sig, nil
}

func (v *Verifier) checkTime(sig *Signature) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	t := now().UTC()
	if sig.Presigned && sig.Expires > 0 {
		// A presigned request is valid from its signing time (less the
		// clock skew) until it expires.
		if earliest := t.Add(-sig.Expires); sig.Time.Before(earliest) {
			return fail(CodeInvalid, "Signature expired: %s is now earlier than %s (%s - %s.)",
				sig.AmzDate, earliest.Format(timeFormat), t.Format(timeFormat), minutes(sig.Expires))
		}
	} else if earliest := t.Add(-skew); sig.Time.Before(earliest) {
		return fail(CodeInvalid, "Signature expired: %s is now earlier than %s (%s - %s.)",
			sig.AmzDate, earliest.Format(timeFormat), t.Format(timeFormat), minutes(skew))
	}
	if latest := t.Add(skew); sig.Time.After(latest) {
		return fail(CodeInvalid, "Signature not yet current: %s is still later than %s (%s + %s.)",
			sig.AmzDate, latest.Format(timeFormat), t.Format(timeFormat), minutes(skew))
	}
	return nil
}

// minutes renders a duration as AWS's messages do: "15 min", or seconds
// when it is not whole minutes.
func minutes(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + " sec"
}

// Signed reports whether r carries a signature in either form, without
// checking it.
func Signed(r *http.Request) bool {
	return r.Header.Get("Authorization") != "" || r.URL.Query().Has("X-Amz-Algorithm")
}

// Parse extracts the claimed signature of r without verifying it. It
// reports what is missing or malformed in AWS's words.
func Parse(r *http.Request) (*Signature, error) {
	auth := r.Header.Get("Authorization")
	query := r.URL.Query()
	switch {
	case auth != "" && query.Has("X-Amz-Algorithm"):
		return nil, fail(CodeInvalid, "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")
	case auth != "":
		return parseHeader(r, auth)
	case query.Has("X-Amz-Algorithm"):
		return parseQuery(query)
	}
	return nil, fail(CodeMissingToken, "Missing Authentication Token")
}

func parseHeader(r *http.Request, auth string) (*Signature, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(auth), " ")
	params := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if k != "" {
			params[k] = v
		}
	}
	var msg strings.Builder
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[k] == "" {
			fmt.Fprintf(&msg, "Authorization header requires '%s' parameter. ", k)
		}
	}
	date := r.Header.Get("X-Amz-Date")
	if date == "" && r.Header.Get("Date") == "" {
		msg.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	if msg.Len() > 0 {
		return nil, fail(CodeIncomplete, "%sAuthorization=%s", msg.String(), auth)
	}
	if alg != Algorithm {
		return nil, fail(CodeIncomplete, "Unsupported AWS 'algorithm': '%s'", alg)
	}
	sig := &Signature{Signature: params["Signature"], SecurityToken: r.Header.Get("X-Amz-Security-Token")}
	if err := sig.setCredential(params["Credential"]); err != nil {
		return nil, err
	}
	sig.SignedHeaders = strings.Split(params["SignedHeaders"], ";")
	if err := sig.setTime(date, r.Header.Get("Date")); err != nil {
		return nil, err
	}
	if !sig.signs("host") {
		return nil, fail(CodeIncomplete, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return sig, nil
}

func parseQuery(q url.Values) (*Signature, error) {
	var msg strings.Builder
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"} {
		if q.Get(k) == "" {
			fmt.Fprintf(&msg, "AWS query-string parameters must include '%s'. ", k)
		}
	}
	if msg.Len() > 0 {
		return nil, fail(CodeIncomplete, "%sRe-examine the query-string parameters.", msg.String())
	}
	if alg := q.Get("X-Amz-Algorithm"); alg != Algorithm {
		return nil, fail(CodeIncomplete, "Unsupported AWS 'algorithm': '%s'", alg)
	}
	sig := &Signature{Signature: q.Get("X-Amz-Signature"), Presigned: true, SecurityToken: q.Get("X-Amz-Security-Token")}
	if err := sig.setCredential(q.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	sig.SignedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	if err := sig.setTime(q.Get("X-Amz-Date"), ""); err != nil {
		return nil, err
	}
	if e := q.Get("X-Amz-Expires"); e != "" {
		n, err := strconv.ParseInt(e, 10, 64)
		if err != nil || n <= 0 {
			return nil, fail(CodeIncomplete, "X-Amz-Expires must be a positive number of seconds, not '%s'.", e)
		}
		if time.Duration(n)*time.Second > MaxPresignExpires {
			return nil, fail(CodeIncomplete, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
		sig.Expires = time.Duration(n) * time.Second
	}
	if !sig.signs("host") {
		return nil, fail(CodeIncomplete, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return sig, nil
}

func (s *Signature) setCredential(cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return fail(CodeIncomplete, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", cred)
	}
	if parts[4] != "aws4_request" {
		return fail(CodeInvalid, "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'. ", parts[4])
	}
	s.AccessKeyID, s.ScopeDate, s.Region, s.Service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

// setTime takes the signing time from X-Amz-Date, else from Date (an HTTP
// date), and checks it against the credential scope's date.
func (s *Signature) setTime(amzDate, httpDate string) error {
	if amzDate != "" {
		t, err := time.Parse(timeFormat, amzDate)
		if err != nil {
			return fail(CodeIncomplete, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", amzDate)
		}
		s.Time, s.AmzDate = t, amzDate
	} else {
		t, err := http.ParseTime(httpDate)
		if err != nil {
			return fail(CodeIncomplete, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", httpDate)
		}
		s.Time, s.AmzDate = t.UTC(), t.UTC().Format(timeFormat)
	}
	if day := s.AmzDate[:8]; day != s.ScopeDate {
		return fail(CodeInvalid, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			s.ScopeDate, day, s.AmzDate)
	}
	return nil
}

func (s *Signature) signs(header string) bool {
	for _, h := range s.SignedHeaders {
		if strings.EqualFold(h, header) {
			return true
		}
	}
	return false
}

// payloadHash is the hash the canonical request ends with.
func payloadHash(r *http.Request, body []byte) (string, error) {
	h := strings.TrimSpace(r.Header.Get("X-Amz-Content-Sha256"))
	switch {
	case h == "":
		sum := sha256.Sum256(body)
		return hex.EncodeToString(sum[:]), nil
	case h == UnsignedPayload:
		return h, nil
	case len(h) == 64 && isHex(h):
		return strings.ToLower(h), nil
	}
	// Streaming (chunk-signed) payloads are an S3 upload feature that
	// Kinesis clients never send.
	return "", fail(CodeInvalid, "The x-amz-content-sha256 value '%s' is not supported: send the SHA-256 of the body or UNSIGNED-PAYLOAD.", h)
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// CanonicalRequest builds the canonical request of r for the headers sig
// signs.
func CanonicalRequest(r *http.Request, sig *Signature, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(uriEncode(path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, sig.Presigned))
	b.WriteByte('\n')
	for _, name := range sig.SignedHeaders {
		name = strings.ToLower(name)
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.ToLower(strings.Join(sig.SignedHeaders, ";")))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// headerValue is a signed header's canonical value. Go's server moves Host
// (HTTP/2's :authority) and Content-Length out of r.Header.
func headerValue(r *http.Request, name string) string {
	switch name {
	case "host":
		return r.Host
	case "content-length":
		if v := r.Header.Values("Content-Length"); len(v) > 0 {
			return strings.Join(v, ",")
		}
		if r.ContentLength >= 0 {
			return strconv.FormatInt(r.ContentLength, 10)
		}
		return ""
	}
	vals := r.Header.Values(name)
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

// canonicalQuery sorts the query's parameters by encoded name, then value,
// leaving out X-Amz-Signature of a presigned request.
func canonicalQuery(raw string, presigned bool) string {
	type kv struct{ k, v string }
	var pairs []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, kerr := url.QueryUnescape(k)
		v, verr := url.QueryUnescape(v)
		if kerr != nil || verr != nil {
			// Not valid percent-encoding: sign what was sent.
			k, v, _ = strings.Cut(part, "=")
		}
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, kv{uriEncode(k, true), uriEncode(v, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

// uriEncode percent-encodes every byte but RFC 3986's unreserved ones, and
// '/' too unless encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// StringToSign is the string the signature is the HMAC of.
func StringToSign(sig *Signature, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + sig.AmzDate + "\n" + sig.Scope() + "\n" + hex.EncodeToString(sum[:])
}

// SigningKey derives the key of one day, region and service from a secret.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
