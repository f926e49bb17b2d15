package server

import (
	"net/http"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/est"
	"github.com/sceau/sceau/internal/sceau"
)

// estRoutes are the officers' routes of the EST server (CA-4,
// internal/est): credentials for validated dossiers. The EST protocol
// itself is served on the enrollment listener.
var estRoutes = map[string]access.Action{
	"POST /api/v1/est/credentials":                   access.ESTCredentialCreate,
	"GET /api/v1/est/credentials":                    access.ESTCredentialRead,
	"POST /api/v1/est/credentials/{username}/revoke": access.ESTCredentialRevoke,
}

func init() {
	for route, action := range estRoutes {
		routeActions[route] = action
	}
}

// ESTCredentialRequest asks for an EST credential for a validated dossier.
type ESTCredentialRequest struct {
	Dossier int64 `json:"dossier"`
}

// ESTCredentialRevocation is the answer to a revocation of an EST
// credential.
type ESTCredentialRevocation struct {
	Username string `json:"username"`
	Revoked  bool   `json:"revoked"`
}

func (a *Admin) estRoutes(mux *http.ServeMux) {
	h := func(f func(http.ResponseWriter, *http.Request, *est.Service)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if a.EST == nil {
				writeError(w, a.Log, sceau.Errorf(sceau.Unavailable, "server: est", "the EST server is not configured"))
				return
			}
			f(w, r, a.EST)
		}
	}
	mux.HandleFunc("POST /api/v1/est/credentials", h(func(w http.ResponseWriter, r *http.Request, s *est.Service) {
		var req ESTCredentialRequest
		if err := decode(r, &req); err != nil {
			writeError(w, a.Log, err)
			return
		}
		c, err := s.CreateCredential(r.Context(), principalOf(r), req.Dossier)
		if err != nil {
			writeError(w, a.Log, err)
			return
		}
		writeJSON(w, http.StatusCreated, c) // the password is shown this once
	}))
	mux.HandleFunc("GET /api/v1/est/credentials", h(func(w http.ResponseWriter, r *http.Request, s *est.Service) {
		cs, err := s.Credentials(r.Context(), principalOf(r))
		if err != nil {
			writeError(w, a.Log, err)
			return
		}
		if cs == nil {
			cs = []*est.Credential{}
		}
		writeJSON(w, http.StatusOK, cs)
	}))
	mux.HandleFunc("POST /api/v1/est/credentials/{username}/revoke", h(func(w http.ResponseWriter, r *http.Request, s *est.Service) {
		user := r.PathValue("username")
		if err := s.RevokeCredential(r.Context(), principalOf(r), user); err != nil {
			writeError(w, a.Log, err)
			return
		}
		writeJSON(w, http.StatusOK, ESTCredentialRevocation{Username: user, Revoked: true})
	}))
}

// ObserveEST counts an EST enrollment (est.Options.Observe).
func (m *Metrics) ObserveEST(operation, outcome string) {
	m.est.WithLabelValues(operation, outcome).Inc()
}
