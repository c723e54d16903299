package interop

import (
	"encoding/json"
	"testing"
)

// TestBoto3 runs testdata/boto3_check.py, which asserts in Python and prints
// a summary on success.
func TestBoto3(t *testing.T) {
	t.Parallel()
	s := startMemServer(t)
	out := runPython(t, "boto3_check.py", s.endpoint, "boto-stream")
	var sum struct {
		Shards  []string
		Records int
		Binary  []string
	}
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	if len(sum.Shards) != 3 || sum.Records != 41 || len(sum.Binary) != 2 || sum.Binary[0] != shardID(2) {
		t.Errorf("boto3 summary %+v, want 3 shards, 41 records, binary record on %s", sum, shardID(2))
	}
}
