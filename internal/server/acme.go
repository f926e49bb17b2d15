package server

import (
	"net/http"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/sceau"
)

// acmeRoutes are the officers' routes of the ACME server (CA-4,
// internal/acme): external account binding keys for validated dossiers.
// The ACME protocol itself is served on the enrollment listener.
var acmeRoutes = map[string]access.Action{
	"POST /api/v1/acme/eab":              access.ACMEEABCreate,
	"GET /api/v1/acme/eab":               access.ACMEEABRead,
	"POST /api/v1/acme/eab/{kid}/revoke": access.ACMEEABRevoke,
}

func init() {
	for route, action := range acmeRoutes {
		routeActions[route] = action
	}
}

// EABRequest asks for an EAB key for a validated dossier; DNSNames, when
// given, narrows the dossier's names.
type EABRequest struct {
	Dossier  int64    `json:"dossier"`
	DNSNames []string `json:"dns_names,omitempty"`
}

// EABRevocation is the answer to a revocation of an EAB key.
type EABRevocation struct {
	KID     string `json:"kid"`
	Revoked bool   `json:"revoked"`
}

func (a *Admin) acmeRoutes(mux *http.ServeMux) {
	h := func(f func(http.ResponseWriter, *http.Request, *acme.Service)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if a.ACME == nil {
				writeError(w, a.Log, sceau.Errorf(sceau.Unavailable, "server: acme", "the ACME server is not configured"))
				return
			}
			f(w, r, a.ACME)
		}
	}
	mux.HandleFunc("POST /api/v1/acme/eab", h(func(w http.ResponseWriter, r *http.Request, s *acme.Service) {
		var req EABRequest
		if err := decode(r, &req); err != nil {
			writeError(w, a.Log, err)
			return
		}
		k, err := s.CreateEAB(r.Context(), principalOf(r), req.Dossier, req.DNSNames)
		if err != nil {
			writeError(w, a.Log, err)
			return
		}
		writeJSON(w, http.StatusCreated, k) // the HMAC key is shown this once
	}))
	mux.HandleFunc("GET /api/v1/acme/eab", h(func(w http.ResponseWriter, r *http.Request, s *acme.Service) {
		ks, err := s.EABKeys(r.Context(), principalOf(r))
		if err != nil {
			writeError(w, a.Log, err)
			return
		}
		if ks == nil {
			ks = []*acme.EABKey{}
		}
		writeJSON(w, http.StatusOK, ks)
	}))
	mux.HandleFunc("POST /api/v1/acme/eab/{kid}/revoke", h(func(w http.ResponseWriter, r *http.Request, s *acme.Service) {
		kid := r.PathValue("kid")
		if err := s.RevokeEAB(r.Context(), principalOf(r), kid); err != nil {
			writeError(w, a.Log, err)
			return
		}
		writeJSON(w, http.StatusOK, EABRevocation{KID: kid, Revoked: true})
	}))
}

// ObserveACME counts an ACME server event (acme.Options.Observe).
func (m *Metrics) ObserveACME(kind, outcome string) { m.acme.WithLabelValues(kind, outcome).Inc() }
