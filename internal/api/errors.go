package api

import (
	"errors"
	"net/http"

	"github.com/riffle-streams/riffle/internal/engine"
)

// apiError is an error as the client sees it: AWS's error type, HTTP status
// and message.
type apiError struct {
	Type    string
	Status  int
	Message string
}

// The catalog: every engine error kind maps to one AWS error type and status.
var kindCatalog = map[engine.Kind]struct {
	typ    string
	status int
}{
	engine.KindInternal:                      {"InternalFailure", http.StatusInternalServerError},
	engine.KindResourceNotFound:              {"ResourceNotFoundException", http.StatusBadRequest},
	engine.KindResourceInUse:                 {"ResourceInUseException", http.StatusBadRequest},
	engine.KindInvalidArgument:               {"InvalidArgumentException", http.StatusBadRequest},
	engine.KindLimitExceeded:                 {"LimitExceededException", http.StatusBadRequest},
	engine.KindExpiredIterator:               {"ExpiredIteratorException", http.StatusBadRequest},
	engine.KindExpiredNextToken:              {"ExpiredNextTokenException", http.StatusBadRequest},
	engine.KindValidation:                    {"ValidationException", http.StatusBadRequest},
	engine.KindProvisionedThroughputExceeded: {"ProvisionedThroughputExceededException", http.StatusBadRequest},
	engine.KindAccessDenied:                  {"AccessDeniedException", http.StatusBadRequest},
}

// Errors of the protocol layer itself.
var (
	errUnknownOperation = &apiError{Type: "UnknownOperationException", Status: http.StatusBadRequest}
	errMissingAuth      = &apiError{Type: "MissingAuthenticationTokenException", Status: http.StatusBadRequest,
		Message: "Missing Authentication Token"}
	errInternal = &apiError{Type: "InternalFailure", Status: http.StatusInternalServerError,
		Message: "Internal service failure."}
)

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

// toAPIError maps any error of an operation to what the client sees.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	c := kindCatalog[engine.KindOf(err)]
	if c.status == http.StatusInternalServerError {
		return errInternal
	}
	return &apiError{Type: c.typ, Status: c.status, Message: err.Error()}
}
