package server

import (
	"net/http"

	"github.com/sceau/sceau/internal/access"
)

// A Security Officer's single-person actions on accounts (ROLE-4): change,
// suspend, resume, delete, and personal admin client certificates. The
// access service decides and records; these handlers only translate.

// AccountChange changes an account's attributes.
type AccountChange struct {
	FullName string `json:"full_name"`
}

// StatusChange says why an account is suspended, resumed or deleted, or a
// certificate revoked; it is recorded in the journal.
type StatusChange struct {
	Reason string `json:"reason"`
}

// PersonalCertRequest asks for a personal admin client certificate: a CSR
// made by the person's client, whose key never leaves it (ROLE-4).
type PersonalCertRequest struct {
	CSR string `json:"csr"` // PEM, or base64 DER
	// Validity, optional: a duration like "8760h", at most 397 days.
	Validity string `json:"validity,omitempty"`
}

func (a *Admin) changeAccount(w http.ResponseWriter, r *http.Request) {
	var req AccountChange
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	acct, err := a.Access.SetFullName(r.Context(), principalOf(r), r.PathValue("name"), req.FullName)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, acct)
}

// statusAction is Suspend, Resume or Delete of the access service.
type statusAction func(s *access.Service, r *http.Request, p access.Principal, name, reason string) (*access.Account, error)

func (a *Admin) accountStatus(do statusAction) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req StatusChange
		if err := decode(r, &req); err != nil {
			writeError(w, a.Log, err)
			return
		}
		acct, err := do(a.Access, r, principalOf(r), r.PathValue("name"), req.Reason)
		if err != nil {
			writeError(w, a.Log, err)
			return
		}
		writeJSON(w, http.StatusOK, acct)
	}
}

func (a *Admin) suspendAccount(w http.ResponseWriter, r *http.Request) {
	a.accountStatus(func(s *access.Service, r *http.Request, p access.Principal, name, reason string) (*access.Account, error) {
		return s.Suspend(r.Context(), p, name, reason)
	})(w, r)
}

func (a *Admin) resumeAccount(w http.ResponseWriter, r *http.Request) {
	a.accountStatus(func(s *access.Service, r *http.Request, p access.Principal, name, reason string) (*access.Account, error) {
		return s.Resume(r.Context(), p, name, reason)
	})(w, r)
}

func (a *Admin) deleteAccount(w http.ResponseWriter, r *http.Request) {
	a.accountStatus(func(s *access.Service, r *http.Request, p access.Principal, name, reason string) (*access.Account, error) {
		return s.Delete(r.Context(), p, name, reason)
	})(w, r)
}

func (a *Admin) issueAccountCert(w http.ResponseWriter, r *http.Request) {
	var req PersonalCertRequest
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	der, validity, err := parseCSRRequest(req.CSR, req.Validity)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	c, err := a.Access.IssueCertificate(r.Context(), principalOf(r), r.PathValue("name"), der, validity)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (a *Admin) listAccountCerts(w http.ResponseWriter, r *http.Request) {
	list, err := a.Access.Certificates(r.Context(), principalOf(r), r.PathValue("name"))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *Admin) revokeAccountCert(w http.ResponseWriter, r *http.Request) {
	var req StatusChange
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	c, err := a.Access.RevokeCertificate(r.Context(), principalOf(r), r.PathValue("name"), r.PathValue("serial"), req.Reason)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// CARequest says why a CA is terminated or its certificates revoked; for
// a mass revocation, Reason is the RFC 5280 reason name.
type CARequest struct {
	Reason string `json:"reason"`
}

// caRequest makes the approval request of a CA action under dual control
// (ROLE-3) from a CARequest body; the handler answers 202 with it.
func (a *Admin) caRequest(request func(s *access.Service, r *http.Request, p access.Principal, caID, reason string) (*access.Request, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req CARequest
		if err := decode(r, &req); err != nil {
			writeError(w, a.Log, err)
			return
		}
		rq, err := request(a.Access, r, principalOf(r), r.PathValue("id"), req.Reason)
		if err != nil {
			writeError(w, a.Log, err)
			return
		}
		writeJSON(w, http.StatusAccepted, rq)
	}
}
