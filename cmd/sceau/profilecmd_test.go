package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// CA-2 (issue 12): `sceau profile lint` runs the issuance gate over a
// certificate (with a profile's sets, or zlint's whole registry), a CRL and
// an OCSP response, prints each finding with its lint or rule, and exits 1
// on an error, 2 on a file that is none of them.
func TestCA2_ProfileLintNamesEveryFinding(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	c := cli{t: t}
	c.ok("init", "--dir", dir, "--public", freeAddr(t), "--admin", freeAddr(t))
	c.config = filepath.Join(dir, "sceau.yaml")

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	// An EC certificate with keyEncipherment, as Sceau's person profile
	// issued them before issue 12.
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "Marie Curie", Country: []string{"FR"}},
		NotBefore: now, NotAfter: now.Add(24 * time.Hour), EmailAddresses: []string{"marie@example.org"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	certFile := filepath.Join(tmp, "ec-ke.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	r := c.run("profile", "lint", "--profile", "person", certFile)
	if r.code != 1 || !strings.Contains(r.stdout, "error    e_ecdsa_allowed_ku") || !strings.Contains(r.stdout, "certificate CN=Marie Curie") {
		t.Errorf("profile lint --profile person of an EC certificate with keyEncipherment: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := c.run("profile", "lint", "--profile", "nosuch", certFile); r.code != 1 || !strings.Contains(r.stderr, `no profile "nosuch"`) {
		t.Errorf("an unknown profile: exit %d, %s", r.code, r.stderr)
	}

	// An OCSP response signed by a certificate that is no OCSP responder's.
	resp, err := ocsp.CreateResponse(cert, cert, ocsp.Response{Status: ocsp.Good, SerialNumber: big.NewInt(7), ThisUpdate: now,
		NextUpdate: now.Add(time.Hour), Certificate: cert}, key)
	if err != nil {
		t.Fatal(err)
	}
	respFile := filepath.Join(tmp, "resp.der")
	os.WriteFile(respFile, resp, 0o644)
	if r := c.run("profile", "lint", respFile); r.code != 1 || !strings.Contains(r.stdout, "ocsp-response") ||
		!strings.Contains(r.stdout, "lacks id-kp-OCSPSigning") || !strings.Contains(r.stdout, "no id-pkix-ocsp-nocheck") {
		t.Errorf("profile lint of an OCSP response: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(time.Hour)},
		&x509.Certificate{Subject: cert.Subject, SubjectKeyId: []byte{1, 2, 3}, KeyUsage: x509.KeyUsageCRLSign, PublicKey: key.Public()}, key)
	if err != nil {
		t.Fatal(err)
	}
	crlFile := filepath.Join(tmp, "x.crl")
	os.WriteFile(crlFile, crl, 0o644)
	if r := c.run("profile", "lint", crlFile); !strings.Contains(r.stdout, crlFile+": crl CN=Marie Curie,C=FR:") {
		t.Errorf("profile lint of a CRL: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	junk := filepath.Join(tmp, "junk")
	os.WriteFile(junk, []byte("not a certificate"), 0o644)
	if r := c.run("profile", "lint", junk); r.code != 2 || !strings.Contains(r.stderr, "neither a certificate, a CRL nor an OCSP response") {
		t.Errorf("profile lint of junk: exit %d, %s", r.code, r.stderr)
	}
}

// CA-2 (issue 12): `sceau profile lint --csr` lints a dry-run issuance:
// the certificate a CSR would get, built by the same checks and template;
// a request the gate would refuse is reported, and no serial is reserved.
func TestCA2_ProfileLintDryRunOfARequest(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	c := cli{t: t}
	c.ok("init", "--dir", dir, "--public", freeAddr(t), "--admin", freeAddr(t))
	c.config = filepath.Join(dir, "sceau.yaml")
	csr := func(name string, subject pkix.Name, dns ...string) string {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject, DNSNames: dns}, key)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(tmp, name)
		os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o644)
		return f
	}
	before := dbRows(t, dir, `SELECT (SELECT COUNT(*) FROM certificates) || '/' || (SELECT COUNT(*) FROM audit_events WHERE action LIKE 'certificate.%')`)[0][0]
	good := csr("www.csr", pkix.Name{CommonName: "www.example.org"}, "www.example.org")
	r := c.run("profile", "lint", "--ca", "issuing", "--profile", "server", "--csr", good)
	if r.code != 0 || !strings.Contains(r.stdout, "(dry run, issuing/server): certificate CN=www.example.org: 0 errors") {
		t.Errorf("dry run of a good server request: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A qualified seal without its organizationIdentifier: the EN 319 412-3
	// clause rule of the gate names the attribute.
	seal := csr("seal.csr", pkix.Name{CommonName: "Seal", Organization: []string{"Example SA"}, Country: []string{"FR"}})
	r = c.run("profile", "lint", "--ca", "issuing", "--profile", "qualified-seal", "--csr", seal)
	if r.code != 1 || !strings.Contains(r.stdout, "organizationIdentifier") || !strings.Contains(r.stderr, "issuance would refuse it") {
		t.Errorf("dry run of a seal without organizationIdentifier: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// An internal name in a public TLS profile is refused before any lint.
	internal := csr("internal.csr", pkix.Name{CommonName: "intranet.local"}, "intranet.local")
	if r := c.run("profile", "lint", "--ca", "issuing", "--profile", "server", "--csr", internal); r.code != 2 || !strings.Contains(r.stderr, "intranet.local") {
		t.Errorf("dry run of an internal name: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := c.run("profile", "lint", "--csr", good); r.code != 2 || !strings.Contains(r.stderr, "--csr takes --profile") {
		t.Errorf("--csr without --profile: exit %d, %s", r.code, r.stderr)
	}
	if after := dbRows(t, dir, `SELECT (SELECT COUNT(*) FROM certificates) || '/' || (SELECT COUNT(*) FROM audit_events WHERE action LIKE 'certificate.%')`)[0][0]; after != before {
		t.Errorf("certificates/certificate events before the dry runs %s, after %s: a dry run reserves and journals none", before, after)
	}
}
