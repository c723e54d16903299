package interop

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestBoto3Subscribe runs testdata/boto3_subscribe.py: boto3 subscribes to a
// shard over HTTP/1.1 (botocore's urllib3 speaks nothing else), reads the
// event stream, is refused a second subscription within 5 s, takes over after
// 5 s and deregisters its consumer. The server's request log proves the
// protocol.
func TestBoto3Subscribe(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--in-memory", "--log-level", "debug")
	out := runPython(t, "boto3_subscribe.py", s.endpoint, "boto-sub")
	var sum struct {
		SecondWithin5s string   `json:"second_within_5s"`
		Records        []string `json:"records"`
		Takeover       []string `json:"takeover"`
		Deregistered   bool     `json:"deregistered"`
	}
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	if sum.SecondWithin5s != "ResourceInUseException" || len(sum.Records) != 10 || len(sum.Takeover) != 1 || !sum.Deregistered {
		t.Errorf("boto3 summary %s", out)
	}

	s.stop()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(s.log.String(), "msg=stopped") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	subs := 0
	for _, m := range requestLine.FindAllStringSubmatch(s.log.String(), -1) {
		if m[2] != "HTTP/1.1" {
			t.Errorf("%s came over %s, want HTTP/1.1", m[1], m[2])
		}
		if m[1] == "SubscribeToShard" {
			subs++
		}
	}
	if subs != 3 {
		t.Errorf("%d SubscribeToShard calls in the server's request log, want 3", subs)
	}
}
