package apimodel

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

const (
	streamARN   = `"arn:aws:kinesis:us-east-1:000000000000:stream/s"`
	consumerARN = `"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1"`
)

// minimalRequests holds the smallest valid body of every operation.
var minimalRequests = map[string]string{
	"AddTagsToStream":               `{"StreamName":"s","Tags":{"k":"v"}}`,
	"CreateStream":                  `{"StreamName":"s"}`,
	"DecreaseStreamRetentionPeriod": `{"StreamName":"s","RetentionPeriodHours":24}`,
	"DeleteResourcePolicy":          `{"ResourceARN":` + streamARN + `}`,
	"DeleteStream":                  `{"StreamName":"s"}`,
	"DeregisterStreamConsumer":      `{"ConsumerARN":` + consumerARN + `}`,
	"DescribeAccountSettings":       `{}`,
	"DescribeLimits":                `{}`,
	"DescribeStream":                `{"StreamName":"s"}`,
	"DescribeStreamConsumer":        `{"ConsumerARN":` + consumerARN + `}`,
	"DescribeStreamSummary":         `{"StreamName":"s"}`,
	"DisableEnhancedMonitoring":     `{"StreamName":"s","ShardLevelMetrics":["ALL"]}`,
	"EnableEnhancedMonitoring":      `{"StreamName":"s","ShardLevelMetrics":["IncomingBytes"]}`,
	"GetRecords":                    `{"ShardIterator":"AAAA"}`,
	"GetResourcePolicy":             `{"ResourceARN":` + streamARN + `}`,
	"GetShardIterator":              `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"LATEST"}`,
	"IncreaseStreamRetentionPeriod": `{"StreamName":"s","RetentionPeriodHours":48}`,
	"ListShards":                    `{"StreamName":"s"}`,
	"ListStreamConsumers":           `{"StreamARN":` + streamARN + `}`,
	"ListStreams":                   `{}`,
	"ListTagsForResource":           `{"ResourceARN":` + streamARN + `}`,
	"ListTagsForStream":             `{"StreamName":"s"}`,
	"MergeShards":                   `{"StreamName":"s","ShardToMerge":"shardId-0","AdjacentShardToMerge":"shardId-1"}`,
	"PutRecord":                     `{"StreamName":"s","PartitionKey":"k","Data":"AA=="}`,
	"PutRecords":                    `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"AA=="}]}`,
	"PutResourcePolicy":             `{"ResourceARN":` + streamARN + `,"Policy":"{}"}`,
	"RegisterStreamConsumer":        `{"StreamARN":` + streamARN + `,"ConsumerName":"c"}`,
	"RemoveTagsFromStream":          `{"StreamName":"s","TagKeys":["k"]}`,
	"SplitShard":                    `{"StreamName":"s","ShardToSplit":"shardId-0","NewStartingHashKey":"1"}`,
	"StartStreamEncryption":         `{"StreamName":"s","EncryptionType":"KMS","KeyId":"alias/aws/kinesis"}`,
	"StopStreamEncryption":          `{"StreamName":"s","EncryptionType":"KMS","KeyId":"alias/aws/kinesis"}`,
	"SubscribeToShard":              `{"ConsumerARN":` + consumerARN + `,"ShardId":"shardId-0","StartingPosition":{"Type":"LATEST"}}`,
	"TagResource":                   `{"ResourceARN":` + streamARN + `,"Tags":{"k":"v"}}`,
	"UntagResource":                 `{"ResourceARN":` + streamARN + `,"TagKeys":["k"]}`,
	"UpdateAccountSettings":         `{"MinimumThroughputBillingCommitment":{"Status":"ENABLED"}}`,
	"UpdateMaxRecordSize":           `{"StreamARN":` + streamARN + `,"MaxRecordSizeInKiB":1024}`,
	"UpdateShardCount":              `{"StreamName":"s","TargetShardCount":2,"ScalingType":"UNIFORM_SCALING"}`,
	"UpdateStreamMode":              `{"StreamARN":` + streamARN + `,"StreamModeDetails":{"StreamMode":"ON_DEMAND"}}`,
	"UpdateStreamWarmThroughput":    `{"StreamName":"s","WarmThroughputMiBps":0}`,
}

func TestEveryOperationAcceptsAMinimalRequest(t *testing.T) {
	ops := Operations()
	if len(ops) != 39 {
		t.Errorf("model has %d operations, want 39", len(ops))
	}
	for _, op := range ops {
		body, ok := minimalRequests[op]
		if !ok {
			t.Errorf("%s: no minimal request in this test", op)
			continue
		}
		if _, err := Decode(op, []byte(body)); err != nil {
			t.Errorf("Decode(%s, %s) = %v", op, body, err)
		}
	}
	for op := range minimalRequests {
		if !HasOperation(op) {
			t.Errorf("HasOperation(%q) = false", op)
		}
	}
	if HasOperation("PutRecordz") || HasOperation("") {
		t.Error("HasOperation accepts an unknown name")
	}
}

// An operation with required members must reject {} by naming each of them.
func TestEveryRequiredMemberIsEnforced(t *testing.T) {
	for _, op := range Operations() {
		in := kinesis.Shapes[kinesis.Operations[op].Input]
		_, err := Decode(op, []byte(`{}`))
		var ve *ValidationError
		if len(in.Required) == 0 {
			if err != nil {
				t.Errorf("%s {}: %v", op, err)
			}
			continue
		}
		if !errors.As(err, &ve) || len(ve.Violations) != len(in.Required) {
			t.Errorf("%s {}: %v; want %d violations", op, err, len(in.Required))
			continue
		}
		for _, r := range in.Required {
			want := "Value null at '" + lowerFirst(r) + "' failed to satisfy constraint: Member must not be null"
			if !slices.Contains(ve.Violations, want) {
				t.Errorf("%s {}: missing %q in %v", op, want, ve.Violations)
			}
		}
	}
}

// The committed model.json must be what gen writes from the installed botocore.
func TestModelIsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	if err := exec.Command("python3", "-c", "import botocore").Run(); err != nil {
		t.Skip("botocore not installed")
	}
	out := filepath.Join(t.TempDir(), "model.json")
	cmd := exec.Command("go", "run", "./gen", "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(modelJSON) {
		t.Error("model.json is stale: run go generate ./internal/apimodel/")
	}
}

func TestLoadModelRejectsBrokenModels(t *testing.T) {
	for _, b := range []string{
		`{`,
		`{"operations":{}}`,
		`{"operations":{"A":{"input":"Missing"}},"shapes":{}}`,
		`{"operations":{"A":{"input":"S"}},"shapes":{"S":{"type":"string"}}}`,
		`{"operations":{"A":{"input":"S"}},"shapes":{"S":{"type":"structure","required":["X"]}}}`,
		`{"operations":{"A":{"input":"S"}},"shapes":{"S":{"type":"string","pattern":"("}}}`,
		`{"operations":{"A":{"input":"S"}},"shapes":{"S":{"type":"list","member":"Nope"}}}`,
		`{"operations":{"A":{"input":"S"}},"shapes":{"S":{"type":"float"}}}`,
	} {
		if _, err := loadModel([]byte(b)); err == nil {
			t.Errorf("loadModel(%s) succeeded", b)
		}
	}
}
