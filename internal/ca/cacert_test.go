package ca_test

import (
	"crypto"
	"crypto/x509"
	"log/slog"
	"testing"

	"golang.org/x/crypto/ocsp"

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
