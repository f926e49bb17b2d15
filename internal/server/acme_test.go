package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/sceautest/ratest"
	"github.com/sceau/sceau/internal/server"
)

// websiteDossier is a validated website dossier for the server profile.
func (f *accessFixture) websiteDossier(t testing.TB) int64 {
	t.Helper()
	ctx := context.Background()
	s := f.reg.Service
	d, err := s.Create(ctx, walker, registration.NewDossier{Kind: registration.Device, CA: "issuing", Profile: "server",
		Subject: registration.Subject{DNSNames: []string{"www.sceau-test.fr"}}, Contact: registration.Contact{Name: "Web", Email: "web@sceau-test.fr"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddEvidence(ctx, walker, d.ID, registration.NewEvidence{DocType: registration.DocDomainControl, Number: "WHOIS-1",
		IssuingCountry: "FR", Expires: f.clock.Now().AddDate(1, 0, 0).Format(time.DateOnly), Method: registration.FaceToFace,
		ScanType: "application/pdf", Scan: testPDF}); err != nil {
		t.Fatal(err)
	}
	doc, err := f.reg.Publication.Document(ctx, ratest.CGUID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptCGU(ctx, walker, d.ID, registration.NewAcceptance{Document: doc.ID, SHA256: doc.SHA256,
		How: registration.AcceptClick, ProofType: "application/json", Proof: []byte(`{"click":1}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(ctx, walker, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Validate(ctx, access.Principal{Account: "ra-other", Roles: walker.Roles}, d.ID); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// eabKey makes an EAB key as walker.
func (f *accessFixture) eabKey(t *testing.T) string {
	t.Helper()
	k, err := f.acme.CreateEAB(context.Background(), walker, f.websiteDossier(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	return k.KID
}

// acmeEndpoints are the matrix rows of the ACME officers' routes (CA-4).
func acmeEndpoints() []endpoint {
	return []endpoint{
		{route: "POST /api/v1/acme/eab", method: "POST", path: fixed("/api/v1/acme/eab"),
			body: func(t *testing.T, f *accessFixture) string {
				return jsonBody(t, server.EABRequest{Dossier: f.websiteDossier(t)})
			}, allowed: []string{"ra"}, ok: 201},
		{route: "GET /api/v1/acme/eab", method: "GET", path: fixed("/api/v1/acme/eab"), allowed: []string{"ra", "au", "so"}, ok: 200},
		{route: "POST /api/v1/acme/eab/{kid}/revoke", method: "POST",
			path:    func(t *testing.T, f *accessFixture) string { return "/api/v1/acme/eab/" + f.eabKey(t) + "/revoke" },
			body:    fixed("{}"),
			allowed: []string{"ra"}, ok: 200},
	}
}

// TestCA4_EABKeyThroughTheAdminAPI: an officer makes an EAB key for a
// validated dossier; the HMAC key is shown once, never listed nor
// journaled; the key is revoked.
func TestCA4_EABKeyThroughTheAdminAPI(t *testing.T) {
	f := newAccessFixture(t, sceautest.OpenSQLite(t))
	id := f.websiteDossier(t)
	w := f.as(t, "ra", "", "POST", "/api/v1/acme/eab", jsonBody(t, server.EABRequest{Dossier: id, DNSNames: []string{"www.sceau-test.fr"}}))
	if w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var k acme.EABKey
	if err := json.Unmarshal(w.Body.Bytes(), &k); err != nil || k.HMACKey == "" || k.KID == "" {
		t.Fatalf("created: %s %v", w.Body, err)
	}
	evs := f.events(t, "acme.eab_created")
	if len(evs) != 1 || evs[0].Actor != "ra" || strings.Contains(evs[0].Details, k.HMACKey) {
		t.Fatalf("journal: %+v", evs)
	}
	w = f.as(t, "au", "", "GET", "/api/v1/acme/eab", "")
	if w.Code != 200 || strings.Contains(w.Body.String(), k.HMACKey) || !strings.Contains(w.Body.String(), k.KID) {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}
	// A dossier that is not validated gets no key.
	d, err := f.reg.Service.Create(context.Background(), walker, personDossier())
	if err != nil {
		t.Fatal(err)
	}
	if w := f.as(t, "ra", "", "POST", "/api/v1/acme/eab", jsonBody(t, server.EABRequest{Dossier: d.ID})); w.Code != 400 {
		t.Fatalf("draft dossier: %d %s", w.Code, w.Body)
	}
	if w := f.as(t, "ra", "", "POST", fmt.Sprintf("/api/v1/acme/eab/%s/revoke", k.KID), "{}"); w.Code != 200 {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	if w := f.as(t, "ra", "", "POST", fmt.Sprintf("/api/v1/acme/eab/%s/revoke", k.KID), "{}"); w.Code != 404 {
		t.Fatalf("second revoke: %d %s", w.Code, w.Body)
	}
}
