package acme_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/dns01"
	"github.com/go-acme/lego/v5/challenge/http01"
	"github.com/go-acme/lego/v5/challenge/tlsalpn01"
	"github.com/go-acme/lego/v5/lego"
	"github.com/go-acme/lego/v5/registration"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// register makes an EAB key for the fixture's dossier and registers a lego
// account with it.
func (f *fixture) register(names ...string) (*user, *lego.Client) {
	f.t.Helper()
	eab, err := f.svc.CreateEAB(context.Background(), ra1, f.dossier.ID, names)
	if err != nil {
		f.t.Fatalf("CreateEAB: %v", err)
	}
	u := newUser(f.t)
	c := f.client(u, "server")
	if u.reg, err = c.Registration.RegisterWithExternalAccountBinding(context.Background(), registration.RegisterEABOptions{
		TermsOfServiceAgreed: true, Kid: eab.KID, HmacEncoded: eab.HMACKey}); err != nil {
		f.t.Fatalf("register with EAB: %v", err)
	}
	return u, f.client(u, "server")
}

// verifyWithOpenSSL checks the issued chain against the root with openssl.
func (f *fixture) verifyWithOpenSSL(res *certificate.Resource) *x509.Certificate {
	f.t.Helper()
	sceautest.NeedOpenSSL(f.t)
	dir := f.t.TempDir()
	root, err := f.h.Authority.CA("root")
	if err != nil {
		f.t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			f.t.Fatal(err)
		}
		return p
	}
	rootPEM := write("root.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Cert.Raw}))
	blk, _ := pem.Decode(res.Certificate)
	leafPEM := write("leaf.pem", pem.EncodeToMemory(blk))
	chainPEM := write("chain.pem", res.IssuerCertificate)
	out, err := exec.Command("openssl", "verify", "-CAfile", rootPEM, "-untrusted", chainPEM, "-purpose", "sslserver", leafPEM).CombinedOutput()
	if err != nil {
		f.t.Fatalf("openssl verify: %v\n%s", err, out)
	}
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		f.t.Fatal(err)
	}
	return leaf
}

// journaledIssue checks that the certificate's issuance and its order's
// finalization are in the journal.
func (f *fixture) journaledIssue(serial string) {
	f.t.Helper()
	found := 0
	for _, e := range f.events(audit.ActionCertificateIssued) {
		if e.Object == "certificate:"+serial {
			found++
		}
	}
	for _, e := range f.events(audit.ActionACMEOrderFinalized) {
		if strings.Contains(e.Details, `"serial":"`+serial+`"`) {
			found++
		}
	}
	if found != 2 {
		f.t.Fatalf("certificate %s: %d of its certificate.issued and acme.order_finalized events journaled", serial, found)
	}
}

// TestCA4_LegoObtainsRenewsAndRevokesWithEABAndHTTP01 drives the server
// with the lego client: an account bound by EAB to a validated dossier,
// http-01 on a chosen port, a certificate verified by openssl and in the
// journal, a renewal, a revocation (CA-4, CA-2).
func TestCA4_LegoObtainsRenewsAndRevokesWithEABAndHTTP01(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, nil)
		ctx := context.Background()
		_, c := f.register("app.sceau-test.fr", "www.sceau-test.fr")
		if err := c.Challenge.SetHTTP01Provider(http01.NewProviderServer("127.0.0.1", f.httpPort)); err != nil {
			t.Fatal(err)
		}
		res, err := c.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"app.sceau-test.fr", "www.sceau-test.fr"}, Bundle: true, KeyType: certcrypto.EC256})
		if err != nil {
			t.Fatalf("obtain: %v", err)
		}
		leaf := f.verifyWithOpenSSL(res)
		if got := leaf.DNSNames; !slices.Equal(got, []string{"app.sceau-test.fr", "www.sceau-test.fr"}) {
			t.Errorf("DNS names %v", got)
		}
		serial := revocation.SerialHex(leaf.SerialNumber)
		f.journaledIssue(serial)
		if n := len(f.events(audit.ActionACMEChallengeChecked)); n != 2 {
			t.Errorf("%d challenge checks journaled, want 2", n)
		}
		for action, want := range map[string]int{audit.ActionACMEEABCreated: 1, audit.ActionACMEAccountCreated: 1,
			audit.ActionACMEOrderCreated: 1, audit.ActionACMEOrderFinalized: 1} {
			if n := len(f.events(action)); n != want {
				t.Errorf("%d %s events, want %d", n, action, want)
			}
		}

		renewed, err := c.Certificate.Renew(ctx, *res, nil)
		if err != nil {
			t.Fatalf("renew: %v", err)
		}
		leaf2 := f.verifyWithOpenSSL(renewed)
		if leaf2.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
			t.Fatal("the renewal has the same serial")
		}
		f.journaledIssue(revocation.SerialHex(leaf2.SerialNumber))

		if err := c.Certificate.Revoke(ctx, res.Certificate); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		rec, err := f.h.Authority.Certificate(ctx, serial)
		if err != nil || rec.Status != "revoked" {
			t.Fatalf("after revocation: %+v, %v", rec, err)
		}
		if err := c.Certificate.Revoke(ctx, res.Certificate); err == nil || !strings.Contains(err.Error(), "alreadyRevoked") {
			t.Fatalf("second revocation: %v, want alreadyRevoked", err)
		}
	})
}

// TestCA4_LegoDNS01AndTLSALPN01 obtains certificates with dns-01 against
// the test DNS server and with tls-alpn-01 on a chosen port.
func TestCA4_LegoDNS01AndTLSALPN01(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t), nil)
	ctx := context.Background()
	_, c := f.register()
	if err := c.Challenge.SetDNS01Provider(f.dns, dns01.PropagationWait(0, true)); err != nil {
		t.Fatal(err)
	}
	res, err := c.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"other.sceau-test.fr"}, Bundle: true, KeyType: certcrypto.EC256})
	if err != nil {
		t.Fatalf("obtain with dns-01: %v", err)
	}
	f.verifyWithOpenSSL(res)

	c.Challenge.Remove("dns-01")
	if err := c.Challenge.SetTLSALPN01Provider(tlsalpn01.NewProviderServer("127.0.0.1", f.alpnPort)); err != nil {
		t.Fatal(err)
	}
	res, err = c.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"www.sceau-test.fr"}, Bundle: true, KeyType: certcrypto.EC256})
	if err != nil {
		t.Fatalf("obtain with tls-alpn-01: %v", err)
	}
	f.verifyWithOpenSSL(res)
	var types []string
	for _, e := range f.events(audit.ActionACMEChallengeChecked) {
		types = append(types, e.Details)
	}
	if len(types) != 2 || !strings.Contains(types[0], "dns-01") || !strings.Contains(types[1], "tls-alpn-01") {
		t.Fatalf("challenge checks journaled: %v", types)
	}
}
