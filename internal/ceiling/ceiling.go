// Package ceiling is the benchmark's "ceiling" server: a trivial HTTP server
// that speaks just enough of the Kinesis JSON protocol for the load generator
// and stores nothing. PutRecords bodies are fully decoded (encoding/json,
// base64 included) and answered with a response of the real shape and size,
// so its throughput is what this machine allows for the protocol itself with
// the same client: the limit any real server can approach, not exceed.
package ceiling

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// seqBase is a 56-digit sequence number, the length Kinesis (and Riffle)
// use, so that responses cost the client what real ones do.
const seqBase = "49650000000000000000000000000000000000000000000000000000"

type putRecordsEntry struct {
	Data            []byte
	PartitionKey    string
	ExplicitHashKey string `json:",omitempty"`
}

type putRecordsInput struct {
	StreamName string
	StreamARN  string
	Records    []putRecordsEntry
}

type putRecordInput struct {
	StreamName   string
	StreamARN    string
	Data         []byte
	PartitionKey string
}

type resultEntry struct {
	SequenceNumber string
	ShardId        string
}

type putRecordsOutput struct {
	FailedRecordCount int
	Records           []resultEntry
	EncryptionType    string
}

// Handler returns the ceiling server's handler. Besides PutRecords and
// PutRecord it answers CreateStream, DeleteStream, ListStreams and
// DescribeStreamSummary (an always-ACTIVE stream) so that clients that set up
// a stream first work unchanged, and GET /readyz like Riffle.
func Handler() http.Handler {
	var seq atomic.Uint64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.WriteHeader(http.StatusOK)
			return
		}
		target := r.Header.Get("X-Amz-Target")
		op := target[strings.LastIndexByte(target, '.')+1:]
		var out any
		switch op {
		case "PutRecords":
			var in putRecordsInput
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				fail(w, "SerializationException", err.Error())
				return
			}
			res := putRecordsOutput{EncryptionType: "NONE", Records: make([]resultEntry, len(in.Records))}
			first := seq.Add(uint64(len(in.Records))) - uint64(len(in.Records))
			for i := range in.Records {
				res.Records[i] = resultEntry{SequenceNumber: sequence(first + uint64(i)), ShardId: "shardId-000000000000"}
			}
			out = res
		case "PutRecord":
			var in putRecordInput
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				fail(w, "SerializationException", err.Error())
				return
			}
			out = map[string]string{"SequenceNumber": sequence(seq.Add(1)), "ShardId": "shardId-000000000000", "EncryptionType": "NONE"}
		case "CreateStream", "DeleteStream":
			io.Copy(io.Discard, r.Body)
			out = struct{}{}
		case "ListStreams":
			io.Copy(io.Discard, r.Body)
			out = map[string]any{"StreamNames": []string{}, "HasMoreStreams": false}
		case "DescribeStreamSummary":
			var in struct{ StreamName string }
			json.NewDecoder(r.Body).Decode(&in)
			out = map[string]any{"StreamDescriptionSummary": map[string]any{
				"StreamName": in.StreamName, "StreamStatus": "ACTIVE", "OpenShardCount": 1,
				"StreamARN":               "arn:aws:kinesis:us-east-1:000000000000:stream/" + in.StreamName,
				"RetentionPeriodHours":    24,
				"StreamCreationTimestamp": 0,
				"EnhancedMonitoring":      []any{},
				"EncryptionType":          "NONE",
			}}
		default:
			fail(w, "UnknownOperationException", fmt.Sprintf("the ceiling server does not implement %q", op))
			return
		}
		respond(w, http.StatusOK, out)
	})
}

// respond writes v as JSON with its length declared, as Riffle does, so the
// client does not pay for chunked decoding.
func respond(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func sequence(n uint64) string {
	s := fmt.Sprint(n)
	return seqBase[:len(seqBase)-len(s)] + s
}

func fail(w http.ResponseWriter, typ, msg string) {
	respond(w, http.StatusBadRequest, map[string]string{"__type": typ, "message": msg})
}
