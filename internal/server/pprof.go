package server

import (
	"net/http"
	"net/http/pprof"
)

// pprofRoutes serves Go's runtime profiles under /debug/pprof/ (--pprof), to
// loopback clients only, as the admin endpoints: a profile shows the
// server's internals, and a long CPU profile or trace costs every client.
// `riffle bench --profile` takes the server's CPU profile here during each
// throughput scenario.
func pprofRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", loopbackOnly(pprof.Index)) // heap, goroutine, allocs, block, mutex, ...
	mux.HandleFunc("/debug/pprof/cmdline", loopbackOnly(pprof.Cmdline))
	mux.HandleFunc("/debug/pprof/profile", loopbackOnly(pprof.Profile))
	mux.HandleFunc("/debug/pprof/symbol", loopbackOnly(pprof.Symbol))
	mux.HandleFunc("/debug/pprof/trace", loopbackOnly(pprof.Trace))
}
