// Package api serves the Kinesis Data Streams wire protocol (AWS JSON 1.1, or
// CBOR as the Java SDKs send it, over HTTP) in front of the engine: it checks
// the target and the caller's signature, decodes and validates each request
// against the service model, dispatches it through one table, and maps engine
// errors to AWS's error shapes. It knows nothing of files.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/riffle-streams/riffle/internal/apimodel"
	"github.com/riffle-streams/riffle/internal/bufpool"
	"github.com/riffle-streams/riffle/internal/engine"
)

// targetPrefix precedes the operation name in X-Amz-Target.
const targetPrefix = "Kinesis_20131202."

// DefaultMaxBodyBytes bounds a request body: a 10 MiB record (the largest
// UpdateMaxRecordSize allows, and the PutRecords total) grows by a third in
// base64 to 13.3 MiB, plus partition keys and JSON framing.
const DefaultMaxBodyBytes = 16 << 20

// Options configures a Handler.
type Options struct {
	MaxBodyBytes int64
	Logger       *slog.Logger
	// Auth verifies signatures and enforces policies (--auth sigv4); nil
	// accepts any signature (development mode).
	Auth *Auth
}

// Handler is the HTTP handler of the Kinesis API.
type Handler struct {
	eng  *engine.Engine
	opts Options
	ops  map[string]operation
}

// operation decodes a validated request, runs it and returns the response.
type operation func(ctx context.Context, req map[string]any) (any, error)

// New returns a handler serving eng.
func New(eng *engine.Engine, opts Options) *Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{eng: eng, opts: opts}
	h.ops = map[string]operation{
		"CreateStream":          noOutput(eng.CreateStream),
		"DeleteStream":          noOutput(eng.DeleteStream),
		"DescribeStream":        op(eng.DescribeStream),
		"DescribeStreamSummary": op(eng.DescribeStreamSummary),
		"ListStreams":           op(eng.ListStreams),
		"ListShards":            op(eng.ListShards),
		"PutRecord":             op(eng.PutRecord),
		"PutRecords":            op(eng.PutRecords),
		"GetShardIterator":      op(eng.GetShardIterator),
		"GetRecords":            op(eng.GetRecords),
		// Tags, resource policies, account settings and limits.
		"AddTagsToStream":            noOutput(eng.AddTagsToStream),
		"RemoveTagsFromStream":       noOutput(eng.RemoveTagsFromStream),
		"ListTagsForStream":          op(eng.ListTagsForStream),
		"TagResource":                noOutput(eng.TagResource),
		"UntagResource":              noOutput(eng.UntagResource),
		"ListTagsForResource":        op(eng.ListTagsForResource),
		"PutResourcePolicy":          noOutput(eng.PutResourcePolicy),
		"GetResourcePolicy":          op(eng.GetResourcePolicy),
		"DeleteResourcePolicy":       noOutput(eng.DeleteResourcePolicy),
		"DescribeAccountSettings":    op(eng.DescribeAccountSettings),
		"UpdateAccountSettings":      op(eng.UpdateAccountSettings),
		"DescribeLimits":             op(eng.DescribeLimits),
		"UpdateMaxRecordSize":        noOutput(eng.UpdateMaxRecordSize),
		"UpdateStreamWarmThroughput": op(eng.UpdateStreamWarmThroughput),
		// Resharding and retention.
		"SplitShard":                    noOutput(eng.SplitShard),
		"MergeShards":                   noOutput(eng.MergeShards),
		"UpdateShardCount":              op(eng.UpdateShardCount),
		"IncreaseStreamRetentionPeriod": noOutput(eng.IncreaseStreamRetentionPeriod),
		"DecreaseStreamRetentionPeriod": noOutput(eng.DecreaseStreamRetentionPeriod),
		"UpdateStreamMode":              noOutput(eng.UpdateStreamMode),
		// Enhanced fan-out (SubscribeToShard streams: see subscribe.go).
		"RegisterStreamConsumer":   op(eng.RegisterStreamConsumer),
		"DeregisterStreamConsumer": noOutput(eng.DeregisterStreamConsumer),
		"DescribeStreamConsumer":   op(eng.DescribeStreamConsumer),
		"ListStreamConsumers":      op(eng.ListStreamConsumers),
		// Enhanced (shard-level) monitoring.
		"EnableEnhancedMonitoring":  op(eng.EnableEnhancedMonitoring),
		"DisableEnhancedMonitoring": op(eng.DisableEnhancedMonitoring),
		// Server-side encryption.
		"StartStreamEncryption": noOutput(eng.StartStreamEncryption),
		"StopStreamEncryption":  noOutput(eng.StopStreamEncryption),
	}
	return h
}

// op adapts an engine method to the dispatch table.
func op[In, Out any](f func(context.Context, *In) (*Out, error)) operation {
	return func(ctx context.Context, req map[string]any) (any, error) {
		in := new(In)
		if err := bind(in, req); err != nil {
			return nil, bindError(err)
		}
		return f(ctx, in)
	}
}

// noOutput adapts an engine method whose response has no members.
func noOutput[In any](f func(context.Context, *In) error) operation {
	return func(ctx context.Context, req map[string]any) (any, error) {
		in := new(In)
		if err := bind(in, req); err != nil {
			return nil, bindError(err)
		}
		return nil, f(ctx, in)
	}
}

// bindError reports a body that passed validation but does not fit the
// engine's types; apimodel.Decode should make this unreachable.
func bindError(err error) error {
	return &apiError{Type: "SerializationException", Status: http.StatusBadRequest, Message: err.Error()}
}

// ServeHTTP serves one Kinesis API request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	opName := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	status, errType := h.serve(w, r, opName)
	h.opts.Logger.Debug("request", "op", opName, "proto", r.Proto, "status", status, "error", errType,
		"latency", time.Since(start), "request_id", reqID)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, opName string) (int, string) {
	target := r.Header.Get("X-Amz-Target")
	fn, known := h.ops[opName]
	if isCBOR(r) {
		// Tentative until written: makes writeError and the response answer in CBOR (see respondsCBOR).
		w.Header().Set("Content-Type", cborContentType)
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(target, targetPrefix) || !apimodel.HasOperation(opName) {
		return writeError(w, errUnknownOperation)
	}
	if h.opts.Auth == nil && !signed(r) {
		return writeError(w, errMissingAuth)
	}
	bodyBuf, err := readBody(w, r, h.opts.MaxBodyBytes)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return writeError(w, &apiError{Type: "SerializationException", Status: http.StatusRequestEntityTooLarge,
				Message: "Request body exceeds the maximum size of " + strconv.FormatInt(h.opts.MaxBodyBytes, 10) + " bytes."})
		}
		return writeError(w, &apiError{Type: "SerializationException", Status: http.StatusBadRequest,
			Message: "Could not read the request body."})
	}
	body := *bodyBuf
	if h.opts.Auth != nil {
		var aerr *apiError
		if r, aerr = h.opts.Auth.authenticate(r, body); aerr != nil {
			return writeError(w, aerr)
		}
	}
	if status, errType, ok := h.serveFast(w, r, opName, bodyBuf); ok {
		return status, errType
	}
	req, err := decodeRequest(r, opName, body)
	if err != nil {
		var ser *apimodel.SerializationError
		var val *apimodel.ValidationError
		switch {
		case errors.As(err, &ser):
			return writeError(w, &apiError{Type: "SerializationException", Status: http.StatusBadRequest, Message: ser.Message})
		case errors.As(err, &val):
			return writeError(w, &apiError{Type: "ValidationException", Status: http.StatusBadRequest, Message: val.Error()})
		}
		h.opts.Logger.Error("decode request", "op", opName, "err", err)
		return writeError(w, errInternal)
	}
	if h.opts.Auth != nil {
		var aerr *apiError
		if r, aerr = h.authorize(r, opName, req); aerr != nil {
			return writeError(w, aerr)
		}
	}
	if opName == "SubscribeToShard" {
		return h.subscribe(w, r, req)
	}
	if !known {
		return writeError(w, &apiError{Type: "UnknownOperationException", Status: http.StatusBadRequest,
			Message: "Operation " + opName + " is not supported by this server yet."})
	}
	out, err := fn(engine.WithCaller(r.Context(), callerOf(r)), req)
	if err != nil {
		return h.operationError(w, opName, err)
	}
	if g, ok := out.(*engine.GetRecordsOutput); ok && !respondsCBOR(w) {
		buf := getResponseBuffer(getRecordsSize(g))
		defer putResponseBuffer(buf)
		if b, ok := appendGetRecordsOutput((*buf)[:0], g); ok {
			*buf = b
			respond(w, http.StatusOK, jsonContentType, b)
			return http.StatusOK, ""
		}
	}
	resp := map[string]any{}
	if out != nil {
		v, _ := render(reflect.ValueOf(out))
		resp = v.(map[string]any)
	}
	ctype, b, err := encodeResponse(w, resp)
	if err != nil {
		h.opts.Logger.Error("encode response", "op", opName, "err", err)
		return writeError(w, errInternal)
	}
	respond(w, http.StatusOK, ctype, b)
	return http.StatusOK, ""
}

// signed reports whether the request carries a SigV4 signature, in the
// Authorization header or in the query string. Development servers accept any
// credentials, but like AWS they refuse a request with no signature at all.
func signed(r *http.Request) bool {
	if a := r.Header.Get("Authorization"); a != "" {
		return true
	}
	q := r.URL.Query()
	return q.Get("X-Amz-Algorithm") != "" && q.Get("X-Amz-Signature") != ""
}

func writeError(w http.ResponseWriter, e *apiError) (int, string) {
	if respondsCBOR(w) {
		return writeCBORError(w, e)
	}
	body := map[string]string{"__type": e.Type}
	if e.Message != "" {
		body["message"] = e.Message
	}
	b, _ := json.Marshal(body)
	respond(w, e.Status, jsonContentType, b)
	return e.Status, e.Type
}

// respond writes a whole response. Its declared length spares the client
// the chunked encoding net/http would use past a few KiB.
func respond(w http.ResponseWriter, status int, contentType string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// readBody reads a request body of at most limit bytes: in one buffer from
// bufpool when the request declares its length (a PutRecords body is up to
// 5 MiB of base64, which io.ReadAll would reach by doubling).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (*[]byte, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	if r.ContentLength <= 0 || r.ContentLength > limit {
		b, err := io.ReadAll(body)
		return &b, err
	}
	p := bufpool.Get(int(r.ContentLength))
	if _, err := io.ReadFull(body, *p); err != nil {
		bufpool.Put(p)
		return nil, err
	}
	return p, nil
}
