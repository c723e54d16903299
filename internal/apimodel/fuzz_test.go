package apimodel

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

func unmarshalGeneric(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the value")
	}
	return nil
}

// FuzzDecode checks that no body panics Decode, that every error is AWS-shaped, and that every
// accepted body is valid JSON whose normalised result re-marshals and decodes generically.
// Seeds: testdata/fuzz/FuzzDecode plus every minimal request.
func FuzzDecode(f *testing.F) {
	ops := Operations()
	for i, op := range ops {
		f.Add(uint8(i), []byte(minimalRequests[op]))
	}
	f.Fuzz(func(t *testing.T, opIndex uint8, body []byte) {
		op := ops[int(opIndex)%len(ops)]
		got, err := Decode(op, body)
		if err != nil {
			var se *SerializationError
			var ve *ValidationError
			switch {
			case errors.As(err, &se):
			case errors.As(err, &ve):
				if n := len(ve.Violations); n == 0 || n > MaxViolations {
					t.Fatalf("%d violations", n)
				}
			default:
				t.Fatalf("Decode(%s, %q): error of type %T: %v", op, body, err, err)
			}
			return
		}
		// Generic JSON here means numbers as json.Number: an ignored member may hold 1e700.
		if err := unmarshalGeneric(body); err != nil {
			t.Fatalf("Decode(%s) accepted %q, which is not JSON: %v", op, body, err)
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("result of %q does not marshal: %v", body, err)
		}
		// Members Decode keeps must also fit plain float64 decoding.
		var generic any
		if err := json.Unmarshal(b, &generic); err != nil {
			t.Fatalf("result %s does not unmarshal: %v", b, err)
		}
		// The normalised result must itself be accepted unchanged.
		again, err := Decode(op, b)
		if err != nil {
			t.Fatalf("Decode(%s) accepted %q but rejects its own result %s: %v", op, body, b, err)
		}
		if b2, _ := json.Marshal(again); string(b2) != string(b) {
			t.Fatalf("normalisation is not stable: %s then %s", b, b2)
		}
	})
}
