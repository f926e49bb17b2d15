package server_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/sceautest/ratest"
	"github.com/sceau/sceau/internal/server"
)

// walker is the Registration Officer of the access fixture who enters the
// dossiers that "ra" then decides on (four eyes, CA-4).
var walker = access.Principal{Account: "walker", Roles: []access.Role{access.RegistrationOfficer}}

var (
	testPDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
)

// personDossier is a dossier for the fixture's S/MIME "person" profile.
func personDossier() registration.NewDossier {
	return registration.NewDossier{Kind: registration.Natural, CA: "issuing", Profile: "person",
		Subject: registration.Subject{CommonName: "Marie Curie", GivenName: "Marie", Surname: "Curie", Emails: []string{"marie@example.org"}},
		Contact: registration.Contact{Name: "Marie Curie", Email: "marie@example.org", Phone: "+33 1 23 45 67 89"}}
}

func evidence(clock *sceautest.Clock) registration.NewEvidence {
	return registration.NewEvidence{DocType: registration.DocIDCard, Number: "123456789012", IssuingCountry: "FR",
		Expires: clock.Now().AddDate(4, 0, 0).Format(time.DateOnly), Method: registration.FaceToFace, ScanType: "application/pdf", Scan: testPDF}
}

func (f *accessFixture) acceptance(t *testing.T) registration.NewAcceptance {
	t.Helper()
	doc, err := f.reg.Publication.Document(context.Background(), ratest.CGUID)
	if err != nil {
		t.Fatal(err)
	}
	return registration.NewAcceptance{Document: doc.ID, SHA256: doc.SHA256, How: registration.AcceptClick, ProofType: "application/json",
		Proof: []byte(`{"link":"one-time","clicked_at":"now"}`)}
}

// dossier brings a dossier entered by walker to state, in the domain.
func (f *accessFixture) dossier(t *testing.T, state registration.State) int64 {
	t.Helper()
	ctx := context.Background()
	s := f.reg.Service
	d, err := s.Create(ctx, walker, personDossier())
	if err != nil {
		t.Fatal(err)
	}
	if state == registration.Draft {
		return d.ID
	}
	if _, err := s.AddEvidence(ctx, walker, d.ID, evidence(f.clock)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptCGU(ctx, walker, d.ID, f.acceptance(t)); err != nil {
		t.Fatal(err)
	}
	if state == "complete" {
		return d.ID
	}
	if _, err := s.Submit(ctx, walker, d.ID); err != nil {
		t.Fatal(err)
	}
	if state == registration.Submitted {
		return d.ID
	}
	// A second officer validates: not walker, not "ra" (who is tested).
	if _, err := s.Validate(ctx, access.Principal{Account: "ra-other", Roles: walker.Roles}, d.ID); err != nil {
		t.Fatal(err)
	}
	if state == registration.Validated {
		return d.ID
	}
	if _, err := s.Issue(ctx, walker, d.ID, registration.IssueRequest{CSR: sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "x")}); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// issued is a dossier's certificate issued in the domain, with its secret.
func (f *accessFixture) issued(t *testing.T) *registration.Issuance {
	t.Helper()
	iss, err := f.reg.Service.Issue(context.Background(), walker, f.dossier(t, registration.Validated),
		registration.IssueRequest{CSR: sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "x")})
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

func (f *accessFixture) revocationRequest(t *testing.T) int64 {
	t.Helper()
	rq, err := f.reg.Service.RequestByOfficer(context.Background(), walker, registration.NewRequest{Serial: f.issued(t).Issued.Serial,
		Reason: "superseded"})
	if err != nil {
		t.Fatal(err)
	}
	return rq.ID
}

func dossierPath(state registration.State, suffix string) func(*testing.T, *accessFixture) string {
	return func(t *testing.T, f *accessFixture) string {
		return fmt.Sprintf("/api/v1/dossiers/%d%s", f.dossier(t, state), suffix)
	}
}

// registrationEndpoints are the matrix rows of the registration routes
// (CA-4): the Registration & Revocation Officer works, the Auditor and
// the Security Officer read, any terminal relays a holder's request.
func registrationEndpoints() []endpoint {
	readers := []string{"ra", "au", "so"}
	ra := []string{"ra"}
	return []endpoint{
		{route: "POST /api/v1/dossiers", method: "POST", path: fixed("/api/v1/dossiers"),
			body: func(t *testing.T, f *accessFixture) string { return jsonBody(t, personDossier()) }, allowed: ra, ok: 201},
		{route: "GET /api/v1/dossiers", method: "GET", path: fixed("/api/v1/dossiers?state=draft"), allowed: readers, ok: 200},
		{route: "GET /api/v1/dossiers/{id}", method: "GET", path: dossierPath(registration.Draft, ""), allowed: readers, ok: 200},
		{route: "PATCH /api/v1/dossiers/{id}", method: "PATCH", path: dossierPath(registration.Draft, ""),
			body: func(t *testing.T, f *accessFixture) string { return jsonBody(t, personDossier()) }, allowed: ra, ok: 200},
		{route: "POST /api/v1/dossiers/{id}/evidence", method: "POST", path: dossierPath(registration.Draft, "/evidence"),
			body: func(t *testing.T, f *accessFixture) string { return jsonBody(t, evidence(f.clock)) }, allowed: ra, ok: 201},
		{route: "POST /api/v1/dossiers/{id}/cgu", method: "POST", path: dossierPath(registration.Draft, "/cgu"),
			body: func(t *testing.T, f *accessFixture) string { return jsonBody(t, f.acceptance(t)) }, allowed: ra, ok: 201},
		{route: "POST /api/v1/dossiers/{id}/submit", method: "POST", path: dossierPath("complete", "/submit"), body: fixed("{}"),
			allowed: ra, ok: 200},
		{route: "POST /api/v1/dossiers/{id}/validate", method: "POST", path: dossierPath(registration.Submitted, "/validate"), body: fixed("{}"),
			allowed: ra, ok: 200},
		{route: "POST /api/v1/dossiers/{id}/reject", method: "POST", path: dossierPath(registration.Submitted, "/reject"),
			body: fixed(`{"reason":"the photo does not match"}`), allowed: ra, ok: 200},
		{route: "POST /api/v1/dossiers/{id}/issue", method: "POST", path: dossierPath(registration.Validated, "/issue"),
			body: func(t *testing.T, f *accessFixture) string {
				return jsonBody(t, server.DossierIssueRequest{CSR: csrPEM(sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "x"))})
			}, allowed: ra, ok: 201},
		{route: "POST /api/v1/dossiers/{id}/deliver", method: "POST", path: dossierPath(registration.Issued, "/deliver"),
			body: fixed(`{"how":"PKCS#10 answer by e-mail"}`), allowed: ra, ok: 200},
		{route: "GET /api/v1/registration/requirements", method: "GET",
			path: fixed("/api/v1/registration/requirements?ca=issuing&profile=person&kind=natural"), allowed: readers, ok: 200},
		{route: "POST /api/v1/revocation-requests", method: "POST", path: fixed("/api/v1/revocation-requests"),
			body: func(t *testing.T, f *accessFixture) string {
				return jsonBody(t, registration.NewRequest{Serial: f.issued(t).Issued.Serial, Reason: "superseded"})
			}, allowed: ra, ok: 201},
		{route: "POST /api/v1/revocation-requests/holder", method: "POST", path: fixed("/api/v1/revocation-requests/holder"),
			body: func(t *testing.T, f *accessFixture) string {
				iss := f.issued(t)
				return jsonBody(t, server.HolderRevocationRequest{Serial: iss.Issued.Serial, Secret: iss.RevocationSecret, Reason: "keyCompromise"})
			}, allowed: everyone, ok: 201},
		{route: "GET /api/v1/revocation-requests", method: "GET", path: fixed("/api/v1/revocation-requests?state=received"), allowed: readers, ok: 200},
		{route: "GET /api/v1/revocation-requests/{id}", method: "GET",
			path: func(t *testing.T, f *accessFixture) string {
				return fmt.Sprintf("/api/v1/revocation-requests/%d", f.revocationRequest(t))
			}, allowed: readers, ok: 200},
		{route: "POST /api/v1/revocation-requests/{id}/process", method: "POST",
			path: func(t *testing.T, f *accessFixture) string {
				return fmt.Sprintf("/api/v1/revocation-requests/%d/process", f.revocationRequest(t))
			}, body: fixed(`{"decision":"revoke"}`), allowed: ra, ok: 200},
	}
}

// TestCA4_WholePathThroughTheAdminAPI drives natural person → dossier →
// evidence → CGU acceptance → validation by another officer → issuance →
// delivery → revocation request by the holder → revocation through the
// admin API, and checks the journal and the archive at each step.
func TestCA4_WholePathThroughTheAdminAPI(t *testing.T) {
	f := newAccessFixture(t, sceautest.OpenSQLite(t))
	ctx := context.Background()
	var walkerToken string
	call := func(who, method, path string, body any, want int, out any) {
		t.Helper()
		b := ""
		if body != nil {
			b = jsonBody(t, body)
		}
		as, token := who, ""
		if who == "walker" {
			as, token = "terminal", walkerToken
		}
		w := f.as(t, as, token, method, path, b)
		if w.Code != want {
			t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, who, w.Code, want, w.Body)
		}
		if out != nil {
			if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
				t.Fatal(err)
			}
		}
	}
	journaled := func(action, actor string) {
		t.Helper()
		evs := f.events(t, action)
		if len(evs) == 0 || evs[len(evs)-1].Actor != actor {
			t.Fatalf("%s: %d events, want the last by %s", action, len(evs), actor)
		}
	}
	archived := func(leaf int64, kind string) {
		t.Helper()
		it, err := f.reg.Archive.Item(ctx, leaf)
		if err != nil || it.Kind != kind || it.Class != "confidential" {
			t.Fatalf("archive leaf %d: %+v, %v", leaf, it, err)
		}
	}
	// "ra" enters the dossier; "walker" validates it (four eyes).
	code, _ := access.TOTPCode(f.creds["walker"].TOTP.Secret, f.clock.Now())
	var sess access.Session
	call("terminal", "POST", "/api/v1/login", server.LoginRequest{Account: "walker", Password: testPassword, TOTP: code}, 201, &sess)
	walkerToken = sess.Token
	var d registration.Dossier
	call("ra", "POST", "/api/v1/dossiers", personDossier(), 201, &d)
	journaled("dossier.created", "ra")
	var ev registration.Evidence
	call("ra", "POST", fmt.Sprintf("/api/v1/dossiers/%d/evidence", d.ID), evidence(f.clock), 201, &ev)
	journaled("dossier.evidence_added", "ra")
	archived(ev.ScanLeaf, registration.KindEvidence)
	var c registration.CGU
	call("ra", "POST", fmt.Sprintf("/api/v1/dossiers/%d/cgu", d.ID), f.acceptance(t), 201, &c)
	journaled("cgu.accepted", "ra")
	archived(c.ProofLeaf, registration.KindCGU)
	call("ra", "POST", fmt.Sprintf("/api/v1/dossiers/%d/submit", d.ID), nil, 200, &d)
	journaled("dossier.submitted", "ra")
	// The officer who entered it may not validate it.
	call("ra", "POST", fmt.Sprintf("/api/v1/dossiers/%d/validate", d.ID), nil, 403, nil)
	call("walker", "POST", fmt.Sprintf("/api/v1/dossiers/%d/validate", d.ID), nil, 200, &d)
	journaled("dossier.validated", "walker")
	// The issuance call takes no subject: an unknown field is refused.
	call("ra", "POST", fmt.Sprintf("/api/v1/dossiers/%d/issue", d.ID), map[string]any{"key_type": "ecdsa-p256", "subject": map[string]string{"common_name": "Eve"}}, 400, nil)
	var iss server.DossierIssueResponse
	call("ra", "POST", fmt.Sprintf("/api/v1/dossiers/%d/issue", d.ID), server.DossierIssueRequest{KeyType: "ecdsa-p256"}, 201, &iss)
	journaled("dossier.issued", "ra")
	journaled("certificate.issued", "ra")
	if iss.PKCS12 == "" || iss.Password == "" || iss.RevocationSecret == "" || iss.Dossier.State != registration.Issued {
		t.Fatalf("issuance: %+v", iss)
	}
	blk, _ := pem.Decode([]byte(iss.Certificate))
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "Marie Curie" || len(cert.EmailAddresses) != 1 || cert.EmailAddresses[0] != "marie@example.org" {
		t.Fatalf("certificate subject %s, emails %v", cert.Subject, cert.EmailAddresses)
	}
	call("ra", "POST", fmt.Sprintf("/api/v1/dossiers/%d/deliver", d.ID), server.Delivery{How: "PKCS#12 on a USB key, password by SMS"}, 200, &d)
	journaled("dossier.delivered", "ra")
	// The holder, through any verified terminal, with a wrong secret then the right one.
	call("terminal", "POST", "/api/v1/revocation-requests/holder", server.HolderRevocationRequest{Serial: iss.Serial, Secret: "WRONG", Reason: "keyCompromise"}, 403, nil)
	journaled("revocation_request.secret_refused", fmt.Sprintf("holder:dossier-%d", d.ID))
	var rq registration.RevocationRequest
	call("terminal", "POST", "/api/v1/revocation-requests/holder", server.HolderRevocationRequest{Serial: iss.Serial, Secret: iss.RevocationSecret,
		Reason: "keyCompromise", Note: "laptop stolen"}, 201, &rq)
	journaled("revocation_request.received", fmt.Sprintf("holder:dossier-%d", d.ID))
	var waiting []registration.RevocationRequest
	call("au", "GET", "/api/v1/revocation-requests?state=received", nil, 200, &waiting)
	if len(waiting) != 1 || waiting[0].DueAt.IsZero() || waiting[0].Overdue {
		t.Fatalf("waiting requests: %+v", waiting)
	}
	call("walker", "POST", fmt.Sprintf("/api/v1/revocation-requests/%d/process", rq.ID), server.ProcessRequest{Decision: "revoke"}, 200, &rq)
	journaled("revocation_request.processed", "walker")
	journaled("certificate.revoked", "walker")
	if rq.State != "revoked" || rq.DoneAt == nil {
		t.Fatalf("processed: %+v", rq)
	}
	var info server.CertInfo
	call("ra", "GET", "/api/v1/certificates/"+iss.Serial, nil, 200, &info)
	if info.Record.Status != "revoked" {
		t.Fatalf("certificate %+v", info.Record)
	}
}
