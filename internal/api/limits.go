package api

import "net/http"

// WriteLimitError answers r with an AWS error of the given type, status and
// message, in r's codec (CBOR for a CBOR request, else JSON 1.1). It is for
// the server's resource limits, which refuse a request before this package's
// handler sees it, so that even then clients get an error their SDK parses
// (and retries: LimitExceededException and HTTP 503 are retryable in the
// SDKs).
func WriteLimitError(w http.ResponseWriter, r *http.Request, errorType string, status int, message string) {
	w.Header().Set("x-amzn-RequestId", newRequestID())
	if isCBOR(r) {
		w.Header().Set("Content-Type", cborContentType)
	}
	writeError(w, &apiError{Type: errorType, Status: status, Message: message})
}
