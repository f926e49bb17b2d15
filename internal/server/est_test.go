package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/est"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
)

// estCredential makes an EST credential as walker.
func (f *accessFixture) estCredential(t *testing.T) string {
	t.Helper()
	c, err := f.est.CreateCredential(context.Background(), walker, f.websiteDossier(t))
	if err != nil {
		t.Fatal(err)
	}
	return c.Username
}

// estEndpoints are the matrix rows of the EST officers' routes (CA-4).
func estEndpoints() []endpoint {
	return []endpoint{
		{route: "POST /api/v1/est/credentials", method: "POST", path: fixed("/api/v1/est/credentials"),
			body: func(t *testing.T, f *accessFixture) string {
				return jsonBody(t, server.ESTCredentialRequest{Dossier: f.websiteDossier(t)})
			}, allowed: []string{"ra"}, ok: 201},
		{route: "GET /api/v1/est/credentials", method: "GET", path: fixed("/api/v1/est/credentials"), allowed: []string{"ra", "au", "so"}, ok: 200},
		{route: "POST /api/v1/est/credentials/{username}/revoke", method: "POST",
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/est/credentials/" + f.estCredential(t) + "/revoke"
			},
			body:    fixed("{}"),
			allowed: []string{"ra"}, ok: 200},
	}
}

// TestCA4_ESTCredentialThroughTheAdminAPI: an officer makes an EST
// credential for a validated dossier; the password is shown once, never
// listed nor journaled; a dossier not validated gets none; the credential
// is revoked once.
func TestCA4_ESTCredentialThroughTheAdminAPI(t *testing.T) {
	f := newAccessFixture(t, sceautest.OpenSQLite(t))
	id := f.websiteDossier(t)
	w := f.as(t, "ra", "", "POST", "/api/v1/est/credentials", jsonBody(t, server.ESTCredentialRequest{Dossier: id}))
	if w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var c est.Credential
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil || c.Password == "" || c.Username == "" || c.Dossier != id {
		t.Fatalf("created: %s %v", w.Body, err)
	}
	evs := f.events(t, "est.credential_created")
	if len(evs) != 1 || evs[0].Actor != "ra" || strings.Contains(evs[0].Details, c.Password) {
		t.Fatalf("journal: %+v", evs)
	}
	w = f.as(t, "au", "", "GET", "/api/v1/est/credentials", "")
	if w.Code != 200 || strings.Contains(w.Body.String(), c.Password) || !strings.Contains(w.Body.String(), c.Username) {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}
	d, err := f.reg.Service.Create(context.Background(), walker, personDossier())
	if err != nil {
		t.Fatal(err)
	}
	if w := f.as(t, "ra", "", "POST", "/api/v1/est/credentials", jsonBody(t, server.ESTCredentialRequest{Dossier: d.ID})); w.Code != 400 {
		t.Fatalf("draft dossier: %d %s", w.Code, w.Body)
	}
	if w := f.as(t, "ra", "", "POST", fmt.Sprintf("/api/v1/est/credentials/%s/revoke", c.Username), "{}"); w.Code != 200 {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	if w := f.as(t, "ra", "", "POST", fmt.Sprintf("/api/v1/est/credentials/%s/revoke", c.Username), "{}"); w.Code != 404 {
		t.Fatalf("second revoke: %d %s", w.Code, w.Body)
	}
	if evs := f.events(t, "est.credential_revoked"); len(evs) != 1 {
		t.Fatalf("revocations journaled: %+v", evs)
	}
}

// TestCA4_ESTEnrollmentsAreCounted: sceau_est_enrollments_total counts
// EST enrollments by operation and outcome on the admin listener's
// registry.
func TestCA4_ESTEnrollmentsAreCounted(t *testing.T) {
	m := server.NewMetrics()
	m.ObserveEST("simpleenroll", "issued")
	m.ObserveEST("simpleenroll", "issued")
	m.ObserveEST("simplereenroll", "403")
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "sceau_est_enrollments_total" {
			continue
		}
		for _, c := range mf.GetMetric() {
			key := ""
			for _, l := range c.GetLabel() {
				key += l.GetName() + "=" + l.GetValue() + " "
			}
			got[key] = c.GetCounter().GetValue()
		}
	}
	if got["operation=simpleenroll outcome=issued "] != 2 || got["operation=simplereenroll outcome=403 "] != 1 {
		t.Fatalf("sceau_est_enrollments_total: %v", got)
	}
}
