package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/riffle-streams/riffle/internal/engine"
)

func TestBindFillsEngineTypes(t *testing.T) {
	var req map[string]any
	d := json.NewDecoder(strings.NewReader(`{"StreamName":"s","StreamARN":"arn","Records":[{"Data":"aGk=","PartitionKey":"p","ExplicitHashKey":"7"}],"Unknown":1}`))
	d.UseNumber()
	if err := d.Decode(&req); err != nil {
		t.Fatal(err)
	}
	var in engine.PutRecordsInput
	if err := bind(&in, req); err != nil {
		t.Fatal(err)
	}
	want := engine.PutRecordsInput{StreamRef: engine.StreamRef{StreamName: "s", StreamARN: "arn"},
		Records: []engine.PutRecordsRequestEntry{{Data: []byte("hi"), PartitionKey: "p", ExplicitHashKey: "7"}}}
	if !reflect.DeepEqual(in, want) {
		t.Fatalf("got %+v", in)
	}

	var it engine.GetShardIteratorInput
	if err := bind(&it, map[string]any{"Timestamp": json.Number("1700000000.25"), "ShardId": "x"}); err != nil {
		t.Fatal(err)
	}
	if it.Timestamp == nil || !it.Timestamp.Equal(time.UnixMilli(1700000000250)) {
		t.Fatalf("timestamp: %v", it.Timestamp)
	}
	var ls engine.ListStreamsInput
	if err := bind(&ls, map[string]any{"Limit": json.Number("99999999999999999999")}); err == nil {
		t.Fatal("an integer out of range was accepted")
	}
}

func TestRenderOmitsEmptyMembers(t *testing.T) {
	out := &engine.GetRecordsOutput{
		Records: []engine.Record{{SequenceNumber: "1", ApproximateArrivalTimestamp: time.UnixMilli(1700000000123),
			Data: []byte{}, PartitionKey: "p"}},
		MillisBehindLatest: 0,
	}
	v, _ := render(reflect.ValueOf(out))
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	// Data is present even when empty; NextShardIterator, ChildShards and
	// EncryptionType are absent; MillisBehindLatest is present at zero.
	want := `{"MillisBehindLatest":0,"Records":[{"ApproximateArrivalTimestamp":1700000000.123,"Data":"","PartitionKey":"p","SequenceNumber":"1"}]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}
