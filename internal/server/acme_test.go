package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/http01"
	"github.com/go-acme/lego/v5/lego"
	legolog "github.com/go-acme/lego/v5/log"
	legoreg "github.com/go-acme/lego/v5/registration"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
)

// websiteDossier is a validated website dossier for the server profile.
func (f *accessFixture) websiteDossier(t testing.TB) int64 {
	t.Helper()
	return f.reg.ValidatedDevice(t, walker, access.Principal{Account: "ra-other", Roles: walker.Roles}, "www.sceau-test.fr").ID
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

// TestCA4_LegoThroughTheEnrollmentHandler: lego registers with an EAB key
// and obtains a certificate through the enrollment listener's handler,
// where the node mounts the ACME server.
func TestCA4_LegoThroughTheEnrollmentHandler(t *testing.T) {
	legolog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	f := newAccessFixture(t, sceautest.OpenSQLite(t))
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	metrics := server.NewMetrics()
	svc := acme.New(f.h.DB, f.h.Journal, f.h.Authority, f.h.Revocation, f.reg.Service, acme.Options{Clock: f.clock,
		Directories: []acme.Directory{{Name: "server", CA: "issuing", Profile: "server"}}, HTTPPort: port, Resolver: localDNS(t),
		Observe: metrics.ObserveACME})
	enroll := &server.Enroll{Registration: f.reg.Service, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Mounts: map[string]http.Handler{"/acme/": svc}}
	srv := httptest.NewTLSServer(enroll.Handler())
	t.Cleanup(srv.Close)
	k, err := svc.CreateEAB(ctx, walker, f.websiteDossier(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	u := &benchUser{key: key}
	client := func() *lego.Client {
		cfg := lego.NewConfig(u)
		cfg.CADirURL, cfg.HTTPClient = srv.URL+"/acme/server/directory", srv.Client()
		c, err := lego.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if u.reg, err = client().Registration.RegisterWithExternalAccountBinding(ctx, legoreg.RegisterEABOptions{TermsOfServiceAgreed: true,
		Kid: k.KID, HmacEncoded: k.HMACKey}); err != nil {
		t.Fatal(err)
	}
	c := client()
	if err := c.Challenge.SetHTTP01Provider(http01.NewProviderServer("127.0.0.1", fmt.Sprint(port))); err != nil {
		t.Fatal(err)
	}
	res, err := c.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"www.sceau-test.fr"}, KeyType: certcrypto.EC256, Bundle: true})
	if err != nil {
		t.Fatalf("obtain through the enrollment handler: %v", err)
	}
	if !strings.Contains(string(res.Certificate), "BEGIN CERTIFICATE") || len(f.events(t, "acme.order_finalized")) != 1 {
		t.Fatalf("certificate %q", res.Certificate)
	}
	// The ACME metrics count the order and its challenge.
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "sceau_acme_events_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := ""
			for _, l := range m.GetLabel() {
				key += l.GetValue() + "/"
			}
			got[key] = m.GetCounter().GetValue()
		}
	}
	if got["order/valid/"] != 1 || got["challenge/http-01:valid/"] != 1 || got["order/pending/"] != 1 {
		t.Fatalf("ACME metrics: %v", got)
	}
}
