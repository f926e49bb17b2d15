package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Enroll serves the enrollment listener: the routes where holders write
// to the CA without an operator's credential. Each route authenticates by
// what the CA handed out — the revocation secret given at issuance, the
// one-time download token — and goes through the registration service,
// which journals every attempt. It is a listener apart from the public one
// (SYS-2: the public listener exposes nothing writable) and from the admin
// one (which requires an operator's client certificate).
// docs/adr/0003-enrollment-listener.md.
type Enroll struct {
	Registration *registration.Service
	Log          *slog.Logger
	// Mounts adds protocol handlers under path prefixes (ACME, EST).
	Mounts map[string]http.Handler
	// Health reports the node's state for /healthz (nil: always ok).
	Health func() error
}

// maxFormBytes bounds a revocation request: a serial, a secret, a reason
// and a note of at most 2000 characters.
const maxFormBytes = 16 << 10

// Handler routes the enrollment listener. Unknown paths are 404, and
// every answer is no-store: what passes here is personal.
func (e *Enroll) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", e.index)
	mux.HandleFunc("GET /revoke", e.revokeForm)
	mux.HandleFunc("POST /revoke", e.revokeSubmit)
	mux.HandleFunc("POST /api/v1/revocation-requests", e.revokeAPI)
	mux.HandleFunc("GET /pkcs12/{token}", e.download)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if e.Health != nil {
			if err := e.Health(); err != nil {
				http.Error(w, "unavailable: "+sceau.Message(err), http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, "ok")
	})
	for prefix, h := range e.Mounts {
		mux.Handle(prefix, h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer") // a download token must not leak in a Referer
		mux.ServeHTTP(w, r)
	})
}

func (e *Enroll) index(w http.ResponseWriter, r *http.Request) {
	e.page(w, r, http.StatusOK, pageData{Title: "title.index", Index: true})
}

func (e *Enroll) revokeForm(w http.ResponseWriter, r *http.Request) {
	e.page(w, r, http.StatusOK, pageData{Title: "title.revoke", Form: true, Serial: r.URL.Query().Get("serial")})
}

// revokeSubmit takes the holder's request from the form (CA-4: a request
// from the holder, authenticated with the revocation secret; wrong secrets
// are journaled and rate-limited by the registration service).
func (e *Enroll) revokeSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		e.page(w, r, http.StatusRequestEntityTooLarge, pageData{Title: "title.revoke", Form: true,
			Error: "the form is too large or malformed"})
		return
	}
	f := r.PostForm
	serial := strings.ToLower(strings.TrimSpace(f.Get("serial")))
	rq, err := e.Registration.RequestByHolder(r.Context(), serial, f.Get("secret"), f.Get("reason"), f.Get("note"))
	if err != nil {
		e.refuse(w, r, err, pageData{Title: "title.revoke", Form: true, Serial: serial, Note: f.Get("note"), Reason: f.Get("reason")})
		return
	}
	e.page(w, r, http.StatusCreated, pageData{Title: "title.received", Request: rq})
}

// HolderRequest is the body of POST /api/v1/revocation-requests on the
// enrollment listener.
type HolderRequest struct {
	Serial string `json:"serial"`
	Secret string `json:"secret"`
	Reason string `json:"reason,omitempty"`
	Note   string `json:"note,omitempty"`
}

func (e *Enroll) revokeAPI(w http.ResponseWriter, r *http.Request) {
	var req HolderRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, e.Log, sceau.E(sceau.Invalid, "enroll", "the body is not a revocation request (serial, secret, reason, note)", err))
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, e.Log, sceau.Errorf(sceau.Invalid, "enroll", "the body holds more than one JSON value"))
		return
	}
	rq, err := e.Registration.RequestByHolder(r.Context(), strings.ToLower(strings.TrimSpace(req.Serial)), req.Secret, req.Reason, req.Note)
	req.Secret = ""
	if err != nil {
		writeError(w, e.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, rq)
}

// download hands over the PKCS#12 behind a one-time link, once (CA-4,
// KEY-3: the service clears it in the transaction that marks it used).
func (e *Enroll) download(w http.ResponseWriter, r *http.Request) {
	pfx, err := e.Registration.Download(r.Context(), r.PathValue("token"))
	if err != nil {
		e.refuse(w, r, err, pageData{Title: "title.download"})
		return
	}
	w.Header().Set("Content-Type", "application/x-pkcs12")
	w.Header().Set("Content-Disposition", `attachment; filename="certificate.p12"`)
	_, _ = w.Write(pfx)
}

// refuse shows err on the page d with its status; only an internal error
// is logged (a refusal is journaled by the service).
func (e *Enroll) refuse(w http.ResponseWriter, r *http.Request, err error, d pageData) {
	err = store.Unclassified("enroll", err)
	if statusOf(err) == http.StatusInternalServerError {
		e.Log.Error("internal error", "err", err)
	}
	d.Error = sceau.Message(err)
	e.page(w, r, statusOf(err), d)
}
