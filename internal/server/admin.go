package server

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/est"
	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/incident"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
)

// Admin serves the administration API. It must be served over TLS with a
// verified client certificate (access.ServerTLS); a request without one is
// refused before any handler runs.
type Admin struct {
	Authority    *ca.Authority
	Revocation   *revocation.Service
	Metrics      *Metrics
	Log          *slog.Logger
	MaxBodyBytes int64
	// Custodian activates and deactivates CA keys with m-of-n policies.
	Custodian *quorum.Custodian
	// Access authenticates the people behind the terminals and keeps
	// their roles and approvals; without it every request is refused.
	Access *access.Service
	// Backups backs up, imports and destroys CA keys under dual control
	// (KEY-4, KEY-6); nil: those routes answer Unavailable.
	Backups *quorum.Backups
	// Audit serves the journal to the Auditor and the Security Officer
	// (AUD-3, audit.go); without it the audit routes answer 503.
	Audit *AuditAPI
	// Publication stores documents and takes publication requests (PUB-4);
	// nil: those routes answer 503.
	Publication *publication.Service
	// Archive keeps the records of ten years (ARC-1..ARC-6, archive.go);
	// nil: those routes answer 503.
	Archive *archive.Service
	// SelfAudit runs the compliance self-audit (COMP-1, compliance.go);
	// nil: its route answers 503.
	SelfAudit SelfAudit
	// Incidents is the incident register (INC-1, INC-4, incident.go);
	// nil: those routes answer 503.
	Incidents *incident.Service
	// Admission bounds the issuance requests in progress; nil: no bound.
	Admission *Admission
	// Registration is the registration authority (CA-4, registration.go);
	// nil: those routes answer 503.
	Registration *registration.Service
	// EnrollURL is the enrollment listener's base URL ("" when none): the
	// one-time download links point there.
	EnrollURL string
	// ACME is the ACME server, for its EAB keys (CA-4, acme.go); nil:
	// those routes answer 503.
	ACME *acme.Service
	// EST is the EST server, for its credentials (CA-4, est.go); nil:
	// those routes answer 503.
	EST *est.Service
}

// Handler returns the admin routes under /api/v1 and /metrics.
func (a *Admin) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/cas", a.listCAs)
	mux.HandleFunc("GET /api/v1/cas/{id}", a.showCA)
	mux.HandleFunc("POST /api/v1/cas/{id}/crl", a.issueCRL)
	a.custodyRoutes(mux)
	a.keyCustodyRoutes(mux) // keybackup.go
	mux.HandleFunc("POST /api/v1/certificates", a.Admission.wrap(a.issue))
	mux.HandleFunc("POST /api/v1/certificates/pkcs12", a.Admission.wrap(a.issuePKCS12))
	mux.HandleFunc("GET /api/v1/certificates", a.listCerts)
	mux.HandleFunc("GET /api/v1/certificates/{serial}", a.showCert)
	mux.HandleFunc("POST /api/v1/certificates/{serial}/revoke", a.revoke)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Metrics.Registry, promhttp.HandlerOpts{}))
	a.accessRoutes(mux)
	a.auditRoutes(mux)
	a.publicationRoutes(mux)  // publication.go
	a.archiveRoutes(mux)      // archive.go
	a.complianceRoutes(mux)   // compliance.go
	a.selectionRoutes(mux)    // selection.go
	a.incidentRoutes(mux)     // incident.go
	a.registrationRoutes(mux) // registration.go (CA-4)
	a.acmeRoutes(mux)         // acme.go (CA-4)
	a.estRoutes(mux)          // est.go (CA-4)
	// The officers' console (console.go) authenticates and decides on its
	// own, with the same mutual TLS, sessions, actions and journal.
	// No ServeMux in front: it would clean a path before checkPath refuses it.
	cons, api := a.consoleHandler(), a.authenticate(a.authorize(mux))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, consolePrefix):
			cons.ServeHTTP(w, r)
		case r.URL.Path == "/console" && r.Method == http.MethodGet:
			http.Redirect(w, r, consolePrefix, http.StatusSeeOther)
		default:
			api.ServeHTTP(w, r)
		}
	})
}

// authenticate refuses a request without a verified client certificate
// (SYS-2) or with a path that is not canonical, then puts the principal in
// the request context: the terminal, and the person behind it, from the
// session token (Authorization: Bearer) or a certificate bound to them
// (ROLE-4). authorize decides what they may do.
func (a *Admin) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		term, err := access.TerminalFromTLS(r.TLS)
		if err == nil {
			err = checkPath(r)
		}
		if err == nil && a.Access == nil {
			err = sceau.Errorf(sceau.Unavailable, "server: admin", "access control is not configured")
		}
		if err != nil {
			writeError(w, a.Log, err)
			return
		}
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		p, err := a.Access.Authenticate(r.Context(), term, strings.TrimSpace(token))
		if err != nil {
			writeError(w, a.Log, err)
			return
		}
		if r.Body != nil {
			limit := a.MaxBodyBytes
			if r.URL.Path == filesRoute && a.Publication != nil {
				limit = a.Publication.MaxSize() // a document file, not JSON
			}
			if r.URL.Path == archiveItemsRoute && a.Archive != nil {
				limit = int64(a.Archive.MaxItemBytes()) // an archive item, not JSON
			}
			if attachmentRoute(r.URL.Path) && a.Registration != nil {
				limit = int64(a.Registration.MaxScanBytes())*4/3 + 64<<10 // a base64 scan or proof in JSON
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		ctx := sceau.WithActor(access.WithPrincipal(r.Context(), p), p.Actor(""))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func actorOf(r *http.Request) sceau.Actor {
	a, _ := sceau.ActorFrom(r.Context())
	return a
}

// decode reads a JSON body strictly: unknown fields and trailing data are errors.
func decode(r *http.Request, v any) error {
	const op = "server: request"
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return sceau.Errorf(sceau.Invalid, op, "the body exceeds %d bytes", mbe.Limit)
		}
		return sceau.E(sceau.Invalid, op, "the body is not the expected JSON: "+err.Error(), nil)
	}
	if _, err := dec.Token(); err != io.EOF {
		return sceau.Errorf(sceau.Invalid, op, "the body holds data after the JSON object")
	}
	return nil
}

// CAInfo describes a CA in the API.
type CAInfo struct {
	ID        string    `json:"id"`
	Parent    string    `json:"parent,omitempty"`
	Subject   string    `json:"subject"`
	KeyType   string    `json:"key_type"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	SHA1      string    `json:"sha1"`
	SHA256    string    `json:"sha256"`
	Profiles  []string  `json:"profiles"`
	PEM       string    `json:"pem,omitempty"`
}

func caInfo(c *ca.CA, withPEM bool) CAInfo {
	s1, s2 := ca.Fingerprints(c.Cert.Raw)
	info := CAInfo{ID: c.Spec.ID, Parent: c.Spec.Parent, Subject: c.Cert.Subject.String(), KeyType: string(c.Spec.KeyType),
		NotBefore: c.Cert.NotBefore, NotAfter: c.Cert.NotAfter, SHA1: s1, SHA256: s2, Profiles: []string{}}
	for _, p := range c.Spec.Profiles {
		info.Profiles = append(info.Profiles, p.Name)
	}
	if withPEM {
		info.PEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw}))
	}
	return info
}

func (a *Admin) listCAs(w http.ResponseWriter, r *http.Request) {
	out := []CAInfo{}
	for _, c := range a.Authority.CAs() {
		out = append(out, caInfo(c, false))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Admin) showCA(w http.ResponseWriter, r *http.Request) {
	c, err := a.Authority.CA(r.PathValue("id"))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, caInfo(c, true))
}

// CRLInfo describes a signed CRL.
type CRLInfo struct {
	CA         string    `json:"ca"`
	Shard      int       `json:"shard"`
	Number     int64     `json:"number"`
	ThisUpdate time.Time `json:"this_update"`
	NextUpdate time.Time `json:"next_update"`
	Entries    int       `json:"entries"`
}

func (a *Admin) issueCRL(w http.ResponseWriter, r *http.Request) {
	crls, err := a.Revocation.IssueCRL(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	out := []CRLInfo{}
	for _, c := range crls {
		out = append(out, CRLInfo{CA: c.CAID, Shard: c.Shard, Number: c.Number, ThisUpdate: c.ThisUpdate, NextUpdate: c.NextUpdate, Entries: c.Entries})
	}
	writeJSON(w, http.StatusCreated, out)
}

// IssueRequest asks for a certificate from a CSR.
type IssueRequest struct {
	CA      string `json:"ca"`
	Profile string `json:"profile"`
	// CSR is PEM, or base64 DER.
	CSR string `json:"csr"`
	// Validity, optional: a duration like "720h" up to the profile's maximum.
	Validity string `json:"validity,omitempty"`
}

// IssueResponse carries an issued certificate.
type IssueResponse struct {
	Serial      string   `json:"serial"`
	Certificate string   `json:"certificate"` // PEM
	Chain       string   `json:"chain"`       // PEM, issuer first
	Warnings    []string `json:"lint_warnings,omitempty"`
}

func parseCSRField(s string) ([]byte, error) {
	const op = "server: csr"
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, sceau.Errorf(sceau.Invalid, op, "csr is required")
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		blk, _ := pem.Decode([]byte(s))
		if blk == nil || (blk.Type != "CERTIFICATE REQUEST" && blk.Type != "NEW CERTIFICATE REQUEST") {
			return nil, sceau.Errorf(sceau.Invalid, op, "csr is not a PEM CERTIFICATE REQUEST")
		}
		return blk.Bytes, nil
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "csr is neither PEM nor base64 DER")
	}
	return der, nil
}

// parseCSRRequest reads the csr and validity fields of an issuance
// request, for end entities and personal admin certificates alike.
func parseCSRRequest(csr, validity string) ([]byte, time.Duration, error) {
	der, err := parseCSRField(csr)
	if err != nil {
		return nil, 0, err
	}
	d, err := parseValidity(validity)
	return der, d, err
}

// parseValidity reads the validity field of every issuance request: ""
// means the profile's default.
func parseValidity(s string) (time.Duration, error) {
	const op = "server: validity"
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, sceau.Errorf(sceau.Invalid, op, "%q is not a positive duration like 720h", s)
	}
	// CA-2: no certificate shorter than ca.MinValidity (see there why); the
	// CA checks it again, this names the value as the client wrote it.
	if d < ca.MinValidity {
		return 0, sceau.Errorf(sceau.Invalid, op, "%q is shorter than the minimum %s", s, ca.MinValidity)
	}
	return d, nil
}

func (a *Admin) issue(w http.ResponseWriter, r *http.Request) {
	var req IssueRequest
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	der, validity, err := parseCSRRequest(req.CSR, req.Validity)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	p, err := a.Authority.Prepare(r.Context(), actorOf(r), ca.Request{CA: req.CA, Profile: req.Profile, CSR: der, Validity: validity})
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	iss, err := a.Authority.Issue(r.Context(), p)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, IssueResponse{Serial: iss.Serial, Certificate: pemCert(iss.DER), Chain: pemChain(iss),
		Warnings: p.Warnings})
}

// PKCS12Request asks for a certificate with a key generated by Sceau.
type PKCS12Request struct {
	CA      string   `json:"ca"`
	Profile string   `json:"profile"`
	KeyType string   `json:"key_type"`
	Subject Subject  `json:"subject"`
	DNS     []string `json:"dns_names,omitempty"`
	Emails  []string `json:"emails,omitempty"`
	IPs     []string `json:"ip_addresses,omitempty"`
	// Password protects the PKCS#12; empty: Sceau chooses one and returns it once.
	Password string `json:"password,omitempty"`
	Validity string `json:"validity,omitempty"`
}

// Subject is a distinguished name in the API.
type Subject struct {
	CommonName         string `json:"common_name"`
	GivenName          string `json:"given_name,omitempty"`
	Surname            string `json:"surname,omitempty"`
	Pseudonym          string `json:"pseudonym,omitempty"`
	SerialNumber       string `json:"serial_number,omitempty"` // e.g. IDCFR-… (EN 319 412-1 §5.1.3)
	Organization       string `json:"organization,omitempty"`
	OrganizationalUnit string `json:"organizational_unit,omitempty"`
	// OrganizationIdentifier, e.g. VATFR-… or NTRFR-<SIREN> (EN 319 412-1 §5.1.4).
	OrganizationIdentifier string `json:"organization_identifier,omitempty"`
	Locality               string `json:"locality,omitempty"`
	Country                string `json:"country,omitempty"`
}

// Name is the distinguished name the fields ask for.
func (s Subject) Name() pkix.Name {
	n := pkix.Name{CommonName: s.CommonName, SerialNumber: s.SerialNumber}
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{v}
	}
	n.Organization, n.OrganizationalUnit, n.Locality, n.Country = one(s.Organization), one(s.OrganizationalUnit), one(s.Locality), one(s.Country)
	for _, a := range []struct {
		oid asn1.ObjectIdentifier
		v   string
	}{{etsi.OIDGivenName, s.GivenName}, {etsi.OIDSurname, s.Surname}, {etsi.OIDPseudonym, s.Pseudonym}, {etsi.OIDOrganizationIdentifier, s.OrganizationIdentifier}} {
		if a.v != "" {
			n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: a.oid, Value: a.v})
		}
	}
	return n
}

// PKCS12Response carries the PKCS#12 (base64) and, when Sceau chose it, its password.
type PKCS12Response struct {
	Serial      string `json:"serial"`
	Certificate string `json:"certificate"`
	PKCS12      string `json:"pkcs12"`
	Password    string `json:"password,omitempty"`
}

func (a *Admin) issuePKCS12(w http.ResponseWriter, r *http.Request) {
	var req PKCS12Request
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	kt, err := keys.ParseType(req.KeyType)
	if err != nil {
		writeError(w, a.Log, sceau.E(sceau.Invalid, "server: key_type", err.Error(), nil))
		return
	}
	validity, err := parseValidity(req.Validity)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	cr := ca.Request{CA: req.CA, Profile: req.Profile, GenerateKey: kt, DNSNames: req.DNS, Emails: req.Emails, Validity: validity}
	cr.Subject = req.Subject.Name()
	for _, s := range req.IPs {
		ip := net.ParseIP(s)
		if ip == nil {
			writeError(w, a.Log, sceau.Errorf(sceau.Invalid, "server: ip_addresses", "%q is not an IP address", s))
			return
		}
		cr.IPs = append(cr.IPs, ip)
	}
	d, err := a.Authority.IssueWithKey(r.Context(), actorOf(r), cr, req.Password)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, PKCS12Response{Serial: d.Issued.Serial, Certificate: pemCert(d.Issued.DER),
		PKCS12: base64.StdEncoding.EncodeToString(d.PKCS12), Password: d.Password})
}

// CertInfo is a certificate record in the API.
type CertInfo struct {
	*ca.Record
	PEM string `json:"pem,omitempty"`
}

func (a *Admin) listCerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			writeError(w, a.Log, sceau.Errorf(sceau.Invalid, "server: limit", "%q is not a positive number", s))
			return
		}
		limit = n
	}
	recs, err := a.Authority.Certificates(r.Context(), ca.ListFilter{CA: q.Get("ca"), Status: q.Get("status"), Limit: limit, After: q.Get("after")})
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	out := []CertInfo{}
	for _, rec := range recs {
		out = append(out, CertInfo{Record: rec})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Admin) showCert(w http.ResponseWriter, r *http.Request) {
	rec, err := a.Authority.Certificate(r.Context(), r.PathValue("serial"))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	info := CertInfo{Record: rec}
	if rec.DER != nil {
		info.PEM = pemCert(rec.DER)
	}
	writeJSON(w, http.StatusOK, info)
}

// RevokeRequest names the RFC 5280 reason.
type RevokeRequest struct {
	Reason string `json:"reason"`
}

func (a *Admin) revoke(w http.ResponseWriter, r *http.Request) {
	var req RevokeRequest
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	if req.Reason == "" {
		req.Reason = "unspecified"
	}
	code, err := revocation.ParseReason("server: reason", req.Reason)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	if err := a.Revocation.Revoke(r.Context(), actorOf(r), r.PathValue("serial"), code); err != nil {
		writeError(w, a.Log, err)
		return
	}
	if a.Metrics != nil {
		a.Metrics.ObserveRevocation()
	}
	rec, err := a.Authority.Certificate(r.Context(), r.PathValue("serial"))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, CertInfo{Record: rec})
}

func pemCert(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func pemChain(iss *ca.Issued) string {
	var b strings.Builder
	for _, c := range iss.Chain {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	return b.String()
}
