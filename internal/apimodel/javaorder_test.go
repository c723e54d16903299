package apimodel

import (
	"slices"
	"testing"
)

// Each case is an order AWS produced, with the names in model (insertion) order. Sources:
// kinesalite test/putRecords.js and test/createStream.js (exact-string assertions recorded from
// Kinesis), dynalite's Scan validation test (DynamoDB, same front end), and the enum sets below.
func TestHashMapOrderMatchesAWS(t *testing.T) {
	tests := []struct {
		names []string
		want  []string // AWS's order (possibly of a subset of names)
	}{
		{[]string{"data", "explicitHashKey", "partitionKey"}, []string{"partitionKey", "explicitHashKey", "data"}},
		{[]string{"records", "streamName", "streamARN", "streamId"}, []string{"records", "streamName"}},
		{[]string{"streamName", "shardCount"}, []string{"shardCount", "streamName"}},
		{[]string{"tableName", "indexName", "attributesToGet", "limit", "select", "scanFilter",
			"conditionalOperator", "exclusiveStartKey", "returnConsumedCapacity", "totalSegments", "segment",
			"projectionExpression", "filterExpression", "expressionAttributeNames", "expressionAttributeValues",
			"consistentRead"},
			[]string{"limit", "totalSegments", "returnConsumedCapacity", "attributesToGet", "select", "tableName"}},
	}
	for _, tc := range tests {
		var got []string
		for _, i := range hashMapOrder(tc.names) {
			if slices.Contains(tc.want, tc.names[i]) {
				got = append(got, tc.names[i])
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("hashMapOrder(%v) = %v, want %v", tc.names, got, tc.want)
		}
	}
}

// Enum sets as AWS printed them. Sources: kinesalite test/getShardIterator.js (Kinesis),
// dynalite (DynamoDB Select and ReturnConsumedCapacity), a Lambda event source mapping error
// (StartingPosition) and an IAM ListVirtualMFADevices error (AssignmentStatus).
func TestEnumOrderMatchesAWS(t *testing.T) {
	tests := []struct{ model, want []string }{
		{[]string{"AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"},
			[]string{"AFTER_SEQUENCE_NUMBER", "LATEST", "AT_TIMESTAMP", "AT_SEQUENCE_NUMBER", "TRIM_HORIZON"}},
		{[]string{"ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"},
			[]string{"SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"}},
		{[]string{"INDEXES", "TOTAL", "NONE"}, []string{"INDEXES", "TOTAL", "NONE"}},
		{[]string{"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"}, []string{"LATEST", "AT_TIMESTAMP", "TRIM_HORIZON"}},
		{[]string{"Assigned", "Unassigned", "Any"}, []string{"Unassigned", "Any", "Assigned"}},
	}
	for _, tc := range tests {
		if got := enumOrder(tc.model); !slices.Equal(got, tc.want) {
			t.Errorf("enumOrder(%v) = %v, want %v", tc.model, got, tc.want)
		}
	}
}

func TestJavaStringHash(t *testing.T) {
	// Java's "hello".hashCode() is 99162322; U+1F600 is the UTF-16 pair D83D DE00, so
	// 0xD83D*31 + 0xDE00.
	for s, want := range map[string]int32{"": 0, "a": 97, "hello": 99162322, "😀": 0xD83D*31 + 0xDE00} {
		if got := int32(javaStringHash(s)); got != want {
			t.Errorf("javaStringHash(%q) = %d, want %d", s, got, want)
		}
	}
}
