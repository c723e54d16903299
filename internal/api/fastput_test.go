package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riffle-streams/riffle/internal/apimodel"
	"github.com/riffle-streams/riffle/internal/bufpool"
	"github.com/riffle-streams/riffle/internal/engine"
)

// generalDecode decodes a body of op the general way: model validation,
// then binding into a T.
func generalDecode[T any](op string, body []byte) (*T, error) {
	req, err := apimodel.Decode(op, body)
	if err != nil {
		return nil, err
	}
	in := new(T)
	return in, bind(in, req)
}

func generalPutRecords(body []byte) (*engine.PutRecordsInput, error) {
	return generalDecode[engine.PutRecordsInput]("PutRecords", body)
}

func generalPutRecord(body []byte) (*engine.PutRecordInput, error) {
	return generalDecode[engine.PutRecordInput]("PutRecord", body)
}

// checkFastPath checks that decode accepts every body of accepted, decoding
// it as the general path does, and gives up on every body of refused:
// everything unusual or invalid goes to the general path, which gives AWS's
// exact error.
func checkFastPath[T any](t *testing.T, decode func([]byte) (*T, *[]byte, bool), general func([]byte) (*T, error), accepted, refused []string) {
	t.Helper()
	for _, body := range accepted {
		fast, data, ok := decode([]byte(body))
		if !ok {
			t.Errorf("fast path gave up on %.80s", body)
			continue
		}
		want, err := general([]byte(body))
		if err != nil || !reflect.DeepEqual(fast, want) {
			t.Errorf("%.80s: fast %+v, general %+v (%v)", body, fast, want, err)
		}
		bufpool.Put(data)
	}
	for _, body := range refused {
		if _, _, ok := decode([]byte(body)); ok {
			t.Errorf("fast path accepted %.100s", body)
		}
	}
}

func TestPutRecordsFastPathAgreesWithTheGeneralPath(t *testing.T) {
	checkFastPath(t, decodePutRecordsFast, generalPutRecords, []string{
		string(putRecordsBody("s", 0, 500, 100)),
		`{"StreamName":"s","Records":[{"Data":"","PartitionKey":"k"}]}`,
		`{ "Records" : [ {"PartitionKey":"k", "Data":"aGk=", "ExplicitHashKey":"0"} ] , "StreamName" : "a.b-c_D" }`,
		`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k","ExplicitHashKey":"340282366920938463463374607431768211455"}]}`,
	}, []string{
		`{"StreamName":"s","Records":[]}`,
		`{"StreamName":"a b","Records":[{"Data":"aGk=","PartitionKey":"k"}]}`,
		`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":""}]}`,
		`{"StreamName":"s","Records":[{"Data":"a","PartitionKey":"k"}]}`,
		`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k","ExplicitHashKey":"01"}]}`,
		`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k\u00e9"}]}`,
		`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"ké"}]}`,
		`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k","Extra":1}]}`,
		`{"StreamName":"s","StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","Records":[{"Data":"aGk=","PartitionKey":"k"}]}`,
		`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k"}]} x`,
		`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k"}],}`,
		`{"StreamName":"s"}`,
		`{"StreamName":"s","StreamName":"t","Records":[{"Data":"aGk=","PartitionKey":"k"}]}`,
		string(putRecordsBody("s", 0, 501, 1)),
		// Data is scanned to the next quote and left to the base64 decoder:
		// escapes and raw line breaks (which the decoder would skip) still
		// make the fast path give up.
		`{"StreamName":"s","Records":[{"Data":"aG\"k=","PartitionKey":"k"}]}`,
		`{"StreamName":"s","Records":[{"Data":"aGk\u003d","PartitionKey":"k"}]}`,
		"{\"StreamName\":\"s\",\"Records\":[{\"Data\":\"aGk=\n\n\n\n\",\"PartitionKey\":\"k\"}]}",
		"{\"StreamName\":\"s\",\"Records\":[{\"Data\":\"aG\r\nk=\",\"PartitionKey\":\"k\"}]}",
	})
}

func TestPutRecordFastPathAgreesWithTheGeneralPath(t *testing.T) {
	checkFastPath(t, decodePutRecordFast, generalPutRecord, []string{
		`{"StreamName":"s","Data":"aGk=","PartitionKey":"k"}`,
		`{"StreamName":"s","Data":"","PartitionKey":"k"}`,
		` { "PartitionKey" : "k", "ExplicitHashKey":"0", "Data":"aGk=" , "StreamName":"a.b-c_D" } `,
		`{"StreamName":"s","Data":"aGk=","PartitionKey":"k","ExplicitHashKey":"340282366920938463463374607431768211455"}`,
	}, []string{
		`{"Data":"aGk=","PartitionKey":"k"}`, // no StreamName: the general path names what is missing
		`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","Data":"aGk=","PartitionKey":"k"}`,
		`{"StreamName":"s","Data":"aGk=","PartitionKey":"k","SequenceNumberForOrdering":"1"}`,
		`{"StreamName":"s","StreamName":"t","Data":"aGk=","PartitionKey":"k"}`,
		`{"StreamName":"s","Data":"aGk=","Data":"aGk=","PartitionKey":"k"}`,
		`{"StreamName":"s","Data":"aGk="}`,
		`{"StreamName":"s","Data":"aGk","PartitionKey":"k"}`,
		`{"StreamName":"s","Data":"aGk\u003d","PartitionKey":"k"}`,
		"{\"StreamName\":\"s\",\"Data\":\"aG\nk=\",\"PartitionKey\":\"k\"}",
		`{"StreamName":"s","Data":"aGk=","PartitionKey":"k"} {}`,
		`{"StreamName":"s","Data":"aGk=","PartitionKey":"k",}`,
		`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k"}]}`,
	})
}

func TestPutRecordFastResponseMatchesTheGeneralEncoder(t *testing.T) {
	for _, out := range []*engine.PutRecordOutput{
		{ShardId: "shardId-000000000003", SequenceNumber: "49590338271490256608559692538361571095921575989136588898", EncryptionType: "NONE"},
		{ShardId: "shardId-000000000000", SequenceNumber: "4900", EncryptionType: "KMS"},
		{ShardId: "shardId-000000000000", SequenceNumber: "4900"},
	} {
		v, _ := render(reflect.ValueOf(out))
		general, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if fast := appendPutRecordOutput(nil, out); string(fast) != string(general) {
			t.Errorf("fast %s\ngeneral %s", fast, general)
		}
	}
}

func TestPutRecordsFastResponseMatchesTheGeneralEncoder(t *testing.T) {
	out := &engine.PutRecordsOutput{FailedRecordCount: 1, EncryptionType: "KMS", Records: []engine.PutRecordsResultEntry{
		{SequenceNumber: "4900", ShardId: "shardId-000000000000"},
		{ErrorCode: "InternalFailure", ErrorMessage: "Internal \"service\" <failure>.\n"},
	}}
	v, _ := render(reflect.ValueOf(out))
	general, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	json.Unmarshal(general, &a)
	if err := json.Unmarshal(appendPutRecordsOutput(nil, out), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("fast %v\ngeneral %v", b, a)
	}
}

// FuzzPutRecordsFastPath: whatever a fast path (PutRecords or PutRecord)
// accepts, the general path accepts too and decodes to the same input.
func FuzzPutRecordsFastPath(f *testing.F) {
	f.Add([]byte(`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k","ExplicitHashKey":"12"}]}`))
	f.Add(putRecordsBody("s", 0, 3, 5))
	f.Add([]byte(`{"Records":[{"PartitionKey":"k","Data":""}]}`))
	f.Add([]byte(`{"StreamName":"s","Data":"aGk=","PartitionKey":"k","ExplicitHashKey":"12"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		same := func(fast, general any, err error) {
			if err != nil {
				t.Fatalf("fast path accepted what the general path refuses (%v): %q", err, body)
			}
			if !reflect.DeepEqual(fast, general) {
				t.Fatalf("decodings differ for %q:\nfast    %+v\ngeneral %+v", body, fast, general)
			}
		}
		if fast, _, ok := decodePutRecordsFast(body); ok {
			general, err := generalPutRecords(body)
			same(fast, general, err)
		}
		if fast, _, ok := decodePutRecordFast(body); ok {
			general, err := generalPutRecord(body)
			same(fast, general, err)
		}
	})
}

func TestGetRecordsFastEncoderMatchesTheGeneralEncoder(t *testing.T) {
	for _, out := range []*engine.GetRecordsOutput{
		{Records: []engine.Record{}, MillisBehindLatest: 0, NextShardIterator: "AQID+/=="},
		{Records: []engine.Record{
			{SequenceNumber: "49001", ApproximateArrivalTimestamp: time.UnixMilli(1700000000123), Data: []byte{0, 1, 255}, PartitionKey: "p\"k<é>"},
			{SequenceNumber: "49002", ApproximateArrivalTimestamp: time.UnixMilli(1700000000000), Data: []byte{}, PartitionKey: "k", EncryptionType: "KMS"},
		}, MillisBehindLatest: 1234, NextShardIterator: "it"},
	} {
		v, _ := render(reflect.ValueOf(out))
		general, _ := json.Marshal(v)
		fast, ok := appendGetRecordsOutput(nil, out)
		if !ok {
			t.Fatal("fast encoder refused")
		}
		var a, b any
		json.Unmarshal(general, &a)
		if err := json.Unmarshal(fast, &b); err != nil {
			t.Fatalf("fast output is not JSON: %v\n%s", err, fast)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("fast %s\ngeneral %s", fast, general)
		}
	}
	if _, ok := appendGetRecordsOutput(nil, &engine.GetRecordsOutput{ChildShards: []engine.ChildShard{}}); ok {
		t.Fatal("a response with ChildShards must take the general encoder")
	}
}

func TestEpochMillisAsFloatWouldWriteIt(t *testing.T) {
	for _, ms := range []int64{0, 1, 10, 100, 120, 999, 1000, 1001, 1010, 1100, 1700000000000, 1700000000001,
		1700000000010, 1700000000120, 1733338383123, 4102444800999, -1, -1500} {
		want := strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64)
		if got := appendEpochMillis(nil, ms); string(got) != string(want) {
			t.Errorf("appendEpochMillis(%d) = %s, want %s", ms, got, want)
		}
	}
}

// TestGetRecordsSizeHoldsTheResponse: the estimate covers a response of
// records as the engine returns them, so the buffer is never regrown.
func TestGetRecordsSizeHoldsTheResponse(t *testing.T) {
	out := &engine.GetRecordsOutput{MillisBehindLatest: 86400000, NextShardIterator: strings.Repeat("A", 300)}
	for i := range 100 {
		out.Records = append(out.Records, engine.Record{
			SequenceNumber:              strings.Repeat("9", 56),
			ApproximateArrivalTimestamp: time.UnixMilli(1700000000123 + int64(i)),
			Data:                        make([]byte, i),
			PartitionKey:                strings.Repeat("k", 1+i%256),
			EncryptionType:              "KMS",
		})
	}
	b, _ := appendGetRecordsOutput(nil, out)
	if n := getRecordsSize(out); len(b) > n {
		t.Fatalf("response of %d bytes, estimated %d", len(b), n)
	}
}

// TestClientPutsTakeTheFastPath: puts as the SDKs write them are served by
// the fast path. The general path gives the same answers, so only this test
// notices if the handler stops routing them there.
func TestClientPutsTakeTheFastPath(t *testing.T) {
	h := newTestHandler(t)
	if status, out, _ := call(t, h, "CreateStream", []byte(`{"StreamName":"s","ShardCount":2}`), true); status != http.StatusOK {
		t.Fatalf("CreateStream: %d %v", status, out)
	}
	for _, c := range []struct{ op, body string }{
		// AWS SDK for Go v2: members in model order, compact.
		{"PutRecord", `{"Data":"aGk=","PartitionKey":"k","StreamName":"s"}`},
		{"PutRecords", `{"Records":[{"Data":"aGk=","PartitionKey":"a"},{"Data":"aGk=","PartitionKey":"b"}],"StreamName":"s"}`},
		// boto3 and the AWS CLI: json.dumps with its default separators.
		{"PutRecord", `{"StreamName": "s", "Data": "aGk=", "PartitionKey": "k"}`},
		{"PutRecords", `{"Records": [{"Data": "aGk=", "PartitionKey": "a"}], "StreamName": "s"}`},
	} {
		body := []byte(c.body)
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		rec := httptest.NewRecorder()
		status, errType, ok := h.serveFast(rec, req, c.op, &body)
		if !ok {
			t.Errorf("%s %s: left to the general path", c.op, c.body)
			continue
		}
		if status != http.StatusOK || rec.Code != http.StatusOK {
			t.Errorf("%s %s: %d %s %s", c.op, c.body, status, errType, rec.Body)
		}
	}
}
