package ca_test

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"log/slog"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceautest"
)

// CA-3 (issue 12): the root's responder, which the issuing CA
// certificate's AIA names, answers "good" for that certificate (it answered
// "unknown"), and once the certificate is revoked, the root's responder and
// its next CRL say so.
func TestCA3_ParentAnswersForTheCACertificatesItIssued(t *testing.T) {
	h := sceautest.NewHierarchy(t, sceautest.OpenSQLite(t), sceautest.HierarchyOptions{})
	ctx := t.Context()
	root, err := h.Authority.CA("root")
	if err != nil {
		t.Fatal(err)
	}
	issuing, err := h.Authority.CA("issuing")
	if err != nil {
		t.Fatal(err)
	}
	responder := h.Revocation.NewResponder(slog.New(slog.DiscardHandler))
	ask := func() *ocsp.Response {
		t.Helper()
		req, err := ocsp.CreateRequest(issuing.Cert, root.Cert, &ocsp.RequestOptions{Hash: crypto.SHA256})
		if err != nil {
			t.Fatal(err)
		}
		der, status := responder.Respond(ctx, req)
		resp, err := ocsp.ParseResponseForCert(der, issuing.Cert, root.Cert)
		if err != nil {
			t.Fatalf("the root's answer for the issuing CA (%s): %v", status, err)
		}
		return resp
	}
	if r := ask(); r.Status != ocsp.Good {
		t.Fatalf("the root's responder says %d for the issuing CA certificate, want good (%d)", r.Status, ocsp.Good)
	}
	serial := revocation.SerialHex(issuing.Cert.SerialNumber)
	if err := h.Revocation.Revoke(ctx, operator, serial, revocation.Reasons["cACompromise"]); err != nil {
		t.Fatal(err)
	}
	if r := ask(); r.Status != ocsp.Revoked || r.RevocationReason != ocsp.CACompromise {
		t.Errorf("after its revocation: status %d reason %d, want revoked, cACompromise", r.Status, r.RevocationReason)
	}
	if _, err := h.Revocation.IssueCRL(ctx, operator, "root"); err != nil {
		t.Fatal(err)
	}
	crl, err := h.Revocation.Latest(ctx, "root", 0)
	if err != nil {
		t.Fatal(err)
	}
	list, err := x509.ParseRevocationList(crl.DER)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.RevokedCertificateEntries) != 1 || list.RevokedCertificateEntries[0].SerialNumber.Cmp(issuing.Cert.SerialNumber) != 0 {
		t.Errorf("the root's CRL lists %d entries; want the issuing CA's serial", len(list.RevokedCertificateEntries))
	}
}

// CA-3 (issue 12): revocation status outlives expiry. A certificate revoked
// then expired stays on its CA's CRL, which says so with X.509's
// expiredCertsOnCRL (since the CA's start), and OCSP still answers revoked.
func TestCA3_RevocationStatusOutlivesExpiry(t *testing.T) {
	clock := sceautest.NewClock(time.Now())
	h := sceautest.NewHierarchy(t, sceautest.OpenSQLite(t), sceautest.HierarchyOptions{Clock: clock})
	ctx := t.Context()
	issuing, err := h.Authority.CA("issuing")
	if err != nil {
		t.Fatal(err)
	}
	csr := sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "short.example.org", "short.example.org")
	iss, err := h.Authority.IssueCSR(ctx, operator, ca.Request{CA: "issuing", Profile: "server", CSR: csr, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Revocation.Revoke(ctx, operator, iss.Serial, revocation.Reasons["keyCompromise"]); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Hour)
	if _, err := h.Revocation.IssueCRL(ctx, operator, "issuing"); err != nil {
		t.Fatal(err)
	}
	crl, err := h.Revocation.Latest(ctx, "issuing", 0)
	if err != nil {
		t.Fatal(err)
	}
	list, err := x509.ParseRevocationList(crl.DER)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(list.RevokedCertificateEntries, func(e x509.RevocationListEntry) bool { return e.SerialNumber.Cmp(iss.Cert.SerialNumber) == 0 }) {
		t.Errorf("the expired revoked certificate left the CRL")
	}
	var since time.Time
	for _, e := range list.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 60}) {
			if _, err := asn1.UnmarshalWithParams(e.Value, &since, "generalized"); err != nil {
				t.Fatalf("expiredCertsOnCRL: %v", err)
			}
		}
	}
	if !since.Equal(issuing.Cert.NotBefore) {
		t.Errorf("expiredCertsOnCRL = %s, want the CA's notBefore %s", since, issuing.Cert.NotBefore)
	}
	if f, err := ca.LintCRL(crl.DER); err != nil || len(f.Errors) > 0 {
		t.Errorf("zlint on the CRL: %v, %v", f.Errors, err)
	}
	responder := h.Revocation.NewResponder(slog.New(slog.DiscardHandler))
	req, err := ocsp.CreateRequest(iss.Cert, issuing.Cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := responder.Respond(ctx, req)
	if r, err := ocsp.ParseResponseForCert(der, iss.Cert, issuing.Cert); err != nil || r.Status != ocsp.Revoked {
		t.Errorf("OCSP after expiry: %+v, %v; want revoked", r, err)
	}
}

// CA-3 (issue 12): an installation made before parents answered for their
// CA certificates has no row for the issuing CA under the root; the next
// load records it, once, with the root's first response and an event, and
// the root's responder answers good for it.
func TestCA3_OlderInstallationsGetTheirCACertificatesRecordedUnderTheParent(t *testing.T) {
	ctx := t.Context()
	h := sceautest.NewHierarchy(t, sceautest.OpenSQLite(t), sceautest.HierarchyOptions{})
	issuing, _ := h.Authority.CA("issuing")
	serial := revocation.SerialHex(issuing.Cert.SerialNumber)
	if _, err := h.DB.ExecContext(ctx, `DELETE FROM certificates WHERE serial = ?`, serial); err != nil {
		t.Fatal(err)
	}
	events := func() (n int) {
		if err := h.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE action = 'ca.certificate_recorded'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range 2 {
		a := ca.New(h.DB, h.Journal, h.Keys, h.Revocation, ca.Options{URLs: h.URLs})
		if err := a.Load(ctx, h.Specs); err != nil {
			t.Fatal(err)
		}
		a.Close()
		if n := events(); n != 1 {
			t.Fatalf("after load %d: %d ca.certificate_recorded events, want 1", i+1, n)
		}
	}
	root, _ := h.Authority.CA("root")
	req, err := ocsp.CreateRequest(issuing.Cert, root.Cert, &ocsp.RequestOptions{Hash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	der, status := h.Revocation.NewResponder(slog.New(slog.DiscardHandler)).Respond(ctx, req)
	resp, err := ocsp.ParseResponseForCert(der, issuing.Cert, root.Cert)
	if err != nil || resp.Status != ocsp.Good {
		t.Fatalf("the root's answer for the recorded issuing CA (%s): %v, %v", status, resp, err)
	}
}
