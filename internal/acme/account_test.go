package acme_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/http01"

	sacme "github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceautest"
)

// TestCA4_KeyRolloverDeactivationAndEABRevocation: lego rolls the account
// key over and deactivates an account; an officer revokes an EAB key and
// its account orders nothing more. Each change is journaled.
func TestCA4_KeyRolloverDeactivationAndEABRevocation(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t), nil)
	ctx := context.Background()
	u, c := f.register("app.sceau-test.fr")
	newKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Registration.KeyRollover(ctx, newKey); err != nil {
		t.Fatalf("key rollover: %v", err)
	}
	u.key = newKey
	c = f.client(u, "server")
	if _, err := c.Registration.QueryRegistration(ctx); err != nil {
		t.Fatalf("the account with its new key: %v", err)
	}
	evs := f.events(audit.ActionACMEAccountUpdated)
	if len(evs) != 1 || !strings.Contains(evs[0].Details, `"change":"key"`) {
		t.Fatalf("key change journaled: %+v", evs)
	}

	keys, err := f.svc.EABKeys(ctx, ra1)
	if err != nil || len(keys) != 1 || keys[0].Account == 0 || keys[0].HMACKey != "" {
		t.Fatalf("EAB keys: %+v, %v", keys, err)
	}
	if err := f.svc.RevokeEAB(ctx, ra1, keys[0].KID); err != nil {
		t.Fatal(err)
	}
	if len(f.events(audit.ActionACMEEABRevoked)) != 1 {
		t.Fatal("EAB revocation not journaled")
	}
	if err := c.Challenge.SetHTTP01Provider(http01.NewProviderServer("127.0.0.1", f.httpPort)); err != nil {
		t.Fatal(err)
	}
	_, err = c.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"app.sceau-test.fr"}, KeyType: certcrypto.EC256})
	if err == nil || !strings.Contains(err.Error(), "unauthorized") {
		t.Fatalf("order after the EAB revocation: %v", err)
	}

	u2, c2 := f.register("www.sceau-test.fr")
	if err := c2.Registration.DeleteRegistration(ctx); err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	if _, err := f.client(u2, "server").Registration.QueryRegistration(ctx); err == nil || !strings.Contains(err.Error(), "unauthorized") {
		t.Fatalf("a deactivated account: %v", err)
	}
	if n := len(f.events(audit.ActionACMEAccountUpdated)); n != 2 {
		t.Fatalf("%d account updates journaled", n)
	}
}

// TestRevocationByCertificateKeyAndByAnotherAccount: the certificate's own
// key may revoke it; another account may not.
func TestRevocationByCertificateKeyAndByAnotherAccount(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t), nil)
	ctx := context.Background()
	_, c := f.register("app.sceau-test.fr")
	if err := c.Challenge.SetHTTP01Provider(http01.NewProviderServer("127.0.0.1", f.httpPort)); err != nil {
		t.Fatal(err)
	}
	res, err := c.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"app.sceau-test.fr"}, KeyType: certcrypto.EC256})
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(res.Certificate)
	payload := map[string]any{"certificate": base64.RawURLEncoding.EncodeToString(blk.Bytes), "reason": 1}

	other := f.raw("server")
	other.register("www.sceau-test.fr")
	if a := other.post(other.url("revokeCert"), payload); a.problem() != "unauthorized" {
		t.Fatalf("revocation by another account: %d %s", a.status, a.raw)
	}
	stranger := f.raw("server") // a key that is neither
	if a := stranger.post(stranger.url("revokeCert"), payload); a.problem() != "unauthorized" {
		t.Fatalf("revocation by a stranger's key: %d %s", a.status, a.raw)
	}
	if a := other.post(other.url("revokeCert"), map[string]any{"certificate": payload["certificate"], "reason": 2}); a.problem() != "badRevocationReason" {
		t.Fatalf("reason cACompromise: %d %s", a.status, a.raw)
	}

	kb, _ := pem.Decode(res.PrivateKey)
	key, err := certcrypto.ParsePEMPrivateKey(pem.EncodeToMemory(kb))
	if err != nil {
		t.Fatal(err)
	}
	holder := f.raw("server")
	holder.key = key
	if a := holder.post(holder.url("revokeCert"), payload); a.status != http.StatusOK {
		t.Fatalf("revocation by the certificate's key: %d %s", a.status, a.raw)
	}
	rec, err := f.h.Authority.Certificate(ctx, strings.ToLower(certSerial(t, blk.Bytes)))
	if err != nil || rec.Status != "revoked" || rec.Reason != "keyCompromise" {
		t.Fatalf("record: %+v %v", rec, err)
	}
}

// TestAuthorizationReuseWithinItsWindow: with AuthorizationReuse set, a
// second order of the same account for the same name is ready at once,
// without a new challenge; another account's order is validated anew.
func TestAuthorizationReuseWithinItsWindow(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t), func(o *sacme.Options) { o.AuthorizationReuse = time.Hour })
	ctx := context.Background()
	_, c := f.register("app.sceau-test.fr")
	if err := c.Challenge.SetHTTP01Provider(http01.NewProviderServer("127.0.0.1", f.httpPort)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"app.sceau-test.fr"}, KeyType: certcrypto.EC256}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.events(audit.ActionACMEChallengeChecked)); n != 1 {
		t.Fatalf("%d challenge checks, want 1", n)
	}
	orders := f.events(audit.ActionACMEOrderCreated)
	if len(orders) != 2 || !strings.Contains(orders[1].Details, "reused_authorizations") {
		t.Fatalf("orders journaled: %+v", orders)
	}
	r := f.raw("server")
	r.register("app.sceau-test.fr")
	if o, _ := r.order("app.sceau-test.fr"); o.body["status"] != "pending" {
		t.Fatalf("another account's order: %s", o.raw)
	}
}
