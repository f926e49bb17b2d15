//go:build cgo

package quorum_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceautest"
)

// KEY-4, ROLE-3 (issue 3, the proof): a CA key generated in a SoftHSM2
// token is backed up under two approvers, its wrapping key split 2 of 3;
// after two more approvals, two holders restore it into a fresh token,
// where it signs a certificate that verifies with the original CA
// certificate.
func TestKEY4_BackupRestoresIntoFreshToken(t *testing.T) {
	ctx := context.Background()
	module, label, pin := sceautest.SoftHSM(t)
	freshPIN := sceautest.SoftHSMExtraToken(t, "sceau-replacement")
	f := newCustodyFixture(t, sceautest.OpenSQLite(t))

	src := keys.OpenPKCS11(keys.PKCS11Config{Module: module, TokenLabel: label, AllowBackup: true})
	if err := src.Activate([]byte(pin)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Deactivate)
	key, err := src.Generate("ca-issuing", keys.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Issuing CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	f.vault, f.pub = src, caCert.PublicKey

	rec := f.backup()
	if rec.Mechanism != keys.MechAESKeyWrapPad {
		t.Fatalf("a token key was backed up with %s", rec.Mechanism)
	}

	dst := keys.OpenPKCS11(keys.PKCS11Config{Module: module, TokenLabel: "sceau-replacement", AllowBackup: true})
	if err := dst.Activate([]byte(freshPIN)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dst.Deactivate)
	f.vault = dst
	id := f.requestImport(rec)
	if _, err := f.backups.Import(ctx, sys1, "issuing", id, f.shares(rec, "bob", "alice")); err != nil {
		t.Fatalf("Import: %v", err)
	}
	restored, err := dst.Signer("ca-issuing")
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := keys.ECDSAP256.Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "signed after the restore"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, leafKey.Public(), restored)
	if err != nil {
		t.Fatalf("the restored key does not sign: %v", err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.CheckSignatureFrom(caCert); err != nil {
		t.Fatalf("the certificate signed by the restored key does not verify with the original CA certificate: %v", err)
	}
	signsFor(t, restored, caCert.PublicKey)
}
