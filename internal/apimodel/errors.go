package apimodel

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownOperation is returned by Decode for an operation the model does not define. The HTTP
// layer should have answered UnknownOperationException before calling Decode (see HasOperation).
var ErrUnknownOperation = errors.New("apimodel: unknown operation")

// MaxViolations is the most violations AWS lists in one ValidationException; further ones are
// dropped and not counted.
const MaxViolations = 10

// SerializationError is a body AWS's front end cannot read as the operation's input: malformed
// JSON, or a value of the wrong JSON type. It is answered as __type SerializationException,
// HTTP 400.
type SerializationError struct {
	// Message is AWS's message, to be sent as the body's "Message" member. It is empty where AWS
	// sends no message at all (an empty or unparsable body), and the member is then omitted.
	Message string
}

// Error returns Message, or a fixed text when AWS sends no message.
func (e *SerializationError) Error() string {
	if e.Message == "" {
		return "apimodel: malformed request body"
	}
	return e.Message
}

// ValidationError is a well-typed body that breaks the model's constraints (required members,
// lengths, ranges, patterns, enums). It is answered as __type ValidationException, HTTP 400,
// with Error() as the body's "message".
type ValidationError struct {
	// Violations holds each violation in AWS's order and wording, at most MaxViolations, e.g.
	// "Value null at 'streamName' failed to satisfy constraint: Member must not be null".
	Violations []string
}

// Error returns AWS's full message: "N validation error(s) detected: " and the violations joined
// by "; ".
func (e *ValidationError) Error() string {
	plural := "s"
	if len(e.Violations) == 1 {
		plural = ""
	}
	return fmt.Sprintf("%d validation error%s detected: %s", len(e.Violations), plural,
		strings.Join(e.Violations, "; "))
}
