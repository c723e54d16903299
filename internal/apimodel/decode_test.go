package apimodel

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Sources cited below:
//   [kl-helpers] mhart/kinesalite test/helpers.js assertType: SerializationException messages
//                recorded from AWS for each JSON type against each member type.
//   [kl-conn]    mhart/kinesalite test/connection.js: empty and non-JSON bodies answer
//                {"__type":"SerializationException"} with no message.
//   [kl-<op>]    mhart/kinesalite test/<op>.js: ValidationException messages; the ones written
//                as one string (not a list) pin AWS's order too.
//   [sdk-php]    aws/aws-sdk-php#650 and boto/botocore#413: real AWS blob message
//                "'string' can not be converted to a Blob: Base64 encoded length is expected a
//                multiple of 4 bytes but found: 6".
//   [model]      botocore's kinesis service-2.json (bounds newer than kinesalite's, e.g. Data
//                max 10485760, so kinesalite's 51200 case is restated with today's bound).
//   [rule]       the order rules in javaorder.go, which reproduce every recorded order.

var name129 = strings.Repeat("a", 129)

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		op   string
		body string
		ser  *string // want a *SerializationError with this Message
		val  string  // want a *ValidationError with this Error()
	}{
		// Bodies that are not JSON objects.
		{name: "empty body [kl-conn]", op: "ListStreams", body: ``, ser: ptr("")},
		{name: "blank body [kl-conn]", op: "ListStreams", body: " \n", ser: ptr("")},
		{name: "not JSON [kl-conn]", op: "ListStreams", body: `hello`, ser: ptr("")},
		{name: "truncated JSON", op: "ListStreams", body: `{"Limit":`, ser: ptr("")},
		{name: "trailing garbage", op: "ListStreams", body: `{} x`, ser: ptr("")},
		{name: "two objects", op: "ListStreams", body: `{} {}`, ser: ptr("")},
		{name: "top-level list is a list where a structure belongs", op: "ListStreams", body: `[]`,
			ser: ptr("Start of list found where not expected")},
		{name: "top-level string", op: "ListStreams", body: `"x"`, ser: ptr("Expected null")},
		{name: "top-level null reads as {}", op: "ListStreams", body: `null`},

		// Type mismatches [kl-helpers].
		{name: "bool for string", op: "DescribeStream", body: `{"StreamName":true}`,
			ser: ptr("class java.lang.Boolean can not be converted to an String")},
		{name: "integer for string", op: "DescribeStream", body: `{"StreamName":23}`,
			ser: ptr("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String")},
		{name: "decimal for string", op: "DescribeStream", body: `{"StreamName":34.56}`,
			ser: ptr("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String")},
		{name: "list for string", op: "DescribeStream", body: `{"StreamName":[]}`,
			ser: ptr("Start of list found where not expected")},
		{name: "object for string", op: "DescribeStream", body: `{"StreamName":{}}`,
			ser: ptr("Start of structure or map found where not expected.")},
		{name: "string for integer", op: "CreateStream", body: `{"StreamName":"s","ShardCount":"23"}`,
			ser: ptr("class java.lang.String can not be converted to an Integer")},
		{name: "bool for integer", op: "CreateStream", body: `{"StreamName":"s","ShardCount":true}`,
			ser: ptr("class java.lang.Boolean can not be converted to an Integer")},
		{name: "list for integer", op: "CreateStream", body: `{"ShardCount":[1]}`,
			ser: ptr("Start of list found where not expected")},
		{name: "number for boolean", op: "DeleteStream", body: `{"EnforceConsumerDeletion":23}`,
			ser: ptr("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an Boolean")},
		{name: "other string for boolean is echoed upper-cased", op: "DeleteStream",
			body: `{"EnforceConsumerDeletion":"23a"}`, ser: ptr("'23A' can not be converted to an Boolean")},
		{name: "object for boolean", op: "DeleteStream", body: `{"EnforceConsumerDeletion":{}}`,
			ser: ptr("Start of structure or map found where not expected.")},
		{name: "string for list", op: "PutRecords", body: `{"Records":"23"}`, ser: ptr("Expected list or null")},
		{name: "number for list", op: "PutRecords", body: `{"Records":2147483648}`, ser: ptr("Expected list or null")},
		{name: "object for list", op: "PutRecords", body: `{"Records":{}}`,
			ser: ptr("Start of structure or map found where not expected.")},
		{name: "string for list element structure", op: "PutRecords", body: `{"Records":["23"]}`,
			ser: ptr("Expected null")},
		{name: "list for list element structure", op: "PutRecords", body: `{"Records":[[]]}`,
			ser: ptr("Start of list found where not expected")},
		{name: "number for map", op: "AddTagsToStream", body: `{"Tags":34.56}`, ser: ptr("Expected map or null")},
		{name: "list for map", op: "AddTagsToStream", body: `{"Tags":[]}`,
			ser: ptr("Start of list found where not expected")},
		{name: "number for map value", op: "AddTagsToStream", body: `{"Tags":{"a":1}}`,
			ser: ptr("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String")},
		{name: "bool for blob", op: "PutRecord", body: `{"Data":true}`,
			ser: ptr("class java.lang.Boolean can not be converted to a Blob")},
		{name: "number for blob", op: "PutRecord", body: `{"Data":-2147483648}`,
			ser: ptr("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob")},
		{name: "blob length not a multiple of 4 [kl-helpers][sdk-php]", op: "PutRecord", body: `{"Data":"string"}`,
			ser: ptr("'string' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 6")},
		{name: "blob with = before data [kl-helpers]", op: "PutRecord", body: `{"Data":"=+/="}`,
			ser: ptr("'=+/=' can not be converted to a Blob: Invalid Base64 character: '='")},
		{name: "blob with bad character", op: "PutRecord", body: `{"Data":"ab*d"}`,
			ser: ptr("'ab*d' can not be converted to a Blob: Invalid Base64 character: '*'")},
		{name: "blob with stray last bits [kl-helpers]", op: "PutRecord", body: `{"Data":"+/+="}`,
			ser: ptr("'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected")},
		{name: "blob in a list element", op: "PutRecords", body: `{"Records":[{"Data":"23456"}]}`,
			ser: ptr("'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5")},
		{name: "string for timestamp", op: "ListShards", body: `{"StreamCreationTimestamp":"2020-01-01T00:00:00Z"}`,
			ser: ptr("class java.lang.String can not be converted to milliseconds since epoch")},
		{name: "bool for timestamp", op: "GetShardIterator", body: `{"Timestamp":false}`,
			ser: ptr("class java.lang.Boolean can not be converted to milliseconds since epoch")},
		{name: "first mismatch in document order wins", op: "PutRecord", body: `{"PartitionKey":1,"Data":true}`,
			ser: ptr("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String")},
		{name: "type check precedes validation", op: "PutRecords", body: `{"StreamName":"","Records":[{"Data":1}]}`,
			ser: ptr("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob")},
		{name: "unknown members are ignored, whatever their type", op: "ListStreams",
			body: `{"Bogus":{"x":[1,2,{"y":null}]},"streamName":5,"Limit":5}`},
		{name: "member names are case-sensitive", op: "DescribeStream", body: `{"streamname":"a b"}`},

		// Validation [kl-putRecords] (exact strings, so exact order).
		{name: "PutRecords missing everything [kl-putRecords]", op: "PutRecords", body: `{}`,
			val: "1 validation error detected: Value null at 'records' failed to satisfy constraint: Member must not be null"},
		{name: "PutRecords empty [kl-putRecords]", op: "PutRecords", body: `{"StreamName":"","Records":[]}`,
			val: "3 validation errors detected: " +
				"Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "PutRecords nested paths [kl-putRecords]", op: "PutRecords",
			body: `{"StreamName":"","Records":[{"PartitionKey":"","Data":"","ExplicitHashKey":""}]}`,
			val: "4 validation errors detected: " +
				"Value '' at 'records.1.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '' at 'records.1.member.explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38}); " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "PutRecords long values and blob printing [kl-putRecords][model]", op: "PutRecords",
			body: `{"StreamName":"` + name129 + `","Records":[{"PartitionKey":"` + strings.Repeat("a", 257) +
				`","Data":"` + strings.Repeat("AAAA", 10485764/3) + `","ExplicitHashKey":""}]}`,
			val: "4 validation errors detected: " +
				"Value '" + strings.Repeat("a", 257) + "' at 'records.1.member.partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256; " +
				"Value '' at 'records.1.member.explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38}); " +
				"Value 'java.nio.HeapByteBuffer[pos=0 lim=10485762 cap=10485762]' at 'records.1.member.data' failed to satisfy constraint: Member must have length less than or equal to 10485760; " +
				"Value '" + name129 + "' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{name: "at most ten violations, list printed with element classes [kl-putRecords]", op: "PutRecords",
			body: `{"StreamName":"","Records":[` + strings.Repeat(`{"PartitionKey":"","Data":""},`, 500) + `{"PartitionKey":"","Data":""}]}`,
			val: "10 validation errors detected: " +
				"Value '[" + strings.Repeat("com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@2, ", 500) +
				"com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@2]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500; " +
				"Value '' at 'records.1.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '' at 'records.2.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '' at 'records.3.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '' at 'records.4.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '' at 'records.5.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '' at 'records.6.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '' at 'records.7.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '' at 'records.8.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '' at 'records.9.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "required member missing inside a list element", op: "PutRecords",
			body: `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":""},{}]}`,
			val: "2 validation errors detected: " +
				"Value null at 'records.2.member.partitionKey' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'records.2.member.data' failed to satisfy constraint: Member must not be null"},
		{name: "null list element", op: "PutRecords", body: `{"Records":[null]}`,
			val: "1 validation error detected: Value null at 'records.1.member' failed to satisfy constraint: Member must not be null"},

		// Validation [kl-createStream] (exact string: shardCount before streamName). ShardCount is
		// no longer required (on-demand streams), so only StreamName is missing.
		{name: "CreateStream missing name [kl-createStream][model]", op: "CreateStream", body: `{}`,
			val: "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null"},
		{name: "CreateStream empty name and zero shards [kl-createStream]", op: "CreateStream",
			body: `{"StreamName":"","ShardCount":0}`,
			val: "3 validation errors detected: " +
				"Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "CreateStream long name, huge shard count saturates [kl-createStream]", op: "CreateStream",
			body: `{"StreamName":"` + name129 + `","ShardCount":100000000000}`,
			val:  "1 validation error detected: Value '" + name129 + "' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{name: "pattern [brief]", op: "DescribeStream", body: `{"StreamName":"a b"}`,
			val: "1 validation error detected: Value 'a b' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{name: "enum inside a structure", op: "CreateStream",
			body: `{"StreamName":"s","StreamModeDetails":{"StreamMode":"FAST"}}`,
			val:  "1 validation error detected: Value 'FAST' at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy enum value set: [ON_DEMAND, PROVISIONED]"},
		{name: "required member of a nested structure", op: "ListShards", body: `{"ShardFilter":{}}`,
			val: "1 validation error detected: Value null at 'shardFilter.type' failed to satisfy constraint: Member must not be null"},

		// [kl-getShardIterator]: the messages and the enum set's order are AWS's; the member
		// order (unasserted by kinesalite) is [rule].
		{name: "GetShardIterator missing [kl-getShardIterator]", op: "GetShardIterator", body: `{}`,
			val: "2 validation errors detected: " +
				"Value null at 'shardId' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'shardIteratorType' failed to satisfy constraint: Member must not be null"},
		{name: "GetShardIterator empty [kl-getShardIterator]", op: "GetShardIterator",
			body: `{"StreamName":"","ShardIteratorType":"","ShardId":"","StartingSequenceNumber":""}`,
			val: "6 validation errors detected: " +
				"Value '' at 'shardId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value '' at 'shardId' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]; " +
				"Value '' at 'startingSequenceNumber' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128}); " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1"},

		// [kl-listShards], [kl-updateShardCount]: integer range messages.
		{name: "ListShards range [kl-listShards]", op: "ListShards",
			body: `{"StreamName":"` + name129 + `","MaxResults":100000,"ExclusiveStartShardId":"` + name129 + `"}`,
			val: "3 validation errors detected: " +
				"Value '" + name129 + "' at 'exclusiveStartShardId' failed to satisfy constraint: Member must have length less than or equal to 128; " +
				"Value '100000' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10000; " +
				"Value '" + name129 + "' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{name: "integer fraction truncates toward zero", op: "ListShards", body: `{"MaxResults":0.9}`,
			val: "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{name: "huge integer saturates at int32", op: "ListShards", body: `{"MaxResults":1e400}`,
			val: "1 validation error detected: Value '2147483647' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10000"},
		{name: "huge negative integer saturates", op: "ListShards", body: `{"MaxResults":-99999999999999999999999}`,
			val: "1 validation error detected: Value '-2147483648' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{name: "UpdateShardCount [kl-updateShardCount]", op: "UpdateShardCount",
			body: `{"StreamName":"","ScalingType":"","TargetShardCount":0}`,
			val: "4 validation errors detected: " +
				"Value '' at 'scalingType' failed to satisfy constraint: Member must satisfy enum value set: [UNIFORM_SCALING]; " +
				"Value '0' at 'targetShardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1"},

		// Lists of scalars and maps are reported as a whole [kl-removeTagsFromStream],
		// [kl-addTagsToStream].
		{name: "list of strings with a long element [kl-removeTagsFromStream]", op: "RemoveTagsFromStream",
			body: `{"StreamName":"s","TagKeys":["a","` + name129 + `","b"]}`,
			val: "1 validation error detected: Value '[a, " + name129 + ", b]' at 'tagKeys' failed to satisfy constraint: " +
				"Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"},
		{name: "empty list [kl-removeTagsFromStream]", op: "RemoveTagsFromStream", body: `{"StreamName":"s","TagKeys":[]}`,
			val: "1 validation error detected: Value '[]' at 'tagKeys' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "empty map [kl-addTagsToStream]", op: "AddTagsToStream", body: `{"StreamName":"s","Tags":{}}`,
			val: "1 validation error detected: Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "long map key [kl-addTagsToStream]", op: "AddTagsToStream",
			body: `{"Tags":{"` + name129 + `":"3"}}`,
			val: "1 validation error detected: Value '{" + name129 + "=3}' at 'tags' failed to satisfy constraint: " +
				"Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"},
		{name: "long map value [kl-addTagsToStream]", op: "AddTagsToStream",
			body: `{"Tags":{"c":"` + strings.Repeat("a", 257) + `"}}`,
			val: "1 validation error detected: Value '{c=" + strings.Repeat("a", 257) + "}' at 'tags' failed to satisfy constraint: " +
				"Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]"},
		{name: "list of enums", op: "EnableEnhancedMonitoring", body: `{"StreamName":"s","ShardLevelMetrics":["ALL","x"]}`,
			val: "1 validation error detected: Value '[ALL, x]' at 'shardLevelMetrics' failed to satisfy constraint: " +
				"Member must satisfy constraint: [Member must satisfy enum value set: [ALL, IteratorAgeMilliseconds, IncomingBytes, " +
				"WriteProvisionedThroughputExceeded, OutgoingRecords, ReadProvisionedThroughputExceeded, IncomingRecords, OutgoingBytes]]"},
		{name: "length counts UTF-16 units like Java", op: "DescribeStreamConsumer",
			body: `{"ConsumerName":"` + strings.Repeat("😀", 65) + `"}`,
			val: "2 validation errors detected: " +
				"Value '" + strings.Repeat("😀", 65) + "' at 'consumerName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value '" + strings.Repeat("😀", 65) + "' at 'consumerName' failed to satisfy constraint: Member must have length less than or equal to 128"},

		// Accepted bodies.
		{name: "valid PutRecord", op: "PutRecord", body: `{"StreamName":"s","PartitionKey":"k","Data":"aGVsbG8="}`},
		{name: "empty blob is valid [kl-putRecords]", op: "PutRecord", body: `{"StreamName":"s","PartitionKey":"k","Data":""}`},
		{name: "null members are absent", op: "DescribeStream", body: `{"StreamName":null,"Limit":null}`},
		{name: "timestamp with fraction", op: "GetShardIterator",
			body: `{"StreamName":"s","ShardId":"shardId-0","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1700000000.123}`},
		{name: "boolean string accepted", op: "DeleteStream", body: `{"StreamName":"s","EnforceConsumerDeletion":"true"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.op, []byte(tc.body))
			var se *SerializationError
			var ve *ValidationError
			switch {
			case tc.ser != nil:
				if !errors.As(err, &se) {
					t.Fatalf("Decode = %v, %v; want SerializationError %q", got, err, *tc.ser)
				}
				if se.Message != *tc.ser {
					t.Fatalf("SerializationError.Message =\n %q\nwant\n %q", se.Message, *tc.ser)
				}
			case tc.val != "":
				if !errors.As(err, &ve) {
					t.Fatalf("Decode = %v, %v; want ValidationError %q", got, err, tc.val)
				}
				if ve.Error() != tc.val {
					t.Fatalf("ValidationError =\n %s\nwant\n %s", ve.Error(), tc.val)
				}
			default:
				if err != nil {
					t.Fatalf("Decode = %v; want success", err)
				}
				if got == nil {
					t.Fatal("Decode returned a nil map for an accepted body")
				}
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestDecodeNormalises(t *testing.T) {
	got, err := Decode("DeleteStream", []byte(`{"StreamName":"s","EnforceConsumerDeletion":"YES","Unknown":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if got["EnforceConsumerDeletion"] != true {
		t.Errorf("EnforceConsumerDeletion = %#v, want true", got["EnforceConsumerDeletion"])
	}
	if _, ok := got["Unknown"]; ok {
		t.Error("unknown member kept")
	}

	got, err = Decode("ListShards", []byte(`{"StreamName":"s","MaxResults":12.9,"StreamCreationTimestamp":1e400}`))
	if err != nil {
		t.Fatal(err)
	}
	if got["MaxResults"] != json.Number("12") {
		t.Errorf("MaxResults = %#v, want 12", got["MaxResults"])
	}
	// Typed decoding of an accepted body must not fail: that is Decode's promise to the HTTP layer.
	var typed struct {
		StreamName              string
		MaxResults              *int32
		StreamCreationTimestamp *float64
	}
	b, _ := json.Marshal(got)
	if err := json.Unmarshal(b, &typed); err != nil {
		t.Fatalf("typed decoding of %s: %v", b, err)
	}
	if *typed.MaxResults != 12 || *typed.StreamCreationTimestamp <= 1e308 {
		t.Errorf("typed = %+v", typed)
	}
}

func TestDecodeUnknownOperation(t *testing.T) {
	if _, err := Decode("ListStream", []byte(`{}`)); !errors.Is(err, ErrUnknownOperation) {
		t.Fatalf("err = %v, want ErrUnknownOperation", err)
	}
}

func TestDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	for _, body := range []string{
		`{"Unknown":` + deep + `}`,
		`{"StreamName":` + deep + `}`,
		deep,
		strings.Repeat(`{"a":`, 100000),
	} {
		if _, err := Decode("DescribeStream", []byte(body)); err == nil && !strings.HasPrefix(body, `{"Unknown"`) {
			t.Errorf("Decode(%.20s...) accepted", body)
		}
	}
	if _, err := Decode("DescribeStream", []byte(`{"Unknown":`+deep+`}`)); err != nil {
		t.Errorf("deep unknown member: %v", err)
	}
}

func TestValidationErrorMessage(t *testing.T) {
	one := &ValidationError{Violations: []string{"A"}}
	if got := one.Error(); got != "1 validation error detected: A" {
		t.Errorf("one = %q", got)
	}
	two := &ValidationError{Violations: []string{"A", "B"}}
	if got := two.Error(); got != "2 validation errors detected: A; B" {
		t.Errorf("two = %q", got)
	}
}
