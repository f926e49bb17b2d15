package compliance

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server keeps the latest report as a page for auditors (sceau check
// --serve): it runs the self-audit every interval and serves its HTML at
// "/" and its JSON at "/report.json". Read-only, script-free.
type Server struct {
	Run   func(context.Context) (*Report, error)
	Every time.Duration
	CSS   []byte
	Log   *slog.Logger

	mu       sync.RWMutex
	page     []byte
	report   *Report
	lastErr  error
	lastTook time.Time
}

// Refresh runs the self-audit once and keeps its result; on failure the
// last report stays and the error is shown above it.
func (s *Server) Refresh(ctx context.Context) error {
	r, err := s.Run(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastTook, s.lastErr = time.Now(), err
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, r, s.CSS); err != nil {
		return err
	}
	s.page, s.report = b.Bytes(), r
	return nil
}

// ServeHTTP serves the page and the JSON.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	page, rep, lastErr := s.page, s.report, s.lastErr
	s.mu.RUnlock()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "read-only", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/":
		if page == nil {
			msg := "no report yet"
			if lastErr != nil {
				msg = "the self-audit could not run: " + lastErr.Error()
			}
			http.Error(w, msg, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	case "/report.json":
		if rep == nil {
			http.Error(w, "no report yet", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		writeJSON(w, rep)
	default:
		http.NotFound(w, r)
	}
}

// ListenAndServe serves on addr until ctx ends, refreshing every Every.
// ready, if set, gets the bound address.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if err := s.Refresh(ctx); err != nil {
		s.Log.Error("self-audit failed", "err", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(l.Addr())
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		t := time.NewTicker(s.Every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				srv.Close()
				return
			case <-t.C:
				if err := s.Refresh(ctx); err != nil {
					s.Log.Error("self-audit failed", "err", err)
				}
			}
		}
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
