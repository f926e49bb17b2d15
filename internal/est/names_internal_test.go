package est

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"testing"

	"github.com/sceau/sceau/internal/registration"
)

// TestCA4_ESTRequestSaysLessThanTheDossierNeverOther: a CSR may carry the
// dossier's subject attributes and names, some of them or none; any other
// attribute, name, IP address, email or URI is refused.
func TestCA4_ESTRequestSaysLessThanTheDossierNeverOther(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	subj := registration.Subject{CommonName: "Marie Curie", Organization: "Institut", Country: "FR",
		Emails: []string{"marie@example.fr"}, DNSNames: []string{"lab.example.fr"}, IPs: []string{"192.0.2.7"}}
	emailOID := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	for _, c := range []struct {
		name string
		tmpl x509.CertificateRequest
		ok   bool
	}{
		{"nothing", x509.CertificateRequest{}, true},
		{"the whole subject", x509.CertificateRequest{Subject: pkix.Name{CommonName: "Marie Curie", Organization: []string{"Institut"},
			Country: []string{"FR"}}, EmailAddresses: subj.Emails, DNSNames: subj.DNSNames, IPAddresses: []net.IP{net.ParseIP("192.0.2.7")}}, true},
		{"the common name as a DNS name", x509.CertificateRequest{Subject: pkix.Name{CommonName: "LAB.example.fr"}}, true},
		{"an emailAddress attribute of the dossier", x509.CertificateRequest{Subject: pkix.Name{
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: emailOID, Value: "marie@example.fr"}}}}, true},
		{"another organization", x509.CertificateRequest{Subject: pkix.Name{Organization: []string{"Other"}}}, false},
		{"another common name", x509.CertificateRequest{Subject: pkix.Name{CommonName: "Pierre Curie"}}, false},
		{"another locality", x509.CertificateRequest{Subject: pkix.Name{Locality: []string{"Paris"}}}, false},
		{"another DNS name", x509.CertificateRequest{DNSNames: []string{"evil.example.org"}}, false},
		{"another email", x509.CertificateRequest{EmailAddresses: []string{"eve@example.fr"}}, false},
		{"another IP", x509.CertificateRequest{IPAddresses: []net.IP{net.ParseIP("192.0.2.8")}}, false},
		{"another emailAddress attribute", x509.CertificateRequest{Subject: pkix.Name{
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: emailOID, Value: "eve@example.fr"}}}}, false},
	} {
		der, err := x509.CreateCertificateRequest(rand.Reader, &c.tmpl, key)
		if err != nil {
			t.Fatal(err)
		}
		csr, err := x509.ParseCertificateRequest(der)
		if err != nil {
			t.Fatal(err)
		}
		if rf := namesAllowed(csr, subj); (rf == nil) != c.ok {
			t.Errorf("%s: refused %v, want allowed %v", c.name, rf, c.ok)
		}
	}
}
