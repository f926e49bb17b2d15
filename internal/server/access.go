package server

import (
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/sceau"
)

// routeActions names the action of every admin route (SYS-1, ROLE-1). A
// route missing here is refused to everyone (default deny), so a new route
// cannot be reached before it declares what it does.
var routeActions = map[string]access.Action{
	"GET /api/v1/cas":                                access.CAList,
	"GET /api/v1/cas/{id}":                           access.CAShow,
	"POST /api/v1/cas/{id}/crl":                      access.CRLIssue,
	"GET /api/v1/cas/{id}/activation":                access.KeyStatus,
	"POST /api/v1/cas/{id}/activations":              access.KeyActivationBegin,
	"POST /api/v1/cas/{id}/activations/{aid}/shares": access.KeyActivationShare,
	"POST /api/v1/cas/{id}/deactivate":               access.KeyDeactivate,
	"POST /api/v1/certificates":                      access.CertIssue,
	"POST /api/v1/certificates/pkcs12":               access.CertIssuePKCS12,
	"GET /api/v1/certificates":                       access.CertList,
	"GET /api/v1/certificates/{serial}":              access.CertShow,
	"POST /api/v1/certificates/{serial}/revoke":      access.CertRevoke,
	"GET /metrics":                                   access.MetricsRead,

	// KEY-4, KEY-6 (keybackup.go): requests, and their carrying out by the requester once approved.
	"GET /api/v1/cas/{id}/backups":          access.KeyStatus,
	"POST /api/v1/cas/{id}/backups":         access.KeyBackup,
	"POST /api/v1/cas/{id}/backups/{aid}":   access.KeyBackup,
	"POST /api/v1/cas/{id}/imports":         access.KeyImport,
	"POST /api/v1/cas/{id}/imports/{aid}":   access.KeyImport,
	"POST /api/v1/cas/{id}/key-destruction": access.KeyDestroy,

	"POST /api/v1/login":                          access.SessionLogin,
	"POST /api/v1/logout":                         access.SessionLogout,
	"GET /api/v1/whoami":                          access.SessionWhoami,
	"POST /api/v1/password":                       access.SessionPassword,
	"GET /api/v1/accounts":                        access.AccountList,
	"POST /api/v1/accounts":                       access.AccountCreate,
	"GET /api/v1/accounts/{name}":                 access.AccountShow,
	"POST /api/v1/accounts/{name}/roles":          access.RoleGrant,
	"DELETE /api/v1/accounts/{name}/roles/{role}": access.RoleRemove,
	"GET /api/v1/approvals":                       access.ApprovalList,
	"GET /api/v1/approvals/{id}":                  access.ApprovalList,
	"POST /api/v1/approvals/{id}/approve":         access.ApprovalApprove,
	"POST /api/v1/approvals/{id}/reject":          access.ApprovalReject,
	"GET /api/v1/people":                          access.PeopleShow,
	"GET /api/v1/people/{name}":                   access.PeopleShow,
	"POST /api/v1/people/{name}/attestations":     access.PeopleAttest,

	// ROLE-4: a Security Officer's single-person actions on accounts.
	"PATCH /api/v1/accounts/{name}":                             access.AccountChange,
	"DELETE /api/v1/accounts/{name}":                            access.AccountDelete,
	"POST /api/v1/accounts/{name}/suspend":                      access.AccountSuspend,
	"POST /api/v1/accounts/{name}/resume":                       access.AccountResume,
	"POST /api/v1/accounts/{name}/certificates":                 access.AccountCertIssue,
	"GET /api/v1/accounts/{name}/certificates":                  access.AccountCertList,
	"POST /api/v1/accounts/{name}/certificates/{serial}/revoke": access.AccountCertRevoke,

	// ROLE-3: CA actions under dual control; each makes an approval request.
	"POST /api/v1/cas/{id}/terminate":   access.CATerminate,
	"POST /api/v1/cas/{id}/revocations": access.RevokeMass,
	"POST /api/v1/cas/{id}/compromise":  access.CACompromised,
	"POST /api/v1/cas/{id}/creation":    access.CACreate,

	// AUD-3: the journal (audit.go).
	"GET /api/v1/audit/events":       access.AuditRead,
	"GET /api/v1/audit/events/{seq}": access.AuditRead,
	"GET /api/v1/audit/alerts":       access.AuditRead,
	"GET /api/v1/audit/status":       access.AuditRead,
	"GET /api/v1/audit/verify":       access.AuditExport,
	"GET /api/v1/audit/export":       access.AuditExport,
	"POST /api/v1/audit/records":     access.AuditRecord,

	// PUB-4: changes to the publication site, under dual control.
	"POST /api/v1/publication/files":    access.PublicationChange,
	"POST /api/v1/publication/requests": access.PublicationChange,
	"GET /api/v1/publication/documents": access.PublicationList,

	// ARC-1..ARC-6: the archive (archive.go); a confidential item is
	// further checked against archive.read_confidential.
	"POST /api/v1/archive/items":       access.ArchiveAdd,
	"GET /api/v1/archive/items":        access.ArchiveRead,
	"GET /api/v1/archive/items/{leaf}": access.ArchiveRead,
	"GET /api/v1/archive/status":       access.ArchiveRead,
	"GET /api/v1/archive/verify":       access.ArchiveRead,
	selfAuditRoute:                     access.ComplianceCheck,
	selectionPreviewRoute:              access.CertList,
	selectionRequestRoute:              access.RevokeSelected,
	"POST /api/v1/archive/heads":       access.ArchiveAdd,
	"POST /api/v1/archive/purge":       access.ArchivePurge,

	// INC-1, INC-4: the incident register (incident.go).
	"POST /api/v1/incidents":                              access.IncidentOpen,
	"GET /api/v1/incidents":                               access.IncidentRead,
	"GET /api/v1/incidents/status":                        access.IncidentRead,
	"GET /api/v1/incidents/{id}":                          access.IncidentRead,
	"POST /api/v1/incidents/{id}/notes":                   access.IncidentNote,
	"POST /api/v1/incidents/{id}/severity":                access.IncidentEscalate,
	"POST /api/v1/incidents/{id}/close":                   access.IncidentClose,
	"POST /api/v1/incidents/{id}/obligations/{kind}/done": access.IncidentObligation,
}

// requestRoutes are the actions under dual control whose handler makes an
// approval request rather than acting (ROLE-3). Any other route of an
// action under dual control is refused.
var requestRoutes = map[access.Action]bool{access.RoleGrant: true, access.RoleRemove: true,
	// KEY-4: these routes request, or carry out an executed approval made by the same person (quorum.Backups).
	access.KeyBackup: true, access.KeyImport: true, access.KeyDestroy: true,
	// ROLE-3: mass revocation and CA termination are approval requests.
	access.RevokeMass: true, access.CATerminate: true,
	// INC-3: a selective revocation is an approval request too.
	access.RevokeSelected: true, access.CACompromised: true,
	// ROLE-3: a CA's creation is authorised by an approval, then done by 'sceau ca create'.
	access.CACreate: true,
	// PUB-4: a file is stored, then its publication requested.
	access.PublicationChange: true}

// RouteActions returns the admin routes and their actions, for tests and
// documentation.
func RouteActions() map[string]access.Action {
	out := make(map[string]access.Action, len(routeActions))
	for k, v := range routeActions {
		out[k] = v
	}
	return out
}

func (a *Admin) accessRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/login", a.login)
	mux.HandleFunc("POST /api/v1/logout", a.logout)
	mux.HandleFunc("GET /api/v1/whoami", a.whoami)
	mux.HandleFunc("POST /api/v1/password", a.changePassword)
	mux.HandleFunc("GET /api/v1/accounts", a.listAccounts)
	mux.HandleFunc("POST /api/v1/accounts", a.createAccount)
	mux.HandleFunc("GET /api/v1/accounts/{name}", a.showAccount)
	mux.HandleFunc("POST /api/v1/accounts/{name}/roles", a.grantRole)
	mux.HandleFunc("DELETE /api/v1/accounts/{name}/roles/{role}", a.removeRole)
	mux.HandleFunc("GET /api/v1/approvals", a.listApprovals)
	mux.HandleFunc("GET /api/v1/approvals/{id}", a.showApproval)
	mux.HandleFunc("POST /api/v1/approvals/{id}/approve", a.approve)
	mux.HandleFunc("POST /api/v1/approvals/{id}/reject", a.reject)
	mux.HandleFunc("GET /api/v1/people", a.listPeople)
	mux.HandleFunc("GET /api/v1/people/{name}", a.showPerson)
	mux.HandleFunc("POST /api/v1/people/{name}/attestations", a.attest)
	mux.HandleFunc("PATCH /api/v1/accounts/{name}", a.changeAccount)
	mux.HandleFunc("DELETE /api/v1/accounts/{name}", a.deleteAccount)
	mux.HandleFunc("POST /api/v1/accounts/{name}/suspend", a.suspendAccount)
	mux.HandleFunc("POST /api/v1/accounts/{name}/resume", a.resumeAccount)
	mux.HandleFunc("POST /api/v1/accounts/{name}/certificates", a.issueAccountCert)
	mux.HandleFunc("GET /api/v1/accounts/{name}/certificates", a.listAccountCerts)
	mux.HandleFunc("POST /api/v1/accounts/{name}/certificates/{serial}/revoke", a.revokeAccountCert)
	mux.HandleFunc("POST /api/v1/cas/{id}/terminate", a.caRequest(func(s *access.Service, r *http.Request, p access.Principal, id, reason string) (*access.Request, error) {
		return s.RequestCATermination(r.Context(), p, id, reason)
	}))
	mux.HandleFunc("POST /api/v1/cas/{id}/compromise", a.caRequest(func(s *access.Service, r *http.Request, p access.Principal, id, reason string) (*access.Request, error) {
		return s.RequestCACompromise(r.Context(), p, id, reason) // INC-2
	}))
	mux.HandleFunc("POST /api/v1/cas/{id}/revocations", a.caRequest(func(s *access.Service, r *http.Request, p access.Principal, id, reason string) (*access.Request, error) {
		return s.RequestMassRevocation(r.Context(), p, id, reason)
	}))
	mux.HandleFunc("POST /api/v1/cas/{id}/creation", a.caRequest(func(s *access.Service, r *http.Request, p access.Principal, id, reason string) (*access.Request, error) {
		return s.RequestCACreation(r.Context(), p, id, reason)
	}))
}

// checkPath refuses paths that are not written plainly: escapes, dot
// segments, doubled or trailing slashes. No admin route needs any of them,
// and refusing them means the path routed is the path authorized.
func checkPath(r *http.Request) error {
	p := r.URL.EscapedPath()
	if strings.ContainsAny(p, "%\\") || strings.Contains(r.URL.Path, "\x00") || p != path.Clean(p) || !strings.HasPrefix(p, "/") {
		return sceau.Errorf(sceau.Invalid, "server: path", "the path is not canonical")
	}
	return nil
}

// authorize runs the access decision for the route a request is for
// (SYS-1): each route's action, the resource named in its path, and the
// principal that authenticate found. A refusal is an audit event.
func (a *Admin) authorize(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		if pattern == "" { // 404 or 405: nothing is reached
			mux.ServeHTTP(w, r)
			return
		}
		p, _ := access.PrincipalFrom(r.Context())
		action, ok := routeActions[pattern]
		if !ok {
			a.Log.Error("admin route without an action: refused", "route", pattern)
			writeError(w, a.Log, sceau.Errorf(sceau.Denied, "access", "route %q declares no action (default deny)", pattern))
			return
		}
		res := resourceOf(pattern, r.URL.Path)
		d := access.Decide(p, action, res)
		if d.Allow && d.DualControl && !requestRoutes[action] {
			d = access.Decision{Reason: string(action) + " is under dual control and this route does not make an approval request"}
		}
		if !d.Allow {
			if a.Access != nil {
				if err := a.Access.RecordDenied(r.Context(), p, action, res, d.Reason); err != nil {
					writeError(w, a.Log, err) // AUD-7: no silent refusal either
					return
				}
			}
			writeError(w, a.Log, d.Err())
			return
		}
		mux.ServeHTTP(w, r.WithContext(sceau.WithActor(r.Context(), p.Actor(d.Role))))
	})
}

// resourceKinds names the resource of each first segment of an API path.
var resourceKinds = map[string]string{"cas": "ca", "certificates": "certificate", "accounts": "account", "approvals": "approval",
	"people": "person", "audit": "journal", "login": "session", "logout": "session", "whoami": "session", "password": "session", "metrics": "metrics",
	"publication": "document", "incidents": "incident"}

// resourceOf names what a route acts on from its path: the kind from its
// first segment, the ID from its first wildcard; an account or person in
// the path is its subject.
func resourceOf(pattern, urlPath string) access.Resource {
	_, pat, _ := strings.Cut(pattern, " ")
	ps, us := strings.Split(pat, "/"), strings.Split(urlPath, "/")
	var res access.Resource
	if len(ps) != len(us) {
		return res
	}
	for i, seg := range ps {
		switch {
		case seg == "" || seg == "api" || seg == "v1":
		case res.Kind == "":
			res.Kind = resourceKinds[seg]
		case strings.HasPrefix(seg, "{"):
			if res.ID == "" {
				res.ID = us[i]
			}
			if seg == "{name}" {
				res.Subject = us[i]
			}
		}
	}
	return res
}

func principalOf(r *http.Request) access.Principal {
	p, _ := access.PrincipalFrom(r.Context())
	return p
}

// LoginRequest is a person's password and TOTP code.
type LoginRequest struct {
	Account  string `json:"account"`
	Password string `json:"password"`
	TOTP     string `json:"totp"`
}

func (a *Admin) login(w http.ResponseWriter, r *http.Request) {
	var req LoginRequest
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	term, err := access.TerminalFromTLS(r.TLS)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	s, err := a.Access.Login(r.Context(), term, req.Account, req.Password, req.TOTP)
	req.Password = ""
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, s)
}

func (a *Admin) logout(w http.ResponseWriter, r *http.Request) {
	if err := a.Access.Logout(r.Context(), principalOf(r)); err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "logged out"})
}

func (a *Admin) whoami(w http.ResponseWriter, r *http.Request) {
	who, err := a.Access.Whoami(r.Context(), principalOf(r))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, who)
}

// PasswordChange replaces the caller's password.
type PasswordChange struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

func (a *Admin) changePassword(w http.ResponseWriter, r *http.Request) {
	var req PasswordChange
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	if err := a.Access.ChangePassword(r.Context(), principalOf(r), req.Current, req.New); err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "password changed"})
}

func (a *Admin) listAccounts(w http.ResponseWriter, r *http.Request) {
	list, err := a.Access.ListAccounts(r.Context(), principalOf(r))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// NewAccount asks for a person's account.
type NewAccount struct {
	Name     string `json:"name"`
	FullName string `json:"full_name"`
}

func (a *Admin) createAccount(w http.ResponseWriter, r *http.Request) {
	var req NewAccount
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	creds, err := a.Access.CreateAccount(r.Context(), principalOf(r), req.Name, req.FullName)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, creds)
}

func (a *Admin) showAccount(w http.ResponseWriter, r *http.Request) {
	acct, err := a.Access.ShowAccount(r.Context(), principalOf(r), r.PathValue("name"))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, acct)
}

// RoleChange names a role to grant.
type RoleChange struct {
	Role string `json:"role"`
}

func (a *Admin) grantRole(w http.ResponseWriter, r *http.Request) {
	var req RoleChange
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	role, err := access.ParseRole(req.Role)
	if err == nil {
		var rq *access.Request
		if rq, err = a.Access.RequestRoleGrant(r.Context(), principalOf(r), r.PathValue("name"), role); err == nil {
			writeJSON(w, http.StatusAccepted, rq)
			return
		}
	}
	writeError(w, a.Log, err)
}

func (a *Admin) removeRole(w http.ResponseWriter, r *http.Request) {
	role, err := access.ParseRole(r.PathValue("role"))
	if err == nil {
		var rq *access.Request
		if rq, err = a.Access.RequestRoleRemoval(r.Context(), principalOf(r), r.PathValue("name"), role); err == nil {
			writeJSON(w, http.StatusAccepted, rq)
			return
		}
	}
	writeError(w, a.Log, err)
}

func (a *Admin) listApprovals(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, a.Log, sceau.Errorf(sceau.Invalid, "server: limit", "%q is not a number from 1 to 1000", s))
			return
		}
		limit = n
	}
	list, err := a.Access.Approvals().List(r.Context(), principalOf(r), r.URL.Query().Get("status"), limit)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *Admin) showApproval(w http.ResponseWriter, r *http.Request) {
	rq, err := a.Access.Approvals().Get(r.Context(), principalOf(r), r.PathValue("id"))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, rq)
}

func (a *Admin) approve(w http.ResponseWriter, r *http.Request) {
	rq, err := a.Access.Approvals().Approve(r.Context(), principalOf(r), r.PathValue("id"))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, rq)
}

// Rejection says why a request is rejected.
type Rejection struct {
	Reason string `json:"reason"`
}

func (a *Admin) reject(w http.ResponseWriter, r *http.Request) {
	var req Rejection
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	rq, err := a.Access.Approvals().Reject(r.Context(), principalOf(r), r.PathValue("id"), req.Reason)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, rq)
}

func (a *Admin) listPeople(w http.ResponseWriter, r *http.Request) {
	list, err := a.Access.People(r.Context(), principalOf(r))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *Admin) showPerson(w http.ResponseWriter, r *http.Request) {
	rec, err := a.Access.Person(r.Context(), principalOf(r), r.PathValue("name"))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// NewAttestation records a background check or a training (ROLE-6).
type NewAttestation struct {
	Kind       string `json:"kind"`
	Date       string `json:"date"`
	AttestedBy string `json:"attested_by"`
	Note       string `json:"note,omitempty"`
}

func (a *Admin) attest(w http.ResponseWriter, r *http.Request) {
	var req NewAttestation
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	at, err := a.Access.Attest(r.Context(), principalOf(r), r.PathValue("name"), req.Kind, req.Date, req.AttestedBy, req.Note)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, at)
}
