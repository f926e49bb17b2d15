package server

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

// Listener is one HTTP listener to run.
type Listener struct {
	Name    string
	Addr    string
	Handler http.Handler
	TLS     *tls.Config // nil: plain HTTP (public listener only)
	// Refused, with TLS, hears of every refused handshake (AUD-6).
	Refused func(HandshakeRefusal)
}

// Listen binds every listener first, so that a taken port is reported
// before anything starts, then serves them until ctx ends and shuts them
// down gracefully. ready, if not nil, is called once all are bound.
func Listen(ctx context.Context, log *slog.Logger, ls []Listener, ready func()) error {
	type bound struct {
		l   Listener
		ln  net.Listener
		srv *http.Server
	}
	var bs []bound
	for _, l := range ls {
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			for _, b := range bs {
				b.ln.Close()
			}
			return sceau.E(sceau.Unavailable, "server: listen", "cannot listen on "+l.Addr+" for the "+l.Name+" listener", err)
		}
		if l.TLS != nil {
			ln = newHandshakeListener(ln, l.TLS, l.Refused)
		}
		srv := &http.Server{Handler: l.Handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
		bs = append(bs, bound{l, ln, srv})
	}
	errc := make(chan error, len(bs))
	for _, b := range bs {
		log.Info("listening", "listener", b.l.Name, "addr", b.ln.Addr().String(), "tls", b.l.TLS != nil)
		go func() {
			if err := b.srv.Serve(b.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	if ready != nil {
		ready()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, b := range bs {
		_ = b.srv.Shutdown(sctx)
	}
	return err
}
