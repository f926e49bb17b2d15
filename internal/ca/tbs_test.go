package ca

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/keys"
)

// Sceau's TBS encoder must produce exactly what crypto/x509 produces for
// every shape of end-entity template Sceau builds.
func TestCA2_OwnTBSEncodingMatchesCryptoX509(t *testing.T) {
	caTypes := []keys.Type{keys.ECDSAP256, keys.ECDSAP384, keys.RSA2048}
	for _, caType := range caTypes {
		caKey, err := caType.Generate(nil)
		if err != nil {
			t.Fatal(err)
		}
		caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA", Organization: []string{"Été Org"}, Country: []string{"FR"}},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign, SignatureAlgorithm: caType.SignatureAlgorithm()}
		caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		caCert, _ := x509.ParseCertificate(caDER)
		policies, _ := policiesExtension([]Policy{{OID: []int{1, 2, 250, 1, 999, 1, 1}, CPSURI: "http://x/cps"}})
		for name, tmpl := range map[string]*x509.Certificate{
			"server": {Subject: pkix.Name{CommonName: "www.example.org", Organization: []string{"Example"}, Country: []string{"FR"}}, DNSNames: []string{"www.example.org", "example.org"},
				IPAddresses: []net.IP{net.ParseIP("192.0.2.1"), net.ParseIP("2001:db8::1")},
				KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
			"person": {Subject: pkix.Name{CommonName: "Zoë Müller", Country: []string{"FR"}, SerialNumber: "42"}, EmailAddresses: []string{"zoe@example.org"},
				KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageContentCommitment,
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection}},
			"no subject": {DNSNames: []string{"only-san.example.org"}, KeyUsage: x509.KeyUsageKeyAgreement},
			"far future": {Subject: pkix.Name{CommonName: "late"}, KeyUsage: x509.KeyUsageDigitalSignature, NotAfter: time.Date(2051, 1, 2, 3, 4, 5, 0, time.UTC)},
		} {
			for _, subjType := range []keys.Type{keys.ECDSAP256, keys.RSA2048} {
				subj, _ := subjType.Generate(nil)
				tmpl.SerialNumber, _ = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
				tmpl.NotBefore = time.Now().UTC().Truncate(time.Second)
				if tmpl.NotAfter.IsZero() || name != "far future" {
					tmpl.NotAfter = tmpl.NotBefore.Add(397 * 24 * time.Hour)
				}
				tmpl.BasicConstraintsValid = true
				tmpl.SignatureAlgorithm = caType.SignatureAlgorithm()
				tmpl.SubjectKeyId = subjectKeyID(marshalSPKI(subj.Public()))
				tmpl.CRLDistributionPoints = []string{"http://127.0.0.1:8080/crl/issuing.crl"}
				tmpl.IssuingCertificateURL = []string{"http://127.0.0.1:8080/ca/issuing.der"}
				tmpl.OCSPServer = []string{"http://127.0.0.1:8080/ocsp"}
				tmpl.ExtraExtensions = []pkix.Extension{policies}
				want, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, subj.Public(), caKey)
				if err != nil {
					t.Fatal(err)
				}
				wantCert, _ := x509.ParseCertificate(want)
				got, err := encodeTBS(tmpl, caCert, subj.Public())
				if err != nil {
					t.Fatalf("%s/%s/%s: %v", caType, name, subjType, err)
				}
				if !bytes.Equal(got, wantCert.RawTBSCertificate) {
					t.Errorf("%s/%s/%s: TBS differs\n got %s\nwant %s", caType, name, subjType, hex.EncodeToString(got), hex.EncodeToString(wantCert.RawTBSCertificate))
				}
				// And a certificate signed over it verifies.
				sigAlg, h, _ := signatureAlgorithm(tmpl.SignatureAlgorithm)
				sig, err := crypto.SignMessage(caKey, rand.Reader, got, h)
				if err != nil {
					t.Fatal(err)
				}
				der, _ := certificateDER(got, sigAlg, sig)
				c, err := x509.ParseCertificate(der)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.CheckSignatureFrom(caCert); err != nil {
					t.Errorf("%s/%s/%s: %v", caType, name, subjType, err)
				}
			}
		}
	}
}

func TestCA2_TemplatesOutsideTheEncoderAreRefused(t *testing.T) {
	ca := &x509.Certificate{RawSubject: []byte{0x30, 0}}
	for name, tmpl := range map[string]*x509.Certificate{
		"CA":      {IsCA: true, SignatureAlgorithm: x509.ECDSAWithSHA256},
		"PSS":     {SignatureAlgorithm: x509.SHA256WithRSAPSS},
		"unknown": {SignatureAlgorithm: x509.ECDSAWithSHA256, UnknownExtKeyUsage: []asn1.ObjectIdentifier{{1, 2, 3}}},
	} {
		if _, err := encodeTBS(tmpl, ca, nil); err != errUnsupportedTemplate {
			t.Errorf("%s: %v", name, err)
		}
	}
}
