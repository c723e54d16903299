package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"mime"
	"net/http"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/riffle-streams/riffle/internal/apimodel"
)

// AWS's CBOR protocol (application/x-amz-cbor-1.1), which the AWS SDKs for
// Java v1 and v2 speak to Kinesis by default, is JSON 1.1's data model in
// CBOR: the same targets, members and errors, with two differences that
// emulators have long got wrong:
//   - blobs are CBOR byte strings, not base64 text;
//   - timestamps are tag 1 with integer epoch *milliseconds* (the SDKs'
//     SdkCborGenerator writes Date.getTime() / Instant.toEpochMilli()), not
//     RFC 8949's seconds. The SDK for Java v2 parses response timestamps with
//     Long.parseLong, so they must be integers (aws/aws-sdk-java-v2#184,
//     localstack/localstack#3134).
//
// Requests are decoded into the generic tree apimodel.Check takes, so CBOR
// and JSON share validation and binding; responses are rendered once and
// encoded by either codec.

// Content types of the two codecs.
const (
	jsonContentType = "application/x-amz-json-1.1"
	cborContentType = "application/x-amz-cbor-1.1"
)

// isCBOR reports whether a request is in the CBOR protocol. Anything else is
// read as JSON 1.1 (application/x-amz-json-1.1 and application/json, and,
// as before CBOR was served, a missing or unknown type).
func isCBOR(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == cborContentType
}

// respondsCBOR reports whether this response is to be CBOR: serve sets the
// CBOR content type up front for a CBOR request, so that every error written
// on the way answers in the request's codec without the codec being passed
// to each writeError.
func respondsCBOR(w http.ResponseWriter) bool {
	return w.Header().Get("Content-Type") == cborContentType
}

// decodeRequest decodes and checks a request body in the codec of its
// Content-Type.
func decodeRequest(r *http.Request, op string, body []byte) (map[string]any, error) {
	if !isCBOR(r) {
		return apimodel.Decode(op, body)
	}
	tree, err := decodeCBOR(body)
	if err != nil {
		return nil, err
	}
	return apimodel.Check(op, tree)
}

// cborDecMode reads requests: well-formed CBOR only, text keys, valid UTF-8,
// bounded nesting and sizes (fxamacker's defaults), and duplicate keys
// resolved as JSON's last-one-wins.
var cborDecMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:   cbor.DupMapKeyQuiet,
		IndefLength: cbor.IndefLengthAllowed, // Jackson's CBORGenerator writes maps and arrays of indefinite length
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// decodeCBOR parses a CBOR request body into apimodel.Check's generic tree.
// Tags are looked through, as AWS's Jackson-based parser does, so that a
// timestamp reads the same tagged (as the SDKs send it) or not; bignums
// (tags 2 and 3) become integers. A body that is empty or malformed is a
// SerializationException without a message, as for JSON.
func decodeCBOR(body []byte) (any, error) {
	if len(body) == 0 {
		return nil, &apimodel.SerializationError{}
	}
	var raw cbor.RawMessage
	if err := cborDecMode.Unmarshal(body, &raw); err != nil {
		return nil, &apimodel.SerializationError{}
	}
	v, err := cborValue(raw)
	if err != nil {
		return nil, &apimodel.SerializationError{}
	}
	return v, nil
}

// CBOR major types (RFC 8949 §3.1), the top three bits of an item's head.
const (
	majorUint   = 0
	majorNegInt = 1
	majorBytes  = 2
	majorText   = 3
	majorArray  = 4
	majorMap    = 5
	majorTag    = 6
	majorSimple = 7
)

// cborValue converts one well-formed item. Recursion is bounded by the
// decoder's nesting limit, which Unmarshal enforced on the whole body.
func cborValue(raw cbor.RawMessage) (any, error) {
	switch raw[0] >> 5 {
	case majorUint, majorNegInt:
		var n big.Int
		if err := cborDecMode.Unmarshal(raw, &n); err != nil {
			return nil, err
		}
		return json.Number(n.String()), nil
	case majorBytes:
		var b []byte
		err := cborDecMode.Unmarshal(raw, &b)
		return b, err
	case majorText:
		var s string
		err := cborDecMode.Unmarshal(raw, &s)
		return s, err
	case majorArray:
		var elems []cbor.RawMessage
		if err := cborDecMode.Unmarshal(raw, &elems); err != nil {
			return nil, err
		}
		out := make([]any, len(elems))
		for i, e := range elems {
			v, err := cborValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case majorMap:
		var members map[string]cbor.RawMessage
		if err := cborDecMode.Unmarshal(raw, &members); err != nil {
			return nil, err // e.g. a key that is not text
		}
		out := make(map[string]any, len(members))
		for k, e := range members {
			v, err := cborValue(e)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case majorTag:
		var tag cbor.RawTag
		if err := cborDecMode.Unmarshal(raw, &tag); err != nil {
			return nil, err
		}
		if tag.Number == 2 || tag.Number == 3 {
			var n big.Int
			if err := cborDecMode.Unmarshal(raw, &n); err != nil {
				return nil, err
			}
			return json.Number(n.String()), nil
		}
		return cborValue(tag.Content)
	case majorSimple:
		var v any
		if err := cborDecMode.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		switch x := v.(type) {
		case nil, bool, float64:
			return x, nil // null and undefined both decode to nil
		}
		return nil, fmt.Errorf("unsupported simple value %v", v)
	}
	return nil, errors.New("unreachable CBOR major type")
}

// cborEncMode writes responses: shortest forms, keys sorted so that bodies
// are reproducible.
var cborEncMode = func() cbor.EncMode {
	em, err := cbor.EncOptions{Sort: cbor.SortBytewiseLexical}.EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// MarshalCBOR writes a timestamp as the Java SDKs parse it: tag 1 with
// integer epoch milliseconds.
func (t wireTime) MarshalCBOR() ([]byte, error) {
	return cborEncMode.Marshal(cbor.Tag{Number: 1, Content: time.Time(t).UnixMilli()})
}

// encodeResponse encodes a rendered response in the codec the response is
// answering in, and returns its content type.
func encodeResponse(w http.ResponseWriter, resp map[string]any) (string, []byte, error) {
	if respondsCBOR(w) {
		b, err := cborEncMode.Marshal(resp)
		return cborContentType, b, err
	}
	b, err := json.Marshal(resp)
	return jsonContentType, b, err
}

// writeCBORError writes an error as AWS's CBOR protocol does: the JSON
// error's members (__type, message) as a CBOR map, with the CBOR content type;
// the SDKs parse error bodies with the protocol's own parser.
func writeCBORError(w http.ResponseWriter, e *apiError) (int, string) {
	body := map[string]string{"__type": e.Type}
	if e.Message != "" {
		body["message"] = e.Message
	}
	b, _ := cborEncMode.Marshal(body)
	respond(w, e.Status, cborContentType, b)
	return e.Status, e.Type
}
