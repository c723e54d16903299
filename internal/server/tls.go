package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/riffle-streams/riffle/internal/config"
	"github.com/riffle-streams/riffle/internal/tlscert"
)

// tlsServer is the optional HTTPS listener (--tls-listen): the same handler
// as the plain port, with h2 and HTTP/1.1 chosen by ALPN.
type tlsServer struct {
	http     *http.Server
	ln       net.Listener
	certPath string
}

// newTLSServer loads or generates the certificate and binds the TLS
// listener, so that a bad certificate or a busy port stops the start-up
// rather than surfacing once serving. It returns nil without --tls-listen.
// plain is the plain server, whose handler and limits it shares.
func newTLSServer(cfg config.Config, plain *http.Server, log *slog.Logger) (*tlsServer, error) {
	if cfg.TLSListen == "" {
		return nil, nil
	}
	cert, err := tlscert.Load(tlscert.Source{
		CertFile: cfg.TLSCert,
		KeyFile:  cfg.TLSKey,
		DataDir:  cfg.DataDir,
		InMemory: cfg.InMemory,
	})
	if err != nil {
		return nil, err
	}
	switch {
	case cert.Origin == tlscert.Generated && cert.Expired:
		log.Warn("the generated TLS certificate had expired and was replaced; clients must trust the new one (riffle cert prints it)",
			"cert", cert.Path, "not_after", cert.Leaf.NotAfter)
	case cert.Origin == tlscert.Generated:
		log.Info("generated a self-signed TLS certificate; riffle cert prints it for clients to trust",
			"cert", cert.Path, "not_after", cert.Leaf.NotAfter)
	}
	ln, err := net.Listen("tcp", cfg.TLSListen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.TLSListen, err)
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	return &tlsServer{
		http: &http.Server{
			Handler:           plain.Handler,
			Protocols:         protocols,
			TLSConfig:         tlscert.ServerConfig(cert.TLS),
			ReadHeaderTimeout: plain.ReadHeaderTimeout,
			MaxHeaderBytes:    plain.MaxHeaderBytes,
			ErrorLog:          plain.ErrorLog,
		},
		ln:       ln,
		certPath: cert.Path,
	}, nil
}

// TLSAddr is the address of the TLS listener, empty without --tls-listen.
func (s *Server) TLSAddr() string {
	if s.tls == nil {
		return ""
	}
	return s.tls.ln.Addr().String()
}

// startTLS serves the TLS listener, if any, reporting a failure on errc
// unless another listener already has.
func (s *Server) startTLS(errc chan<- error) {
	if s.tls == nil {
		return
	}
	go func() {
		err := s.tls.http.ServeTLS(s.tls.ln, "", "") // the certificate is in TLSConfig
		select {
		case errc <- err:
		default:
		}
	}()
	s.log.Info("serving-tls", "listen", s.TLSAddr(), "cert", s.tls.certPath)
}

// shutdownTLS stops the TLS listener accepting and waits, in the background,
// for its in-flight requests; the returned channel is closed when done. It
// runs alongside the plain server's Shutdown, whose hooks end long-lived
// requests (subscriptions) engine-wide, on this listener too.
func (s *Server) shutdownTLS(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if s.tls == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		if err := s.tls.http.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("shutdown tls", "err", err)
		}
	}()
	return done
}
