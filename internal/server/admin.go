package server

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"github.com/riffle-streams/riffle/internal/engine"
)

// The admin endpoints change throttling and fault injection while the server
// runs, on the same listener as the API:
//
//	GET /admin/limits                      {"enforce_limits": false}
//	PUT /admin/limits  {"enforce_limits": true}
//	GET /admin/faults                      {"fault_rate": 0, "fault_types": [...]}
//	PUT /admin/faults  {"fault_rate": 0.1, "fault_types": ["InternalFailure"]}
//
// A PUT answers with the settings now in force. Only loopback clients may
// use them: they change what every client sees.

// limitsBody is the JSON of /admin/limits.
type limitsBody struct {
	EnforceLimits *bool `json:"enforce_limits"`
}

// faultsBody is the JSON of /admin/faults.
type faultsBody struct {
	FaultRate  *float64 `json:"fault_rate"`
	FaultTypes []string `json:"fault_types"`
}

// maxAdminBody bounds an admin request body.
const maxAdminBody = 64 << 10

// adminRoutes registers the admin endpoints on mux.
func adminRoutes(mux *http.ServeMux, eng *engine.Engine, log *slog.Logger) {
	limits := func(w http.ResponseWriter) {
		on := eng.EnforceLimits()
		writeAdmin(w, http.StatusOK, limitsBody{EnforceLimits: &on})
	}
	faults := func(w http.ResponseWriter) {
		f := eng.Faults()
		writeAdmin(w, http.StatusOK, faultsBody{FaultRate: &f.Rate, FaultTypes: f.Types})
	}
	mux.HandleFunc("GET /admin/limits", loopbackOnly(func(w http.ResponseWriter, r *http.Request) { limits(w) }))
	mux.HandleFunc("PUT /admin/limits", loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		var b limitsBody
		if !readAdmin(w, r, &b) {
			return
		}
		if b.EnforceLimits == nil {
			adminError(w, http.StatusBadRequest, "enforce_limits (true or false) is required")
			return
		}
		eng.SetEnforceLimits(*b.EnforceLimits)
		log.Info("admin: limits changed", "enforce_limits", *b.EnforceLimits, "remote", r.RemoteAddr)
		limits(w)
	}))
	mux.HandleFunc("GET /admin/faults", loopbackOnly(func(w http.ResponseWriter, r *http.Request) { faults(w) }))
	mux.HandleFunc("PUT /admin/faults", loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		var b faultsBody
		if !readAdmin(w, r, &b) {
			return
		}
		if b.FaultRate == nil {
			adminError(w, http.StatusBadRequest, "fault_rate (0 to 1) is required")
			return
		}
		f := engine.Faults{Rate: *b.FaultRate, Types: b.FaultTypes}
		if err := eng.SetFaults(f); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		log.Info("admin: faults changed", "fault_rate", f.Rate, "fault_types", f.Types, "remote", r.RemoteAddr)
		faults(w)
	}))
}

// loopbackOnly refuses requests that do not come from a loopback address.
func loopbackOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			adminError(w, http.StatusForbidden, "the admin endpoints serve loopback clients only")
			return
		}
		h(w, r)
	}
}

// readAdmin decodes a JSON body into v, strictly; on failure it answers 400
// and returns false.
func readAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	d := json.NewDecoder(io.LimitReader(r.Body, maxAdminBody))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		adminError(w, http.StatusBadRequest, fmt.Sprintf("invalid JSON body: %v", err))
		return false
	}
	return true
}

func adminError(w http.ResponseWriter, status int, msg string) {
	writeAdmin(w, status, map[string]string{"message": msg})
}

func writeAdmin(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
