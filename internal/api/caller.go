package api

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/riffle-streams/riffle/internal/engine"
)

var (
	accountKeyRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// callerOf derives the account and region a request acts in from its SigV4
// credential scope (AKID/date/region/service/aws4_request), in the header or
// presigned form. As emulators do, an access key id of 12 digits is taken as
// the account id, so tests can act as several accounts; otherwise the
// server's default account applies. Empty fields mean the default.
// With authentication on, the caller is the verified access key's account
// and scope region instead (see auth.go).
func callerOf(r *http.Request) engine.Caller {
	if st := authOf(r.Context()); st != nil {
		return callerFromAuth(st)
	}
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		if i := strings.Index(auth, "Credential="); i >= 0 {
			cred = auth[i+len("Credential="):]
			if j := strings.IndexAny(cred, ", "); j >= 0 {
				cred = cred[:j]
			}
		}
	}
	parts := strings.Split(cred, "/")
	var c engine.Caller
	if len(parts) > 0 && accountKeyRE.MatchString(parts[0]) {
		c.Account = parts[0]
	}
	if len(parts) > 2 && regionRE.MatchString(parts[2]) {
		c.Region = parts[2]
	}
	return c
}
