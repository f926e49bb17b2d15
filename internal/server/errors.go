package server

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

func statusOf(err error) int {
	switch sceau.KindOf(err) {
	case sceau.Invalid:
		return http.StatusBadRequest
	case sceau.NotFound:
		return http.StatusNotFound
	case sceau.Conflict:
		return http.StatusConflict
	case sceau.Denied:
		return http.StatusForbidden
	case sceau.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// ErrorBody is the JSON shape of every admin API error.
type ErrorBody struct {
	Error string `json:"error"`
	Kind  string `json:"kind"`
}

func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	err = store.Unclassified("server", err)
	code := statusOf(err)
	if code == http.StatusInternalServerError {
		log.Error("internal error", "err", err)
	}
	writeJSON(w, code, ErrorBody{Error: sceau.Message(err), Kind: sceau.KindOf(err).String()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
