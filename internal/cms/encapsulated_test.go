package cms

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"testing"

	"github.com/sceau/sceau/internal/sceautest"
)

// oidTSTInfo is id-ct-TSTInfo (RFC 3161 §2.4.2), the content the
// time-stamping unit encapsulates.
var oidTSTInfo = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}

// ARC-5: a SignedData holding its content round-trips for every key type,
// binds its signer with ESS signingCertificateV2, and without certificates
// verifies only when the verifier has the signer's.
func TestARC5_EncapsulatedSignatureRoundTrip(t *testing.T) {
	content := []byte("\x30\x03\x02\x01\x01") // any DER: the package does not read it
	for _, kind := range keyTypes {
		t.Run(kind, func(t *testing.T) {
			p := newPKI(t, kind)
			der, err := SignEncapsulated(oidTSTInfo, content, p.key, p.cert, []*x509.Certificate{p.intermediate}, EncapsulateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			e, err := VerifyEncapsulated(der, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !e.ContentType.Equal(oidTSTInfo) || !bytes.Equal(e.Content, content) || !e.SignerBound || !e.Signer.Equal(p.cert) || len(e.Certificates) != 2 {
				t.Errorf("verified: type %s, content %x, bound %v, %d certificates", e.ContentType, e.Content, e.SignerBound, len(e.Certificates))
			}
			if _, err := VerifyDetached(der, content); err == nil {
				t.Error("VerifyDetached accepted a SignedData that holds its content")
			}
			bare, err := SignEncapsulated(oidTSTInfo, content, p.key, p.cert, nil, EncapsulateOptions{OmitCertificates: true})
			if err != nil {
				t.Fatal(err)
			}
			_, err = VerifyEncapsulated(bare, nil)
			wantInvalid(t, err, "does not carry the signer's certificate")
			if e, err := VerifyEncapsulated(bare, []*x509.Certificate{p.intermediate, p.cert}); err != nil || len(e.Certificates) != 0 {
				t.Errorf("without certificates, given the signer's: %v", err)
			}
		})
	}
}

// The ESS attribute binds the certificate: another certificate for the same
// key is refused, and a tampered content or a detached signature too.
func TestARC5_EncapsulatedSignatureRefusals(t *testing.T) {
	p := newPKI(t, "P-256")
	content := []byte("content")
	der, err := SignEncapsulated(oidTSTInfo, content, p.key, p.cert, nil, EncapsulateOptions{OmitCertificates: true})
	if err != nil {
		t.Fatal(err)
	}
	// A second certificate for the same key, same issuer and serial number
	// (a mis-issuance): the signature checks, the ESS hash does not.
	tmpl := *p.cert
	tmpl.Subject.CommonName = "Another name"
	other := issue(t, &tmpl, p.intermediate, p.key.Public(), testKey(t, "P-256", "intermediate"))
	other.SerialNumber = p.cert.SerialNumber
	other.RawIssuer = p.cert.RawIssuer
	_, err = VerifyEncapsulated(der, []*x509.Certificate{other})
	wantInvalid(t, err, "names another certificate than the signer's")

	tampered := bytes.Replace(der, content, []byte("CONTENT"), 1)
	_, err = VerifyEncapsulated(tampered, []*x509.Certificate{p.cert})
	wantInvalid(t, err, "does not match the signature's message digest")

	_, err = VerifyEncapsulated(p.sign(t, content, p.cert.NotBefore), nil)
	wantInvalid(t, err, "eContent is absent")

	if _, err := SignEncapsulated(oidTSTInfo, content, testKey(t, "P-384", "root"), p.cert, nil, EncapsulateOptions{}); err == nil {
		t.Error("signed with a key that is not the certificate's")
	}
}

// openssl reads our encapsulated SignedData: cms -verify checks it with the
// root and gives the content back.
func TestARC5_OpenSSLVerifiesEncapsulatedSignature(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	dir := t.TempDir()
	p := newPKI(t, "P-256")
	p.writeFiles(t, dir)
	content := []byte("encapsulated content")
	der, err := SignEncapsulated(oidTSTInfo, content, p.key, p.cert, []*x509.Certificate{p.intermediate}, EncapsulateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "sig.der", der)
	if out, err := openssl(t, dir, "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.der", "-CAfile", "root.pem",
		"-purpose", "any", "-out", "verified"); err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	if got := readFile(t, dir, "verified"); !bytes.Equal(got, content) {
		t.Errorf("openssl gave %q, want %q", got, content)
	}
}
