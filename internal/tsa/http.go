package tsa

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/sceau/sceau/internal/sceau"
)

// The media types of RFC 3161 §3.4.
const (
	QueryType = "application/timestamp-query"
	ReplyType = "application/timestamp-reply"
)

// MaxRequestBytes bounds a request body: a TimeStampReq with a SHA-512
// imprint, a policy and a long nonce is under 200 bytes.
const MaxRequestBytes = 16 << 10

// Handler returns the HTTP transport of the unit (RFC 3161 §3.4): see
// NewHandler.
func (u *Unit) Handler() http.Handler {
	return NewHandler(func(context.Context) (*Unit, error) { return u, nil }, u.o.Log)
}

// NewHandler serves RFC 3161 over HTTP (§3.4) with the unit that unit
// returns for each request (an error there, such as a key not certified
// yet, is a rejection). A POST of a TimeStampReq as application/
// timestamp-query gets an application/timestamp-reply: 200 when granted;
// for a rejection the same reply, with 400 when the request is at fault
// (malformed, an algorithm or policy the unit refuses, extensions) and 503
// when the time source or the key is not available. An HTTP request that
// is not one (another method: 405; another media type: 415; a body over
// MaxRequestBytes: 413) gets a plain-text answer. A nil log discards.
func NewHandler(unit func(context.Context) (*Unit, error), log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &handler{unit: unit, log: log}
}

type handler struct {
	unit func(context.Context) (*Unit, error)
	log  *slog.Logger
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "tsa: a time-stamp request is a POST (RFC 3161 §3.4)", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != QueryType {
		http.Error(w, "tsa: the request's Content-Type must be "+QueryType+" (RFC 3161 §3.4)", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "tsa: the request is larger than 16 KiB", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "tsa: the request body cannot be read", http.StatusBadRequest)
		return
	}
	var reply []byte
	u, err := h.unit(r.Context())
	if err == nil {
		reply, err = u.Respond(r.Context(), body)
	} else {
		h.log.Warn("tsa: no unit to answer a request", "err", err)
		reply = Rejection(err)
	}
	status := http.StatusOK
	switch {
	case err == nil:
	case sceau.KindOf(err) == sceau.Invalid:
		status = http.StatusBadRequest
	case sceau.KindOf(err) == sceau.Unavailable:
		status = http.StatusServiceUnavailable
	default:
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", ReplyType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(reply)
}
