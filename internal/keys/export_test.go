package keys

import (
	"crypto/ecdsa"
	"crypto/x509"
	"testing"
)

// ExportForTest decrypts a key's PKCS#8 for tests that check it appears
// nowhere in clear; only tests can reach it (KEY-3).
func ExportForTest(t *testing.T, s *SoftStore, label string) []byte {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, pkcs8, err := s.openPKCS8(label)
	if err != nil {
		t.Fatal(err)
	}
	return pkcs8
}

// ScalarForTest returns the private scalar of an ECDSA PKCS#8 key.
func ScalarForTest(t *testing.T, pkcs8 []byte) []byte {
	t.Helper()
	k, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.(*ecdsa.PrivateKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
