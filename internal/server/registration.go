package server

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceau"
)

// registrationRoutes are the registration authority's (CA-4,
// internal/registration): dossiers, their evidence and CGU acceptance,
// validation, issuance and delivery, and revocation requests.
var registrationRoutes = map[string]access.Action{
	"POST /api/v1/dossiers":                         access.DossierCreate,
	"GET /api/v1/dossiers":                          access.DossierRead,
	"GET /api/v1/dossiers/{id}":                     access.DossierRead,
	"PATCH /api/v1/dossiers/{id}":                   access.DossierEdit,
	"POST /api/v1/dossiers/{id}/evidence":           access.DossierEdit,
	"POST /api/v1/dossiers/{id}/cgu":                access.DossierEdit,
	"POST /api/v1/dossiers/{id}/submit":             access.DossierEdit,
	"POST /api/v1/dossiers/{id}/validate":           access.DossierValidate,
	"POST /api/v1/dossiers/{id}/reject":             access.DossierValidate,
	"POST /api/v1/dossiers/{id}/issue":              access.DossierIssue,
	"POST /api/v1/dossiers/{id}/deliver":            access.DossierIssue,
	"GET /api/v1/registration/requirements":         access.DossierRead,
	"POST /api/v1/revocation-requests":              access.RevocationRequestCreate,
	"POST /api/v1/revocation-requests/holder":       access.RevocationRequestHolder,
	"GET /api/v1/revocation-requests":               access.RevocationRequestRead,
	"GET /api/v1/revocation-requests/{id}":          access.RevocationRequestRead,
	"POST /api/v1/revocation-requests/{id}/process": access.RevocationRequestCheck,
}

func init() {
	for route, action := range registrationRoutes {
		routeActions[route] = action
	}
}

// attachmentRoute tells whether a path carries a scan or a proof, whose
// body limit is the registration's, not the JSON one.
func attachmentRoute(path string) bool {
	return strings.HasPrefix(path, "/api/v1/dossiers/") && (strings.HasSuffix(path, "/evidence") || strings.HasSuffix(path, "/cgu"))
}

func (a *Admin) registrationRoutes(mux *http.ServeMux) {
	h := func(f func(http.ResponseWriter, *http.Request, *registration.Service)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if a.Registration == nil {
				writeError(w, a.Log, sceau.Errorf(sceau.Unavailable, "server: registration", "the registration authority is not configured"))
				return
			}
			f(w, r, a.Registration)
		}
	}
	mux.HandleFunc("POST /api/v1/dossiers", h(a.createDossier))
	mux.HandleFunc("GET /api/v1/dossiers", h(a.listDossiers))
	mux.HandleFunc("GET /api/v1/dossiers/{id}", h(a.dossierStep(func(r *http.Request, s *registration.Service, p access.Principal, id int64) (any, error) {
		return s.Dossier(r.Context(), p, id)
	})))
	mux.HandleFunc("PATCH /api/v1/dossiers/{id}", h(a.dossierStep(func(r *http.Request, s *registration.Service, p access.Principal, id int64) (any, error) {
		var nd registration.NewDossier
		if err := decode(r, &nd); err != nil {
			return nil, err
		}
		return s.Update(r.Context(), p, id, nd)
	})))
	mux.HandleFunc("POST /api/v1/dossiers/{id}/evidence", h(a.dossierStep(func(r *http.Request, s *registration.Service, p access.Principal, id int64) (any, error) {
		var ne registration.NewEvidence
		if err := decode(r, &ne); err != nil {
			return nil, err
		}
		return s.AddEvidence(r.Context(), p, id, ne)
	})))
	mux.HandleFunc("POST /api/v1/dossiers/{id}/cgu", h(a.dossierStep(func(r *http.Request, s *registration.Service, p access.Principal, id int64) (any, error) {
		var na registration.NewAcceptance
		if err := decode(r, &na); err != nil {
			return nil, err
		}
		return s.AcceptCGU(r.Context(), p, id, na)
	})))
	mux.HandleFunc("POST /api/v1/dossiers/{id}/submit", h(a.dossierStep(func(r *http.Request, s *registration.Service, p access.Principal, id int64) (any, error) {
		return s.Submit(r.Context(), p, id)
	})))
	mux.HandleFunc("POST /api/v1/dossiers/{id}/validate", h(a.dossierStep(func(r *http.Request, s *registration.Service, p access.Principal, id int64) (any, error) {
		return s.Validate(r.Context(), p, id)
	})))
	mux.HandleFunc("POST /api/v1/dossiers/{id}/reject", h(a.dossierStep(func(r *http.Request, s *registration.Service, p access.Principal, id int64) (any, error) {
		var req Rejection
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return s.Reject(r.Context(), p, id, req.Reason)
	})))
	mux.HandleFunc("POST /api/v1/dossiers/{id}/issue", a.Admission.wrap(h(a.issueDossier)))
	mux.HandleFunc("POST /api/v1/dossiers/{id}/deliver", h(a.dossierStep(func(r *http.Request, s *registration.Service, p access.Principal, id int64) (any, error) {
		var req Delivery
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return s.Deliver(r.Context(), p, id, req.How)
	})))
	mux.HandleFunc("GET /api/v1/registration/requirements", h(a.requirements))
	mux.HandleFunc("POST /api/v1/revocation-requests", h(a.createRevocationRequest))
	mux.HandleFunc("POST /api/v1/revocation-requests/holder", h(a.holderRevocationRequest))
	mux.HandleFunc("GET /api/v1/revocation-requests", h(a.listRevocationRequests))
	mux.HandleFunc("GET /api/v1/revocation-requests/{id}", h(a.dossierStep(func(r *http.Request, s *registration.Service, p access.Principal, id int64) (any, error) {
		return s.Request(r.Context(), p, id)
	})))
	mux.HandleFunc("POST /api/v1/revocation-requests/{id}/process", h(a.dossierStep(func(r *http.Request, s *registration.Service, p access.Principal, id int64) (any, error) {
		var req ProcessRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		if req.Decision != "revoke" && req.Decision != "refuse" {
			return nil, sceau.Errorf(sceau.Invalid, "server: decision", "decision %q: revoke or refuse", req.Decision)
		}
		return s.Process(r.Context(), p, id, req.Decision == "revoke", req.Reason, req.Note)
	})))
}

// Delivery says how an issued dossier's certificate reached the holder.
type Delivery struct {
	How string `json:"how,omitempty"`
}

// ProcessRequest is a Revocation Officer's decision on a request.
type ProcessRequest struct {
	Decision string `json:"decision"`         // revoke or refuse
	Reason   string `json:"reason,omitempty"` // overrides the request's reason
	Note     string `json:"note,omitempty"`   // required to refuse
}

// HolderRevocationRequest is the holder's request, authenticated by the
// revocation secret handed out at issuance.
type HolderRevocationRequest struct {
	Serial string `json:"serial"`
	Secret string `json:"secret"`
	Reason string `json:"reason"`
	Note   string `json:"note,omitempty"`
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, sceau.Errorf(sceau.Invalid, "server: id", "%q is not a positive number", r.PathValue("id"))
	}
	return id, nil
}

// dossierStep runs one step on the dossier (or request) in the path and
// answers 200 with its result.
func (a *Admin) dossierStep(f func(*http.Request, *registration.Service, access.Principal, int64) (any, error)) func(http.ResponseWriter, *http.Request, *registration.Service) {
	return func(w http.ResponseWriter, r *http.Request, s *registration.Service) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, a.Log, err)
			return
		}
		out, err := f(r, s, principalOf(r), id)
		if err != nil {
			writeError(w, a.Log, err)
			return
		}
		code := http.StatusOK
		if strings.HasSuffix(r.URL.Path, "/evidence") || strings.HasSuffix(r.URL.Path, "/cgu") {
			code = http.StatusCreated
		}
		writeJSON(w, code, out)
	}
}

func (a *Admin) createDossier(w http.ResponseWriter, r *http.Request, s *registration.Service) {
	var nd registration.NewDossier
	if err := decode(r, &nd); err != nil {
		writeError(w, a.Log, err)
		return
	}
	d, err := s.Create(r.Context(), principalOf(r), nd)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, d)
}

func (a *Admin) listDossiers(w http.ResponseWriter, r *http.Request, s *registration.Service) {
	after, err := queryInt(r, "after", 0, 1<<62)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	limit, err := queryInt(r, "limit", 100, 1000)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	list, err := s.Dossiers(r.Context(), principalOf(r), registration.Filter{State: registration.State(r.URL.Query().Get("state")),
		After: after, Limit: int(limit)})
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *Admin) requirements(w http.ResponseWriter, r *http.Request, s *registration.Service) {
	q := r.URL.Query()
	req, err := s.Requirements(q.Get("ca"), q.Get("profile"), registration.Kind(q.Get("kind")))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, req)
}

// DossierIssueRequest asks for a validated dossier's certificate: a CSR
// (the holder keeps the key; the CSR gives only the key) or a key type
// for a PKCS#12. It names no subject (CA-4).
type DossierIssueRequest struct {
	Profile  string `json:"profile,omitempty"`
	CSR      string `json:"csr,omitempty"`
	KeyType  string `json:"key_type,omitempty"`
	Password string `json:"password,omitempty"`
	// Link keeps the PKCS#12 behind a one-time download link; the
	// password goes to the holder by another channel.
	Link     bool   `json:"link,omitempty"`
	Validity string `json:"validity,omitempty"`
}

// DossierIssueResponse is an issued dossier certificate.
type DossierIssueResponse struct {
	Dossier     *registration.Dossier `json:"dossier"`
	Serial      string                `json:"serial"`
	Certificate string                `json:"certificate"`
	Chain       string                `json:"chain"`
	PKCS12      string                `json:"pkcs12,omitempty"`
	Password    string                `json:"password,omitempty"`
	Link        string                `json:"download_token,omitempty"`
	// DownloadURL is the token's link on the enrollment listener, when
	// one is configured (enroll.listen).
	DownloadURL string `json:"download_url,omitempty"`
	// RevocationSecret: hand it to the holder; it is shown only now.
	RevocationSecret string   `json:"revocation_secret"`
	Warnings         []string `json:"lint_warnings,omitempty"`
}

func (a *Admin) issueDossier(w http.ResponseWriter, r *http.Request, s *registration.Service) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	var req DossierIssueRequest
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	ir := registration.IssueRequest{Profile: req.Profile, Password: req.Password, Link: req.Link}
	if ir.Validity, err = parseValidity(req.Validity); err != nil {
		writeError(w, a.Log, err)
		return
	}
	switch {
	case req.CSR != "" && req.KeyType != "":
		err = sceau.Errorf(sceau.Invalid, "server: issue", "give csr or key_type, not both")
	case req.CSR != "":
		ir.CSR, err = parseCSRField(req.CSR)
	default:
		var kt keys.Type
		if kt, err = keys.ParseType(req.KeyType); err != nil {
			err = sceau.E(sceau.Invalid, "server: key_type", err.Error(), nil)
		}
		ir.KeyType = kt
	}
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	iss, err := s.Issue(r.Context(), principalOf(r), id, ir)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	out := DossierIssueResponse{Dossier: iss.Dossier, Serial: iss.Issued.Serial, Certificate: pemCert(iss.Issued.DER), Chain: pemChain(iss.Issued),
		Password: iss.Password, Link: iss.Link, RevocationSecret: iss.RevocationSecret, Warnings: iss.Warnings}
	if iss.Link != "" && a.EnrollURL != "" {
		out.DownloadURL = a.EnrollURL + "/pkcs12/" + iss.Link
	}
	if iss.PKCS12 != nil {
		out.PKCS12 = base64.StdEncoding.EncodeToString(iss.PKCS12)
	}
	writeJSON(w, http.StatusCreated, out)
}

func (a *Admin) createRevocationRequest(w http.ResponseWriter, r *http.Request, s *registration.Service) {
	var nr registration.NewRequest
	if err := decode(r, &nr); err != nil {
		writeError(w, a.Log, err)
		return
	}
	rq, err := s.RequestByOfficer(r.Context(), principalOf(r), nr)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, rq)
}

func (a *Admin) holderRevocationRequest(w http.ResponseWriter, r *http.Request, s *registration.Service) {
	var req HolderRevocationRequest
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	rq, err := s.RequestByHolder(r.Context(), req.Serial, req.Secret, req.Reason, req.Note)
	req.Secret = ""
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, rq)
}

func (a *Admin) listRevocationRequests(w http.ResponseWriter, r *http.Request, s *registration.Service) {
	limit, err := queryInt(r, "limit", 100, 1000)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	list, err := s.Requests(r.Context(), principalOf(r), r.URL.Query().Get("state"), int(limit))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}
