package sceautest

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"

	"github.com/sceau/sceau/internal/keys"
)

// NewKey makes a subject key of type kt.
func NewKey(t testing.TB, kt keys.Type) crypto.Signer {
	t.Helper()
	k, err := kt.Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// CSR returns a DER PKCS#10 request signed by key for cn and dnsNames.
func CSR(t testing.TB, key crypto.Signer, cn string, dnsNames ...string) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn}, DNSNames: dnsNames}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
