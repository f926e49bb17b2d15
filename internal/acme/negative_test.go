package acme_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sceau/sceau/internal/sceautest"
)

// TestBadJWSIsRefusedWithItsProblem sends what a client must not: each
// answer has the RFC 8555 problem type and status, and nothing is made.
func TestBadJWSIsRefusedWithItsProblem(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t), nil)
	r := f.raw("server")
	r.register("app.sceau-test.fr")
	orders := f.count("acme_orders")
	newOrder := r.url("newOrder")
	payload := []byte(`{"identifiers":[{"type":"dns","value":"app.sceau-test.fr"}]}`)

	cases := []struct {
		name    string
		body    func() []byte
		problem string
		status  int
	}{
		{"bad signature", func() []byte {
			b := r.sign(newOrder, payload, r.nonce())
			return []byte(strings.Replace(string(b), `"signature":"`, `"signature":"AAAA`, 1))
		}, "malformed", http.StatusBadRequest},
		{"wrong alg", func() []byte {
			k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
			other := *r
			other.key, other.alg = k, jose.ES384
			return other.sign(newOrder, payload, r.nonce())
		}, "badSignatureAlgorithm", http.StatusBadRequest},
		{"no nonce", func() []byte { return r.sign(newOrder, payload, "") }, "badNonce", http.StatusBadRequest},
		{"unknown nonce", func() []byte { return r.sign(newOrder, payload, "bm9ub25jZQ") }, "badNonce", http.StatusBadRequest},
		{"wrong url", func() []byte { return r.sign(r.url("newAccount"), payload, r.nonce()) }, "unauthorized", http.StatusForbidden},
		{"unknown account", func() []byte {
			other := *r
			other.kid = strings.TrimSuffix(r.kid, "1") + "999"
			return other.sign(newOrder, payload, r.nonce())
		}, "accountDoesNotExist", http.StatusBadRequest},
		{"jwk where a kid is needed", func() []byte {
			other := *r
			other.kid = ""
			return other.sign(newOrder, payload, r.nonce())
		}, "malformed", http.StatusBadRequest},
		{"oversized body", func() []byte {
			return r.sign(newOrder, []byte(`{"identifiers":[],"x":"`+strings.Repeat("a", 70<<10)+`"}`), r.nonce())
		}, "malformed", http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := r.send(newOrder, c.body())
			if a.problem() != c.problem || a.status != c.status {
				t.Fatalf("got %d %s (%s), want %d %s", a.status, a.problem(), a.raw, c.status, c.problem)
			}
			if a.header.Get("Replay-Nonce") == "" || a.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("headers %v", a.header)
			}
		})
	}
	t.Run("replayed nonce", func(t *testing.T) {
		body := r.sign(newOrder, payload, r.nonce())
		if a := r.send(newOrder, body); a.status != http.StatusCreated {
			t.Fatalf("first use: %d %s", a.status, a.raw)
		}
		orders++
		if a := r.send(newOrder, body); a.problem() != "badNonce" {
			t.Fatalf("replay: %d %s", a.status, a.raw)
		}
	})
	if n := f.count("acme_orders"); n != orders {
		t.Fatalf("%d orders, want %d", n, orders)
	}
}

// TestCA4_AccountNeedsAnEABForAValidatedDossier: without an EAB, with an
// unknown, forged or used one, newAccount is refused; an EAB key is made
// only for a validated dossier and its names.
func TestCA4_AccountNeedsAnEABForAValidatedDossier(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t), nil)
	r := f.raw("server")
	if a := r.post(r.url("newAccount"), map[string]any{"termsOfServiceAgreed": true}); a.problem() != "externalAccountRequired" {
		t.Fatalf("no EAB: %d %s", a.status, a.raw)
	}
	if a := r.post(r.url("newAccount"), map[string]any{"externalAccountBinding": r.eab("eab-unknown", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI")}); a.problem() != "unauthorized" {
		t.Fatalf("unknown EAB: %d %s", a.status, a.raw)
	}
	k, err := f.svc.CreateEAB(t.Context(), ra1, f.dossier.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	forged := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	if a := r.post(r.url("newAccount"), map[string]any{"externalAccountBinding": r.eab(k.KID, forged)}); a.problem() != "unauthorized" {
		t.Fatalf("forged EAB: %d %s", a.status, a.raw)
	}
	if a := r.post(r.url("newAccount"), map[string]any{"externalAccountBinding": r.eab(k.KID, k.HMACKey)}); a.status != http.StatusCreated {
		t.Fatalf("good EAB: %d %s", a.status, a.raw)
	}
	r2 := f.raw("server")
	if a := r2.post(r2.url("newAccount"), map[string]any{"externalAccountBinding": r2.eab(k.KID, k.HMACKey)}); a.problem() != "unauthorized" {
		t.Fatalf("EAB used twice: %d %s", a.status, a.raw)
	}
	if n := f.count("acme_accounts"); n != 1 {
		t.Fatalf("%d accounts", n)
	}
	// An EAB key is made for a validated dossier and the names it holds.
	if _, err := f.svc.CreateEAB(t.Context(), ra1, f.dossier.ID, []string{"evil.example.org"}); err == nil {
		t.Fatal("an EAB key for a name the dossier does not hold")
	}
	draft, err := f.ra.Service.Create(t.Context(), ra1, f.draft())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateEAB(t.Context(), ra1, draft.ID, nil); err == nil || !strings.Contains(err.Error(), "validated") {
		t.Fatalf("EAB key for a draft dossier: %v", err)
	}
	auditor := ra1
	auditor.Roles = nil
	if _, err := f.svc.CreateEAB(t.Context(), auditor, f.dossier.ID, nil); err == nil {
		t.Fatal("an EAB key made without the Registration Officer role")
	}
}

// TestCA4_IdentifierOutsideTheEABIsRejected: an order for a name the
// EAB key does not allow is refused and nothing is ordered.
func TestCA4_IdentifierOutsideTheEABIsRejected(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t), nil)
	r := f.raw("server")
	r.register("app.sceau-test.fr")
	for _, names := range [][]string{{"www.sceau-test.fr"}, {"app.sceau-test.fr", "evil.example.org"}} {
		if a, _ := r.order(names...); a.problem() != "rejectedIdentifier" || a.status != http.StatusBadRequest {
			t.Fatalf("%v: %d %s", names, a.status, a.raw)
		}
	}
	if a := r.post(r.url("newOrder"), map[string]any{"identifiers": []map[string]string{{"type": "ip", "value": "192.0.2.1"}}}); a.problem() != "unsupportedIdentifier" {
		t.Fatalf("ip: %d %s", a.status, a.raw)
	}
	if n := f.count("acme_orders"); n != 0 {
		t.Fatalf("%d orders", n)
	}
}

// TestCA2_CSRMustMatchTheOrder: finalize with a CSR naming other names
// than the order is refused with badCSR and nothing is issued; the right
// CSR is then issued. A finalize before the order is ready is refused.
func TestCA2_CSRMustMatchTheOrder(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t), nil)
	r := f.raw("server")
	r.register("app.sceau-test.fr", "www.sceau-test.fr")
	f.serveHTTP01(func(token string) string { return token + "." + r.thumbprint() })
	o, orderURL := r.order("app.sceau-test.fr")
	finalize := o.body["finalize"].(string)
	csr := func(names ...string) map[string]string {
		return map[string]string{"csr": base64.RawURLEncoding.EncodeToString(csrFor(t, names...))}
	}
	if a := r.post(finalize, csr("app.sceau-test.fr")); a.problem() != "orderNotReady" || a.status != http.StatusForbidden {
		t.Fatalf("finalize of a pending order: %d %s", a.status, a.raw)
	}
	if o.header.Get("Retry-After") == "" {
		t.Error("a pending order without Retry-After")
	}
	chURL, _ := r.http01(o)
	if a := r.post(chURL, map[string]any{}); a.body["status"] != "valid" {
		t.Fatalf("challenge: %d %s", a.status, a.raw)
	}
	before := f.count("certificates")
	for _, names := range [][]string{{"www.sceau-test.fr"}, {"app.sceau-test.fr", "www.sceau-test.fr"}} {
		if a := r.post(finalize, csr(names...)); a.problem() != "badCSR" {
			t.Fatalf("CSR for %v: %d %s", names, a.status, a.raw)
		}
	}
	if a := r.post(finalize, map[string]string{"csr": "bm90IGEgY3Ny"}); a.problem() != "badCSR" {
		t.Fatalf("garbage CSR: %d %s", a.status, a.raw)
	}
	if n := f.count("certificates"); n != before {
		t.Fatalf("%d certificates after refusals, %d before", n, before)
	}
	a := r.post(finalize, csr("app.sceau-test.fr"))
	if a.body["status"] != "valid" {
		t.Fatalf("finalize: %d %s", a.status, a.raw)
	}
	cert := r.post(a.body["certificate"].(string), nil)
	if ct := cert.header.Get("Content-Type"); ct != "application/pem-certificate-chain" || strings.Count(string(cert.raw), "BEGIN CERTIFICATE") != 2 {
		t.Fatalf("certificate: %s %s", ct, cert.raw)
	}
	links := strings.Join(cert.header.Values("Link"), ", ")
	if !strings.Contains(links, `rel="alternate"`) || !strings.Contains(links, `rel="up"`) || !strings.Contains(links, `rel="index"`) {
		t.Fatalf("links %s", links)
	}
	full := r.post(a.body["certificate"].(string)+"/full", nil)
	if strings.Count(string(full.raw), "BEGIN CERTIFICATE") != 3 {
		t.Fatalf("alternate chain: %s", full.raw)
	}
	if a := r.post(finalize, csr("app.sceau-test.fr")); a.problem() != "orderNotReady" {
		t.Fatalf("second finalize: %d %s", a.status, a.raw)
	}
	_ = orderURL
}

// TestWrongChallengeResponseInvalidatesTheOrder: a wrong http-01 answer
// makes the challenge, its authorization and the order invalid with
// incorrectResponse; the attempt is journaled and nothing is issued.
func TestWrongChallengeResponseInvalidatesTheOrder(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t), nil)
	r := f.raw("server")
	r.register("app.sceau-test.fr")
	f.serveHTTP01(func(token string) string { return token + ".not-the-thumbprint" })
	o, orderURL := r.order("app.sceau-test.fr")
	chURL, _ := r.http01(o)
	a := r.post(chURL, map[string]any{})
	perr, _ := a.body["error"].(map[string]any)
	if a.body["status"] != "invalid" || perr["type"] != "urn:ietf:params:acme:error:incorrectResponse" {
		t.Fatalf("challenge: %d %s", a.status, a.raw)
	}
	if !strings.Contains(a.header.Get("Link"), `rel="up"`) && !strings.Contains(strings.Join(a.header.Values("Link"), ","), `rel="up"`) {
		t.Errorf("challenge without its up link: %v", a.header.Values("Link"))
	}
	if o := r.post(orderURL, nil); o.body["status"] != "invalid" {
		t.Fatalf("order: %s", o.raw)
	}
	evs := f.events("acme.challenge_checked")
	if len(evs) != 1 || !strings.Contains(evs[0].Details, `"result":"invalid"`) {
		t.Fatalf("journal: %+v", evs)
	}
	if a := r.post(o.body["finalize"].(string), map[string]string{"csr": base64.RawURLEncoding.EncodeToString(csrFor(t, "app.sceau-test.fr"))}); a.problem() != "orderNotReady" {
		t.Fatalf("finalize of an invalid order: %d %s", a.status, a.raw)
	}
}
