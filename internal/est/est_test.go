package est_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// readPEMCert reads the first certificate of a PEM file of the fixture.
func (f *fixture) readPEMCert(name string) *x509.Certificate {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, name))
	if err != nil {
		f.t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		f.t.Fatalf("%s holds no PEM certificate: %q", name, b)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// p7ToPEM turns a base64 certs-only answer into PEM certificates with
// openssl (base64 -d, pkcs7 -print_certs).
func (f *fixture) p7ToPEM(b64, pemFile string) {
	f.t.Helper()
	f.run("openssl", "base64", "-d", "-in", b64, "-out", b64+".der")
	f.run("openssl", "pkcs7", "-inform", "DER", "-in", b64+".der", "-print_certs", "-out", pemFile)
}

// TestCA4_ESTEnrollAndReenrollWithCurl: an officer makes an EST
// credential for a validated dossier; curl fetches cacerts, enrolls a
// CSR made by openssl req with HTTP Basic, then re-enrolls a new key with
// the issued certificate as its TLS client certificate. Both certificates
// verify with openssl against the chain from cacerts, carry the dossier's
// names, and each issuance is journaled in its reservation (est.enrolled,
// CA-2) and recorded (the second renewing the first).
func TestCA4_ESTEnrollAndReenrollWithCurl(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	sceautest.LookPath(t, "curl", "apt-get install curl")
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		cred, err := f.svc.CreateCredential(ctx, ra1, f.dossier.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cred.Password == "" || cred.CA != "issuing" || cred.Profile != "server" {
			t.Fatalf("credential %+v", cred)
		}
		if evs := f.events(audit.ActionESTCredentialCreated); len(evs) != 1 || evs[0].Actor != "ra1" ||
			evs[0].Object != "est-credential:"+cred.Username || strings.Contains(evs[0].Details, cred.Password) {
			t.Fatalf("credential events %+v", evs)
		}

		// cacerts: the chain, certs-only, base64.
		if status, body := f.curl("cacerts.b64", "-D", "cacerts.hdr", f.url("cacerts")); status != "200" {
			t.Fatalf("cacerts: %s %s", status, body)
		}
		hdr, _ := os.ReadFile(filepath.Join(f.dir, "cacerts.hdr"))
		if h := strings.ToLower(string(hdr)); !strings.Contains(h, "content-type: application/pkcs7-mime") ||
			!strings.Contains(h, "content-transfer-encoding: base64") {
			t.Fatalf("cacerts headers:\n%s", hdr)
		}
		f.p7ToPEM("cacerts.b64", "chain.pem")
		if n := strings.Count(f.run("cat", "chain.pem"), "BEGIN CERTIFICATE"); n != 2 {
			t.Fatalf("cacerts holds %d certificates, want the issuing CA and the root", n)
		}

		// simpleenroll with HTTP Basic.
		f.newCSR("first", "/CN=app.sceau-test.fr", "DNS:app.sceau-test.fr")
		status, body := f.curl("first.p7", "--user", cred.Username+":"+cred.Password, "-H", "Content-Type: application/pkcs10",
			"--data-binary", "@first.b64", f.url("simpleenroll"))
		if status != "200" {
			t.Fatalf("simpleenroll: %s %s", status, body)
		}
		f.p7ToPEM("first.p7", "first.pem")
		if out := f.run("openssl", "verify", "-CAfile", "chain.pem", "-purpose", "sslserver", "first.pem"); !strings.Contains(out, "first.pem: OK") {
			t.Fatalf("openssl verify: %s", out)
		}
		first := f.readPEMCert("first.pem")
		if fmt.Sprint(first.DNSNames) != fmt.Sprint(dossierNames) {
			t.Errorf("the certificate names %v, the dossier %v (CA-4: the dossier's names)", first.DNSNames, dossierNames)
		}

		// simplereenroll with the issued certificate as TLS client certificate, a new key.
		f.newCSR("second", "/CN=app.sceau-test.fr")
		status, body = f.curl("second.p7", "--cert", "first.pem", "--key", "first.key", "-H", "Content-Type: application/pkcs10",
			"--data-binary", "@second.b64", f.url("simplereenroll"))
		if status != "200" {
			t.Fatalf("simplereenroll: %s %s", status, body)
		}
		f.p7ToPEM("second.p7", "second.pem")
		if out := f.run("openssl", "verify", "-CAfile", "chain.pem", "second.pem"); !strings.Contains(out, "second.pem: OK") {
			t.Fatalf("openssl verify: %s", out)
		}
		second := f.readPEMCert("second.pem")
		if second.SerialNumber.Cmp(first.SerialNumber) == 0 || second.Subject.String() != first.Subject.String() ||
			fmt.Sprint(second.DNSNames) != fmt.Sprint(first.DNSNames) {
			t.Fatalf("re-enrolled %s %v (serial %x), first %s %v (serial %x)", second.Subject, second.DNSNames, second.SerialNumber,
				first.Subject, first.DNSNames, first.SerialNumber)
		}
		if string(second.RawSubjectPublicKeyInfo) == string(first.RawSubjectPublicKeyInfo) {
			t.Fatal("the re-enrolled certificate kept the old key")
		}

		// Each issuance is journaled (est.enrolled with the reservation) and recorded.
		evs := f.events(audit.ActionESTEnrolled)
		if len(evs) != 2 {
			t.Fatalf("%d est.enrolled events, want 2", len(evs))
		}
		s1, s2 := revocation.SerialHex(first.SerialNumber), revocation.SerialHex(second.SerialNumber)
		if det(evs[0])["serial"] != s1 || det(evs[1])["serial"] != s2 || det(evs[1])["renews"] != s1 ||
			det(evs[1])["operation"] != "simplereenroll" || evs[0].Actor != "est:"+cred.Username {
			t.Fatalf("events %+v / %+v", evs[0], evs[1])
		}
		for _, s := range []string{s1, s2} {
			for _, action := range []string{audit.ActionCertificatePrepared, audit.ActionCertificateIssued} {
				found := false
				for _, e := range f.events(action) {
					found = found || e.Object == "certificate:"+s
				}
				if !found {
					t.Errorf("certificate %s has no %s event", s, action)
				}
			}
		}
		if n := f.count("est_enrollments"); n != 2 {
			t.Fatalf("%d enrollments recorded", n)
		}
		list, err := f.svc.Credentials(ctx, ra1)
		if err != nil || len(list) != 1 || fmt.Sprint(list[0].Enrollments) != fmt.Sprint([]string{s1, s2}) || list[0].Password != "" {
			t.Fatalf("credentials %+v %v", list, err)
		}
		// The password is never journaled.
		recs, _ := audit.Read(ctx, db, 0, 1000000)
		for _, r := range recs {
			if strings.Contains(r.Details, cred.Password) {
				t.Fatalf("the password is in the journal: %s", r.Action)
			}
		}
	})
}
