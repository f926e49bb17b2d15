package revocation_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceautest"
)

// crlIssuer is a self-signed CA certificate for key.
func crlIssuer(t *testing.T, key crypto.Signer) *x509.Certificate {
	t.Helper()
	now := time.Now().UTC()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "CRL Encoding CA", Organization: []string{"Sceau"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SubjectKeyId: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// crlEntries are n entries with the edge cases first: serial 0, serials
// whose high bit is set, 20-octet serials, dates before 1950, in 2049,
// from 2050, every reason code.
func crlEntries(n int) []x509.RevocationListEntry {
	r := mrand.New(mrand.NewPCG(1, 2))
	base := time.Date(2026, 12, 7, 10, 11, 12, 345678901, time.UTC)
	fixed := []x509.RevocationListEntry{
		{SerialNumber: big.NewInt(0), RevocationTime: base},
		{SerialNumber: big.NewInt(0x80), RevocationTime: time.Date(1949, 12, 31, 23, 59, 59, 0, time.UTC), ReasonCode: 1},
		{SerialNumber: new(big.Int).SetBytes(bytes.Repeat([]byte{0xff}, 20)), RevocationTime: time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), ReasonCode: 10},
		{SerialNumber: new(big.Int).SetBytes(bytes.Repeat([]byte{0x7f}, 20)), RevocationTime: time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), ReasonCode: 4},
		{SerialNumber: big.NewInt(1), RevocationTime: base.In(time.FixedZone("CET", 3600)), ReasonCode: 9},
	}
	out := append([]x509.RevocationListEntry(nil), fixed...)
	for len(out) < n {
		b := make([]byte, 1+r.IntN(20))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		out = append(out, x509.RevocationListEntry{SerialNumber: new(big.Int).SetBytes(b),
			RevocationTime: base.Add(-time.Duration(r.Int64N(int64(20 * 365 * 24 * time.Hour)))), ReasonCode: r.IntN(11)})
	}
	return out[:n]
}

// TestCA3_CRLEncodingIsTheStandardLibrarys compares the CRL encoder with
// x509.CreateRevocationList: the same to-be-signed bytes and algorithm
// for every key type a CA may have, a signature that verifies with the
// issuer's certificate, and the entries read back as given.
func TestCA3_CRLEncodingIsTheStandardLibrarys(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	ext := pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 60}, Value: []byte{0x18, 0x0f, '2', '0', '2', '6', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z'}}
	for name, key := range map[string]crypto.Signer{"P-256": p256, "P-384": p384, "Ed25519": ed, "RSA-2048": rsaKey} {
		issuer := crlIssuer(t, key)
		for _, n := range []int{0, 1, 5, 3000} {
			tmpl := &x509.RevocationList{Number: big.NewInt(int64(1000 + n)), ThisUpdate: now, NextUpdate: now.Add(24 * time.Hour),
				RevokedCertificateEntries: crlEntries(n), ExtraExtensions: []pkix.Extension{ext}}
			std, err := x509.CreateRevocationList(rand.Reader, tmpl, issuer, key)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := revocation.CreateCRL(tmpl, issuer, key)
			if err != nil {
				t.Fatalf("%s, %d entries: %v", name, n, err)
			}
			a, err := x509.ParseRevocationList(std)
			if err != nil {
				t.Fatal(err)
			}
			b, err := x509.ParseRevocationList(ours)
			if err != nil {
				t.Fatalf("%s, %d entries: ours does not parse: %v", name, n, err)
			}
			if !bytes.Equal(a.RawTBSRevocationList, b.RawTBSRevocationList) {
				t.Fatalf("%s, %d entries: the to-be-signed bytes differ from the library's", name, n)
			}
			if a.SignatureAlgorithm != b.SignatureAlgorithm {
				t.Fatalf("%s: algorithm %v, the library's %v", name, b.SignatureAlgorithm, a.SignatureAlgorithm)
			}
			if err := b.CheckSignatureFrom(issuer); err != nil {
				t.Fatalf("%s, %d entries: %v", name, n, err)
			}
			if len(b.RevokedCertificateEntries) != n {
				t.Fatalf("%s: %d entries read back, want %d", name, len(b.RevokedCertificateEntries), n)
			}
		}
	}
}

// TestCA3_CRLEncodingFallsBackToTheLibrary: what the encoder does not take
// (an entry with its own extension, a negative serial) is the library's,
// and its refusals stay (a nil serial).
func TestCA3_CRLEncodingFallsBackToTheLibrary(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	issuer := crlIssuer(t, key)
	now := time.Now().UTC()
	es := crlEntries(10)
	es[3].ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 24}, Value: []byte{0x18, 0x0f, '2', '0', '2', '6', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z'}}}
	es[4].SerialNumber = big.NewInt(-5)
	der, err := revocation.CreateCRL(&x509.RevocationList{Number: big.NewInt(3), ThisUpdate: now, NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: es}, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil || rl.CheckSignatureFrom(issuer) != nil || len(rl.RevokedCertificateEntries) != 10 {
		t.Fatalf("fallback: %v", err)
	}
	es = crlEntries(3)
	es[1].SerialNumber = nil
	if _, err := revocation.CreateCRL(&x509.RevocationList{Number: big.NewInt(4), ThisUpdate: now, NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: es}, issuer, key); err == nil {
		t.Fatal("an entry without a serial was encoded")
	}
}

// TestCA3_CRLEncodingVerifiesWithOpenSSL: openssl checks the signature of a
// long CRL made by the encoder against its issuer, and counts its
// entries.
func TestCA3_CRLEncodingVerifiesWithOpenSSL(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	issuer := crlIssuer(t, key)
	now := time.Now().UTC()
	der, err := revocation.CreateCRL(&x509.RevocationList{Number: big.NewInt(9), ThisUpdate: now, NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: crlEntries(20000)}, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	crlPath, caPath := filepath.Join(dir, "list.crl"), filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(crlPath, der, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issuer.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("openssl", "crl", "-inform", "DER", "-in", crlPath, "-CAfile", caPath, "-noout", "-text").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("verify OK")) {
		t.Fatalf("openssl crl: %v\n%.2000s", err, out)
	}
	if got := bytes.Count(out, []byte("Serial Number:")); got != 20000 {
		t.Fatalf("openssl counts %d entries, want 20000", got)
	}
}
