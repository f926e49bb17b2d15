package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/server"
)

func TestCA2_OpenSSLVerifiesChainAndCRL(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	caFiles(t, dir)
	cert, serial := issueServerCert(t, dir, "verify.example.org")
	if len(cert.CRLDistributionPoints) != 1 {
		t.Fatalf("CDP = %v, want one URL", cert.CRLDistributionPoints)
	}
	cdp := cert.CRLDistributionPoints[0]

	getCRL := func(name string, crlDER []byte) {
		writeFile(t, filepath.Join(dir, name+".der"), crlDER)
		mustOpenSSL(t, dir, "crl", "-inform", "DER", "-in", name+".der", "-out", name+".pem")
	}
	crl, der := fetchCRL(t, cdp)
	getCRL("crl", der)

	out := mustOpenSSL(t, dir, "verify", "-crl_check", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "-CRLfile", "crl.pem", "cert.pem")
	if !strings.Contains(out, "cert.pem: OK") {
		t.Fatalf("openssl verify with the CRL:\n%s", out)
	}
	out = mustOpenSSL(t, dir, "verify", "-crl_check", "-crl_download", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "cert.pem")
	if !strings.Contains(out, "cert.pem: OK") {
		t.Fatalf("openssl verify -crl_download (live CDP %s):\n%s", cdp, out)
	}

	if out := mustSceau(t, "cert", "revoke", serial, "--reason", "keyCompromise", "--yes"); !strings.Contains(out, "revoked "+serial) {
		t.Fatalf("cert revoke: %s", out)
	}
	// The CRL is reissued right after the revocation.
	crl2, der2 := waitCRL(t, cdp, crl.Number.Int64(), serial)
	if crl2.ThisUpdate.Before(crl.ThisUpdate) {
		t.Errorf("the new CRL's thisUpdate %s is before the old one's %s", crl2.ThisUpdate, crl.ThisUpdate)
	}
	getCRL("crl2", der2)

	out, err := openssl(t, dir, "verify", "-crl_check", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "-CRLfile", "crl2.pem", "cert.pem")
	if err == nil || !strings.Contains(out, "certificate revoked") {
		t.Fatalf("openssl verify after revocation: err %v\n%s", err, out)
	}
	out, err = openssl(t, dir, "verify", "-crl_check", "-crl_download", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "cert.pem")
	if err == nil || !strings.Contains(out, "certificate revoked") {
		t.Fatalf("openssl verify -crl_download after revocation: err %v\n%s", err, out)
	}
	// The old CRL still says OK: the failure above is the new CRL's doing.
	if out := mustOpenSSL(t, dir, "verify", "-crl_check", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "-CRLfile", "crl.pem", "cert.pem"); !strings.Contains(out, "cert.pem: OK") {
		t.Errorf("verify with the old CRL:\n%s", out)
	}
}

// ocspGet asks the responder over GET (RFC 6960 §A.1) with a raw request.
func ocspGet(t *testing.T, der []byte) []byte {
	t.Helper()
	return ocspGetPath(t, url.QueryEscape(base64.StdEncoding.EncodeToString(der)))
}

func ocspGetPath(t *testing.T, escaped string) []byte {
	t.Helper()
	resp, body := httpGet(t, install.base+"/ocsp/"+escaped)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/ocsp-response" {
		t.Fatalf("OCSP GET: %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	return body
}

func ocspPost(t *testing.T, url string, der []byte) []byte {
	t.Helper()
	resp, err := http.Post(url, "application/ocsp-request", bytes.NewReader(der))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/ocsp-response" {
		t.Fatalf("OCSP POST %s: %s, Content-Type %q", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	return body
}

func wantOCSPError(t *testing.T, name string, body []byte, status ocsp.ResponseStatus) {
	t.Helper()
	_, err := ocsp.ParseResponse(body, nil)
	var re ocsp.ResponseError
	if !errors.As(err, &re) || re.Status != status {
		t.Errorf("%s: ParseResponse error %v, want ocsp.ResponseError{%v}", name, err, status)
	}
}

func TestCA3_OpenSSLOCSPGoodThenRevoked(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	_, issuer := caFiles(t, dir)
	cert, serial := issueServerCert(t, dir, "ocsp.example.org")
	if len(cert.OCSPServer) != 1 || cert.OCSPServer[0] != install.base+"/ocsp" {
		t.Fatalf("AIA OCSP = %v, want %s/ocsp", cert.OCSPServer, install.base)
	}
	ocspURL := cert.OCSPServer[0]
	ask := func(extra ...string) string {
		t.Helper()
		args := append([]string{"ocsp", "-issuer", "issuing.pem"}, extra...)
		args = append(args, "-url", ocspURL, "-CAfile", "chain.pem")
		return mustOpenSSL(t, dir, args...)
	}

	t.Run("openssl good", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			args  []string
			nonce bool
		}{
			{"default (nonce)", []string{"-cert", "cert.pem"}, true},
			{"-no_nonce", []string{"-no_nonce", "-cert", "cert.pem"}, false},
			{"-sha256", []string{"-sha256", "-cert", "cert.pem"}, true},
			{"-sha256 -no_nonce", []string{"-sha256", "-no_nonce", "-cert", "cert.pem"}, false},
			{"-nonce", []string{"-nonce", "-cert", "cert.pem"}, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out := ask(tc.args...)
				if !strings.Contains(out, "Response verify OK") || !strings.Contains(out, "cert.pem: good") {
					t.Errorf("openssl ocsp %v:\n%s", tc.args, out)
				}
				if tc.nonce && strings.Contains(out, "no nonce in response") {
					t.Errorf("openssl ocsp %v: the response does not echo the nonce:\n%s", tc.args, out)
				}
				if strings.Contains(out, "WARNING") && !tc.nonce {
					t.Errorf("openssl ocsp %v warns:\n%s", tc.args, out)
				}
			})
		}
	})

	t.Run("openssl unknown serial", func(t *testing.T) {
		out := ask("-serial", "0x1234")
		if !strings.Contains(out, "0x1234: unknown") || !strings.Contains(out, "Response verify OK") {
			t.Errorf("openssl ocsp -serial 0x1234:\n%s", out)
		}
	})

	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("GET", func(t *testing.T) {
		body := ocspGet(t, req)
		r, err := ocsp.ParseResponseForCert(body, cert, issuer)
		if err != nil {
			t.Fatalf("ParseResponseForCert: %v", err)
		}
		if r.Status != ocsp.Good || r.SerialNumber.Cmp(cert.SerialNumber) != 0 {
			t.Errorf("GET: status %d serial %x, want good %x", r.Status, r.SerialNumber, cert.SerialNumber)
		}
		if r.Certificate == nil || r.Certificate.CheckSignatureFrom(issuer) != nil {
			t.Errorf("the response does not embed a responder certificate issued by the CA")
		}
		if !r.NextUpdate.After(time.Now()) || r.ThisUpdate.After(time.Now()) {
			t.Errorf("thisUpdate %s nextUpdate %s do not bracket now", r.ThisUpdate, r.NextUpdate)
		}
		// The same request with '+' and '/' left unescaped (some clients do).
		raw := base64.StdEncoding.EncodeToString(req)
		if _, err := ocsp.ParseResponseForCert(ocspGetPath(t, strings.ReplaceAll(raw, "=", "%3D")), cert, issuer); err != nil {
			t.Errorf("GET with unescaped base64: %v", err)
		}
	})

	t.Run("malformed and unauthorized", func(t *testing.T) {
		wantOCSPError(t, "garbage base64", ocspGetPath(t, "!!!!not-base64****"), ocsp.Malformed)
		wantOCSPError(t, "garbage DER", ocspGet(t, []byte("this is not an OCSP request")), ocsp.Malformed)
		wantOCSPError(t, "empty GET", ocspGetPath(t, ""), ocsp.Malformed)
		wantOCSPError(t, "garbage POST", ocspPost(t, ocspURL, []byte{0x30, 0x03, 0x02, 0x01}), ocsp.Malformed)

		// A CertID naming an issuer this responder does not serve.
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Someone Else's CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		other, _ := x509.ParseCertificate(der)
		foreign, err := ocsp.CreateRequest(cert, other, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantOCSPError(t, "unknown issuer (GET)", ocspGet(t, foreign), ocsp.Unauthorized)
		wantOCSPError(t, "unknown issuer (POST)", ocspPost(t, ocspURL, foreign), ocsp.Unauthorized)
	})

	if out := mustSceau(t, "cert", "revoke", serial, "--reason", "keyCompromise", "--yes"); !strings.Contains(out, "revoked "+serial) {
		t.Fatalf("cert revoke: %s", out)
	}

	t.Run("openssl revoked", func(t *testing.T) {
		for _, args := range [][]string{{"-cert", "cert.pem"}, {"-no_nonce", "-cert", "cert.pem"}, {"-sha256", "-cert", "cert.pem"}} {
			out := ask(args...)
			if !strings.Contains(out, "Response verify OK") || !strings.Contains(out, "cert.pem: revoked") ||
				!strings.Contains(out, "Reason: keyCompromise") || !strings.Contains(out, "Revocation Time:") {
				t.Errorf("openssl ocsp %v after revocation:\n%s", args, out)
			}
		}
	})
	t.Run("GET revoked", func(t *testing.T) {
		r, err := ocsp.ParseResponseForCert(ocspGet(t, req), cert, issuer)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != ocsp.Revoked || r.RevocationReason != ocsp.KeyCompromise || r.RevokedAt.IsZero() {
			t.Errorf("GET after revocation: status %d reason %d at %s, want revoked keyCompromise", r.Status, r.RevocationReason, r.RevokedAt)
		}
	})
}

func TestCA2_OpenSSLReadsPKCS12WithoutLegacy(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "pass"), []byte("correct horse battery staple\n"))
	writeFile(t, filepath.Join(dir, "wrong"), []byte("incorrect horse battery staple\n"))
	out := mustSceau(t, "cert", "issue", "--ca", "issuing", "--profile", "person", "--generate-key", "ecdsa-p256",
		"--cn", "Marie Curie", "--given-name", "Marie", "--surname", "Curie", "--country", "FR", "--email", "marie@example.org",
		"--p12-out", filepath.Join(dir, "f.p12"), "--password-file", filepath.Join(dir, "pass"), "--json")
	var resp server.PKCS12Response
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("cert issue --json: %v\n%s", err, out)
	}
	if resp.PKCS12 != "" || resp.Password != "" {
		t.Errorf("cert issue --json prints the PKCS#12 or a password")
	}
	leaf := parsePEMCert(t, []byte(resp.Certificate))

	mustOpenSSL(t, dir, "pkcs12", "-in", "f.p12", "-passin", "file:pass", "-nodes", "-noout")

	info := mustOpenSSL(t, dir, "pkcs12", "-in", "f.p12", "-passin", "file:pass", "-info", "-nodes", "-noout")
	for _, want := range []string{"AES-256-CBC", "PBKDF2", "hmacWithSHA256", "MAC: sha256", "Shrouded Keybag: PBES2"} {
		if !strings.Contains(info, want) {
			t.Errorf("openssl pkcs12 -info lacks %q:\n%s", want, info)
		}
	}
	for _, legacy := range []string{"RC2", "3DES", "pbeWithSHA1And"} {
		if strings.Contains(info, legacy) {
			t.Errorf("openssl pkcs12 -info mentions legacy %q:\n%s", legacy, info)
		}
	}

	// The content: the key, the holder's certificate and the chain.
	content := mustOpenSSL(t, dir, "pkcs12", "-in", "f.p12", "-passin", "file:pass", "-nodes")
	if n := strings.Count(content, "BEGIN CERTIFICATE"); n != 3 {
		t.Errorf("the PKCS#12 holds %d certificates, want the leaf, the issuing CA and the root", n)
	}
	if !strings.Contains(content, "BEGIN PRIVATE KEY") {
		t.Errorf("the PKCS#12 holds no private key")
	}
	writeFile(t, filepath.Join(dir, "content.pem"), []byte(content))
	clcert := mustOpenSSL(t, dir, "pkcs12", "-in", "f.p12", "-passin", "file:pass", "-clcerts", "-nokeys")
	if got := parsePEMCert(t, []byte(clcert[strings.Index(clcert, "-----BEGIN"):])); !got.Equal(leaf) {
		t.Errorf("the PKCS#12's own certificate is not the issued one")
	}
	// The key matches the certificate.
	keyPub := mustOpenSSL(t, dir, "pkey", "-in", "content.pem", "-pubout")
	writeFile(t, filepath.Join(dir, "leaf.pem"), []byte(resp.Certificate))
	certPub := mustOpenSSL(t, dir, "x509", "-in", "leaf.pem", "-noout", "-pubkey")
	if keyPub != certPub {
		t.Errorf("the private key does not match the certificate:\n%s\n%s", keyPub, certPub)
	}

	if out, err := openssl(t, dir, "pkcs12", "-in", "f.p12", "-passin", "file:wrong", "-nodes", "-noout"); err == nil {
		t.Errorf("openssl read the PKCS#12 with a wrong password:\n%s", out)
	}
	_ = os.Remove(filepath.Join(dir, "content.pem")) // holds a clear key
}

// TestCA2_ZlintCleanOnEverythingWeProduce lints, with zlint through
// ca.LintCertificate and ca.LintCRL, every certificate and CRL the running
// installation hands out.
func TestCA2_ZlintCleanOnEverythingWeProduce(t *testing.T) {
	dir := t.TempDir()
	root, issuer := caFiles(t, dir)
	leaf, _ := issueServerCert(t, dir, "lint.example.org")

	out := mustSceau(t, "cert", "issue", "--ca", "issuing", "--profile", "person", "--generate-key", "rsa-2048",
		"--cn", "Pierre Curie", "--given-name", "Pierre", "--surname", "Curie", "--country", "FR", "--email", "pierre@example.org", "--p12-out", filepath.Join(dir, "p.p12"), "--json")
	var p12 server.PKCS12Response
	if err := json.Unmarshal([]byte(out), &p12); err != nil {
		t.Fatal(err)
	}
	person := parsePEMCert(t, []byte(p12.Certificate))

	req, err := ocsp.CreateRequest(leaf, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.ParseResponseForCert(ocspPost(t, install.base+"/ocsp", req), leaf, issuer)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Certificate == nil {
		t.Fatal("the OCSP response embeds no responder certificate")
	}
	responder := resp.Certificate
	if !hasEKU(responder, x509.ExtKeyUsageOCSPSigning) {
		t.Errorf("the responder certificate lacks id-kp-OCSPSigning")
	}

	for _, tc := range []struct {
		name string
		der  []byte
	}{
		{"root CA", root.Raw},
		{"issuing CA", issuer.Raw},
		{"OCSP responder", responder.Raw},
		{"server leaf", leaf.Raw},
		{"person leaf", person.Raw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ca.LintCertificate(tc.der, "rfc5280", "etsi")
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Errors) > 0 {
				t.Errorf("zlint errors (rfc5280, etsi): %v", f.Errors)
			}
			if len(f.Warnings) > 0 {
				t.Logf("zlint warnings (rfc5280, etsi): %v", f.Warnings)
			}
		})
	}
	// The server profile against the CA/Browser Forum Baseline Requirements:
	// reported, not enforced (the profile does not claim BR compliance). A
	// leaf whose request names only a DNS name tells the profile's own
	// findings from those the requested subject (O without L or ST) causes.
	minimal, _ := issueServerCertFor(t, t.TempDir(), pkix.Name{}, "minimal.example.org")
	for _, c := range []struct {
		name string
		cert *x509.Certificate
	}{{"server leaf (CN, O, C)", leaf}, {"server leaf (DNS name only)", minimal}} {
		if f, err := ca.LintCertificate(c.cert.Raw, "cabf_br"); err != nil {
			t.Fatal(err)
		} else if len(f.Errors) > 0 || len(f.Warnings) > 0 {
			t.Logf("zlint cabf_br on the %s: errors %v, warnings %v", c.name, f.Errors, f.Warnings)
		}
	}
	if f, err := ca.LintCertificate(minimal.Raw, "rfc5280", "etsi"); err != nil {
		t.Fatal(err)
	} else if len(f.Errors) > 0 {
		t.Errorf("zlint errors (rfc5280, etsi) on the DNS-name-only leaf: %v", f.Errors)
	}
	if f, err := ca.LintCertificate(person.Raw, "cabf_smime"); err != nil {
		t.Fatal(err)
	} else if len(f.Errors) > 0 || len(f.Warnings) > 0 {
		t.Logf("zlint cabf_smime on the person leaf: errors %v, warnings %v", f.Errors, f.Warnings)
	}

	for _, id := range []string{"root", "issuing"} {
		t.Run("CRL "+id, func(t *testing.T) {
			_, der := fetchCRL(t, install.base+"/crl/"+id+".crl")
			f, err := ca.LintCRL(der)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Errors) > 0 {
				t.Errorf("zlint errors on the %s CRL: %v", id, f.Errors)
			}
			if len(f.Warnings) > 0 {
				t.Logf("zlint warnings on the %s CRL: %v", id, f.Warnings)
			}
		})
	}
}

func hasEKU(c *x509.Certificate, eku x509.ExtKeyUsage) bool {
	for _, e := range c.ExtKeyUsage {
		if e == eku {
			return true
		}
	}
	return false
}
