package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/riffle-streams/riffle/internal/engine"
)

// SubscribeToShard answers with an event stream
// (application/vnd.amazon.eventstream): an initial-response event, then a
// SubscribeToShardEvent for each batch of records or heartbeat, until the
// subscription ends. Errors before the stream starts are ordinary error
// responses; errors after the 200 are exception messages in the stream.

const eventStreamContentType = "application/vnd.amazon.eventstream"

// subscribeResponseDelay: see subscribe.
const subscribeResponseDelay = 5 * time.Millisecond

func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request, req map[string]any) (int, string) {
	var in engine.SubscribeToShardInput
	if err := bind(&in, req); err != nil {
		return writeError(w, toAPIError(bindError(err)))
	}
	ctx := engine.WithCaller(r.Context(), callerOf(r))
	sub, err := h.eng.SubscribeToShard(ctx, &in)
	if err != nil {
		return writeError(w, toAPIError(err))
	}
	defer sub.Close()
	// Event payloads use the request's encoding, as the SDKs expect: CBOR
	// for CBOR clients (the Java SDK's default), JSON otherwise.
	encode, payloadType := json.Marshal, "application/json"
	if isCBOR(r) {
		encode, payloadType = cborEncMode.Marshal, cborContentType
	}
	// Go's HTTP/1.1 client reads the request body once more after sending
	// Content-Length bytes (to check for extra bytes), and the AWS SDK for Go
	// closes that body as soon as response headers arrive: a response sent
	// before that last read makes the client's transport fail the read and
	// close the connection under the event stream ("use of closed network
	// connection"). A short pause before the headers lets the client finish
	// writing; it costs nothing against a five-minute subscription.
	time.Sleep(subscribeResponseDelay)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", eventStreamContentType)
	w.WriteHeader(http.StatusOK)
	enc := eventstream.NewEncoder()
	send := func(msg eventstream.Message) error {
		if err := enc.Encode(w, msg); err != nil {
			return err
		}
		return rc.Flush()
	}
	initial, _ := encode(map[string]any{})
	if err := send(eventMessage("initial-response", payloadType, initial)); err != nil {
		return http.StatusOK, ""
	}
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			if errors.Is(err, engine.ErrSubscriptionEnded) || errors.Is(err, context.Canceled) || ctx.Err() != nil {
				return http.StatusOK, ""
			}
			ae := toAPIError(err)
			if ae.Status == http.StatusInternalServerError {
				h.opts.Logger.Error("subscription failed", "err", err)
			}
			payload, _ := encode(map[string]string{"message": ae.Message})
			send(exceptionMessage(ae.Type, payloadType, payload))
			return http.StatusOK, ae.Type
		}
		v, _ := render(reflect.ValueOf(ev))
		payload, err := encode(v)
		if err != nil {
			h.opts.Logger.Error("encode event", "err", err)
			return http.StatusOK, "InternalFailure"
		}
		if err := send(eventMessage("SubscribeToShardEvent", payloadType, payload)); err != nil {
			return http.StatusOK, "" // the client went away
		}
	}
}

func eventMessage(eventType, contentType string, payload []byte) eventstream.Message {
	var m eventstream.Message
	m.Headers.Set(":message-type", eventstream.StringValue("event"))
	m.Headers.Set(":event-type", eventstream.StringValue(eventType))
	m.Headers.Set(":content-type", eventstream.StringValue(contentType))
	m.Payload = payload
	return m
}

func exceptionMessage(errorType, contentType string, payload []byte) eventstream.Message {
	var m eventstream.Message
	m.Headers.Set(":message-type", eventstream.StringValue("exception"))
	m.Headers.Set(":exception-type", eventstream.StringValue(errorType))
	m.Headers.Set(":content-type", eventstream.StringValue(contentType))
	m.Payload = payload
	return m
}
