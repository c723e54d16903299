package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The AWS SigV4 test suite's credentials and time.
const (
	suiteKey    = "AKIDEXAMPLE"
	suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	suiteDate   = "20150830T123600Z"
)

var suiteTime, _ = time.Parse(timeFormat, suiteDate)

func suiteVerifier() *Verifier {
	return &Verifier{
		Service: "service",
		Secret: func(id string) (string, bool) {
			return suiteSecret, id == suiteKey
		},
		Now: func() time.Time { return suiteTime },
	}
}

// TestSuiteVectors checks signatures published in AWS's SigV4 test suite
// (get-vanilla, get-vanilla-query-order-key-case, post-vanilla).
func TestSuiteVectors(t *testing.T) {
	for _, tc := range []struct{ name, method, url, sig string }{
		{"get-vanilla", "GET", "https://example.amazonaws.com/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-vanilla-query-order-key-case", "GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1",
			"b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
		{"post-vanilla", "POST", "https://example.amazonaws.com/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.url, nil)
			r.Header.Set("X-Amz-Date", suiteDate)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature="+tc.sig)
			if _, err := suiteVerifier().Verify(r, nil); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// One changed hex digit must fail.
			last := "0"
			if tc.sig[63] == '0' {
				last = "1"
			}
			bad := tc.sig[:63] + last
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), tc.sig, bad, 1))
			if _, err := suiteVerifier().Verify(r, nil); code(err) != CodeInvalid {
				t.Fatalf("tampered signature: %v", err)
			}
		})
	}
}

func code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// sdkRequest builds a Kinesis-like request signed by the AWS SDK for Go v2.
func sdkRequest(t *testing.T, body string, at time.Time, secret string, presign bool, mutate func(*http.Request)) *http.Request {
	t.Helper()
	r := httptest.NewRequest("POST", "http://127.0.0.1:4567/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
	r.Header.Set("User-Agent", "test  agent")
	if mutate != nil {
		mutate(r)
	}
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" {
		hash = h // what the client claims is what it signs
	}
	creds := aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: secret}
	s := v4.NewSigner()
	if presign {
		q := r.URL.Query()
		q.Set("X-Amz-Expires", "300")
		r.URL.RawQuery = q.Encode()
		u, _, err := s.PresignHTTP(context.Background(), creds, r, hash, "kinesis", "eu-west-1", at)
		if err != nil {
			t.Fatal(err)
		}
		pu, _ := url.Parse(u)
		r.URL.RawQuery = pu.RawQuery
		r.RequestURI = pu.RequestURI()
		return r
	}
	if err := s.SignHTTP(context.Background(), creds, r, hash, "kinesis", "eu-west-1", at); err != nil {
		t.Fatal(err)
	}
	return r
}

func kinesisVerifier(now time.Time) *Verifier {
	return &Verifier{
		Service: "kinesis",
		Secret: func(id string) (string, bool) {
			return "right-secret", id == "AKIDTEST"
		},
		Now: func() time.Time { return now },
	}
}

// TestSDKSignatures checks requests signed by the Go SDK's own signer, in
// header and presigned form, and what a changed byte anywhere does.
func TestSDKSignatures(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	body := `{"Limit":10}`
	for _, presign := range []bool{false, true} {
		r := sdkRequest(t, body, now, "right-secret", presign, func(r *http.Request) {
			r.URL.RawQuery = "b=2&a=x%20y&a=%2Fz"
		})
		sig, err := kinesisVerifier(now).Verify(r, []byte(body))
		if err != nil {
			t.Fatalf("presign=%v: %v", presign, err)
		}
		if sig.AccessKeyID != "AKIDTEST" || sig.Region != "eu-west-1" || sig.Presigned != presign {
			t.Fatalf("presign=%v: parsed %+v", presign, sig)
		}
		if _, err := kinesisVerifier(now).Verify(r, []byte(`{"Limit":11}`)); code(err) != CodeInvalid {
			t.Fatalf("presign=%v: changed body: %v", presign, err)
		}
		if !sig.signs("x-amz-target") {
			continue // the SDK presigns only host
		}
		r.Header.Set("X-Amz-Target", "Kinesis_20131202.DeleteStream")
		if _, err := kinesisVerifier(now).Verify(r, []byte(body)); code(err) != CodeInvalid {
			t.Fatalf("presign=%v: changed signed header: %v", presign, err)
		}
	}
	r := sdkRequest(t, body, now, "wrong-secret", false, nil)
	_, err := kinesisVerifier(now).Verify(r, []byte(body))
	if code(err) != CodeInvalid || !strings.Contains(err.Error(), "The request signature we calculated does not match") ||
		strings.Contains(err.Error(), "right-secret") {
		t.Fatalf("wrong secret: %v", err)
	}
	// An X-Amz-Content-Sha256 the SDK signed must match the body.
	r = sdkRequest(t, body, now, "right-secret", false, func(r *http.Request) {
		r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("ab", 32))
	})
	if _, err := kinesisVerifier(now).Verify(r, []byte(body)); code(err) != CodeInvalid {
		t.Fatalf("mismatched content hash: %v", err)
	}
	r = sdkRequest(t, body, now, "right-secret", false, func(r *http.Request) {
		r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	})
	if _, err := kinesisVerifier(now).Verify(r, []byte("anything")); err != nil {
		t.Fatalf("unsigned payload: %v", err)
	}
}

func TestClockSkew(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	body := "{}"
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{at.Add(14 * time.Minute), ""},
		{at.Add(-14 * time.Minute), ""},
		{at.Add(16 * time.Minute), "Signature expired: 20260301T120000Z is now earlier than 20260301T120100Z (20260301T121600Z - 15 min.)"},
		{at.Add(-16 * time.Minute), "Signature not yet current: 20260301T120000Z is still later than 20260301T115900Z (20260301T114400Z + 15 min.)"},
	} {
		r := sdkRequest(t, body, at, "right-secret", false, nil)
		_, err := kinesisVerifier(tc.now).Verify(r, []byte(body))
		if tc.want == "" {
			if err != nil {
				t.Errorf("now %s: %v", tc.now, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalid || e.Message != tc.want {
			t.Errorf("now %s: got %v, want %s", tc.now, err, tc.want)
		}
	}
	// A presigned request lives for its X-Amz-Expires (300 s here).
	r := sdkRequest(t, body, at, "right-secret", true, nil)
	if _, err := kinesisVerifier(at.Add(4*time.Minute)).Verify(r, []byte(body)); err != nil {
		t.Fatalf("presigned within expiry: %v", err)
	}
	if _, err := kinesisVerifier(at.Add(6*time.Minute)).Verify(r, []byte(body)); code(err) != CodeInvalid ||
		!strings.Contains(err.Error(), "Signature expired") {
		t.Fatalf("presigned after expiry: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	good := sdkRequest(t, "{}", now, "right-secret", false, nil)
	auth := good.Header.Get("Authorization")
	for _, tc := range []struct {
		name   string
		mutate func(r *http.Request)
		code   string
		msg    string
	}{
		{"none", func(r *http.Request) { r.Header.Del("Authorization") }, CodeMissingToken, "Missing Authentication Token"},
		{"no params", func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256"); r.Header.Del("X-Amz-Date") },
			CodeIncomplete, "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256"},
		{"short credential", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(auth, "AKIDTEST/", "", 1))
		}, CodeIncomplete, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '20260301/eu-west-1/kinesis/aws4_request'"},
		{"wrong service", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(auth, "/kinesis/", "/dynamodb/", 1))
		}, CodeInvalid, "Credential should be scoped to correct service: 'kinesis'. "},
		{"bad region", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(auth, "/eu-west-1/", "/moon/", 1))
		}, CodeInvalid, "Credential should be scoped to a valid region, not 'moon'. "},
		{"scope date", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(auth, "/20260301/", "/20260302/", 1))
		}, CodeInvalid, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260302' != '20260301', from '20260301T120000Z'."},
		{"unknown key", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(auth, "AKIDTEST", "AKIDOTHER", 1))
		}, CodeUnrecognized, MsgInvalidToken},
		{"session token", func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "tok") }, CodeUnrecognized, MsgInvalidToken},
		{"both forms", func(r *http.Request) { r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256" }, CodeInvalid,
			"Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."},
		{"query incomplete", func(r *http.Request) {
			r.Header.Del("Authorization")
			r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260301T120000Z"
		}, CodeIncomplete, "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. " +
			"AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."},
	} {
		r := sdkRequest(t, "{}", now, "right-secret", false, nil)
		tc.mutate(r)
		_, err := kinesisVerifier(now).Verify(r, []byte("{}"))
		var e *Error
		if !errors.As(err, &e) || e.Code != tc.code || e.Message != tc.msg {
			t.Errorf("%s: got %v\nwant %s: %s", tc.name, err, tc.code, tc.msg)
		}
	}
}

// FuzzParse feeds arbitrary Authorization headers and query strings to the
// parser and verifier: they must answer an *Error, never panic.
func FuzzParse(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa0", "", "20150830T123600Z")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2Fb%2Fc%2Fd%2Fe&X-Amz-Signature=00&X-Amz-SignedHeaders=host&X-Amz-Date=20150830T123600Z&X-Amz-Expires=9", "")
	f.Add("AWS4-HMAC-SHA256 ,,==,Credential=/////", "a=%zz&&=", "x")
	f.Fuzz(func(t *testing.T, auth, query, date string) {
		r := httptest.NewRequest("POST", "http://example.amazonaws.com/", bytes.NewReader(nil))
		r.URL.RawQuery = query
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if date != "" {
			r.Header.Set("X-Amz-Date", date)
		}
		_, err := suiteVerifier().Verify(r, nil)
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("non-sigv4 error %T: %v", err, err)
		}
	})
}
